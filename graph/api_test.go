package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/httpapi"
	"github.com/carlot/carlot/internal/logging"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/uptrace/bun"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// testSecret signs the test server's access tokens, so tests can forge others.
const testSecret = "test-secret-0123456789abcdef0123456789abcdef"

// api is the production HTTP handler on a fresh database of the test's own.
type api struct {
	t          *testing.T
	h          http.Handler
	api        *httpapi.API
	db         *bun.DB
	url        string
	statements atomic.Int64
	logs       *logBuffer
	metrics    *metrics.Registry
}

func newAPI(t *testing.T, tpl testdb.Template) *api {
	t.Helper()
	return newAPIWith(t, testdb.URL(t, tpl), nil)
}

// newAPIWith serves the database at url with the given configuration
// (over the test defaults). Several on one URL are replicas.
func newAPIWith(t *testing.T, url string, env map[string]string) *api {
	t.Helper()
	cfg, err := config.Load(func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "JWT_SECRET" {
			return testSecret
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &api{t: t, url: url, logs: new(logBuffer), metrics: metrics.New()}
	db, err := database.Open(url, database.Options{MaxOpenConns: 10, OnStatement: func(ctx context.Context) {
		// Statements run for requests carry a request id; the live event
		// broker's background reads do not.
		if logging.RequestID(ctx) != "" {
			a.statements.Add(1)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	a.db = db
	log := logging.New(a.logs, slog.LevelInfo, "text")
	a.api = httpapi.New(httpapi.Deps{Config: cfg, DB: a.db, Log: log, Metrics: a.metrics})
	t.Cleanup(a.api.Close) // registered after the database's cleanups, so it runs before them
	a.h = a.api
	return a
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	status int
	header http.Header
	raw    string
}

// post sends a GraphQL request and decodes the answer.
func (a *api) post(query string, vars map[string]any) response {
	a.t.Helper()
	return a.postAs("", query, vars)
}

// postAs sends a GraphQL request with an Authorization header (none when empty).
func (a *api) postAs(authorization, query string, vars map[string]any) response {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return a.send(req)
}

func (a *api) send(req *http.Request) response {
	a.t.Helper()
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	raw, _ := io.ReadAll(rec.Body)
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		a.t.Fatalf("response is not JSON (%d): %s", rec.Code, raw)
	}
	r.status, r.header, r.raw = rec.Code, rec.Header(), string(raw)
	return r
}

// query posts and decodes data into out, failing the test on any error.
func (a *api) query(out any, query string, vars map[string]any) {
	a.t.Helper()
	r := a.post(query, vars)
	if len(r.Errors) > 0 {
		a.t.Fatalf("unexpected errors: %s", r.raw)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		a.t.Fatalf("decode data: %v in %s", err, r.Data)
	}
}

// counter reads one of the server's counters.
func (a *api) counter(name string) float64 {
	a.t.Helper()
	families, err := a.metrics.Gatherer().Gather()
	if err != nil {
		a.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	a.t.Fatalf("no counter %s", name)
	return 0
}

// countStatements returns how many SQL statements fn made the database run.
func (a *api) countStatements(fn func()) int64 {
	before := a.statements.Load()
	fn()
	return a.statements.Load() - before
}

// errorCode asserts exactly one error and returns its extensions.code.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	if len(r.Errors) != 1 {
		t.Fatalf("want exactly one error, got %s", r.raw)
	}
	code, _ := r.Errors[0].Extensions["code"].(string)
	return code
}

// sql runs a ground-truth query on the test's database.
func (a *api) sql(dest any, query string, args ...any) {
	a.t.Helper()
	if err := a.db.NewRaw(query, args...).Scan(context.Background(), dest); err != nil {
		a.t.Fatalf("ground truth %q: %v", query, err)
	}
}

// logBuffer collects the server's log lines; the server writes from many goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func mustNotLeak(t *testing.T, raw string) {
	t.Helper()
	for _, leak := range []string{"SQL", "sql:", "SELECT", "pq:", "pgdriver", "ERROR #", "goroutine", ".go:"} {
		if strings.Contains(raw, leak) {
			t.Fatalf("response leaks %q: %s", leak, raw)
		}
	}
}
