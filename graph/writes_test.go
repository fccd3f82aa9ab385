package graph_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
)

const (
	createMutation = `mutation($input: CreateVehicleInput!) { createVehicle(input: $input) { id vin version status dealer { id } make { name } } }`
	updateMutation = `mutation($id: ID!, $input: UpdateVehicleInput!, $v: Int) { updateVehicle(id: $id, input: $input, expectedVersion: $v) { id version priceCents color status dealer { id } } }`
	deleteMutation = `mutation($id: ID!, $v: Int) { deleteVehicle(id: $id, expectedVersion: $v) }`
)

// state is what a write must leave untouched when it is refused.
type state struct {
	Vehicles string
	Events   int
}

func (a *api) state() state {
	a.T.Helper()
	var s state
	a.SQL(&s.Vehicles, "SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM vehicles v")
	a.SQL(&s.Events, "SELECT count(*) FROM vehicle_events")
	return s
}

// vehicleOf returns the global ID and version of some vehicle of dealer.
func (a *api) vehicleOf(dealer int64) (string, int) {
	a.T.Helper()
	var row struct {
		ID      int64
		Version int
	}
	a.SQL(&row, "SELECT id, version FROM vehicles WHERE dealer_id = ? ORDER BY id LIMIT 1", dealer)
	return relay.NodeID("Vehicle", row.ID), row.Version
}

// newVehicleInput is a valid createVehicle input for dealer.
func (a *api) newVehicleInput(dealer int64, vin string) map[string]any {
	a.T.Helper()
	var model int64
	a.SQL(&model, "SELECT id FROM models ORDER BY id LIMIT 1")
	return map[string]any{
		"vin": vin, "modelId": relay.NodeID("Model", model), "dealerId": relay.NodeID("Dealer", dealer),
		"year": 2021, "color": "Blue", "mileageKm": 12000, "priceCents": 2150000, "fuel": "GASOLINE",
	}
}

// validVIN makes a VIN with a correct check digit from a 17-character stem.
func validVIN(stem string) string {
	b := []byte(stem)
	b[8] = models.CheckDigit(stem)
	return string(b)
}

func TestWritesNeedTheRightPerson(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	vehicleA, versionA := a.vehicleOf(p.dealerA)
	staffA, staffB, viewer := a.login(p.staffA), a.login(p.staffB), a.login(p.viewer)

	for _, tc := range []struct {
		name, who, query string
		vars             map[string]any
		code             string
	}{
		{"anonymous create", "", createMutation, map[string]any{"input": a.newVehicleInput(p.dealerA, validVIN("1HGCM82630A000001"))}, "UNAUTHENTICATED"},
		{"viewer create", viewer, createMutation, map[string]any{"input": a.newVehicleInput(p.dealerA, validVIN("1HGCM82630A000002"))}, "FORBIDDEN"},
		{"other dealer's staff create", staffB, createMutation, map[string]any{"input": a.newVehicleInput(p.dealerA, validVIN("1HGCM82630A000003"))}, "FORBIDDEN"},
		{"anonymous update", "", updateMutation, map[string]any{"id": vehicleA, "input": map[string]any{"priceCents": 1}}, "UNAUTHENTICATED"},
		{"viewer update", viewer, updateMutation, map[string]any{"id": vehicleA, "input": map[string]any{"priceCents": 1}}, "FORBIDDEN"},
		{"other dealer's staff update", staffB, updateMutation, map[string]any{"id": vehicleA, "input": map[string]any{"priceCents": 1}, "v": versionA}, "FORBIDDEN"},
		{"staff moving a car to another dealer", staffA, updateMutation, map[string]any{"id": vehicleA, "input": map[string]any{"dealerId": relay.NodeID("Dealer", p.dealerB)}}, "FORBIDDEN"},
		{"other dealer's staff delete", staffB, deleteMutation, map[string]any{"id": vehicleA}, "FORBIDDEN"},
		{"anonymous delete", "", deleteMutation, map[string]any{"id": vehicleA}, "UNAUTHENTICATED"},
		{"staff create dealer", staffA, `mutation { createDealer(input: {name: "X", city: "Y"}) { id } }`, nil, "FORBIDDEN"},
		{"anonymous create dealer", "", `mutation { createDealer(input: {name: "X", city: "Y"}) { id } }`, nil, "UNAUTHENTICATED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state()
			r := a.PostAs(tc.who, tc.query, tc.vars)
			if code := r.ErrorCode(t); code != tc.code {
				t.Fatalf("code = %s, want %s: %s", code, tc.code, r.Raw)
			}
			if after := a.state(); after != before {
				t.Fatalf("a refused write changed the data: %+v → %+v", before, after)
			}
		})
	}

	t.Run("own staff and admins may", func(t *testing.T) {
		r := a.PostAs(staffA, updateMutation, map[string]any{"id": vehicleA, "input": map[string]any{"priceCents": 1999900}, "v": versionA})
		if len(r.Errors) > 0 {
			t.Fatalf("staff of the dealer: %s", r.Raw)
		}
		r = a.PostAs(a.login(p.admin), updateMutation, map[string]any{"id": vehicleA, "input": map[string]any{"dealerId": relay.NodeID("Dealer", p.dealerB)}})
		if len(r.Errors) > 0 || !strings.Contains(r.Raw, relay.NodeID("Dealer", p.dealerB)) {
			t.Fatalf("admin moving a vehicle: %s", r.Raw)
		}
		r = a.PostAs(a.login(p.admin), `mutation { createDealer(input: {name: " Harbour Cars ", city: "Halifax"}) { name city } }`, nil)
		if len(r.Errors) > 0 || !strings.Contains(r.Raw, `"name":"Harbour Cars"`) {
			t.Fatalf("admin createDealer: %s", r.Raw)
		}
	})
}

