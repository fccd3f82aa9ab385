package loaders

import (
	"net/http"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/net/http/httpguts"
)

// Middleware gives each HTTP request its own loaders, so nothing read for
// one request is served to another. A websocket upgrade gets none here:
// each of a socket's operations gets fresh loaders (see graph.NewServer),
// and a set made here would sit unused in memory for as long as the socket
// stays open.
func Middleware(db bun.IDB, wait time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if httpguts.HeaderValuesContainsToken(r.Header.Values("Upgrade"), "websocket") {
				next.ServeHTTP(w, r)
				return
			}
			// Made when first asked for: most requests (every vehicle read,
			// which goes through the planner) never use them.
			next.ServeHTTP(w, r.WithContext(WithLazy(r.Context(), func() *Loaders { return New(db, wait, nil) })))
		})
	}
}
