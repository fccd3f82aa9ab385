package plan

import (
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/carlot/carlot/models"

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

// Every Dealer field but its id and its vehicles is read from a column that
// every statement reading dealers selects, so a dealer reached from a
// vehicle, a page of dealers or a lookup shows all of it.
func TestEveryDealerFieldHasItsColumn(t *testing.T) {
	src, err := os.ReadFile("../../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	columns := strings.Split(dealerColumns, ", ")
	if len(columns) != len(dealerDest(new(models.Dealer))) {
		t.Fatalf("dealerColumns names %d columns, dealerDest scans %d", len(columns), len(dealerDest(new(models.Dealer))))
	}
	for _, f := range schema.Types["Dealer"].Fields {
		if f.Name == "id" || f.Name == "vehicles" {
			continue
		}
		var column strings.Builder
		for _, r := range f.Name {
			if unicode.IsUpper(r) {
				column.WriteByte('_')
			}
			column.WriteRune(unicode.ToLower(r))
		}
		if !slices.Contains(columns, "d."+column.String()) {
			t.Errorf("Dealer.%s has no column d.%s in dealerColumns", f.Name, column.String())
		}
	}
}

// Every column a shape may select has somewhere to be scanned to.
func TestEveryVehicleColumnHasADestination(t *testing.T) {
	sc := newScanner(fullShape)
	// The keys, the vehicle's columns, the make's and model's names and the
	// dealer's columns.
	if want := 4 + len(vehicleColumns) + 2 + len(dealerDest(new(models.Dealer))); len(sc.dest) != want {
		t.Fatalf("%d destinations for the full shape, want %d", len(sc.dest), want)
	}
}
