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
	"github.com/carlot/carlot/internal/httpapi"
	"github.com/carlot/carlot/internal/logging"
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
	db         *bun.DB
	statements atomic.Int64
	logs       *bytes.Buffer
}

func newAPI(t *testing.T, tpl testdb.Template) *api {
	t.Helper()
	cfg, err := config.Load(func(k string) string {
		if k == "JWT_SECRET" {
			return testSecret
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &api{t: t, db: testdb.New(t, tpl), logs: new(bytes.Buffer)}
	a.db.AddQueryHook(statementHook{&a.statements})
	log := logging.New(&lockedWriter{w: a.logs}, slog.LevelInfo, "text")
	a.h = httpapi.New(httpapi.Deps{Config: cfg, DB: a.db, Log: log})
	return a
}

// statementHook counts every statement the test's database runs.
type statementHook struct{ n *atomic.Int64 }

func (h statementHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}
func (h statementHook) AfterQuery(context.Context, *bun.QueryEvent) { h.n.Add(1) }

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

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func mustNotLeak(t *testing.T, raw string) {
	t.Helper()
	for _, leak := range []string{"SQL", "sql:", "SELECT", "pq:", "pgdriver", "ERROR #", "goroutine", ".go:"} {
		if strings.Contains(raw, leak) {
			t.Fatalf("response leaks %q: %s", leak, raw)
		}
	}
}