func TestCreateVehicleValidatesEveryField(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	admin := a.login(p.admin)

	bad := a.newVehicleInput(p.dealerA, "1HGCM82633A00435")
	bad["year"] = 1800
	bad["mileageKm"] = -1
	bad["priceCents"] = -5
	bad["modelId"] = relay.NodeID("Model", 999999)
	bad["dealerId"] = "garbage"
	bad["color"] = strings.Repeat("x", 41)
	before := a.state()
	r := a.PostAs(admin, createMutation, map[string]any{"input": bad})
	if code := r.ErrorCode(t); code != "BAD_USER_INPUT" {
		t.Fatalf("%s", r.Raw)
	}
	var fields []string
	for _, f := range r.Errors[0].Extensions["fields"].([]any) {
		fields = append(fields, f.(map[string]any)["field"].(string))
	}
	slices.Sort(fields)
	if want := []string{"color", "dealerId", "mileageKm", "priceCents", "vin", "year"}; !slices.Equal(fields, want) {
		t.Fatalf("fields = %v, want %v (all at once)", fields, want)
	}
	if a.state() != before {
		t.Fatal("invalid input changed the data")
	}

	for name, vin := range map[string]string{
		"has an I":          "1HGCM82I33A004352",
		"has an O":          "1HGCM8263OA004352",
		"wrong check digit": "1HGCM82613A004352",
		"too short":         "1HGCM82633A00435",
	} {
		t.Run(name, func(t *testing.T) {
			r := a.PostAs(admin, createMutation, map[string]any{"input": a.newVehicleInput(p.dealerA, vin)})
			if r.ErrorCode(t) != "BAD_USER_INPUT" || !strings.Contains(r.Raw, `"field":"vin"`) {
				t.Fatalf("%s", r.Raw)
			}
		})
	}
	t.Run("unknown model is reported after the static checks pass", func(t *testing.T) {
		in := a.newVehicleInput(p.dealerA, validVIN("1HGCM82630A000009"))
		in["modelId"] = relay.NodeID("Model", 999999)
		r := a.PostAs(admin, createMutation, map[string]any{"input": in})
		if r.ErrorCode(t) != "BAD_USER_INPUT" || !strings.Contains(r.Raw, `"field":"modelId"`) {
			t.Fatalf("%s", r.Raw)
		}
	})
}

