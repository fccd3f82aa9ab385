// Package apitest is the harness of Carlot's HTTP and GraphQL tests: the
// production handler on a real database of the test's own (internal/testdb),
// a configuration made from the test's overrides, requests and decoded
// GraphQL answers, login, statement counting, a synchronised log buffer and
// Eventually, which polls for a condition instead of sleeping.
//
// The package does not import the application, so that the tests of the
// packages the application is made of can use it: New is given the
// application's constructor, which internal/apitest/server holds.
package apitest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/logging"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/internal/trusted"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/trace"
)

// Secret is the JWT_SECRET of test servers, so tests can forge tokens.
const Secret = "test-secret-0123456789abcdef0123456789abcdef"

// Config loads the configuration env on top of an empty environment holding
// only JWT_SECRET=Secret (and, in production, a DATABASE_URL that is never
// dialled: the handler is given its database).
func Config(t testing.TB, env map[string]string) *config.Config {
	t.Helper()
	vars := map[string]string{"JWT_SECRET": Secret}
	if env["APP_ENV"] == config.Production {
		vars["DATABASE_URL"] = "postgres://unused.invalid/carlot"
	}
	maps.Copy(vars, env)
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Handler is what the production constructor returns: an http.Handler with
// background work that Close stops.
type Handler interface {
	http.Handler
	Close()
}

// Deps is what the harness hands the production constructor.
type Deps struct {
	Config  *config.Config
	DB      *bun.DB
	Log     *slog.Logger
	Metrics *metrics.Registry
	Trusted *trusted.Documents   // the manifest of Config.TrustedDocuments; nil: none
	Tracer  trace.TracerProvider // nil: no tracing
}

// Build makes the production handler from deps (app.New, adapted).
type Build func(Deps) (Handler, error)

// Options says what to serve. Every field may be left zero.
type Options struct {
	// Template is the starting state of the test's own database.
	Template testdb.Template
	// URL serves an existing database instead of a copy of Template
	// (several APIs on one URL are replicas).
	URL string
	// DB serves this pool instead of opening one; statements on it are not
	// counted.
	DB *bun.DB
	// Env overrides the test configuration (see Config); Config, when set,
	// is used as it is instead.
	Env    map[string]string
	Config *config.Config
	// RequireJSON fails the test on any answer that is not JSON, whatever
	// its Content-Type says. Otherwise only JSON answers are decoded.
	RequireJSON bool
}

// API is the production handler on a database of the test's own.
type API struct {
	T       testing.TB
	Handler Handler
	DB      *bun.DB
	URL     string // the database's URL; "" when Options.DB was given
	Config  *config.Config
	Metrics *metrics.Registry
	Logs    *LogBuffer // the server's log, as JSON lines

	base        string // a Remote's server
	requireJSON bool
	statements  atomic.Int64
}

// New builds the handler with build as opts say, and closes it when the test
// ends (before its database goes).
func New(t testing.TB, build Build, opts Options) *API {
	t.Helper()
	cfg := opts.Config
	if cfg == nil {
		cfg = Config(t, opts.Env)
	}
	a := &API{T: t, Config: cfg, Metrics: metrics.New(), Logs: new(LogBuffer), requireJSON: opts.RequireJSON}
	a.DB = opts.DB
	if a.DB == nil {
		a.URL = opts.URL
		if a.URL == "" {
			a.URL = testdb.URL(t, opts.Template)
		}
		db, err := database.Open(a.URL, database.Options{MaxOpenConns: 10, ApplicationName: "carlot-test", OnStatement: func(ctx context.Context) {
			// Statements run for requests carry a request id; the live
			// event broker's background reads do not.
			if logging.RequestID(ctx) != "" {
				a.statements.Add(1)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		a.DB = db
	}
	a.Metrics.WatchDB("carlot", database.Pool(a.DB))
	deps := Deps{Config: cfg, DB: a.DB, Log: logging.New(a.Logs, slog.LevelInfo, "json"), Metrics: a.Metrics}
	if cfg.TrustedDocuments != "" {
		var err error
		if deps.Trusted, err = trusted.Load(cfg.TrustedDocuments, cfg.TrustedDocumentsOnly); err != nil {
			t.Fatal(err)
		}
	}
	h, err := build(deps)
	if err != nil {
		t.Fatal(err)
	}
	a.Handler = h
	t.Cleanup(a.Handler.Close) // registered after the database's cleanups, so it runs before them
	return a
}

// Remote is a client of a Carlot server that the test runs as a process of
// its own, at base ("http://127.0.0.1:port"): Send and the methods built on
// it go over the network. Every answer must be JSON.
func Remote(t testing.TB, base string) *API {
	return &API{T: t, base: base, requireJSON: true}
}

// Send runs req through the handler (or, for a Remote, sends it to the
// server) and decodes the answer.
func (a *API) Send(req *http.Request) Response {
	a.T.Helper()
	if a.base != "" {
		return a.sendRemote(req)
	}
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, req)
	if a.requireJSON {
		return DecodeJSON(a.T, rec.Code, rec.Header(), rec.Body.Bytes())
	}
	return Decode(a.T, rec.Code, rec.Header(), rec.Body.Bytes())
}

func (a *API) sendRemote(req *http.Request) Response {
	a.T.Helper()
	out, err := http.NewRequestWithContext(req.Context(), req.Method, a.base+req.URL.RequestURI(), req.Body)
	if err != nil {
		a.T.Fatal(err)
	}
	out.Header = req.Header.Clone()
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		a.T.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		a.T.Fatal(err)
	}
	return DecodeJSON(a.T, resp.StatusCode, resp.Header, raw)
}

// Post sends a GraphQL request as application/json, with header name/value
// pairs.
func (a *API) Post(query string, vars map[string]any, headers ...string) Response {
	a.T.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return a.PostRaw("application/json", string(body), headers...)
}

// PostAs sends a GraphQL request with an Authorization header (none when
// empty).
func (a *API) PostAs(authorization, query string, vars map[string]any) Response {
	a.T.Helper()
	if authorization == "" {
		return a.Post(query, vars)
	}
	return a.Post(query, vars, "Authorization", authorization)
}

// PostRaw sends body to /graphql with the content type (none when empty)
// and header name/value pairs.
func (a *API) PostRaw(contentType, body string, headers ...string) Response {
	a.T.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return a.Send(req)
}

// Query posts and decodes data into out, failing the test on any error.
func (a *API) Query(out any, query string, vars map[string]any) {
	a.T.Helper()
	a.QueryAs("", out, query, vars)
}

// QueryAs is Query with an Authorization header (none when empty).
func (a *API) QueryAs(authorization string, out any, query string, vars map[string]any) {
	a.T.Helper()
	r := a.PostAs(authorization, query, vars)
	if len(r.Errors) > 0 {
		a.T.Fatalf("unexpected errors: %s", r.Raw)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		a.T.Fatalf("decode data: %v in %s", err, r.Data)
	}
}

// MustQuery posts query and fails the test unless it answers 200 without
// errors.
func (a *API) MustQuery(query string, vars map[string]any) Response {
	a.T.Helper()
	r := a.Post(query, vars)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		a.T.Fatalf("query failed (%d): %s\n%s", r.Status, r.Raw, Shorten(query))
	}
	return r
}

// ExpectCode posts query and checks the status and the first error's code.
func (a *API) ExpectCode(query string, status int, code string) Response {
	a.T.Helper()
	r := a.Post(query, nil)
	if r.Status != status || r.Code() != code {
		a.T.Fatalf("got %d %s, want %d %s\n%s", r.Status, Shorten(r.Raw), status, code, Shorten(query))
	}
	return r
}

// LoginMutation signs in with $email and $password.
const LoginMutation = `mutation($email: String!, $password: String!) {
	login(email: $email, password: $password) { accessToken refreshToken expiresAt user { id email role } } }`

// Login signs in and returns "Bearer <access token>".
func (a *API) Login(email, password string) string {
	a.T.Helper()
	var out struct {
		Login struct {
			AccessToken string `json:"accessToken"`
		} `json:"login"`
	}
	a.Query(&out, LoginMutation, map[string]any{"email": email, "password": password})
	if out.Login.AccessToken == "" {
		a.T.Fatalf("login as %s gave no access token", email)
	}
	return "Bearer " + out.Login.AccessToken
}

// CountStatements returns how many SQL statements fn made the database run
// for requests (not the live event broker's background reads).
func (a *API) CountStatements(fn func()) int64 {
	before := a.statements.Load()
	fn()
	return a.statements.Load() - before
}

// Counter reads one of the server's counters (one without labels).
func (a *API) Counter(name string) float64 {
	a.T.Helper()
	families, err := a.Metrics.Gatherer().Gather()
	if err != nil {
		a.T.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	a.T.Fatalf("no counter %s", name)
	return 0
}

// SQL runs a ground-truth query on the test's database.
func (a *API) SQL(dest any, query string, args ...any) {
	a.T.Helper()
	if err := a.DB.NewRaw(query, args...).Scan(context.Background(), dest); err != nil {
		a.T.Fatalf("ground truth %q: %v", query, err)
	}
}

// Shorten keeps failure messages readable when a test sends a huge document.
func Shorten(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// MustNotLeak fails the test if raw holds SQL, driver or Go runtime text.
func MustNotLeak(t testing.TB, raw string) {
	t.Helper()
	for _, leak := range []string{"SQL", "sql:", "SELECT", "pq:", "pgdriver", "ERROR #", "goroutine", ".go:"} {
		if strings.Contains(raw, leak) {
			t.Fatalf("response leaks %q: %s", leak, raw)
		}
	}
}
