package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/logging"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/internal/trusted"
	"github.com/uptrace/bun"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// testSecret is the JWT_SECRET of test servers.
const testSecret = "test-secret-test-secret-test-secret!"

// testAPI is the production handler on a database of the test's own.
type testAPI struct {
	t       testing.TB
	h       http.Handler
	db      *bun.DB
	cfg     *config.Config
	metrics *metrics.Registry
	logs    *lockedBuffer
}

// newTestAPI builds the handler with the configuration env (on top of an
// empty environment) on a fresh copy of tpl.
func newTestAPI(t testing.TB, tpl testdb.Template, env map[string]string) *testAPI {
	t.Helper()
	cfg := testConfig(t, env)
	return newTestAPIOn(t, testdb.New(t, tpl), cfg)
}

// newTestAPIOn builds the handler with cfg on db.
func newTestAPIOn(t testing.TB, db *bun.DB, cfg *config.Config) *testAPI {
	t.Helper()
	a := &testAPI{t: t, db: db, cfg: cfg, metrics: metrics.New(), logs: &lockedBuffer{}}
	a.metrics.WatchDB("carlot", database.Pool(a.db))
	log := logging.New(a.logs, slog.LevelInfo, "json")
	deps := Deps{Config: cfg, DB: a.db, Log: log, Metrics: a.metrics}
	if cfg.TrustedDocuments != "" {
		var err error
		if deps.Trusted, err = trusted.Load(cfg.TrustedDocuments, cfg.TrustedDocumentsOnly); err != nil {
			t.Fatal(err)
		}
	}
	api := New(deps)
	t.Cleanup(api.Close) // registered after the database's cleanups, so it runs before them
	a.h = api
	return a
}

// testConfig loads the configuration env (on top of an empty environment).
func testConfig(t testing.TB, env map[string]string) *config.Config {
	t.Helper()
	vars := map[string]string{"JWT_SECRET": testSecret}
	if env["APP_ENV"] == config.Production {
		vars["DATABASE_URL"] = "postgres://unused.invalid/carlot" // the handler is given its DB
	}
	maps.Copy(vars, env)
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	raw    string
	body   struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	hasData bool
}

// code returns the extensions.code of the first error, or "".
func (r response) code() string {
	if len(r.body.Errors) == 0 {
		return ""
	}
	c, _ := r.body.Errors[0].Extensions["code"].(string)
	return c
}

// send runs req through the handler.
func (a *testAPI) send(req *http.Request) response {
	a.t.Helper()
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	return decode(a.t, rec.Code, rec.Header(), rec.Body.Bytes())
}

func decode(t testing.TB, status int, header http.Header, raw []byte) response {
	t.Helper()
	r := response{status: status, header: header, raw: string(raw)}
	if strings.Contains(header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%d response is not JSON: %v\n%s", status, err, raw)
		}
		var keys map[string]json.RawMessage
		_ = json.Unmarshal(raw, &keys)
		_, r.hasData = keys["data"]
	}
	return r
}

// post sends a GraphQL query as application/json.
func (a *testAPI) post(query string, vars map[string]any, headers ...string) response {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return a.postRaw("application/json", string(body), headers...)
}

// postRaw sends body with the content type and header name/value pairs.
func (a *testAPI) postRaw(contentType, body string, headers ...string) response {
	a.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return a.send(req)
}

// mustQuery posts query and fails the test on any error.
func (a *testAPI) mustQuery(query string, vars map[string]any) response {
	a.t.Helper()
	r := a.post(query, vars)
	if r.status != http.StatusOK || len(r.body.Errors) > 0 {
		a.t.Fatalf("query failed (%d): %s\n%s", r.status, r.raw, shorten(query))
	}
	return r
}

// expectCode posts query and checks the status and the first error's code.
func (a *testAPI) expectCode(query string, status int, code string) response {
	a.t.Helper()
	r := a.post(query, nil)
	if r.status != status || r.code() != code {
		a.t.Fatalf("got %d %s, want %d %s\n%s", r.status, shorten(r.raw), status, code, shorten(query))
	}
	return r
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// readAll reads a response body, failing the test on error.
func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// shorten keeps failure messages readable when a test sends a huge document.
func shorten(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
