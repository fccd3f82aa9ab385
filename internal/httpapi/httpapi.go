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
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/carlot/carlot/graph"
	"github.com/carlot/carlot/internal/auth"
	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/migrations"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Deps is what the HTTP surface needs from the process.
type Deps struct {
	Config *config.Config
	DB     *bun.DB
	Log    *slog.Logger
	// LoaderWait overrides loaders.DefaultWait (0 keeps the default).
	LoaderWait time.Duration

	tokens *auth.Tokens
}

// New returns the handler serving every route.
func New(d Deps) http.Handler {
	if d.LoaderWait == 0 {
		d.LoaderWait = loaders.DefaultWait
	}
	r := chi.NewRouter()
	r.Use(requestID, accessLog(d.Log), recoverer(d.Log), cors(d.Config.CORSAllowedOrigins))

	r.Get("/healthz", healthz)
	r.Get("/readyz", readyz(d.DB))

	d.tokens = tokens(d)
	gql := graphQLServer(d)
	r.Group(func(r chi.Router) {
		r.Use(middleware.Timeout(d.Config.RequestTimeout), limitBody(d.Config.MaxBodyBytes), withLoaders(d.DB, d.LoaderWait), d.tokens.Middleware)
		r.Handle("/graphql", gql)
	})
	if !d.Config.Production() {
		r.Get("/", playground.Handler("Carlot", "/graphql"))
	}
	return r
}

// graphQLServer builds the gqlgen server with explicit transports, a bounded
// parsed-query cache and persisted queries.
func graphQLServer(d Deps) *handler.Server {
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{
		DB: d.DB, Log: d.Log, Tokens: d.tokens, RefreshTTL: d.Config.RefreshTokenTTL,
	}})
	srv := handler.New(schema)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	// Parsing and validating a document costs more than running a cached one; keep the most recent.
	srv.SetQueryCache(lru.New[*ast.QueryDocument](d.Config.QueryCacheSize))
	if !d.Config.Production() {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](d.Config.QueryCacheSize)})
	srv.Use(extension.FixedComplexityLimit(d.Config.MaxComplexity))
	present := graph.ErrorPresenter(d.Log)
	srv.SetErrorPresenter(present)
	srv.SetRecoverFunc(graph.Recover(d.Log))
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if info := infoFrom(ctx); info != nil {
			info.operation = graphql.GetOperationContext(ctx).OperationName
		}
		// A token that is present but invalid refuses the whole request, even
		// a public read: the client must refresh or drop it, not be served as
		// anonymous without noticing.
		if err := auth.ErrorFrom(ctx); err != nil {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{present(ctx, err)}})
		}
		return next(ctx)
	})
	return srv
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

// withLoaders gives each request its own loaders, so nothing read for one
// request is served to another.
func withLoaders(db bun.IDB, wait time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(loaders.With(r.Context(), loaders.New(db, wait))))
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
