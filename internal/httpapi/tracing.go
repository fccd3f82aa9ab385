package httpapi

import (
	"net/http"

	"github.com/carlot/carlot/internal/tracing"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
)

// tracedRoutes are the paths whose spans are named after them; anything
// else (404s, scanners) is named by its method alone, so span names stay few.
var tracedRoutes = map[string]bool{"/graphql": true, "/": true}

// traceRequests gives every request a server span (otelhttp) that continues
// the caller's W3C traceparent, so a browser's or another service's trace
// runs on through Carlot. Health probes and metrics scrapes get none.
func traceRequests(h http.Handler, tp trace.TracerProvider) http.Handler {
	return otelhttp.NewHandler(h, "carlot",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(tracing.Propagator()),
		otelhttp.WithFilter(func(r *http.Request) bool {
			switch r.URL.Path {
			case "/healthz", "/readyz", "/metrics":
				return false
			}
			return true
		}),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if tracedRoutes[r.URL.Path] {
				return r.Method + " " + r.URL.Path
			}
			return r.Method
		}),
	)
}
