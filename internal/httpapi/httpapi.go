// Package httpapi builds Carlot's whole HTTP surface in one place: the
// middleware every request passes through and every route.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/carlot/carlot/graph"
	"github.com/carlot/carlot/graph/plan"
	"github.com/carlot/carlot/internal/auth"
	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/graphiql"
	"github.com/carlot/carlot/internal/live"
	"github.com/carlot/carlot/internal/media"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/ratelimit"
	"github.com/carlot/carlot/internal/tracing"
	"github.com/carlot/carlot/internal/trusted"
	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/migrations"
	"github.com/carlot/carlot/models"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"
)

// Deps is what the HTTP surface needs from the process.
type Deps struct {
	Config *config.Config
	DB     *bun.DB
	Log    *slog.Logger
	// LoaderWait overrides loaders.DefaultWait (0 keeps the default).
	LoaderWait time.Duration
	// Metrics receives the server's metrics and is served on /metrics. Nil:
	// New makes a registry of its own, watching DB's pool.
	Metrics *metrics.Registry
	// Media holds the files served under /media/. Nil: a media.FileStore
	// in Config.MediaDir.
	Media media.Store

	// Passwords checks login passwords. Nil: New makes one with the
	// configured memory budget.
	Passwords *models.PasswordHasher
	// Trusted is the trusted-documents manifest (TRUSTED_DOCUMENTS); nil: none.
	Trusted *trusted.Documents
	// Tracer exports spans of requests and operations; nil: tracing is off
	// and costs nothing.
	Tracer trace.TracerProvider

	tokens *auth.Tokens
}

// API is the HTTP surface: a handler for every route, plus what runs beside
// it (the live event broker and the open websockets) and must be stopped.
type API struct {
	http.Handler
	broker  *live.Broker
	sockets *sockets
	stop    context.CancelFunc
	stopped chan struct{}
}

// Close closes every websocket with 1001 (going away) and stops the event
// broker, releasing its listening connection. Call it before http.Server's
// Shutdown, which does not wait for hijacked connections.
// It is safe to call more than once.
func (a *API) Close() {
	a.sockets.abortAll(live.ErrShutdown)
	a.stop()
	<-a.stopped
}

// LiveSubscribers returns how many subscriptions this replica is feeding.
func (a *API) LiveSubscribers() int { return a.broker.Subscribers() }

// New returns the HTTP surface; Close it when done.
func New(d Deps) *API {
	if d.LoaderWait == 0 {
		d.LoaderWait = loaders.DefaultWait
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
		if d.DB != nil {
			d.Metrics.WatchDB("carlot", database.Pool(d.DB))
		}
	}
	cfg := d.Config
	if d.Passwords == nil {
		d.Passwords = models.NewPasswordHasher(cfg.PasswordHashMemoryBudget)
	}
	r := chi.NewRouter()
	r.Use(requestID, accessLog(d.Log), recoverer(d.Log), securityHeaders(cfg.Production()),
		clientAddress(cfg.TrustedProxies), countResponses(d.Metrics), cors(cfg.CORSAllowedOrigins, cfg.CORSAllowedHeaders),
		middleware.Compress(5, mediaJSON, mediaGraphQLResponse, "text/html", "text/javascript", "text/css"))

	r.Get("/healthz", healthz)
	r.Get("/readyz", readyz(d.DB))
	r.Method(http.MethodGet, "/metrics", d.Metrics.Handler())

	// Vehicle photos by content hash: immutable, public, cached for a year.
	if d.Media == nil {
		d.Media = media.NewFileStore(cfg.MediaDir)
	}
	r.Handle("/media/*", http.StripPrefix("/media/", media.Handler(d.Media, d.Log)))

	d.tokens = tokens(d)
	planner := graph.NewPlanner(database.Pool(d.DB), d.LoaderWait)
	broker := live.New(d.DB, d.Log, live.Options{
		Prepare: planner.PrepareEvents, Delivered: d.Metrics.EventsDelivered,
		Buffer: cfg.SubscriptionBuffer, PollInterval: cfg.EventsPollInterval,
	})
	// HTTP requests and websocket operations draw from the same budgets.
	perIP, perUser := perMinute(cfg.RateLimitPerIP), perMinute(cfg.RateLimitPerUser)
	api := &API{
		broker: broker,
		sockets: newSockets(&socketLimits{
			perIP: perIP, perUser: perUser, maxActive: cfg.WSMaxSubscriptions, metrics: d.Metrics,
		}),
		stopped: make(chan struct{}),
	}
	var brokerCtx context.Context
	brokerCtx, api.stop = context.WithCancel(context.Background())
	go func() {
		defer close(api.stopped)
		broker.Run(brokerCtx)
	}()
	gql := graphQLServer(d, broker, planner)
	websockets := newWebsocketCap(cfg.MaxWSConnsPerIP, d.Metrics)
	r.Group(func(r chi.Router) {
		r.Use(observeGraphQL(d.Metrics), limitByIP(perIP, d.Metrics), websockets.Middleware,
			deadline(cfg.RequestTimeout), limitBody(cfg.MaxBodyBytes, uploads(cfg)), withLoaders(d.DB, d.LoaderWait), d.tokens.Middleware,
			api.sockets.track)
		// The per-user limit wraps the handler itself so that it runs after
		// every middleware above, authentication included.
		r.Handle("/graphql", limitByUser(perUser, d.Metrics)(serveDetached(d.Log, gql)))
	})
	if !cfg.Production() {
		// GraphiQL from files embedded in the binary (no CDN), with a CSP of its own.
		playground := graphiql.New()
		r.Get("/", playground.ServeHTTP)
		r.Get(graphiql.Prefix+"*", playground.ServeHTTP)
	}
	api.Handler = r
	if d.Tracer != nil {
		api.Handler = traceRequests(r, d.Tracer)
	}
	return api
}

