package tracing

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// Operations is a gqlgen extension that gives each GraphQL operation one
// span, named "<type> <operationName>" with the GraphQL semantic
// conventions' attributes, and each subscription delivery a span of its
// own. Fields get none: the SQL statements under an operation say where its
// time went, and a span per field would cost more than the fields.
type Operations struct {
	Tracer trace.Tracer
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = Operations{}

// ExtensionName names the extension in gqlgen's list.
func (Operations) ExtensionName() string { return "Tracing" }

// Validate accepts any schema.
func (Operations) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation starts the operation's span. A query's or mutation's
// span ends with its response; a subscription's when it is set up, and each
// event it delivers then gets a span of its own.
func (o Operations) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx == nil || opCtx.Operation == nil {
		return next(ctx)
	}
	kind := string(opCtx.Operation.Operation)
	name := strings.TrimSpace(kind + " " + opCtx.Operation.Name)
	attrs := []attribute.KeyValue{
		semconv.GraphQLOperationTypeKey.String(kind),
		semconv.GraphQLDocument(opCtx.RawQuery), // the text only: variables carry the values
	}
	if opCtx.Operation.Name != "" {
		attrs = append(attrs, semconv.GraphQLOperationName(opCtx.Operation.Name))
	}
	ctx, span := o.Tracer.Start(ctx, name, trace.WithAttributes(attrs...))
	handler := next(ctx)
	if kind != "subscription" {
		return func(ctx context.Context) *graphql.Response {
			resp := handler(ctx)
			if resp == nil || resp.HasNext == nil || !*resp.HasNext {
				recordErrors(span, resp)
				span.End()
			}
			return resp
		}
	}
	span.End()
	parent := trace.ContextWithSpan(context.Background(), span)
	return func(ctx context.Context) *graphql.Response {
		resp := handler(ctx) // waits for the next event, then renders it
		if resp != nil {
			_, delivery := o.Tracer.Start(parent, "deliver "+name, trace.WithAttributes(attrs...))
			recordErrors(delivery, resp)
			delivery.End()
		}
		return resp
	}
}

// recordErrors marks a span whose response carries errors, with the first
// error's code.
func recordErrors(span trace.Span, resp *graphql.Response) {
	if resp == nil || len(resp.Errors) == 0 {
		return
	}
	code, _ := resp.Errors[0].Extensions["code"].(string)
	span.SetAttributes(attribute.String("graphql.error.code", code), attribute.Int("graphql.error.count", len(resp.Errors)))
	span.SetStatus(codes.Error, code)
}
