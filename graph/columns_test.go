package graph_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
)

// A page that selects some of a vehicle's fields reads only their columns;
// each field, and each ordering's cursors, must come out as they do when
// every field is selected.
func TestPagesSelectingSomeFieldsAnswerAsWholeRows(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	fields := []string{"vin", "year", "color", "mileageKm", "priceCents", "fuel", "status", "version", "createdAt", "updatedAt"}
	type edge struct {
		Cursor string
		Node   map[string]any
	}
	page := func(order, selection, fragments string) []edge {
		t.Helper()
		var out struct{ Vehicles struct{ Edges []edge } }
		a.Query(&out, fmt.Sprintf(`{ vehicles(first: 5, orderBy: {field: %s, direction: DESC}) { edges { cursor node { id %s } } } } %s`, order, selection, fragments), nil)
		if len(out.Vehicles.Edges) != 5 {
			t.Fatalf("%s: %d vehicles, want 5", order, len(out.Vehicles.Edges))
		}
		return out.Vehicles.Edges
	}
	for _, order := range []string{"CREATED_AT", "PRICE", "YEAR", "MILEAGE"} {
		all := ""
		for _, f := range fields {
			all += f + " "
		}
		whole := page(order, all+"dealer { name }", "")
		for i, e := range whole { // the whole rows, as a lookup by id reads them
			var one struct{ Vehicle map[string]any }
			a.Query(&one, `query($id: ID!) { vehicle(id: $id) { id `+all+` } }`, map[string]any{"id": e.Node["id"]})
			whole[i].Node = one.Vehicle
		}
		for _, f := range fields {
			for _, selection := range [][2]string{
				{f, ""},
				{"... on Vehicle { " + f + " }", ""},
				{"...v", "fragment v on Vehicle { " + f + " }"},
			} {
				some := page(order, selection[0], selection[1])
				for i := range whole {
					got, want := some[i], whole[i]
					if got.Cursor != want.Cursor || got.Node["id"] != want.Node["id"] || !reflect.DeepEqual(got.Node[f], want.Node[f]) {
						g, _ := json.Marshal(got)
						w, _ := json.Marshal(want)
						t.Fatalf("ordered by %s, selecting %q: %s, want %s", order, selection, g, w)
					}
				}
			}
		}
	}
}
