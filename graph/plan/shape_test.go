package plan

import (
	"os"
	"reflect"
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
		if _, derived := vehicleDerivedFields[f.Name]; columnIndex(f.Name) < 0 && !derived && !vehicleKeyFields[f.Name] {
			t.Errorf("Vehicle.%s is in neither vehicleColumns, vehicleDerivedFields nor vehicleKeyFields", f.Name)
		}
	}
}

// Every column of models.Vehicle but the keys every read selects is in
// vehicleColumns, under the Vehicle field named like it: a column added to
// the model and the schema but not to the planner's table fails here, and
// a read of it cannot silently show a zero value. Derived fields need
// columns of the table too.
func TestEveryVehicleColumnIsInThePlannersTable(t *testing.T) {
	src, err := os.ReadFile("../../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	fieldOf := map[string]string{} // column → the schema field named like it
	for _, f := range schema.Types["Vehicle"].Fields {
		fieldOf[snakeCase(f.Name)] = f.Name
	}
	keys := []string{"id", "make_id", "model_id", "dealer_id"}
	typ := reflect.TypeFor[models.Vehicle]()
	for i := range typ.NumField() {
		tag := typ.Field(i).Tag.Get("bun")
		column, _, _ := strings.Cut(tag, ",")
		if tag == "" || column == "-" || strings.HasPrefix(tag, "table:") || slices.Contains(keys, column) {
			continue
		}
		field, ok := fieldOf[column]
		if !ok {
			t.Errorf("column %s of models.Vehicle has no Vehicle field named like it", column)
			continue
		}
		if i := columnIndex(field); i < 0 || vehicleColumns[i].column != column {
			t.Errorf("Vehicle.%s (column %s) is not in vehicleColumns with its column", field, column)
		}
		if vehicleKeyFields[field] {
			t.Errorf("Vehicle.%s reads column %s but is listed in vehicleKeyFields", field, column)
		}
	}
	for field, column := range vehicleDerivedFields {
		if s := (vehicleShape{}).withColumn(column); s.columns == 0 {
			t.Errorf("Vehicle.%s needs column %s, which is not in vehicleColumns", field, column)
		}
	}
	if len(vehicleColumns) > 32 {
		t.Errorf("%d vehicle columns do not fit the shape's 32-bit set", len(vehicleColumns))
	}
}

func snakeCase(name string) string {
	var column strings.Builder
	for _, r := range name {
		if unicode.IsUpper(r) {
			column.WriteByte('_')
		}
		column.WriteRune(unicode.ToLower(r))
	}
	return column.String()
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
