package httpapi

import (
	"io"
	"os"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/uptrace/bun"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// testAPI is the production handler on a database of the test's own (see
// internal/apitest), with this package's helpers as methods.
type testAPI struct {
	*apitest.API
}

// build is the application's constructor for the harness (app.New, through
// internal/apitest/server). This package's own tests cannot import the
// application, which imports this package: app_test.go, an external test
// file of this package, hands it over with UseBuild before the tests run.
var build apitest.Build

// UseBuild sets the constructor of the handler under test.
func UseBuild(b apitest.Build) { build = b }

// newTestAPI builds the handler with the configuration env (on top of an
// empty environment) on a fresh copy of tpl.
func newTestAPI(t testing.TB, tpl testdb.Template, env map[string]string) *testAPI {
	t.Helper()
	return &testAPI{apitest.New(t, build, apitest.Options{Template: tpl, Env: env})}
}

// newTestAPIOn builds the handler with cfg on db.
func newTestAPIOn(t testing.TB, db *bun.DB, cfg *config.Config) *testAPI {
	t.Helper()
	return &testAPI{apitest.New(t, build, apitest.Options{DB: db, Config: cfg})}
}

// application is what the harness builds: the production handler, with the
// event broker beside it.
type application interface {
	apitest.Handler
	LiveSubscribers() int
}

// newApplication builds the handler from d as the harness would, for tests
// that bring a database or tracer of their own; they close it.
func newApplication(tb testing.TB, d apitest.Deps) application {
	tb.Helper()
	h, err := build(d)
	if err != nil {
		tb.Fatal(err)
	}
	return h.(application)
}

// api is the handler as the application it is.
func (a *testAPI) api() application { return a.Handler.(application) }

// readAll reads a response body, failing the test on error.
func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