// Subscriptions share the renderings of the events being fanned out: one
// per distinct (document, variables, actor) of an event in flight, for as
// long as a fan-out takes. (Past that, deliveries execute the event again.)
const (
	sharedRenderings   = 4096
	sharedRenderingAge = time.Second
)

// graphQLServer builds the gqlgen server with explicit transports, a bounded
// parsed-query cache and persisted queries.
func graphQLServer(d Deps, broker *live.Broker, planner *plan.Planner) *handler.Server {
	renderings := graph.NewRenderings(sharedRenderings, sharedRenderingAge)
	d.Metrics.WatchSubscriptionExecutions(renderings.Executed)
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{
		DB: d.DB, Plan: planner, Log: d.Log, Tokens: d.tokens, RefreshTTL: d.Config.RefreshTokenTTL, Live: broker,
		Passwords:  d.Passwords,
		Renderings: renderings,
		Media:      d.Media,
		MediaLimits: media.Limits{
			MaxBytes: d.Config.MaxUploadBytes, MaxSide: d.Config.MaxImageSide, MaxPixels: d.Config.MaxImagePixels,
		},
		// The extensions below intercept operations and responses, never
		// fields: add a field interceptor (or AroundFields) and this must go.
		PlainFields: true,
	}})
	srv := handler.New(schema)
	// The websocket transport first: it claims upgrade requests, which the
	// GET transport would otherwise see.
	srv.AddTransport(websocketTransport(d, broker))
	// GET and POST per the GraphQL-over-HTTP spec; no form or multipart
	// transport, which browsers could post cross-site (see transport.go).
	// It answers every method but OPTIONS (405 with Allow for the others).
	srv.AddTransport(uploads(d.Config)) // multipart photo uploads, with a bearer token only
	srv.AddTransport(httpTransport{})
	srv.AddTransport(transport.Options{})
	// Parsing and validating a document costs more than running a cached one; keep the most recent.
	queryCache := lru.New[*ast.QueryDocument](d.Config.QueryCacheSize)
	srv.SetQueryCache(queryCache)
	srv.SetParserTokenLimit(d.Config.MaxTokens)
	srv.SetValidationRulesFn(validationRules(!d.Config.Production()))
	if !d.Config.Production() {
		srv.Use(extension.Introspection{})
	} else {
		srv.SetDisableSuggestion(true)
		srv.Use(hideSuggestions{})
	}
	// Trusted documents first: a document id becomes its text, and with
	// TRUSTED_DOCUMENTS_ONLY any other text is refused before it is parsed.
	srv.Use(trusted.Extension{Documents: d.Trusted})
	// Then APQ: it turns a hash into the query the limits then measure.
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](d.Config.QueryCacheSize)})
	// Before the complexity check, which reads first/last from the variables.
	srv.Use(&intVariables{})
	srv.Use(documentLimits{
		maxTokens:     d.Config.MaxTokens,
		maxDepth:      d.Config.MaxDepth,
		maxAliases:    d.Config.MaxAliases,
		maxDirectives: d.Config.MaxDirectives,
		maxFields:     d.Config.MaxFields,
		maxComplexity: d.Config.MaxComplexity,
		introspection: !d.Config.Production(),
		cache:         queryCache,
	})
	srv.Use(subscriptionMetrics{metrics: d.Metrics})
	if d.Tracer != nil {
		srv.Use(tracing.Operations{Tracer: tracing.Tracer(d.Tracer)})
	}
	present := graph.ErrorPresenter(d.Log)
	srv.SetErrorPresenter(present)
	srv.SetRecoverFunc(graph.Recover(d.Log))
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		_, onSocket := ctx.Value(socketOperationsKey{}).(*live.Broker)
		// A socket's upgrade request was logged when it was upgraded; its
		// operations come later and are not that request's.
		if info := infoFrom(ctx); info != nil && !onSocket {
			if op := graphql.GetOperationContext(ctx).Operation; op != nil {
				info.operation = op.Name // the operation run, named even when the client sent no operationName
			}
		}
		// A token that is present but invalid refuses the whole request, even
		// a public read: the client must refresh or drop it, not be served as
		// anonymous without noticing.
		if err := auth.ErrorFrom(ctx); err != nil {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{present(ctx, err)}})
		}
		// Operations on a websocket get fresh loaders per operation, made
		// only if asked for: the events a subscription renders come with
		// what they show, read once for every subscriber by the planner.
		if onSocket {
			ctx = loaders.WithLazy(ctx, func() *loaders.Loaders { return loaders.New(d.DB, d.LoaderWait, nil) })
		}
		// Queries and mutations get the planner's state for their nested
		// levels; a subscription's events are rendered one by one, long
		// after it started, and each reads what it needs.
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation != ast.Subscription {
			ctx = plan.WithOperation(ctx)
		}
		return next(ctx)
	})
	return srv
}