func TestCreateVehicle(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staffA := a.login(p.staffA)
	vin := validVIN("5YJ3E1EA0KF000001")
	before := a.state()
	var out struct {
		CreateVehicle struct {
			ID      string
			VIN     string
			Version int
			Status  string
			Make    struct{ Name string }
		}
	}
	r := a.PostAs(staffA, createMutation, map[string]any{"input": a.newVehicleInput(p.dealerA, strings.ToLower(vin))})
	if len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}
	_ = json.Unmarshal(r.Data, &out)
	c := out.CreateVehicle
	if c.VIN != vin || c.Version != 1 || c.Status != "AVAILABLE" || c.Make.Name == "" {
		t.Fatalf("created %+v", c)
	}
	if a.state().Events != before.Events+1 {
		t.Fatal("creating a vehicle did not record exactly one event")
	}

	t.Run("duplicate VIN is CONFLICT and records nothing", func(t *testing.T) {
		before := a.state()
		r := a.PostAs(staffA, createMutation, map[string]any{"input": a.newVehicleInput(p.dealerA, vin)})
		if code := r.ErrorCode(t); code != "CONFLICT" {
			t.Fatalf("%s", r.Raw)
		}
		apitest.MustNotLeak(t, r.Raw)
		if a.state() != before {
			t.Fatal("a rolled-back create changed data or left an event")
		}
	})
}

func TestUpdateAndDelete(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staffA := a.login(p.staffA)
	id, version := a.vehicleOf(p.dealerA)

	t.Run("stale expectedVersion is CONFLICT and changes nothing", func(t *testing.T) {
		before := a.state()
		for _, expected := range []int{version + 7, version - 1} { // ahead of the vehicle, and behind it
			r := a.PostAs(staffA, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 5}, "v": expected})
			if code := r.ErrorCode(t); code != "CONFLICT" {
				t.Fatalf("%s", r.Raw)
			}
			// The message states both versions and guesses at no cause: a
			// version ahead of the vehicle's was not "changed by someone else".
			want := fmt.Sprintf("expectedVersion is %d but the vehicle is at version %d", expected, version)
			if msg := r.Errors[0].Message; !strings.Contains(msg, want) || strings.Contains(msg, "someone") {
				t.Fatalf("CONFLICT message %q, want it to say %q", msg, want)
			}
		}
		if a.state() != before {
			t.Fatal("a stale write changed data")
		}
	})
	t.Run("update bumps the version", func(t *testing.T) {
		var out struct {
			UpdateVehicle struct {
				Version    int
				PriceCents int
				Color      *string
				Status     string
			}
		}
		r := a.PostAs(staffA, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 1234500, "status": "RESERVED", "color": ""}, "v": version})
		if len(r.Errors) > 0 {
			t.Fatalf("%s", r.Raw)
		}
		_ = json.Unmarshal(r.Data, &out)
		u := out.UpdateVehicle
		if u.Version != version+1 || u.PriceCents != 1234500 || u.Status != "RESERVED" || u.Color != nil {
			t.Fatalf("updated %+v", u)
		}
	})
	t.Run("an empty update is refused", func(t *testing.T) {
		if code := a.PostAs(staffA, updateMutation, map[string]any{"id": id, "input": map[string]any{}}).ErrorCode(t); code != "BAD_USER_INPUT" {
			t.Fatal(code)
		}
	})
	t.Run("unknown and malformed ids", func(t *testing.T) {
		for _, tc := range []struct{ id, code string }{
			{relay.NodeID("Vehicle", 999999), "NOT_FOUND"},
			{relay.NodeID("Dealer", 1), "NOT_FOUND"},
			{"garbage", "BAD_USER_INPUT"},
		} {
			t.Run(tc.id, func(t *testing.T) {
				if code := a.PostAs(staffA, updateMutation, map[string]any{"id": tc.id, "input": map[string]any{"priceCents": 1}}).ErrorCode(t); code != tc.code {
					t.Errorf("update %s: %s, want %s", tc.id, code, tc.code)
				}
				if code := a.PostAs(staffA, deleteMutation, map[string]any{"id": tc.id}).ErrorCode(t); code != tc.code {
					t.Errorf("delete %s: %s, want %s", tc.id, code, tc.code)
				}
			})
		}
	})
	t.Run("delete", func(t *testing.T) {
		if code := a.PostAs(staffA, deleteMutation, map[string]any{"id": id, "v": version}).ErrorCode(t); code != "CONFLICT" {
			t.Fatalf("delete at a stale version: %s", code)
		}
		var out struct{ DeleteVehicle string }
		r := a.PostAs(staffA, deleteMutation, map[string]any{"id": id, "v": version + 1})
		if len(r.Errors) > 0 {
			t.Fatalf("%s", r.Raw)
		}
		_ = json.Unmarshal(r.Data, &out)
		if out.DeleteVehicle != id {
			t.Fatalf("deleteVehicle returned %q, want %q", out.DeleteVehicle, id)
		}
		if r := a.Post(`query($id: ID!) { vehicle(id: $id) { id } }`, map[string]any{"id": id}); string(r.Data) != `{"vehicle":null}` {
			t.Fatalf("the vehicle is still there: %s", r.Raw)
		}
		if code := a.PostAs(staffA, deleteMutation, map[string]any{"id": id}).ErrorCode(t); code != "NOT_FOUND" {
			t.Fatalf("second delete: %s", code)
		}
	})
}

