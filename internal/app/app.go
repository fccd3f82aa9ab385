// Package app is Carlot's composition root: it builds the application one
// part at a time, each by its own package's constructor, and hands each part
// to the next: tokens → event broker → resolver → websocket transport →
// GraphQL server → HTTP handler. cmd/server serves the result; the test
// harness (internal/apitest/server) and the bench harness build exactly the
// same thing through New.
//
// Nothing here starts running in New: Start starts the event broker, the
// only goroutine the application keeps beside its requests, and Close stops
// it and closes every websocket.
package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/carlot/carlot/graph"
	"github.com/carlot/carlot/internal/auth"
	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/httpapi"
	"github.com/carlot/carlot/internal/live"
	"github.com/carlot/carlot/internal/media"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/trusted"
	"github.com/carlot/carlot/internal/wsapi"
	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/migrations"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/trace"
)

// Deps is what the application is built from: the configuration, the
// database and what the process chose to hand in.
type Deps struct {
	// Config must carry a JWT secret: cmd/server sets the development key
	// when JWT_SECRET is unset (cmd/server/secret.go).
	Config *config.Config
	DB     *bun.DB
	Log    *slog.Logger
	// LoaderWait overrides loaders.DefaultWait (0 keeps the default).
	LoaderWait time.Duration
	// Metrics receives the server's metrics and is served on /metrics. Nil:
	// a registry of its own, watching DB's pool.
	Metrics *metrics.Registry
	// Media holds the files served under /media/. Nil: a media.FileStore
	// in Config.MediaDir.
	Media media.Store
	// Passwords checks login passwords. Nil: one with the configured memory
	// budget.
	Passwords *models.PasswordHasher
	// Trusted is the trusted-documents manifest (TRUSTED_DOCUMENTS); nil: none.
	Trusted *trusted.Documents
	// Tracer exports spans of requests and operations; nil: tracing is off
	// and costs nothing.
	Tracer trace.TracerProvider
}

// App is the application, every part of it in view.
type App struct {
	Metrics *metrics.Registry
	// Tokens signs and checks access tokens.
	Tokens *auth.Tokens
	// Broker streams committed events to subscriptions; Start runs it.
	Broker *live.Broker
	// Resolver is the root of the GraphQL resolvers' dependencies.
	Resolver *graph.Resolver
	// Websockets is the websocket transport and its open sockets.
	Websockets *wsapi.Server
	// GraphQL is the gqlgen server (graph.NewServer).
	GraphQL *handler.Server
	// Handler serves every route (httpapi.New).
	Handler http.Handler

	mu      sync.Mutex
	stop    context.CancelFunc
	stopped chan struct{}
}

// New builds the application; Start it, and Close it when done.
func New(d Deps) (*App, error) {
	cfg := d.Config
	if cfg.JWTSecret == "" {
		return nil, errors.New("app: the configuration has no JWT secret")
	}
	if d.LoaderWait == 0 {
		d.LoaderWait = loaders.DefaultWait
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
		d.Metrics.WatchDB("carlot", database.Pool(d.DB))
	}
	if d.Media == nil {
		d.Media = media.NewFileStore(cfg.MediaDir)
	}
	if d.Passwords == nil {
		d.Passwords = models.NewPasswordHasher(cfg.PasswordHashMemoryBudget)
	}
	a := &App{Metrics: d.Metrics}
	a.Tokens = auth.New([]byte(cfg.JWTSecret), cfg.AccessTokenTTL)

	planner := graph.NewPlanner(database.Pool(d.DB), d.LoaderWait)
	a.Broker = live.New(d.DB, d.Log, live.Options{
		Prepare: planner.PrepareEvents, Delivered: d.Metrics.EventsDelivered,
		Buffer: cfg.SubscriptionBuffer, PollInterval: cfg.EventsPollInterval,
	})
	a.Resolver = &graph.Resolver{
		DB: d.DB, Plan: planner, Log: d.Log, Tokens: a.Tokens, RefreshTTL: cfg.RefreshTokenTTL, Live: a.Broker,
		Passwords: d.Passwords,
		Media:     d.Media,
		MediaLimits: media.Limits{
			MaxBytes: cfg.MaxUploadBytes, MaxSide: cfg.MaxImageSide, MaxPixels: cfg.MaxImagePixels,
		},
		// As many uploads decoded at once as there are processors.
		PhotoGate: media.NewGate(0),
	}

	// HTTP requests and websocket operations draw from the same budgets.
	perIP, perUser := httpapi.PerMinute(cfg.RateLimitPerIP), httpapi.PerMinute(cfg.RateLimitPerUser)
	a.Websockets = wsapi.New(wsapi.Options{
		Config: cfg, Tokens: a.Tokens, Log: d.Log, Metrics: d.Metrics,
		PerIP: perIP, PerUser: perUser,
		ClientKey: httpapi.ClientKey, TooManyRequests: httpapi.TooManyRequests,
		Operations: graph.OnSocket,
	})
	a.GraphQL = graph.NewServer(graph.ServerDeps{
		Config: cfg, Resolver: a.Resolver, Log: d.Log, Metrics: d.Metrics,
		Websocket: a.Websockets.Transport(), LoaderWait: d.LoaderWait,
		Trusted: d.Trusted, Tracer: d.Tracer,
		Hooks: graph.RequestHooks{
			Named: httpapi.OperationNamed, Understood: httpapi.OperationUnderstood, Answered: httpapi.Answered,
		},
	})
	a.Handler = httpapi.New(httpapi.Deps{
		Config: cfg, Log: d.Log, Metrics: d.Metrics, Media: d.Media, Tracer: d.Tracer,
		Ready: func(ctx context.Context) (int, error) { return migrations.Pending(ctx, d.DB) },
		// A websocket is served on a goroutine of its own once upgraded.
		GraphQL:      a.Websockets.Detach(a.GraphQL),
		Authenticate: a.Tokens.Middleware,
		RequestScope: loaders.Middleware(d.DB, d.LoaderWait),
		Websockets:   a.Websockets.Upgrades,
		PerIP:        perIP, PerUser: perUser,
		// A photo upload may be larger than MAX_BODY_BYTES: up to a file's
		// worth, and only when the upload transport takes it.
		UploadBodyLimit: func(r *http.Request) int64 {
			if graph.IsUpload(r) {
				return graph.UploadTransport{MaxFileBytes: cfg.MaxUploadBytes}.MaxBodyBytes()
			}
			return 0
		},
	})
	return a, nil
}

// ServeHTTP serves a request with Handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.Handler.ServeHTTP(w, r) }

// Start runs the event broker until Close. Call it once, before serving.
func (a *App) Start() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.stop, a.stopped = cancel, make(chan struct{})
	go func() {
		defer close(a.stopped)
		a.Broker.Run(ctx)
	}()
}

// Close closes every websocket with 1001 (going away) and stops the event
// broker, releasing its listening connection. Call it before http.Server's
// Shutdown, which does not wait for hijacked connections. It is safe to
// call more than once, and without Start.
func (a *App) Close() {
	a.Websockets.Close()
	a.mu.Lock()
	stop, stopped := a.stop, a.stopped
	a.mu.Unlock()
	if stop != nil {
		stop()
		<-stopped
	}
}

// LiveSubscribers returns how many subscriptions this replica is feeding.
func (a *App) LiveSubscribers() int { return a.Broker.Subscribers() }
