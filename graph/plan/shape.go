package plan

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// vehicleColumns are the Vehicle fields that read a column of their own,
// in the order a statement selects them; a shape's columns are a bit set
// over this list.
var vehicleColumns = [...]struct{ field, column string }{
	{"vin", "vin"}, {"year", "year"}, {"color", "color"}, {"mileageKm", "mileage_km"}, {"priceCents", "price_cents"},
	{"fuel", "fuel"}, {"status", "status"}, {"version", "version"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"},
	{"stockNumber", "stock_number"}, {"condition", "condition"}, {"trim", "trim"}, {"bodyStyle", "body_style"},
	{"transmission", "transmission"}, {"drivetrain", "drivetrain"}, {"interiorColor", "interior_color"},
	{"msrpCents", "msrp_cents"}, {"description", "description"}, {"features", "features"}, {"inStockSince", "in_stock_since"},
}

// vehicleDerivedFields are the Vehicle fields computed from a column of
// vehicleColumns: the field, and the column it needs.
var vehicleDerivedFields = map[string]string{
	"daysOnLot": "in_stock_since",
}

// allColumns selects every column of vehicleColumns.
const allColumns = 1<<len(vehicleColumns) - 1

// vehicleKeyFields are the Vehicle fields that need only the keys every
// read includes (id, and the make, model and dealer ids), or relations.
var vehicleKeyFields = map[string]bool{
	"__typename": true, "id": true, "make": true, "model": true, "dealer": true, "history": true,
	// Set by a read whose filter names a point (VehicleFilter.near), not
	// read from a column.
	"distanceKm": true,
	"photos":     true, "primaryPhoto": true, // read by Planner.Photos, from the id
}

// Relations a shape joins.
const (
	relMake   uint8 = 1 << iota // the vehicle's make
	relModel                    // its model, with the model's make
	relDealer                   // its dealer
	relAll    = relMake | relModel | relDealer
)

// vehicleShape is what one read of vehicles fetches.
type vehicleShape struct {
	columns uint32 // bits over vehicleColumns
	rel     uint8
	// distance reads the distance from the filter's point (a column dist
	// after the others; see near.go).
	distance bool
	// dealerVehicles are the vehicles connections selected under the
	// vehicles' dealer: nested levels, planned after this one.
	dealerVehicles []graphql.CollectedField
}

// fullShape reads every column and relation.
var fullShape = vehicleShape{columns: allColumns, rel: relAll}

func columnIndex(field string) int {
	for i, c := range vehicleColumns {
		if c.field == field {
			return i
		}
	}
	return -1
}

// withColumn adds the column named column (a SQL name) to the shape.
func (s vehicleShape) withColumn(column string) vehicleShape {
	for i, c := range vehicleColumns {
		if c.column == column {
			s.columns |= 1 << i
		}
	}
	return s
}

// shapeOf reads what the fields selected on a vehicle need. A field that
// is in neither table above reads every column: a field added to the
// schema costs a wider read until it is listed, never a wrong answer.
func shapeOf(oc *graphql.OperationContext, fields []graphql.CollectedField) vehicleShape {
	var s vehicleShape
	for _, f := range fields {
		if i := columnIndex(f.Name); i >= 0 {
			s.columns |= 1 << i
			continue
		}
		if column, ok := vehicleDerivedFields[f.Name]; ok {
			s = s.withColumn(column)
			continue
		}
		switch f.Name {
		case "make":
			s.rel |= relMake
		case "model":
			s.rel |= relModel
		case "dealer":
			s.rel |= relDealer
			for _, d := range graphql.CollectFields(oc, f.Selections, []string{"Dealer", "Node"}) {
				if d.Name == "vehicles" {
					s.dealerVehicles = append(s.dealerVehicles, d)
				}
			}
		default:
			if !vehicleKeyFields[f.Name] {
				s.columns = allColumns
			}
		}
	}
	return s
}

// vehicleFields collects the fields selected on a vehicle (or a Node that
// may be one).
func vehicleFields(oc *graphql.OperationContext, sel ast.SelectionSet) []graphql.CollectedField {
	return graphql.CollectFields(oc, sel, []string{"Vehicle", "Node"})
}

// connectionShape reads what a VehicleConnection selection needs: the
// shape of its vehicles (under nodes and edges.node) and whether
// totalCount is selected.
func connectionShape(oc *graphql.OperationContext, sel ast.SelectionSet) (shape vehicleShape, count bool) {
	var fields []graphql.CollectedField
	for _, f := range graphql.CollectFields(oc, sel, []string{"VehicleConnection"}) {
		switch f.Name {
		case "nodes":
			fields = append(fields, vehicleFields(oc, f.Selections)...)
		case "edges":
			for _, e := range graphql.CollectFields(oc, f.Selections, []string{"VehicleEdge"}) {
				if e.Name == "node" {
					fields = append(fields, vehicleFields(oc, e.Selections)...)
				}
			}
		case "totalCount":
			count = true
		}
	}
	return shapeOf(oc, fields), count
}

// dealerConnectionVehicles returns the vehicles connections selected on
// the dealers of a DealerConnection selection.
func dealerConnectionVehicles(oc *graphql.OperationContext, sel ast.SelectionSet) []graphql.CollectedField {
	var out []graphql.CollectedField
	add := func(sel ast.SelectionSet) {
		for _, f := range graphql.CollectFields(oc, sel, []string{"Dealer", "Node"}) {
			if f.Name == "vehicles" {
				out = append(out, f)
			}
		}
	}
	for _, f := range graphql.CollectFields(oc, sel, []string{"DealerConnection"}) {
		switch f.Name {
		case "nodes":
			add(f.Selections)
		case "edges":
			for _, e := range graphql.CollectFields(oc, f.Selections, []string{"DealerEdge"}) {
				if e.Name == "node" {
					add(e.Selections)
				}
			}
		}
	}
	return out
}

// eventNeeds is what rendering a page of events reads besides the events:
// the vehicles' current state, and the relations of the vehicles in them.
type eventNeeds struct {
	current bool
	rel     uint8
}

func (n eventNeeds) union(o eventNeeds) eventNeeds {
	return eventNeeds{current: n.current || o.current, rel: n.rel | o.rel}
}

// eventFieldsNeeds reads what the fields selected on a VehicleEvent need.
func eventFieldsNeeds(oc *graphql.OperationContext, fields []graphql.CollectedField) eventNeeds {
	var n eventNeeds
	for _, f := range fields {
		switch f.Name {
		case "vehicle":
			n.current = true
			n.rel |= shapeOf(oc, vehicleFields(oc, f.Selections)).rel
		case "snapshot", "previous":
			n.rel |= shapeOf(oc, vehicleFields(oc, f.Selections)).rel
		}
	}
	return n
}

// historyNeeds reads what a VehicleEventConnection selection needs.
func historyNeeds(oc *graphql.OperationContext, sel ast.SelectionSet) eventNeeds {
	var n eventNeeds
	for _, f := range graphql.CollectFields(oc, sel, []string{"VehicleEventConnection"}) {
		if f.Name != "edges" {
			continue
		}
		for _, e := range graphql.CollectFields(oc, f.Selections, []string{"VehicleEventEdge"}) {
			if e.Name == "node" {
				n = n.union(eventFieldsNeeds(oc, graphql.CollectFields(oc, e.Selections, []string{"VehicleEvent"})))
			}
		}
	}
	return n
}
