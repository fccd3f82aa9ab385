// Package server builds the production application (internal/app) for
// internal/apitest, for the tests of every package: those that internal/app
// imports hand Build to apitest from an external test file.
package server

import (
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/app"
	"github.com/carlot/carlot/internal/testdb"
)

// Build is app.New for apitest.New: the application, started.
func Build(d apitest.Deps) (apitest.Handler, error) {
	a, err := app.New(app.Deps{Config: d.Config, DB: d.DB, Log: d.Log, Metrics: d.Metrics, Trusted: d.Trusted, Tracer: d.Tracer})
	if err != nil {
		return nil, err
	}
	a.Start()
	return a, nil
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

// App returns the handler of a as the *app.App it is.
func App(a *apitest.API) *app.App { return a.Handler.(*app.App) }
