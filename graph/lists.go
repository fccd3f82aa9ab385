package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// marshalList marshals the n elements of a list field. The executor calls it
// where gqlgen would call graphql.MarshalSliceConcurrently, which starts a
// goroutine per element (see graph/internal/gqlgen). When nothing selected
// under the elements is resolved concurrently, no element can wait on a
// loader batch that another element fills, and the elements are marshalled
// in order on this goroutine: same values, same errors, no goroutines.
// Under a root other than *Resolver, it is graphql.MarshalSliceConcurrently.
func marshalList(root ResolverRoot, ctx context.Context, n int, workerLimit int64, omitPanicHandler bool,
	marshal func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if _, ok := root.(*Resolver); !ok || n > 1 && selectsConcurrentField(graphql.GetFieldContext(ctx).Field.Selections) {
		return graphql.MarshalSliceConcurrently(ctx, n, workerLimit, omitPanicHandler, marshal)
	}
	// The elements' field contexts and indices are allocated together, two
	// allocations for the list rather than two for each element; each
	// element still gets a field context and an index of its own.
	ret := make(graphql.Array, n)
	fcs := make([]graphql.FieldContext, n)
	indices := make([]int, n)
	for i := range n {
		indices[i] = i
		fcs[i].Index = &indices[i]
		ctx := graphql.WithFieldContext(ctx, &fcs[i])
		ret[i] = marshalElement(ctx, i, omitPanicHandler, marshal)
	}
	return ret
}

// marshalElement marshals one element, turning a panic into a field error
// and a null as gqlgen does.
func marshalElement(ctx context.Context, i int, omitPanicHandler bool,
	marshal func(ctx context.Context, i int) graphql.Marshaler) (ret graphql.Marshaler) {
	if !omitPanicHandler {
		defer func() {
			if r := recover(); r != nil {
				graphql.AddError(ctx, graphql.Recover(ctx, r))
				ret = graphql.Null
			}
		}()
	}
	return marshal(ctx, i)
}

// selectsConcurrentField reports whether sel, or any selection under it,
// asks for a field in concurrentFields. Directives are not evaluated: a
// field under @skip still counts, which only costs goroutines.
func selectsConcurrentField(sel ast.SelectionSet) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.ObjectDefinition != nil && concurrentFields[s.ObjectDefinition.Name+"."+s.Name] {
				return true
			}
			if selectsConcurrentField(s.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if selectsConcurrentField(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && selectsConcurrentField(s.Definition.SelectionSet) {
				return true
			}
		}
	}
	return false
}

// newDeferredGroup is graphql.NewDeferredGroup(ctx) for an object whose
// collected fields are fields, which the executor calls instead (see
// graph/internal/gqlgen). gqlgen's group holds the object's path, a field
// set and a map, all allocated for every object; they are used only for
// fields under @defer. Without such a field the group stays empty: nothing
// adds to it, and the executor finds no deferred fields in it to process.
// Under a root other than *Resolver, it is graphql.NewDeferredGroup.
func newDeferredGroup(root ResolverRoot, ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	if _, ok := root.(*Resolver); !ok {
		return graphql.NewDeferredGroup(ctx)
	}
	for _, f := range fields {
		if f.IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{Context: ctx}
}
