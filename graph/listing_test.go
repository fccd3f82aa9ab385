package graph_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
)

// listingFields are the Vehicle fields of a listing's details.
var listingFields = []string{
	"stockNumber", "condition", "trim", "bodyStyle", "transmission", "drivetrain", "interiorColor",
	"msrpCents", "description", "features", "inStockSince", "daysOnLot",
}

const listingSelection = `id version stockNumber condition trim bodyStyle transmission drivetrain interiorColor msrpCents description features inStockSince daysOnLot`

// fullListing is a createVehicle input with every listing detail, as a
// client might send them (spaces to trim, a repeated feature).
func (a *api) fullListing(dealer int64, vin string, inStock time.Time) map[string]any {
	in := a.newVehicleInput(dealer, vin)
	in["stockNumber"] = "  ab-12/7.x_Q "
	in["condition"] = "CERTIFIED"
	in["trim"] = " XLE Premium "
	in["bodyStyle"] = "SUV"
	in["transmission"] = "CVT"
	in["drivetrain"] = "FOUR_WD"
	in["interiorColor"] = "Ivory"
	in["msrpCents"] = 3_499_900
	in["description"] = "One owner.\nWinter tires included.\tNo accidents."
	in["features"] = []string{" Heated seats", "Sunroof ", "heated SEATS", "Tow package"}
	in["inStockSince"] = inStock.Format(time.RFC3339)
	return in
}

// The listing details a write stores read back the same through every
// read: the write's own answer, a lookup by id, by VIN, a node, a page;
// each field alone, so a read selecting only it must fetch its column.
func TestListingDetailsReadBack(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staffA := a.login(p.staffA)
	vin := validVIN("2T3W1RFV0LW000001")
	inStock := time.Now().Add(-10*24*time.Hour - time.Hour).UTC().Truncate(time.Second)
	r := a.PostAs(staffA, `mutation($input: CreateVehicleInput!) { createVehicle(input: $input) { `+listingSelection+` } }`,
		map[string]any{"input": a.fullListing(p.dealerA, vin, inStock)})
	if len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}
	var created struct{ CreateVehicle map[string]any }
	if err := json.Unmarshal(r.Data, &created); err != nil {
		t.Fatal(err)
	}
	v := created.CreateVehicle
	want := map[string]any{
		"stockNumber": "ab-12/7.x_Q", "condition": "CERTIFIED", "trim": "XLE Premium", "bodyStyle": "SUV",
		"transmission": "CVT", "drivetrain": "FOUR_WD", "interiorColor": "Ivory", "msrpCents": float64(3_499_900),
		"description":  "One owner.\nWinter tires included.\tNo accidents.",
		"features":     []any{"Heated seats", "Sunroof", "Tow package"},
		"inStockSince": inStock.Format(time.RFC3339), "daysOnLot": float64(10),
	}
	for f, w := range want {
		if got := v[f]; fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("createVehicle %s = %v, want %v", f, got, w)
		}
	}
	id := v["id"].(string)

	byID, byVIN, byStock := map[string]any{"id": id}, map[string]any{"vin": vin}, map[string]any{"id": id, "sn": "AB-12/7.X_q"}
	reads := map[string]struct {
		query string
		vars  map[string]any
	}{
		"vehicle":      {`query($id: ID!) { r: vehicle(id: $id) { %s } }`, byID},
		"vehicleByVin": {`query($vin: String!) { r: vehicleByVin(vin: $vin) { %s } }`, byVIN},
		"node":         {`query($id: ID!) { r: node(id: $id) { ... on Vehicle { %s } } }`, byID},
		"page":         {`query($sn: String!) { p: vehicles(filter: {stockNumber: $sn}) { nodes { %s } } }`, map[string]any{"sn": "AB-12/7.X_q"}},
		"dealer's lot": {`query($id: ID!, $sn: String!) { r: vehicle(id: $id) { dealer { vehicles(filter: {stockNumber: $sn}) { nodes { %s } } } } }`, byStock},
	}
	for name, read := range reads {
		for _, field := range listingFields {
			t.Run(name+" "+field, func(t *testing.T) {
				r := a.MustQuery(fmt.Sprintf(read.query, field), read.vars)
				var got any
				raw := string(r.Data)
				// The one vehicle, wherever the read puts it.
				var out map[string]any
				if err := json.Unmarshal(r.Data, &out); err != nil {
					t.Fatal(err)
				}
				got = dig(out, field)
				if fmt.Sprint(got) != fmt.Sprint(want[field]) {
					t.Fatalf("%s = %v, want %v (%s)", field, got, want[field], raw)
				}
			})
		}
	}
}

