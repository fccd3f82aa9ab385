package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// resolvePlainField resolves a field that only reads a string, integer or
// boolean field of its object; the executor calls it where gqlgen would call
// graphql.ResolveField (see graph/internal/gqlgen). When the resolver says
// the server runs no field middleware (Resolver.PlainFields), the value is
// read and marshalled at once, without the field context, context value,
// middleware call and closures gqlgen spends on each field of each object:
// nothing could observe them, since reading the value cannot fail and the
// marshallers of these types never read the field context. A panic is
// still reported as gqlgen reports it, at the field's path. Otherwise, it
// is graphql.ResolveField.
func resolvePlainField[T any](root ResolverRoot, ctx context.Context, oc *graphql.OperationContext, field graphql.CollectedField,
	fieldContext func(context.Context, graphql.CollectedField) (*graphql.FieldContext, error),
	value func() T, marshal func(context.Context, ast.SelectionSet, T) graphql.Marshaler,
	recoverFromPanic, nonNull bool,
) (ret graphql.Marshaler) {
	if r, ok := root.(*Resolver); !ok || !r.PlainFields {
		return graphql.ResolveField(ctx, oc, field, fieldContext,
			func(context.Context) (any, error) { return value(), nil }, nil, marshal, recoverFromPanic, nonNull)
	}
	if recoverFromPanic {
		defer func() {
			if p := recover(); p != nil {
				if fc, err := fieldContext(ctx, field); err == nil {
					ctx = graphql.WithFieldContext(ctx, fc)
				}
				oc.Error(ctx, oc.Recover(ctx, p))
				ret = graphql.Null
			}
		}()
	}
	return marshal(ctx, field.Selections, value())
}

// resolvePlainPointer resolves a field that only reads a pointer field of
// its object (a vehicle's model or dealer, a model's make); the executor
// calls it where gqlgen would call graphql.ResolveField (see
// graph/internal/gqlgen). When the resolver says the server runs no field
// middleware (Resolver.PlainFields), it does what graphql.ResolveField does
// for such a field, without the middleware call and the closures around it:
// the field context is still made and put in the context, since the
// marshaller and the fields under it read it (for their paths, and to report
// a null where the schema allows none), and a panic is still reported at the
// field's path. A pointer in an interface is never nil, so graphql.ResolveField
// hands every value to the marshaller, as this does. Otherwise, it is
// graphql.ResolveField.
func resolvePlainPointer[T any](root ResolverRoot, ctx context.Context, oc *graphql.OperationContext, field graphql.CollectedField,
	fieldContext func(context.Context, graphql.CollectedField) (*graphql.FieldContext, error),
	value func() *T, marshal func(context.Context, ast.SelectionSet, *T) graphql.Marshaler,
	recoverFromPanic, nonNull bool,
) (ret graphql.Marshaler) {
	if r, ok := root.(*Resolver); !ok || !r.PlainFields {
		return graphql.ResolveField(ctx, oc, field, fieldContext,
			func(context.Context) (any, error) { return value(), nil }, nil, marshal, recoverFromPanic, nonNull)
	}
	fc, err := fieldContext(ctx, field)
	if err != nil {
		return graphql.Null
	}
	ctx = graphql.WithFieldContext(ctx, fc)
	if recoverFromPanic {
		defer func() {
			if p := recover(); p != nil {
				oc.Error(ctx, oc.Recover(ctx, p))
				ret = graphql.Null
			}
		}()
	}
	v := value()
	fc.Result = v
	return marshal(ctx, field.Selections, v)
}
