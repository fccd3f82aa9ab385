package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
)

// TestCORSAllowedHeaders checks that a preflight from an allowed origin lets
// the browser send the headers of the clients Carlot expects (Apollo
// Client's client name and version, trace context, Sentry), or exactly the
// ones CORS_ALLOWED_HEADERS names.
func TestCORSAllowedHeaders(t *testing.T) {
	t.Parallel()
	preflight := func(a *testAPI) http.Header {
		t.Helper()
		req := httptest.NewRequest(http.MethodOptions, "/graphql", nil)
		req.Header.Set("Origin", "https://shop.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "apollographql-client-name,content-type,traceparent")
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			t.Fatalf("preflight: %d", rec.Code)
		}
		return rec.Header()
	}
	allowed := func(h http.Header) map[string]bool {
		set := map[string]bool{}
		for _, name := range strings.Split(h.Get("Access-Control-Allow-Headers"), ",") {
			set[strings.ToLower(strings.TrimSpace(name))] = true
		}
		return set
	}

	t.Run("default", func(t *testing.T) {
		got := allowed(preflight(newTestAPI(t, testdb.Empty, map[string]string{"CORS_ALLOWED_ORIGINS": "https://shop.example"})))
		for _, name := range []string{"authorization", "content-type", "x-request-id", "apollographql-client-name",
			"apollographql-client-version", "traceparent", "tracestate", "baggage", "sentry-trace"} {
			if !got[name] {
				t.Errorf("%s is not allowed: %v", name, got)
			}
		}
	})
	t.Run("configured", func(t *testing.T) {
		h := preflight(newTestAPI(t, testdb.Empty, map[string]string{
			"CORS_ALLOWED_ORIGINS": "https://shop.example", "CORS_ALLOWED_HEADERS": "Authorization, Content-Type, X-Tenant",
		}))
		if got := h.Get("Access-Control-Allow-Headers"); got != "Authorization, Content-Type, X-Tenant" {
			t.Fatalf("Access-Control-Allow-Headers %q", got)
		}
	})
}
