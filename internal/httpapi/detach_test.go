package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestIsWebsocketUpgrade(t *testing.T) {
	for _, tc := range []struct {
		upgrade []string
		want    bool
	}{
		{nil, false},
		{[]string{"websocket"}, true},
		{[]string{"WebSocket"}, true},
		{[]string{"h2c, websocket"}, true},
		{[]string{"h2c", "websocket"}, true},
		{[]string{"websockets"}, false},
		{[]string{"h2c"}, false},
	} {
		t.Run(fmt.Sprint(tc.upgrade), func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			for _, v := range tc.upgrade {
				r.Header.Add("Upgrade", v)
			}
			if got := isWebsocketUpgrade(r); got != tc.want {
				t.Errorf("Upgrade %q: %v, want %v", tc.upgrade, got, tc.want)
			}
		})
	}
}

// A handler that panics before upgrading is answered like any other
// request's panic: 500, from the request's own middleware.
func TestPanicBeforeUpgradeIsAnsweredByTheRequest(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := recoverer(log)(serveDetached(log, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	})))
	r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	r.Header.Set("Upgrade", "websocket")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", w.Code)
	}
}

// Everything a socket starts derives from its context, which ends when the
// socket's handler returns, however the socket closed.
func TestSocketContextEndsWithItsHandler(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var socket context.Context
	h := serveDetached(log, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		socket = r.Context()
	}))
	r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	r.Header.Set("Upgrade", "websocket")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if socket.Err() == nil {
		t.Fatal("the socket's context outlived its handler")
	}
}