func TestConcurrentUpdatesNeverLoseOneAnother(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staffA := a.login(p.staffA)
	id, version := a.vehicleOf(p.dealerA)

	run := func(n int, vars func(i int) map[string]any) (ok, conflicts int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := a.PostAs(staffA, updateMutation, vars(i))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case len(r.Errors) == 0:
					ok++
				case r.Errors[0].Extensions["code"] == "CONFLICT":
					conflicts++
				default:
					t.Errorf("unexpected answer: %s", r.Raw)
				}
			}()
		}
		wg.Wait()
		return ok, conflicts
	}

	before := a.state()
	ok, conflicts := run(20, func(i int) map[string]any {
		return map[string]any{"id": id, "input": map[string]any{"priceCents": 1000000 + i}, "v": version}
	})
	if ok != 1 || conflicts != 19 {
		t.Fatalf("20 updates at the same version: %d succeeded, %d conflicted; want 1 and 19", ok, conflicts)
	}
	if a.state().Events != before.Events+1 {
		t.Fatal("want exactly one event for the one successful update")
	}

	// Without expectedVersion every update applies, one after another.
	ok, _ = run(20, func(i int) map[string]any {
		return map[string]any{"id": id, "input": map[string]any{"mileageKm": 50000 + i}}
	})
	var final int
	a.SQL(&final, "SELECT version FROM vehicles WHERE id = ?", mustDBID(t, id))
	if ok != 20 || final != version+21 || a.state().Events != before.Events+21 {
		t.Fatalf("20 unconditional updates: %d ok, version %d (want %d)", ok, final, version+21)
	}
}