// uploads is the multipart transport of photo uploads.
func uploads(cfg *config.Config) graph.UploadTransport {
	return graph.UploadTransport{MaxFileBytes: cfg.MaxUploadBytes}
}

// tokens builds the access-token verifier. Without a secret (tests and tools
// that never issue tokens) it signs with a random key, so tokens work until
// the process ends.
func tokens(d Deps) *auth.Tokens {
	secret := []byte(d.Config.JWTSecret)
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
		d.Log.Warn("JWT_SECRET is not set: signing tokens with a random key that lasts until the process exits")
	}
	return auth.New(secret, d.Config.AccessTokenTTL)
}

// perMinute returns a limiter allowing n requests a minute per key, or nil
// (no limit) for n = 0.
func perMinute(n int) *ratelimit.Limiter {
	if n <= 0 {
		return nil
	}
	return ratelimit.New(n, rateWindow, nil)
}

// withLoaders gives each request its own loaders, so nothing read for one
// request is served to another. A websocket gets none here: each of its
// operations gets fresh loaders (see graphQLServer), and a set made here
// would sit unused in memory for as long as the socket stays open.
func withLoaders(db bun.IDB, wait time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isWebsocketUpgrade(r) {
				next.ServeHTTP(w, r)
				return
			}
			// Made when first asked for: most requests (every vehicle read,
			// which goes through the planner) never use them.
			next.ServeHTTP(w, r.WithContext(loaders.WithLazy(r.Context(), func() *loaders.Loaders { return loaders.New(db, wait, nil) })))
		})
	}
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the database answers and every migration is
// applied, so a load balancer sends no traffic to a replica that cannot serve it.
func readyz(db *bun.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		pending, err := migrations.Pending(ctx, db)
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
