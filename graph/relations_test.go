package graph_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/gqlws"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/loaders"
)

// related is what every field returning a vehicle selects: its make, model
// (with the model's make) and dealer are plain fields filled in before the
// vehicle is returned, so each such field must fill them in.
const related = `id make { name } model { name make { name } } dealer { name }`

type relatedNames struct{ Make, Model, Dealer string }

// vehicleNames returns the ground truth for a vehicle's relations.
func (a *api) vehicleNames(id string) relatedNames {
	a.T.Helper()
	var n relatedNames
	a.SQL(&n, `SELECT mk.name AS make, md.name AS model, d.name AS dealer
		FROM vehicles v JOIN makes mk ON mk.id = v.make_id JOIN models md ON md.id = v.model_id
		JOIN dealers d ON d.id = v.dealer_id WHERE v.id = ?`, mustDBID(a.T, id))
	return n
}

// checkRelated finds every vehicle in a response (an object with an id and a
// dealer) and checks its relations against the database. It fails unless it
// finds at least want of them, so a query that returns nothing cannot pass.
func (a *api) checkRelated(what string, raw json.RawMessage, want int) {
	a.T.Helper()
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		a.T.Fatalf("%s: %v", what, err)
	}
	found := 0
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			if id, ok := v["id"].(string); ok && v["dealer"] != nil {
				found++
				var got struct {
					Make  struct{ Name string }
					Model struct {
						Name string
						Make struct{ Name string }
					}
					Dealer struct{ Name string }
				}
				b, _ := json.Marshal(v)
				_ = json.Unmarshal(b, &got)
				exp := a.vehicleNames(id)
				if got.Make.Name != exp.Make || got.Model.Name != exp.Model || got.Model.Make.Name != exp.Make || got.Dealer.Name != exp.Dealer {
					a.T.Errorf("%s: vehicle %s has %+v, want %+v", what, id, got, exp)
				}
			}
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	if found < want {
		a.T.Errorf("%s: found %d vehicles with relations in %s, want at least %d", what, found, raw, want)
	}
}

func TestEveryVehicleFieldFillsInItsRelations(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staff := a.login(p.staffA)
	id, version := a.vehicleOf(p.dealerA)
	var vin string
	a.SQL(&vin, "SELECT vin FROM vehicles WHERE id = ?", mustDBID(t, id))

	sub := apitest.Dial(t, a.SocketURL(), gqlws.Options{})
	if err := sub.Subscribe(apitest.Wait(t), "events", `subscription { vehicleEvents { vehicle { `+related+` } snapshot { `+related+` } previous { `+related+` } } }`, nil); err != nil {
		t.Fatal(err)
	}
	if err := sub.Subscribe(apitest.Wait(t), "updated", `subscription($id: ID!) { vehicleUpdated(id: $id) { `+related+` } }`, map[string]any{"id": id}); err != nil {
		t.Fatal(err)
	}
	apitest.Eventually(t, func() bool { return a.http.LiveSubscribers() == 2 }, 10*time.Second, "both subscriptions became active")

	post := func(what, query string, vars map[string]any, want int) {
		t.Helper()
		r := a.PostAs(staff, query, vars)
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %s", what, r.Raw)
		}
		a.checkRelated(what, r.Data, want)
	}
	post("updateVehicle", `mutation($id: ID!, $v: Int) { updateVehicle(id: $id, input: {priceCents: 123400}, expectedVersion: $v) { `+related+` } }`,
		map[string]any{"id": id, "v": version}, 1)
	post("createVehicle", `mutation($input: CreateVehicleInput!) { createVehicle(input: $input) { `+related+` } }`,
		map[string]any{"input": a.newVehicleInput(p.dealerA, validVIN("1FTFW1ET5DFC00001"))}, 1)
	post("vehicle", `query($id: ID!) { vehicle(id: $id) { `+related+` } }`, map[string]any{"id": id}, 1)
	post("vehicleByVin", `query($vin: String!) { vehicleByVin(vin: $vin) { `+related+` } }`, map[string]any{"vin": vin}, 1)
	post("node", `query($id: ID!) { node(id: $id) { ... on Vehicle { `+related+` } } }`, map[string]any{"id": id}, 1)
	post("vehicles", `{ vehicles(first: 20) { nodes { `+related+` } edges { node { `+related+` } } } }`, nil, 40)
	post("dealers", `{ dealers(first: 3) { nodes { vehicles(first: 4) { nodes { `+related+` } } } } }`, nil, 12)
	post("history", `query($id: ID!) { vehicle(id: $id) { history { edges { node {
		vehicle { `+related+` } snapshot { `+related+` } previous { `+related+` } } } } } }`, map[string]any{"id": id}, 3)

	// The update made one event for each subscription (the create another for vehicleEvents).
	for range 3 {
		m, err := sub.Next(apitest.Wait(t))
		if err != nil || m.Type != "next" {
			t.Fatalf("subscription: %v %+v", err, m)
		}
		var p struct {
			Data   json.RawMessage
			Errors []apitest.Error
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
			t.Fatalf("subscription %s: %s", m.ID, m.Payload)
		}
		a.checkRelated("subscription "+m.ID, p.Data, 1)
	}
}

// A batch runs with its first caller's context and its result stays cached
// for everyone; the catalog that subscriptions share must not keep a
// cancellation from a subscriber that hung up.
func TestSharedCatalogKeepsNoCancellation(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	var id int64
	a.SQL(&id, "SELECT id FROM makes ORDER BY id LIMIT 1")
	c := loaders.NewCatalog(a.DB, loaders.DefaultWait)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = c.Make.Load(canceled, id) // starts the batch
	if m, err := c.Make.Load(context.Background(), id); err != nil || m == nil {
		t.Fatalf("after a canceled caller: %v, %v", m, err)
	}
}
