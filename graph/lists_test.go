package graph

import (
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// The elements of a list run in order unless something under them is
// resolved concurrently; a fragment does not hide such a field.
func TestSelectsConcurrentField(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	for _, tc := range []struct {
		query string
		want  bool
	}{
		{`{ vehicles { nodes { vin make { name } model { name make { name } } dealer { name city } } } }`, false},
		{`{ vehicles { nodes { vin history { edges { node { kind } } } } } }`, true},
		{`{ vehicles { nodes { dealer { vehicles { nodes { vin } } } } } }`, true},
		{`{ vehicles { nodes { ...v } } } fragment v on Vehicle { history { pageInfo { hasNextPage } } }`, true},
		{`{ vehicles { nodes { ... on Vehicle { model { name } } } } }`, false},
		{`{ makes { name models { name } } }`, true},
	} {
		doc, errs := gqlparser.LoadQuery(schema, tc.query)
		if errs != nil {
			t.Fatalf("%s: %v", tc.query, errs)
		}
		// A list field's own selection is what marshalList looks under.
		root := doc.Operations[0].SelectionSet[0].(*ast.Field)
		if got := selectsConcurrentField(root.SelectionSet); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}
}

// Every Vehicle field is either read from a column of its own or needs only
// the keys, so a page reads only what its selection asks for; a field added
// to the schema fails here until it is listed.
func TestEveryVehicleFieldHasItsColumns(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	for _, f := range schema.Types["Vehicle"].Fields {
		if _, ok := vehicleColumns[f.Name]; !ok && !vehicleKeyFields[f.Name] {
			t.Errorf("Vehicle.%s is in neither vehicleColumns nor vehicleKeyFields", f.Name)
		}
	}
}
