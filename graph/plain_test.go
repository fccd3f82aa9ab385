package graph

import (
	"bytes"
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// A plain field answers as gqlgen's own resolution would, with or without
// the shortcut: its value, or null and an error at its path when reading
// the value panics.
func TestResolvePlainField(t *testing.T) {
	for _, shortcut := range []bool{false, true} {
		root := &Resolver{PlainFields: shortcut}
		run := func(value func() string) (string, string) {
			ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
			ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Name: "vehicle", Alias: "vehicle"}}})
			oc := &graphql.OperationContext{RecoverFunc: graphql.DefaultRecover, ResolverMiddleware: func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) }}
			ctx = graphql.WithOperationContext(ctx, oc)
			field := graphql.CollectedField{Field: &ast.Field{Name: "vin", Alias: "vin"}}
			fc := func(_ context.Context, f graphql.CollectedField) (*graphql.FieldContext, error) {
				return graphql.NewScalarFieldContext("Vehicle", f, false, false, "String")
			}
			m := resolvePlainField(root, ctx, oc, field, fc, value, func(_ context.Context, _ ast.SelectionSet, v string) graphql.Marshaler {
				return graphql.MarshalString(v)
			}, true, true)
			var b bytes.Buffer
			m.MarshalGQL(&b)
			errs := graphql.GetErrors(ctx)
			if len(errs) == 0 {
				return b.String(), ""
			}
			return b.String(), errs[0].Path.String()
		}
		if got, path := run(func() string { return "1HGCM82633A004352" }); got != `"1HGCM82633A004352"` || path != "" {
			t.Errorf("shortcut %v: %s, error at %q", shortcut, got, path)
		}
		if got, path := run(func() string { panic("no vehicle") }); got != "null" || path != "vehicle.vin" {
			t.Errorf("shortcut %v, panic: %s, error at %q; want null and an error at vehicle.vin", shortcut, got, path)
		}
	}
}

// A plain pointer field answers as gqlgen's own resolution would, with or
// without the shortcut: its object, rendered under the field's path; a null
// its marshaller reports at that path; or null and an error at that path
// when reading the value panics.
func TestResolvePlainPointer(t *testing.T) {
	type model struct{ Name string }
	for _, shortcut := range []bool{false, true} {
		root := &Resolver{PlainFields: shortcut}
		run := func(value func() *model) (string, string) {
			ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
			ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Name: "vehicle", Alias: "vehicle"}}})
			oc := &graphql.OperationContext{RecoverFunc: graphql.DefaultRecover, ResolverMiddleware: func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) }}
			ctx = graphql.WithOperationContext(ctx, oc)
			field := graphql.CollectedField{Field: &ast.Field{Name: "model", Alias: "model"}}
			fc := func(_ context.Context, f graphql.CollectedField) (*graphql.FieldContext, error) {
				return &graphql.FieldContext{Object: "Vehicle", Field: f}, nil
			}
			m := resolvePlainPointer(root, ctx, oc, field, fc, value, func(ctx context.Context, _ ast.SelectionSet, v *model) graphql.Marshaler {
				if v == nil {
					graphql.AddErrorf(ctx, "the requested element is null which the schema does not allow")
					return graphql.Null
				}
				// The path the fields under it would report errors at.
				return graphql.MarshalString(v.Name + " at " + graphql.GetPath(ctx).String())
			}, true, true)
			var b bytes.Buffer
			m.MarshalGQL(&b)
			errs := graphql.GetErrors(ctx)
			if len(errs) == 0 {
				return b.String(), ""
			}
			return b.String(), errs[0].Path.String()
		}
		if got, path := run(func() *model { return &model{Name: "Civic"} }); got != `"Civic at vehicle.model"` || path != "" {
			t.Errorf("shortcut %v: %s, error at %q", shortcut, got, path)
		}
		if got, path := run(func() *model { return nil }); got != "null" || path != "vehicle.model" {
			t.Errorf("shortcut %v, nil: %s, error at %q; want null and an error at vehicle.model", shortcut, got, path)
		}
		if got, path := run(func() *model { panic("no model") }); got != "null" || path != "vehicle.model" {
			t.Errorf("shortcut %v, panic: %s, error at %q; want null and an error at vehicle.model", shortcut, got, path)
		}
	}
}
