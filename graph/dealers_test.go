package graph_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
)

const (
	dealerFields         = `id name city latitude longitude postalCode phone website`
	createDealerMutation = `mutation($input: CreateDealerInput!) { createDealer(input: $input) { ` + dealerFields + ` } }`
	updateDealerMutation = `mutation($id: ID!, $input: UpdateDealerInput!) { updateDealer(id: $id, input: $input) { ` + dealerFields + ` } }`
)

// dealerView is a dealer as the API shows it.
type dealerView struct {
	ID, Name, City      string
	Latitude, Longitude *float64
	PostalCode, Phone   *string
	Website             *string
}

// dealersState is what a refused dealer write must leave untouched.
func (a *api) dealersState() string {
	a.T.Helper()
	var s string
	a.SQL(&s, "SELECT md5(string_agg(d::text, ',' ORDER BY id)) FROM dealers d")
	return s
}

// dealerEverywhere reads dealer id through each way the API reaches a
// dealer (by id, in the dealers page, as a vehicle's dealer) and fails
// unless all agree; it returns what they show.
func (a *api) dealerEverywhere(t *testing.T, id string, vehicle string) dealerView {
	t.Helper()
	var byID struct{ Dealer dealerView }
	a.Query(&byID, `query($id: ID!) { dealer(id: $id) { `+dealerFields+` } }`, map[string]any{"id": id})
	var page struct{ Dealers struct{ Nodes []dealerView } }
	a.Query(&page, `{ dealers(first: 100) { nodes { `+dealerFields+` } } }`, nil)
	i := slices.IndexFunc(page.Dealers.Nodes, func(d dealerView) bool { return d.ID == id })
	if i < 0 {
		t.Fatalf("dealer %s is not among the dealers", id)
	}
	if !reflect.DeepEqual(page.Dealers.Nodes[i], byID.Dealer) {
		t.Fatalf("dealers shows %+v, dealer(id) %+v", page.Dealers.Nodes[i], byID.Dealer)
	}
	if vehicle != "" {
		for _, q := range []string{
			`query($v: ID!) { vehicle(id: $v) { dealer { ` + dealerFields + ` } } }`,
			`query($v: ID!) { node(id: $v) { ... on Vehicle { dealer { ` + dealerFields + ` } } } }`,
		} {
			var out map[string]struct{ Dealer dealerView }
			a.Query(&out, q, map[string]any{"v": vehicle})
			for _, v := range out {
				if !reflect.DeepEqual(v.Dealer, byID.Dealer) {
					t.Fatalf("a vehicle's dealer shows %+v, dealer(id) %+v", v.Dealer, byID.Dealer)
				}
			}
		}
		var list struct {
			Vehicles struct{ Nodes []struct{ Dealer dealerView } }
		}
		a.Query(&list, `query($d: ID!) { vehicles(first: 1, filter: {dealerId: $d}) { nodes { dealer { `+dealerFields+` } } } }`, map[string]any{"d": id})
		if len(list.Vehicles.Nodes) != 1 || !reflect.DeepEqual(list.Vehicles.Nodes[0].Dealer, byID.Dealer) {
			t.Fatalf("the vehicles page's dealer shows %+v, dealer(id) %+v", list.Vehicles.Nodes, byID.Dealer)
		}
	}
	return byID.Dealer
}

func decodeDealer(t *testing.T, data json.RawMessage, field string) dealerView {
	t.Helper()
	var out map[string]dealerView
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out[field]
}

func ptr[T any](v T) *T { return &v }

