package graph

import (
	"strconv"
	"testing"
	"time"
	"unique"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// The elements of a list run in order unless something under them is
// resolved concurrently; a fragment does not hide such a field.
func TestSelectsConcurrentField(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	for _, tc := range []struct {
		name  string
		query string
		want  bool
	}{
		{"single relations only", `{ vehicles { nodes { vin make { name } model { name make { name } } dealer { name city } } } }`, false},
		{"a nested connection", `{ vehicles { nodes { vin history { edges { node { kind } } } } } }`, true},
		{"a connection under a relation", `{ vehicles { nodes { dealer { vehicles { nodes { vin } } } } } }`, true},
		{"a connection inside a fragment spread", `{ vehicles { nodes { ...v } } } fragment v on Vehicle { history { pageInfo { hasNextPage } } }`, true},
		{"an inline fragment of single relations", `{ vehicles { nodes { ... on Vehicle { model { name } } } } }`, false},
		{"a list under a list", `{ makes { name models { name } } }`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQueryWithRules(schema, tc.query, rules.NewDefaultRules())
			if errs != nil {
				t.Fatalf("%s: %v", tc.query, errs)
			}
			// A list field's own selection is what marshalList looks under.
			root := doc.Operations[0].SelectionSet[0].(*ast.Field)
			if got := selectsConcurrentField(root.SelectionSet); got != tc.want {
				t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
			}
		})
	}
}

// A rendering is shared while it is fresh, never after; and a full table
// makes room by dropping its oldest.
func TestRenderingsAreSharedBrieflyOnly(t *testing.T) {
	clock := time.Unix(0, 0)
	r := NewRenderings(2, time.Second)
	r.now = func() time.Time { return clock }
	key := func(event string) renderingKey {
		id, _ := strconv.ParseInt(event, 10, 64)
		return renderingKey{event: eventID{id: id}, operation: unique.Make("q")}
	}
	claim := func(event string, wantMine bool) {
		t.Helper()
		rd, mine := r.claim(key(event))
		if mine != wantMine {
			t.Fatalf("claim %s at %v: mine = %v, want %v", event, clock, mine, wantMine)
		}
		if mine {
			close(rd.done)
		}
	}
	claim("1", true)
	claim("1", false) // shared while fresh
	clock = clock.Add(999 * time.Millisecond)
	claim("1", false)
	clock = clock.Add(time.Millisecond)
	claim("1", true) // too old: executed again
	claim("2", true)
	claim("3", true) // full: drops the oldest, 1
	claim("2", false)
	claim("1", true)
}

// An object gets gqlgen's deferred group only when one of its fields is
// deferred; otherwise an empty one, which nothing adds to.
func TestNewDeferredGroup(t *testing.T) {
	ctx := graphql.WithPathContext(t.Context(), graphql.NewPathWithField("vehicle"))
	plain := []graphql.CollectedField{{Field: &ast.Field{Name: "vin"}}}
	if g := newDeferredGroup(&Resolver{}, ctx, plain); g.FieldSet != nil || g.Defers != nil || g.Path != nil || g.Context != ctx {
		t.Errorf("no deferred field: got %+v, want an empty group on ctx", g)
	}
	deferred := append(plain, graphql.CollectedField{Field: &ast.Field{Name: "priceCents"}, Deferrables: []*graphql.Deferrable{{Label: "price"}}})
	g := newDeferredGroup(&Resolver{}, ctx, deferred)
	if g.FieldSet == nil || g.Defers == nil || g.Context != ctx || g.Path.String() != "vehicle" {
		t.Errorf("a deferred field: got %+v, want gqlgen's group at vehicle", g)
	}
}
