package httpapi

import (
	"context"
	"net/http"
	"time"
)

// Content security policies. The API answers JSON only, so its responses
// may load and embed nothing. (GraphiQL's page, development only, sets its
// own: see graphiql.Policy.)
const (
	apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	// hsts tells browsers to use HTTPS only for two years (production only:
	// on http://localhost it would be in the way).
	hsts = "max-age=63072000; includeSubDomains"
)

// securityHeaders sets the headers every response carries: no MIME
// sniffing, no referrer, never framed (X-Frame-Options and CSP
// frame-ancestors), a CSP that allows nothing, and HSTS in production.
func securityHeaders(production bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", apiCSP)
			if production {
				h.Set("Strict-Transport-Security", hsts)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// deadline gives each request REQUEST_TIMEOUT to finish: resolvers and SQL
// see the context end, and the request answers with the errors they return.
// (chi's middleware.Timeout would also write a 504 after the response has
// been written.) Websocket upgrades are left alone: a socket lives for as
// long as the client keeps it.
func deadline(timeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isWebsocketUpgrade(r) {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
