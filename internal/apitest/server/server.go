// Package server builds the production handler (httpapi.New) for
// internal/apitest, for the tests of packages other than internal/httpapi.
package server

import (
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/httpapi"
	"github.com/carlot/carlot/internal/testdb"
)

// Build is httpapi.New for apitest.New.
func Build(d apitest.Deps) apitest.Handler {
	return httpapi.New(httpapi.Deps{Config: d.Config, DB: d.DB, Log: d.Log, Metrics: d.Metrics, Trusted: d.Trusted})
}

// New serves a fresh copy of tpl with the configuration env (see
// apitest.Config). Every answer must be JSON.
func New(t testing.TB, tpl testdb.Template, env map[string]string) *apitest.API {
	t.Helper()
	return apitest.New(t, Build, apitest.Options{Template: tpl, Env: env, RequireJSON: true})
}

// On serves the database at url (several on one URL are replicas).
func On(t testing.TB, url string, env map[string]string) *apitest.API {
	t.Helper()
	return apitest.New(t, Build, apitest.Options{URL: url, Env: env, RequireJSON: true})
}

// API returns the handler of a as the *httpapi.API it is.
func API(a *apitest.API) *httpapi.API { return a.Handler.(*httpapi.API) }
