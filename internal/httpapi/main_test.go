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

// build is New for the harness. This package's tests cannot import
// internal/apitest/server, which imports this package.
func build(d apitest.Deps) apitest.Handler {
	return New(Deps{Config: d.Config, DB: d.DB, Log: d.Log, Metrics: d.Metrics, Trusted: d.Trusted})
}

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

// api is the handler as the *API it is.
func (a *testAPI) api() *API { return a.Handler.(*API) }

// readAll reads a response body, failing the test on error.
func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
