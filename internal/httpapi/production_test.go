package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/graphiql"
	"github.com/carlot/carlot/internal/testdb"
)

func TestProductionMode(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Seeded, map[string]string{
		"APP_ENV": "production", "CORS_ALLOWED_ORIGINS": "https://shop.example",
	})

	t.Run("introspection is off", func(t *testing.T) {
		for _, q := range []string{
			`{ __schema { types { name } } }`,
			`{ __type(name: "Vehicle") { fields { name } } }`,
			`query { ...F } fragment F on Query { __schema { queryType { name } } }`,
			`{ vehicles(first: 1) { totalCount } __type(name: "Vehicle") { name } }`,
		} {
			// An invalid document, not a failure of the server: 422 (or 400
			// for application/graphql-response+json), and nothing at ERROR
			// level in the log, since scanners send these all day.
			r := a.Post(q, nil)
			if r.Status != http.StatusUnprocessableEntity || r.Code() != "GRAPHQL_VALIDATION_FAILED" || r.HasData ||
				strings.Contains(r.Raw, `"Vehicle"`) || strings.Contains(r.Raw, "fields\":[") {
				t.Fatalf("%s: %d %s", q, r.Status, r.Raw)
			}
			r = a.Post(q, nil, "Accept", "application/graphql-response+json")
			if r.Status != http.StatusBadRequest || r.Code() != "GRAPHQL_VALIDATION_FAILED" {
				t.Fatalf("%s as graphql-response+json: %d %s", q, r.Status, r.Raw)
			}
		}
		if logs := a.Logs.String(); strings.Contains(logs, `"level":"ERROR"`) || strings.Contains(logs, `"level":"WARN"`) {
			t.Errorf("introspection attempts were logged as failures:\n%s", logs)
		}
		a.MustQuery(`{ __typename vehicles(first: 1) { nodes { __typename } } }`, nil)
	})
	t.Run("no suggestions reveal the schema", func(t *testing.T) {
		for _, q := range []string{
			`{ vehicles { nodez { id } } }`,
			`{ vehicles(frist: 1) { nodes { id } } }`,
			`{ vehicles(orderBy: { field: PRICEE, direction: ASC }) { nodes { id } } }`,
			`{ vehicles(filter: { serch: "x" }) { nodes { id } } }`,
			`query($f: VehicleFiltr) { vehicles(filter: $f) { totalCount } }`,
			`{ vehicle }`,
		} {
			r := a.Post(q, nil)
			if len(r.Errors) == 0 {
				t.Fatalf("%s: no error", q)
			}
			if strings.Contains(r.Raw, "Did you mean") {
				t.Fatalf("%s: %s", q, r.Raw)
			}
		}
	})
	t.Run("GraphiQL is off", func(t *testing.T) {
		r := a.Send(httptest.NewRequest(http.MethodGet, "/", nil))
		if r.Status != http.StatusNotFound || strings.Contains(r.Raw, "graphiql") {
			t.Fatalf("GET / = %d", r.Status)
		}
	})
	t.Run("security headers on every response", func(t *testing.T) {
		for _, req := range []*http.Request{
			httptest.NewRequest(http.MethodGet, "/healthz", nil),
			httptest.NewRequest(http.MethodGet, "/nope", nil),
			httptest.NewRequest(http.MethodGet, "/graphql?query=%7B__typename%7D", nil),
		} {
			h := a.Send(req).Header
			for name, want := range map[string]string{
				"X-Content-Type-Options":    "nosniff",
				"Referrer-Policy":           "no-referrer",
				"X-Frame-Options":           "DENY",
				"Content-Security-Policy":   "frame-ancestors 'none'",
				"Strict-Transport-Security": "max-age=",
			} {
				if !strings.Contains(h.Get(name), want) {
					t.Errorf("%s: %s = %q, want it to contain %q", req.URL, name, h.Get(name), want)
				}
			}
		}
	})
	t.Run("CORS for the allowed origin only", func(t *testing.T) {
		preflight := func(origin string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodOptions, "/graphql", nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type, authorization")
			rec := httptest.NewRecorder()
			a.Handler.ServeHTTP(rec, req)
			return rec
		}
		if rec := preflight("https://shop.example"); rec.Code != http.StatusNoContent ||
			rec.Header().Get("Access-Control-Allow-Origin") != "https://shop.example" {
			t.Fatalf("allowed origin's preflight: %d %v", rec.Code, rec.Header())
		}
		if rec := preflight("https://evil.example"); rec.Code != http.StatusForbidden ||
			rec.Header().Get("Access-Control-Allow-Origin") != "" || rec.Header().Get("Access-Control-Allow-Methods") != "" {
			t.Fatalf("unknown origin's preflight: %d %v", rec.Code, rec.Header())
		}
		r := a.PostRaw("application/json", `{"query":"{ __typename }"}`, "Origin", "https://evil.example")
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("unknown origin got CORS headers: %v", r.Header)
		}
		r = a.PostRaw("application/json", `{"query":"{ __typename }"}`, "Origin", "https://shop.example")
		if r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
			t.Fatalf("allowed origin got no CORS headers: %v", r.Header)
		}
	})
	t.Run("a NUL byte in an argument is bad input", func(t *testing.T) {
		r := a.PostRaw("application/json", `{"query":"{ vehicles(filter: {search: \"a\\u0000b\"}) { totalCount } }"}`)
		if r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		r = a.Post(`query($s: String) { vehicles(filter: { search: $s }) { totalCount } }`, map[string]any{"s": "a\x00b"})
		if r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("as a variable: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("reads still work", func(t *testing.T) {
		a.MustQuery(`{ vehicles(first: 2) { nodes { vin } } }`, nil)
	})
}

func TestDevelopmentHeaders(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Empty, nil)
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	if rec.Code != http.StatusOK || csp != graphiql.Policy || !strings.Contains(rec.Body.String(), graphiql.Prefix+"graphiql.min.js") {
		t.Fatalf("GraphiQL: %d CSP %q\n%s", rec.Code, csp, rec.Body)
	}
	if rec.Header().Get("Strict-Transport-Security") != "" {
		t.Fatal("HSTS in development")
	}
	r := a.Send(httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if r.Header.Get("Content-Security-Policy") != apiCSP || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("API headers: %v", r.Header)
	}
	for _, q := range []string{`{ vehicles { nodez { id } } }`, `{ vehicles(frist: 1) { nodes { id } } }`} {
		if r := a.Post(q, nil); !strings.Contains(r.Raw, "Did you mean") {
			t.Fatalf("development gives no suggestion for %s (so the production test proves nothing): %s", q, r.Raw)
		}
	}
	req := httptest.NewRequest(http.MethodOptions, "/graphql", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec = httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Fatalf("development CORS: %d %v", rec.Code, rec.Header())
	}
}