// dig finds the value of field in a response holding one vehicle.
func dig(v any, field string) any {
	switch x := v.(type) {
	case map[string]any:
		if got, ok := x[field]; ok {
			return got
		}
		for _, inner := range x {
			if got := dig(inner, field); got != nil {
				return got
			}
		}
	case []any:
		if len(x) == 1 {
			return dig(x[0], field)
		}
	}
	return nil
}

// fieldsOf lists the fields a BAD_USER_INPUT error names, sorted.
func fieldsOf(t *testing.T, r apitest.Response) []string {
	t.Helper()
	if code := r.ErrorCode(t); code != "BAD_USER_INPUT" {
		t.Fatalf("%s, want BAD_USER_INPUT", r.Raw)
	}
	var fields []string
	for _, f := range r.Errors[0].Extensions["fields"].([]any) {
		fields = append(fields, f.(map[string]any)["field"].(string))
	}
	slices.Sort(fields)
	return fields
}

func TestListingDetailsAreValidated(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staffA := a.login(p.staffA)
	id, _ := a.vehicleOf(p.dealerA)
	now := time.Now().UTC()
	long := func(n int) string { return strings.Repeat("é", n) } // characters, not bytes
	hundredOne := make([]string, 101)
	for i := range hundredOne {
		hundredOne[i] = fmt.Sprintf("Feature %d", i)
	}

	for _, tc := range []struct {
		name   string
		input  map[string]any
		fields []string
	}{
		{"every detail at once", map[string]any{
			"stockNumber": "A#1", "trim": long(101), "interiorColor": long(51), "msrpCents": 0,
			"description": long(5001), "features": hundredOne, "inStockSince": now.Add(49 * time.Hour).Format(time.RFC3339),
		}, []string{"description", "features", "inStockSince", "interiorColor", "msrpCents", "stockNumber", "trim"}},
		{"limits hold", map[string]any{
			"stockNumber": " " + strings.Repeat("A", 32) + " ", "trim": long(100), "interiorColor": long(50), "msrpCents": 1,
			"description": long(5000), "features": hundredOne[:100], "inStockSince": now.Add(23 * time.Hour).Format(time.RFC3339),
		}, nil},
		{"stock number too long", map[string]any{"stockNumber": strings.Repeat("7", 33)}, []string{"stockNumber"}},
		{"stock number with a space", map[string]any{"stockNumber": "U 123"}, []string{"stockNumber"}},
		{"stock number beyond ASCII", map[string]any{"stockNumber": "Ü123"}, []string{"stockNumber"}},
		{"negative MSRP", map[string]any{"msrpCents": -100}, []string{"msrpCents"}},
		{"trim on two lines", map[string]any{"trim": "LE\nSport"}, []string{"trim"}},
		{"interior color with NUL", map[string]any{"interiorColor": "Bl\x00ack"}, []string{"interiorColor"}},
		{"description with a control character", map[string]any{"description": "Clean\x07 title"}, []string{"description"}},
		{"description with NUL", map[string]any{"description": "a\x00b"}, []string{"description"}},
		{"bad feature entries", map[string]any{"features": []string{"Sunroof", "  ", long(101), "Tow\tpackage"}},
			[]string{"features[1]", "features[2]", "features[3]"}},
		{"in stock before 1900", map[string]any{"inStockSince": "1899-12-31T23:59:59Z"}, []string{"inStockSince"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state()
			in := a.newVehicleInput(p.dealerA, validVIN("2T3W1RFV0LW000002"))
			for k, v := range tc.input {
				in[k] = v
			}
			create := a.PostAs(staffA, createMutation, map[string]any{"input": in})
			patch := map[string]any{}
			for k, v := range tc.input {
				patch[k] = v
			}
			if _, ok := patch["stockNumber"]; ok && tc.fields == nil {
				patch["stockNumber"] = strings.Repeat("B", 32) // the created vehicle holds the other
			}
			update := a.PostAs(staffA, updateMutation, map[string]any{"id": id, "input": patch})
			if tc.fields == nil {
				if len(create.Errors) > 0 || len(update.Errors) > 0 {
					t.Fatalf("refused values within the limits:\n%s\n%s", create.Raw, update.Raw)
				}
				return
			}
			for what, r := range map[string]apitest.Response{"create": create, "update": update} {
				if got := fieldsOf(t, r); !slices.Equal(got, tc.fields) {
					t.Fatalf("%s: fields %v, want %v (all at once): %s", what, got, tc.fields, r.Raw)
				}
				apitest.MustNotLeak(t, r.Raw)
			}
			if a.state() != before {
				t.Fatal("invalid input changed the data")
			}
		})
	}
}