func TestCreateAndUpdateDealerWithEveryField(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	admin, staffA := a.login(p.admin), a.login(p.staffA)

	t.Run("create with every field", func(t *testing.T) {
		r := a.PostAs(admin, createDealerMutation, map[string]any{"input": map[string]any{
			"name": "Harbour Cars", "city": "Halifax", "latitude": 44.6488, "longitude": -63.5752,
			"postalCode": " B3H 1A1 ", "phone": "+1 (902) 555-0142", "website": "https://harbour-cars.example/",
		}})
		if len(r.Errors) > 0 {
			t.Fatalf("%s", r.Raw)
		}
		got := decodeDealer(t, r.Data, "createDealer")
		want := dealerView{ID: got.ID, Name: "Harbour Cars", City: "Halifax", Latitude: ptr(44.6488), Longitude: ptr(-63.5752),
			PostalCode: ptr("B3H 1A1"), Phone: ptr("+1 (902) 555-0142"), Website: ptr("https://harbour-cars.example/")}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("created %+v, want %+v", got, want)
		}
		if read := a.dealerEverywhere(t, got.ID, ""); !reflect.DeepEqual(read, want) {
			t.Fatalf("read back %+v, want %+v", read, want)
		}
	})

	dealerA := relayID("Dealer", p.dealerA)
	vehicleA, _ := a.vehicleOf(p.dealerA)
	t.Run("admin updates every field", func(t *testing.T) {
		r := a.PostAs(admin, updateDealerMutation, map[string]any{"id": dealerA, "input": map[string]any{
			"name": "Lakeshore Toyota East", "city": "Scarborough", "latitude": 43.7731, "longitude": -79.2578,
			"postalCode": "M1P 2L7", "phone": "416 555 0199", "website": "http://lakeshore.example/east?from=carlot",
		}})
		if len(r.Errors) > 0 {
			t.Fatalf("%s", r.Raw)
		}
		want := dealerView{ID: dealerA, Name: "Lakeshore Toyota East", City: "Scarborough", Latitude: ptr(43.7731), Longitude: ptr(-79.2578),
			PostalCode: ptr("M1P 2L7"), Phone: ptr("416 555 0199"), Website: ptr("http://lakeshore.example/east?from=carlot")}
		if got := decodeDealer(t, r.Data, "updateDealer"); !reflect.DeepEqual(got, want) {
			t.Fatalf("updated %+v, want %+v", got, want)
		}
		if read := a.dealerEverywhere(t, dealerA, vehicleA); !reflect.DeepEqual(read, want) {
			t.Fatalf("read back %+v, want %+v", read, want)
		}
	})

	t.Run("staff update their dealer's contact details, and an empty one clears it", func(t *testing.T) {
		r := a.PostAs(staffA, updateDealerMutation, map[string]any{"id": dealerA, "input": map[string]any{
			"postalCode": "M1P 2L8", "phone": "+14165550100", "website": "",
		}})
		if len(r.Errors) > 0 {
			t.Fatalf("%s", r.Raw)
		}
		want := dealerView{ID: dealerA, Name: "Lakeshore Toyota East", City: "Scarborough", Latitude: ptr(43.7731), Longitude: ptr(-79.2578),
			PostalCode: ptr("M1P 2L8"), Phone: ptr("+14165550100")}
		if got := decodeDealer(t, r.Data, "updateDealer"); !reflect.DeepEqual(got, want) {
			t.Fatalf("updated %+v, want %+v", got, want)
		}
		if read := a.dealerEverywhere(t, dealerA, vehicleA); !reflect.DeepEqual(read, want) {
			t.Fatalf("read back %+v, want %+v", read, want)
		}
	})
}

func TestDealerWithoutDetailsReadsAsNulls(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	admin := a.login(p.admin)
	r := a.PostAs(admin, createDealerMutation, map[string]any{"input": map[string]any{"name": "Plain Lot", "city": "Regina", "phone": nil}})
	if len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}
	d := decodeDealer(t, r.Data, "createDealer")
	for _, want := range []string{`"latitude":null`, `"longitude":null`, `"postalCode":null`, `"phone":null`, `"website":null`} {
		if !strings.Contains(r.Raw, want) {
			t.Fatalf("%s: want %s", r.Raw, want)
		}
	}
	// A vehicle on the lot reaches the dealer through the joined statements.
	v := a.PostAs(admin, createMutation, map[string]any{"input": a.newVehicleInput(mustDBID(t, d.ID), validVIN("1HGCM82630A000077"))})
	if len(v.Errors) > 0 {
		t.Fatalf("%s", v.Raw)
	}
	var created struct{ CreateVehicle struct{ ID string } }
	if err := json.Unmarshal(v.Data, &created); err != nil {
		t.Fatal(err)
	}
	want := dealerView{ID: d.ID, Name: "Plain Lot", City: "Regina"}
	if got := a.dealerEverywhere(t, d.ID, created.CreateVehicle.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("read %+v, want %+v", got, want)
	}
}

