package graph

import (
	"bytes"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// An object is written byte for byte as gqlgen writes its field set: fields
// in order, a repeated alias written once (the first), aliases escaped as
// gqlgen escapes them.
func TestObjectFieldsWritesAsGqlgen(t *testing.T) {
	for _, aliases := range [][]string{
		nil,
		{"vin"},
		{"vin", "priceCents", "model"},
		{"a", "b", "a", "c", "b"},
		{"q\"uote", "back\\slash", "tab\tcr\rnl\n", "ctl\x01\x1f", "é ü"},
	} {
		fields := make([]graphql.CollectedField, len(aliases))
		for i, alias := range aliases {
			fields[i] = graphql.CollectedField{Field: &ast.Field{Name: "f", Alias: alias}}
		}
		set := graphql.NewFieldSet(fields)
		for i := range fields {
			set.Values[i] = graphql.MarshalInt(i)
		}
		var want, got bytes.Buffer
		set.MarshalGQL(&want)
		objectFields(&Resolver{}, fields, set).MarshalGQL(&got)
		if got.String() != want.String() {
			t.Errorf("aliases %q: wrote %s, gqlgen writes %s", aliases, got.String(), want.String())
		}
	}
}