const listingUpdate = `mutation($id: ID!, $input: UpdateVehicleInput!) { updateVehicle(id: $id, input: $input) { ` + listingSelection + ` } }`

// An update sets the details it names and leaves the others; an empty
// text clears its detail and an empty list the features.
func TestUpdateSetsAndClearsListingDetails(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staffA := a.login(p.staffA)
	var out struct{ CreateVehicle struct{ ID string } }
	a.QueryAs(staffA, &out, `mutation($input: CreateVehicleInput!) { createVehicle(input: $input) { id } }`,
		map[string]any{"input": a.fullListing(p.dealerA, validVIN("2T3W1RFV0LW000003"), time.Now().Add(-48*time.Hour))})
	id := out.CreateVehicle.ID

	type listing struct {
		Version                                        int
		StockNumber, Trim, InteriorColor, Description  *string
		Condition, BodyStyle, Drivetrain, Transmission string
		MsrpCents                                      *int
		Features                                       []string
		InStockSince                                   time.Time
		DaysOnLot                                      int
	}
	update := func(input map[string]any) listing {
		t.Helper()
		var out struct{ UpdateVehicle listing }
		a.QueryAs(staffA, &out, listingUpdate, map[string]any{"id": id, "input": input})
		return out.UpdateVehicle
	}
	got := update(map[string]any{"condition": "NEW", "bodyStyle": "PICKUP", "transmission": "MANUAL", "drivetrain": "RWD",
		"msrpCents": 4_000_000, "inStockSince": "2025-06-01T12:00:00Z", "features": []string{"Bluetooth"}, "trim": "Limited"})
	if got.Condition != "NEW" || got.BodyStyle != "PICKUP" || got.Transmission != "MANUAL" || got.Drivetrain != "RWD" ||
		got.MsrpCents == nil || *got.MsrpCents != 4_000_000 || !got.InStockSince.Equal(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)) ||
		!slices.Equal(got.Features, []string{"Bluetooth"}) || got.Trim == nil || *got.Trim != "Limited" || got.Version != 2 {
		t.Fatalf("after setting: %+v", got)
	}
	if want := int(time.Since(got.InStockSince) / (24 * time.Hour)); got.DaysOnLot != want {
		t.Fatalf("daysOnLot %d, want %d", got.DaysOnLot, want)
	}
	if got.StockNumber == nil || *got.StockNumber != "ab-12/7.x_Q" || got.InteriorColor == nil || got.Description == nil {
		t.Fatalf("an update changed details it did not name: %+v", got)
	}
	got = update(map[string]any{"stockNumber": "", "trim": " ", "interiorColor": "", "description": "", "features": []string{}})
	if got.StockNumber != nil || got.Trim != nil || got.InteriorColor != nil || got.Description != nil || len(got.Features) != 0 ||
		got.Features == nil || got.Condition != "NEW" || got.Version != 3 {
		t.Fatalf("after clearing: %+v", got)
	}
	var stored struct {
		Features []string `bun:"features,array"`
		Trim     *string  `bun:"trim"`
	}
	a.SQL(&stored, "SELECT features, trim FROM vehicles WHERE id = ?", mustDBID(t, id))
	if stored.Features == nil || len(stored.Features) != 0 || stored.Trim != nil {
		t.Fatalf("stored %+v, want no features and no trim", stored)
	}
}

