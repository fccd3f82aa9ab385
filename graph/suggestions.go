package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
)

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