func TestDealerInputValidatesEveryField(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	admin := a.login(p.admin)
	dealerA := relayID("Dealer", p.dealerA)

	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		want        []string
	}{
		{"create with every field bad", createDealerMutation, map[string]any{"input": map[string]any{
			"name": " ", "city": strings.Repeat("c", 201), "latitude": 90.5, "longitude": -180.01,
			"postalCode": strings.Repeat("9", 17), "phone": "call 555 0100", "website": "ftp://lot.example/",
		}}, []string{"city", "latitude", "longitude", "name", "phone", "postalCode", "website"}},
		{"update with every field bad", updateDealerMutation, map[string]any{"id": dealerA, "input": map[string]any{
			"name": "", "city": "x\u0000y", "latitude": -91, "longitude": 181,
			"postalCode": "12345678901234567", "phone": "+1 234", "website": "https://" + strings.Repeat("w", 2000) + ".example/",
		}}, []string{"city", "latitude", "longitude", "name", "phone", "postalCode", "website"}},
		{"latitude without longitude", updateDealerMutation, map[string]any{"id": dealerA, "input": map[string]any{"latitude": 45}}, []string{"longitude"}},
		{"longitude without latitude", createDealerMutation, map[string]any{"input": map[string]any{"name": "N", "city": "C", "longitude": 45}}, []string{"latitude"}},
		{"too many phone digits", updateDealerMutation, map[string]any{"id": dealerA, "input": map[string]any{"phone": "+1 234 567 890 123 456 789 012"}}, []string{"phone"}},
		{"phone with a plus inside", updateDealerMutation, map[string]any{"id": dealerA, "input": map[string]any{"phone": "416+555+0100"}}, []string{"phone"}},
		{"relative website", updateDealerMutation, map[string]any{"id": dealerA, "input": map[string]any{"website": "/lot"}}, []string{"website"}},
		{"website without a host", updateDealerMutation, map[string]any{"id": dealerA, "input": map[string]any{"website": "https://"}}, []string{"website"}},
		{"update naming no field", updateDealerMutation, map[string]any{"id": dealerA, "input": map[string]any{}}, []string{"input"}},
		{"website with a space", updateDealerMutation, map[string]any{"id": dealerA, "input": map[string]any{"website": "https://lot.example/a b"}}, []string{"website"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, dealers := a.state(), a.dealersState()
			r := a.PostAs(admin, tc.query, tc.vars)
			if code := r.ErrorCode(t); code != "BAD_USER_INPUT" {
				t.Fatalf("%s", r.Raw)
			}
			var fields []string
			for _, f := range r.Errors[0].Extensions["fields"].([]any) {
				fields = append(fields, f.(map[string]any)["field"].(string))
			}
			slices.Sort(fields)
			if !slices.Equal(fields, tc.want) {
				t.Fatalf("fields = %v, want %v (all at once): %s", fields, tc.want, r.Raw)
			}
			if a.state() != before || a.dealersState() != dealers {
				t.Fatal("invalid input changed the data")
			}
		})
	}
}

func TestUpdateDealerNeedsTheRightPerson(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	admin, staffA, staffB, viewer := a.login(p.admin), a.login(p.staffA), a.login(p.staffB), a.login(p.viewer)
	dealerA := relayID("Dealer", p.dealerA)
	vehicleA, _ := a.vehicleOf(p.dealerA)
	contact := map[string]any{"phone": "+1 416 555 0111"}

	for _, tc := range []struct {
		name, who, id string
		input         map[string]any
		code          string
	}{
		{"anonymous", "", dealerA, contact, "UNAUTHENTICATED"},
		{"viewer", viewer, dealerA, contact, "FORBIDDEN"},
		{"staff of another dealer", staffB, dealerA, contact, "FORBIDDEN"},
		{"staff of another dealer with bad input", staffB, dealerA, map[string]any{"phone": "x"}, "FORBIDDEN"},
		{"staff renaming their dealer", staffA, dealerA, map[string]any{"name": "Renamed", "phone": "+1 416 555 0111"}, "FORBIDDEN"},
		{"staff moving their dealer to another city", staffA, dealerA, map[string]any{"city": "Oshawa"}, "FORBIDDEN"},
		{"staff moving their dealer's coordinates", staffA, dealerA, map[string]any{"latitude": 43.9, "longitude": -78.8}, "FORBIDDEN"},
		{"unknown dealer", admin, relayID("Dealer", 999999), contact, "NOT_FOUND"},
		{"a vehicle's id", admin, vehicleA, contact, "NOT_FOUND"},
		{"a malformed id", admin, "garbage", contact, "BAD_USER_INPUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.dealersState()
			r := a.PostAs(tc.who, updateDealerMutation, map[string]any{"id": tc.id, "input": tc.input})
			if code := r.ErrorCode(t); code != tc.code {
				t.Fatalf("code = %s, want %s: %s", code, tc.code, r.Raw)
			}
			if a.dealersState() != before {
				t.Fatal("a refused write changed the dealers")
			}
		})
	}

	t.Run("an admin may change another dealer's name and place", func(t *testing.T) {
		r := a.PostAs(admin, updateDealerMutation, map[string]any{"id": dealerA, "input": map[string]any{"city": "Oshawa", "latitude": 43.9, "longitude": -78.8}})
		if len(r.Errors) > 0 || !strings.Contains(r.Raw, `"city":"Oshawa"`) {
			t.Fatalf("%s", r.Raw)
		}
	})
	t.Run("staff of the dealer may change its contact details", func(t *testing.T) {
		r := a.PostAs(staffA, updateDealerMutation, map[string]any{"id": dealerA, "input": contact})
		if len(r.Errors) > 0 || !strings.Contains(r.Raw, `"phone":"+1 416 555 0111"`) {
			t.Fatalf("%s", r.Raw)
		}
	})
}
