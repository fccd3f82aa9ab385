package graph

import (
	"context"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/carlot/carlot/graph/plan"
	"github.com/carlot/carlot/internal/auth"
	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/media"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/tracing"
	"github.com/carlot/carlot/internal/trusted"
	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/models"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"
)

// CodeQueryTooComplex is the extensions.code of a document refused by the
// document limits or the cost check (limits.go), before anything runs. It
// belongs to the GraphQL layer: the domain never refuses a query for its
// shape.
const CodeQueryTooComplex models.Code = "QUERY_TOO_COMPLEX"

// ServerDeps is what the GraphQL server is built from.
type ServerDeps struct {
	Config   *config.Config
	Resolver *Resolver
	Log      *slog.Logger
	Metrics  *metrics.Registry
	// Websocket is the transport of subscriptions (internal/wsapi's), put
	// first: it claims upgrade requests, which the GET transport would
	// otherwise see. Nil: no websocket transport.
	Websocket graphql.Transport
	// LoaderWait is how long the loaders of a socket's operations wait to
	// batch (0: loaders.DefaultWait).
	LoaderWait time.Duration
	// Trusted is the trusted-documents manifest (TRUSTED_DOCUMENTS); nil: none.
	Trusted *trusted.Documents
	// Tracer exports a span per operation; nil: none.
	Tracer trace.TracerProvider
	// Hooks tell the HTTP layer what each request over HTTP ran.
	Hooks RequestHooks
}

// RequestHooks are how the HTTP layer learns, for its access log and
// metrics, what a GraphQL request over HTTP ran; graph calls them and knows
// nothing else of that layer. Each may be nil.
type RequestHooks struct {
	// Named is told the operation a request names, before its document is
	// read, and then the operation it runs (named even when the request
	// named none).
	Named func(ctx context.Context, operation string)
	// Understood is told the operation of a document that parsed and
	// validated, so its name may become a metrics label.
	Understood func(ctx context.Context, operation string)
	// Answered is told the outcome: metrics.OutcomeOK or the
	// extensions.code of the response's first error.
	Answered func(ctx context.Context, outcome string)
}

func (h RequestHooks) named(ctx context.Context, operation string) {
	if h.Named != nil {
		h.Named(ctx, operation)
	}
}

func (h RequestHooks) understood(ctx context.Context, operation string) {
	h.named(ctx, operation)
	if h.Understood != nil {
		h.Understood(ctx, operation)
	}
}

// Subscriptions share the renderings of the events being fanned out: one
// per distinct (document, variables, actor) of an event in flight, for as
// long as a fan-out takes. (Past that, deliveries execute the event again.)
const (
	sharedRenderings   = 4096
	sharedRenderingAge = time.Second
)

type socketOperationsKey struct{}

// OnSocket marks ctx as a websocket's, for the operations that run in it:
// they get loaders of their own (see NewServer). The websocket transport is
// given it as its Operations hook.
func OnSocket(ctx context.Context) context.Context {
	return context.WithValue(ctx, socketOperationsKey{}, true)
}

func onSocket(ctx context.Context) bool {
	on, _ := ctx.Value(socketOperationsKey{}).(bool)
	return on
}

// NewServer builds the GraphQL server on d.Resolver: explicit transports
// (the websocket one given, GET and POST per the GraphQL-over-HTTP
// specification, OPTIONS), a bounded parsed-query cache, trusted documents
// and persisted queries, Int range checks, the document limits and cost,
// the error presenter and the per-operation policy. It gives the resolver
// the shared renderings of subscription events and, since no extension
// below intercepts fields, PlainFields.
func NewServer(d ServerDeps) *handler.Server {
	cfg := d.Config
	if d.LoaderWait == 0 {
		d.LoaderWait = loaders.DefaultWait
	}
	r := d.Resolver
	if r.Renderings == nil {
		r.Renderings = NewRenderings(sharedRenderings, sharedRenderingAge)
	}
	if d.Metrics != nil {
		d.Metrics.WatchSubscriptionExecutions(r.Renderings.Executed)
	}
	// The extensions below intercept operations and responses, never
	// fields: add a field interceptor (or AroundFields) and this must go.
	r.PlainFields = true
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r}))
	if d.Websocket != nil {
		srv.AddTransport(d.Websocket)
	}
	// Multipart photo uploads, with a bearer token only (see upload.go),
	// waiting beside the photos when they are stored in a directory.
	uploads := UploadTransport{MaxFileBytes: d.Config.MaxUploadBytes, Hooks: d.Hooks}
	if store, ok := r.Media.(*media.FileStore); ok {
		uploads.TempDir = store.TempDir()
	}
	srv.AddTransport(uploads)
	// GET and POST per the GraphQL-over-HTTP spec; no form or multipart
	// transport for anything else, which browsers could post cross-site
	// (see transport.go).
	// It answers every method but OPTIONS (405 with Allow for the others).
	srv.AddTransport(httpTransport{hooks: d.Hooks})
	srv.AddTransport(transport.Options{})
	// Parsing and validating a document costs more than running a cached one; keep the most recent.
	queryCache := lru.New[*ast.QueryDocument](cfg.QueryCacheSize)
	srv.SetQueryCache(queryCache)
	srv.SetParserTokenLimit(cfg.MaxTokens)
	srv.SetValidationRulesFn(validationRules(!cfg.Production()))
	if !cfg.Production() {
		srv.Use(extension.Introspection{})
	} else {
		srv.SetDisableSuggestion(true)
		srv.Use(hideSuggestions{})
	}
	// Trusted documents first: a document id becomes its text, and with
	// TRUSTED_DOCUMENTS_ONLY any other text is refused before it is parsed.
	srv.Use(trusted.Extension{Documents: d.Trusted})
	// Then APQ: it turns a hash into the query the limits then measure.
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](cfg.QueryCacheSize)})
	// Before the complexity check, which reads first/last from the variables.
	srv.Use(&intVariables{})
	srv.Use(documentLimits{
		maxTokens:     cfg.MaxTokens,
		maxDepth:      cfg.MaxDepth,
		maxAliases:    cfg.MaxAliases,
		maxDirectives: cfg.MaxDirectives,
		maxFields:     cfg.MaxFields,
		maxComplexity: cfg.MaxComplexity,
		introspection: !cfg.Production(),
		cache:         queryCache,
	})
	if d.Metrics != nil {
		srv.Use(subscriptionMetrics{metrics: d.Metrics})
	}
	if d.Tracer != nil {
		srv.Use(tracing.Operations{Tracer: tracing.Tracer(d.Tracer)})
	}
	present := ErrorPresenter(d.Log)
	srv.SetErrorPresenter(present)
	srv.SetRecoverFunc(Recover(d.Log))
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		socket := onSocket(ctx)
		// A socket's upgrade request was logged when it was upgraded; its
		// operations come later and are not that request's.
		if !socket {
			if op := graphql.GetOperationContext(ctx).Operation; op != nil {
				d.Hooks.named(ctx, op.Name) // the operation run, named even when the client sent no operationName
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
		if socket {
			ctx = loaders.WithLazy(ctx, func() *loaders.Loaders { return loaders.New(r.DB, d.LoaderWait, nil) })
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
