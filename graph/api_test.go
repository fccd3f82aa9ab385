package graph_test

import (
	"os"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/apitest/server"
	"github.com/carlot/carlot/internal/app"
	"github.com/carlot/carlot/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// api is the production HTTP handler on a fresh database of the test's own,
// with the GraphQL helpers of this package's tests as methods.
type api struct {
	*apitest.API
	http *app.App
}

func newAPI(t *testing.T, tpl testdb.Template) *api {
	t.Helper()
	return wrap(server.New(t, tpl, nil))
}

// newAPIWith serves the database at url with the given configuration
// (over the test defaults). Several on one URL are replicas.
func newAPIWith(t *testing.T, url string, env map[string]string) *api {
	t.Helper()
	return wrap(server.On(t, url, env))
}

func wrap(a *apitest.API) *api { return &api{API: a, http: server.App(a)} }