func mustDBID(t testing.TB, id string) int64 {
	t.Helper()
	_, n, err := relay.ParseNodeID(id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const historyQuery = `query($id: ID!, $first: Int, $after: String) { vehicle(id: $id) { history(first: $first, after: $after) {
	edges { cursor node { sequence kind vehicleId at actor { email } snapshot { priceCents version } vehicle { id } } }
	pageInfo { hasNextPage endCursor } } } }`

type historyPage struct {
	Vehicle *struct {
		History struct {
			Edges []struct {
				Cursor string
				Node   struct {
					Sequence  string
					Kind      string
					VehicleID string
					Actor     *struct{ Email string }
					Snapshot  struct{ PriceCents, Version int }
					Vehicle   *struct{ ID string }
				}
			}
			PageInfo pageInfo
		}
	}
}

func TestHistoryRecordsEveryCommittedChangeInOrder(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staffA := a.login(p.staffA)

	var created struct{ CreateVehicle struct{ ID string } }
	r := a.PostAs(staffA, createMutation, map[string]any{"input": a.newVehicleInput(p.dealerA, validVIN("JTDBR3E10MA000001"))})
	_ = json.Unmarshal(r.Data, &created)
	id := created.CreateVehicle.ID
	prices := []int{1900000, 1850000, 1800000}
	for i, price := range prices {
		r := a.PostAs(staffA, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": price}, "v": i + 1})
		if len(r.Errors) > 0 {
			t.Fatalf("%s", r.Raw)
		}
	}
	// A refused (stale) write must not appear.
	a.PostAs(staffA, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 1}, "v": 1})

	var all []string
	var after any
	var kinds []string
	for {
		var page historyPage
		r := a.PostAs(staffA, historyQuery, map[string]any{"id": id, "first": 2, "after": after})
		if len(r.Errors) > 0 {
			t.Fatalf("%s", r.Raw)
		}
		_ = json.Unmarshal(r.Data, &page)
		h := page.Vehicle.History
		for _, e := range h.Edges {
			all = append(all, e.Node.Sequence)
			kinds = append(kinds, e.Node.Kind)
			if e.Node.VehicleID != id || e.Node.Actor == nil || e.Node.Actor.Email != p.staffA.Email || e.Node.Vehicle == nil {
				t.Fatalf("event %+v", e.Node)
			}
			if i := len(kinds) - 1; i > 0 && e.Node.Snapshot.PriceCents != prices[i-1] {
				t.Fatalf("event %d snapshot %+v, want price %d", i, e.Node.Snapshot, prices[i-1])
			}
		}
		if !h.PageInfo.HasNextPage {
			break
		}
		after = *h.PageInfo.EndCursor
	}
	if !slices.Equal(kinds, []string{"CREATED", "UPDATED", "UPDATED", "UPDATED"}) {
		t.Fatalf("kinds = %v", kinds)
	}
	for i := 1; i < len(all); i++ {
		var prev, cur int64
		fmt.Sscan(all[i-1], &prev)
		fmt.Sscan(all[i], &cur)
		if cur <= prev {
			t.Fatalf("sequences not strictly increasing: %v", all)
		}
	}

	t.Run("only staff of the dealer and admins see it", func(t *testing.T) {
		for _, tc := range []struct{ name, who, want string }{
			{"anonymous", "", "UNAUTHENTICATED"},
			{"a viewer", a.login(p.viewer), "FORBIDDEN"},
			{"staff of another dealer", a.login(p.staffB), "FORBIDDEN"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if code := a.PostAs(tc.who, historyQuery, map[string]any{"id": id}).ErrorCode(t); code != tc.want {
					t.Errorf("history as %q: %s, want %s", tc.who, code, tc.want)
				}
			})
		}
		if r := a.PostAs(a.login(p.admin), historyQuery, map[string]any{"id": id}); len(r.Errors) > 0 {
			t.Fatalf("admin: %s", r.Raw)
		}
	})

	t.Run("a delete is recorded with the last state", func(t *testing.T) {
		if r := a.PostAs(staffA, deleteMutation, map[string]any{"id": id}); len(r.Errors) > 0 {
			t.Fatalf("%s", r.Raw)
		}
		var ev struct {
			Kind     string
			Snapshot json.RawMessage
		}
		a.SQL(&ev, "SELECT kind, snapshot FROM vehicle_events WHERE vehicle_id = ? ORDER BY sequence DESC LIMIT 1", mustDBID(t, id))
		if ev.Kind != "DELETED" || !strings.Contains(string(ev.Snapshot), `"price_cents": 1800000`) {
			t.Fatalf("last event %s %s", ev.Kind, ev.Snapshot)
		}
	})
}
