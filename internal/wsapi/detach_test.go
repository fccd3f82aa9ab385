package wsapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// answerPanics answers a panic with 500, as the HTTP layer's recoverer does.
func answerPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if recover() != nil {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// A handler that panics before upgrading is answered like any other
// request's panic: 500, from the request's own middleware.
func TestPanicBeforeUpgradeIsAnsweredByTheRequest(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := answerPanics(serveDetached(log, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
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
