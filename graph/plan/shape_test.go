package plan

import (
	"os"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// Every Vehicle field is either read from a column of its own or needs only
// the keys, so a read fetches only what its selection asks for; a field
// added to the schema fails here until it is listed.
func TestEveryVehicleFieldHasItsColumns(t *testing.T) {
	src, err := os.ReadFile("../../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	for _, f := range schema.Types["Vehicle"].Fields {
		if columnIndex(f.Name) < 0 && !vehicleKeyFields[f.Name] {
			t.Errorf("Vehicle.%s is in neither vehicleColumns nor vehicleKeyFields", f.Name)
		}
	}
}

// Every column a shape may select has somewhere to be scanned to.
func TestEveryVehicleColumnHasADestination(t *testing.T) {
	sc := newScanner(fullShape)
	if want := 4 + len(vehicleColumns) + 5; len(sc.dest) != want {
		t.Fatalf("%d destinations for the full shape, want %d", len(sc.dest), want)
	}
}