// A stock number names one vehicle on its dealer's lot, in any letter
// case: creating, renumbering or moving a vehicle onto a lot where the
// number is taken is CONFLICT and changes nothing; other lots may use it.
func TestStockNumberIsUniqueOnItsLot(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	admin := a.login(p.admin)
	create := func(dealer int64, vin, stock string) apitest.Response {
		in := a.newVehicleInput(dealer, validVIN(vin))
		in["stockNumber"] = stock
		return a.PostAs(admin, `mutation($input: CreateVehicleInput!) { createVehicle(input: $input) { id stockNumber } }`, map[string]any{"input": in})
	}
	idOf := func(r apitest.Response) string {
		t.Helper()
		var out struct{ CreateVehicle struct{ ID string } }
		if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
			t.Fatalf("%s", r.Raw)
		}
		return out.CreateVehicle.ID
	}
	conflict := func(what string, r apitest.Response, before state) {
		t.Helper()
		if code := r.ErrorCode(t); code != "CONFLICT" {
			t.Fatalf("%s: %s, want CONFLICT", what, r.Raw)
		}
		apitest.MustNotLeak(t, r.Raw)
		if strings.Contains(r.Raw, "vehicles_dealer_stock_number") || strings.Contains(r.Raw, "23505") {
			t.Fatalf("%s: the database's words reach the client: %s", what, r.Raw)
		}
		if a.state() != before {
			t.Fatalf("%s: a refused write changed data", what)
		}
	}
	first := idOf(create(p.dealerA, "3VW2B7AJ0KM000001", "SN-100"))

	before := a.state()
	conflict("same number in another case", create(p.dealerA, "3VW2B7AJ0KM000002", "sn-100"), before)

	onB := idOf(create(p.dealerB, "3VW2B7AJ0KM000003", "sN-100")) // another lot
	other := idOf(create(p.dealerA, "3VW2B7AJ0KM000004", "SN-101"))

	before = a.state()
	r := a.PostAs(admin, updateMutation, map[string]any{"id": other, "input": map[string]any{"stockNumber": " Sn-100 "}})
	conflict("renumbering onto a taken number", r, before)
	r = a.PostAs(admin, updateMutation, map[string]any{"id": onB, "input": map[string]any{"dealerId": relay.NodeID("Dealer", p.dealerA)}})
	conflict("moving onto a lot where the number is taken", r, before)

	// A vehicle may change the case of its own number; once the first
	// gives its number up, the moved one may take it.
	if r := a.PostAs(admin, updateMutation, map[string]any{"id": first, "input": map[string]any{"stockNumber": "sn-100"}}); len(r.Errors) > 0 {
		t.Fatalf("recasing its own number: %s", r.Raw)
	}
	if r := a.PostAs(admin, updateMutation, map[string]any{"id": first, "input": map[string]any{"stockNumber": ""}}); len(r.Errors) > 0 {
		t.Fatalf("clearing: %s", r.Raw)
	}
	if r := a.PostAs(admin, updateMutation, map[string]any{"id": onB, "input": map[string]any{"dealerId": relay.NodeID("Dealer", p.dealerA)}}); len(r.Errors) > 0 {
		t.Fatalf("moving once the number is free: %s", r.Raw)
	}
	var found struct {
		Vehicles struct {
			Nodes []struct{ ID, StockNumber string }
		}
	}
	a.Query(&found, `query($d: ID!) { vehicles(filter: {stockNumber: "SN-100", dealerId: $d}) { nodes { id stockNumber } } }`,
		map[string]any{"d": relay.NodeID("Dealer", p.dealerA)})
	if len(found.Vehicles.Nodes) != 1 || found.Vehicles.Nodes[0].ID != onB {
		t.Fatalf("dealer A's SN-100 is %+v, want the moved vehicle", found.Vehicles.Nodes)
	}
}

