// Package httpapi is Carlot's HTTP layer: every route and the middleware
// every request passes through (request ids, the access log, panics,
// security headers, client addresses, CORS, compression, rate limits,
// deadlines and body limits), health and readiness, metrics, media and
// GraphiQL. It is handed the GraphQL server and the websocket transport as
// handlers and middleware, and the readiness check as a function, so it
// imports neither graph nor internal/live, loaders or migrations; the
// functions it exports for them (OperationNamed, OperationUnderstood,
// Answered, ClientKey, TooManyRequests) are how they report to its access
// log and metrics.
package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/graphiql"
	"github.com/carlot/carlot/internal/media"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/ratelimit"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/otel/trace"
)

// Deps is what the HTTP surface is built from: the handlers and middleware
// of the layers below it, and the functions it calls on them. httpapi
// imports none of those layers; internal/app wires them.
type Deps struct {
	Config *config.Config
	Log    *slog.Logger
	// Metrics receives the server's metrics and is served on /metrics.
	Metrics *metrics.Registry
	// Media holds the files served under /media/. Nil: a media.FileStore
	// in Config.MediaDir.
	Media media.Store
	// Tracer exports spans of requests; nil: tracing is off and costs nothing.
	Tracer trace.TracerProvider

	// Ready reports, for /readyz, how many migrations are pending, or why
	// the database cannot say.
	Ready func(context.Context) (pendingMigrations int, err error)
	// GraphQL serves /graphql: the GraphQL server, websockets included.
	GraphQL http.Handler
	// Authenticate reads a request's access token (auth.Tokens.Middleware).
	Authenticate func(http.Handler) http.Handler
	// RequestScope gives each GraphQL request what it must not share with
	// others (its loaders); nil: nothing.
	RequestScope func(http.Handler) http.Handler
	// Websockets handles upgrade requests before anything else of /graphql
	// sees them (the websocket transport's caps and socket state); nil: none.
	Websockets func(http.Handler) http.Handler
	// PerIP and PerUser are the request budgets (PerMinute); nil: no limit.
	// The websocket transport draws its operations from the same ones.
	PerIP, PerUser *ratelimit.Limiter
	// UploadBodyLimit returns the body limit of a request that may be
	// larger than MAX_BODY_BYTES (a photo upload), or 0 for any other;
	// nil: none may.
	UploadBodyLimit func(*http.Request) int64
}

// New returns the handler of every route. It starts nothing: what runs
// beside it (the event broker, the open websockets) belongs to its caller.
func New(d Deps) http.Handler {
	cfg := d.Config
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	pass := func(next http.Handler) http.Handler { return next }
	if d.RequestScope == nil {
		d.RequestScope = pass
	}
	if d.Websockets == nil {
		d.Websockets = pass
	}
	if d.Authenticate == nil {
		d.Authenticate = pass
	}
	r := chi.NewRouter()
	r.Use(requestID, accessLog(d.Log), recoverer(d.Log), securityHeaders(cfg.Production()),
		clientAddress(cfg.TrustedProxies), countResponses(d.Metrics), cors(cfg.CORSAllowedOrigins, cfg.CORSAllowedHeaders),
		middleware.Compress(5, mediaJSON, mediaGraphQLResponse, "text/html", "text/javascript", "text/css"))

	r.Get("/healthz", healthz)
	r.Get("/readyz", readyz(d.Ready))
	r.Method(http.MethodGet, "/metrics", d.Metrics.Handler())

	// Vehicle photos by content hash: immutable, public, cached for a year.
	if d.Media == nil {
		d.Media = media.NewFileStore(cfg.MediaDir)
	}
	r.Handle("/media/*", http.StripPrefix("/media/", media.Handler(d.Media, d.Log)))

	r.Group(func(r chi.Router) {
		r.Use(observeGraphQL(d.Metrics), limitByIP(d.PerIP, d.Metrics), d.Websockets,
			deadline(cfg.RequestTimeout), limitBody(cfg.MaxBodyBytes, d.UploadBodyLimit), d.RequestScope, d.Authenticate)
		// The per-user limit wraps the handler itself so that it runs after
		// every middleware above, authentication included.
		r.Handle("/graphql", limitByUser(d.PerUser, d.Metrics)(d.GraphQL))
	})
	if !cfg.Production() {
		// GraphiQL from files embedded in the binary (no CDN), with a CSP of its own.
		playground := graphiql.New()
		r.Get("/", playground.ServeHTTP)
		r.Get(graphiql.Prefix+"*", playground.ServeHTTP)
	}
	if d.Tracer != nil {
		return traceRequests(r, d.Tracer)
	}
	return r
}

// PerMinute returns a limiter allowing n requests a minute per key, or nil
// (no limit) for n = 0: the RATE_LIMIT_* budgets.
func PerMinute(n int) *ratelimit.Limiter {
	if n <= 0 {
		return nil
	}
	return ratelimit.New(n, rateWindow, nil)
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the database answers and every migration is
// applied, so a load balancer sends no traffic to a replica that cannot serve it.
func readyz(ready func(context.Context) (int, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		pending, err := ready(ctx)
		switch {
		case err != nil:
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "database": "unreachable"})
		case pending > 0:
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "database": "ok", "pendingMigrations": pending})
		default:
			writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "database": "ok", "pendingMigrations": 0})
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
