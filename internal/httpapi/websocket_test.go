package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/gqlws"
	"github.com/carlot/carlot/internal/testdb"
)

// socketURL serves a on a real HTTP server (websockets need one) and
// returns its websocket URL.
func socketURL(t *testing.T, a *testAPI) string {
	t.Helper()
	srv := httptest.NewServer(a.h)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/graphql"
}

// socketWait bounds a wait in these tests: generous, since the point is
// that something happens, not how fast.
func socketWait(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Websocket origins are compared as CORS compares them: scheme, host and port.
func TestSocketOrigins(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Empty, map[string]string{"CORS_ALLOWED_ORIGINS": "https://shop.example,http://localhost:3000"})
	url := socketURL(t, a)
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://shop.example", true},
		{"http://localhost:3000", true},
		{"", true}, // not a browser
		{"http://shop.example", false},
		{"https://shop.example:8443", false},
		{"wss://shop.example", false},
		{"https://evil.example", false},
		{"http://localhost:3001", false},
		{"null", false},
	} {
		t.Run(tc.origin, func(t *testing.T) {
			header := http.Header{}
			if tc.origin != "" {
				header.Set("Origin", tc.origin)
			}
			c, err := gqlws.Dial(socketWait(t), url, gqlws.Options{Header: header})
			switch {
			case tc.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tc.ok && err == nil:
				c.CloseNow()
				t.Fatal("accepted")
			case !tc.ok && !strings.Contains(err.Error(), "403"):
				t.Fatalf("refused with %v, want 403", err)
			case tc.ok:
				c.Close()
			}
		})
	}
}
