package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
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

// hideSuggestions is a gqlgen extension used in production: it removes the
// "Did you mean …?" hints from error messages, which would otherwise reveal
// the schema's field, argument, type and enum names with introspection
// turned off. (gqlgen's SetDisableSuggestion covers field names only.)
type hideSuggestions struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = hideSuggestions{}

func (hideSuggestions) ExtensionName() string { return "HideSuggestions" }

func (hideSuggestions) Validate(graphql.ExecutableSchema) error { return nil }

func (hideSuggestions) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil {
		for _, e := range resp.Errors {
			e.Message = withoutSuggestion(e.Message)
		}
	}
	return resp
}

// withoutSuggestion cuts a trailing " Did you mean …?" from message.
func withoutSuggestion(message string) string {
	if i := strings.Index(message, " Did you mean "); i >= 0 && strings.HasSuffix(message, "?") {
		return message[:i]
	}
	return message
}

// noIntrospection refuses __schema and __type, with introspection off
// (production). A document that asks for them is then invalid, answered
// like any other invalid document (GRAPHQL_VALIDATION_FAILED, 422 or 400)
// and cached as such, rather than failing in execution as an internal error.
func noIntrospection(observers *core.Events, addError core.AddErrFunc) {
	observers.OnField(func(_ *core.Walker, field *ast.Field) {
		if field.Name == "__schema" || field.Name == "__type" {
			addError(core.Message(`introspection is disabled: "%s" cannot be queried`, field.Name), core.At(field.Position))
		}
	})
}
