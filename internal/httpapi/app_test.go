package httpapi_test

import (
	"github.com/carlot/carlot/internal/apitest/server"
	"github.com/carlot/carlot/internal/httpapi"
)

// The tests of this package exercise the production handler, which the
// application builds around this package.
func init() { httpapi.UseBuild(server.Build) }
