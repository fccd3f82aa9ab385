package httpapi

import (
	"net/http"
	"time"

	"github.com/carlot/carlot/internal/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// countResponses records every response's status by route pattern (never
// the raw path, which clients choose: unmatched paths count as "unmatched").
func countResponses(m *metrics.Registry) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			m.ObserveHTTP(route, status)
		})
	}
}

// observeGraphQL records each GraphQL request over HTTP: its operation and
// outcome, how long it took and how many SQL statements it ran. Requests
// refused before their document was understood count as operation
// "unknown". Websocket connections are not requests; subscriptions are
// counted by subscriptionMetrics instead.
func observeGraphQL(m *metrics.Registry) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isWebsocketUpgrade(r) {
				next.ServeHTTP(w, r)
				return
			}
			start := time.Now()
			next.ServeHTTP(w, r)
			info := infoFrom(r.Context())
			if info == nil {
				return
			}
			operation := metrics.UnknownOperation
			if info.metricsOperation != nil {
				operation = *info.metricsOperation
			}
			outcome := info.outcome
			if outcome == "" {
				outcome = "OTHER"
			}
			var statements int64
			if info.statements != nil {
				statements = info.statements.Load()
			}
			m.ObserveGraphQL(operation, outcome, time.Since(start), statements)
		})
	}
}