// Search finds vehicles by a part of their trim or stock number, in any
// letter case, and the stock number filter by the whole number only.
func TestSearchFindsTrimsAndStockNumbers(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	admin := a.login(p.admin)
	in := a.newVehicleInput(p.dealerA, validVIN("JM1BPAL00MM000001"))
	in["trim"], in["stockNumber"] = "Zephyrline Edition", "QZ-7731"
	var out struct{ CreateVehicle struct{ ID string } }
	a.QueryAs(admin, &out, `mutation($input: CreateVehicleInput!) { createVehicle(input: $input) { id } }`, map[string]any{"input": in})
	id := out.CreateVehicle.ID
	for _, tc := range []struct {
		filter map[string]any
		found  bool
	}{
		{map[string]any{"search": "ZEPHYR"}, true},
		{map[string]any{"search": "line edit"}, true},
		{map[string]any{"search": "qz-77"}, true},
		{map[string]any{"search": "qz-77 zephyr"}, true},
		{map[string]any{"search": "qz-78"}, false},
		{map[string]any{"stockNumber": "qz-7731"}, true},
		{map[string]any{"stockNumber": " QZ-7731 "}, true},
		{map[string]any{"stockNumber": "QZ-773"}, false},
		{map[string]any{"stockNumber": "QZ-7731", "condition": []string{"NEW"}}, false},
		{map[string]any{"stockNumber": "QZ-7731", "condition": []string{"USED"}}, true},
	} {
		t.Run(fmt.Sprint(tc.filter), func(t *testing.T) {
			var got struct {
				Vehicles struct {
					TotalCount int
					Nodes      []struct{ ID string }
				}
			}
			a.Query(&got, `query($f: VehicleFilter) { vehicles(first: 100, filter: $f) { totalCount nodes { id } } }`, map[string]any{"f": tc.filter})
			found := slices.ContainsFunc(got.Vehicles.Nodes, func(n struct{ ID string }) bool { return n.ID == id })
			if found != tc.found || got.Vehicles.TotalCount != len(got.Vehicles.Nodes) {
				t.Fatalf("found %v in %d of totalCount %d, want found %v", found, len(got.Vehicles.Nodes), got.Vehicles.TotalCount, tc.found)
			}
		})
	}
}

// A vehicle's history carries its listing details before and after each
// change.
func TestHistorySnapshotsCarryTheListing(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staffA := a.login(p.staffA)
	var out struct{ CreateVehicle struct{ ID string } }
	a.QueryAs(staffA, &out, `mutation($input: CreateVehicleInput!) { createVehicle(input: $input) { id } }`,
		map[string]any{"input": a.fullListing(p.dealerA, validVIN("2T3W1RFV0LW000004"), time.Now().Add(-72*time.Hour))})
	id := out.CreateVehicle.ID
	a.QueryAs(staffA, new(any), listingUpdate, map[string]any{"id": id, "input": map[string]any{"trim": "Limited", "features": []string{}, "condition": "USED"}})

	type snap struct {
		StockNumber, Trim, Condition, BodyStyle, Transmission, Drivetrain, InteriorColor, Description string
		MsrpCents                                                                                     int
		Features                                                                                      []string
		InStockSince                                                                                  time.Time
		DaysOnLot                                                                                     int
	}
	var h struct {
		Vehicle struct {
			History struct {
				Edges []struct {
					Node struct {
						Kind     string
						Snapshot snap
						Previous *snap
					}
				}
			}
		}
	}
	sel := `stockNumber trim condition bodyStyle transmission drivetrain interiorColor description msrpCents features inStockSince daysOnLot`
	a.QueryAs(staffA, &h, `query($id: ID!) { vehicle(id: $id) { history { edges { node { kind snapshot { `+sel+` } previous { `+sel+` } } } } } }`,
		map[string]any{"id": id})
	edges := h.Vehicle.History.Edges
	if len(edges) != 2 || edges[1].Node.Previous == nil {
		t.Fatalf("history %+v", edges)
	}
	created, updated, previous := edges[0].Node.Snapshot, edges[1].Node.Snapshot, *edges[1].Node.Previous
	if created.StockNumber != "ab-12/7.x_Q" || created.Trim != "XLE Premium" || created.Condition != "CERTIFIED" ||
		created.BodyStyle != "SUV" || created.Transmission != "CVT" || created.Drivetrain != "FOUR_WD" || created.InteriorColor != "Ivory" ||
		created.MsrpCents != 3_499_900 || !strings.HasPrefix(created.Description, "One owner.") ||
		!slices.Equal(created.Features, []string{"Heated seats", "Sunroof", "Tow package"}) || created.DaysOnLot != 3 {
		t.Fatalf("CREATED snapshot %+v", created)
	}
	if fmt.Sprint(previous) != fmt.Sprint(created) {
		t.Fatalf("UPDATED previous %+v, want the created vehicle %+v", previous, created)
	}
	if updated.Trim != "Limited" || updated.Condition != "USED" || updated.Features == nil || len(updated.Features) != 0 ||
		updated.StockNumber != created.StockNumber || !updated.InStockSince.Equal(created.InStockSince) {
		t.Fatalf("UPDATED snapshot %+v", updated)
	}
}
