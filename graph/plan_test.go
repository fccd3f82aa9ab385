package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/graph"
	"github.com/carlot/carlot/graph/plan"
	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/apitest/server"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/gqlws"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2/ast"
)

// Each root field reads what its selection needs in a fixed number of
// statements, whatever the number of rows: the relations are joined into
// the vehicles' statement, a nested connection costs one statement for all
// its parents, a count one more, and only when selected.
func TestStatementsPerRootField(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staff := a.login(p.staffA)
	id, _ := a.vehicleOf(p.dealerA)
	var vin string
	a.SQL(&vin, "SELECT vin FROM vehicles WHERE id = ?", mustDBID(t, id))
	dealer := relayID("Dealer", p.dealerA)
	// Give the vehicle a history: one event, with a previous state.
	if r := a.PostAs(staff, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 5555}}); len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}

	const related = `vin priceCents model { name make { name } } dealer { name city latitude longitude postalCode phone website }`
	for _, tc := range []struct {
		name  string
		auth  string
		query string
		vars  map[string]any
		want  int64
	}{
		{"lookup", "", `query($id: ID!) { vehicle(id: $id) { ` + related + ` } }`, map[string]any{"id": id}, 1},
		{"lookup by VIN", "", `query($vin: String!) { vehicleByVin(vin: $vin) { ` + related + ` make { name } } }`, map[string]any{"vin": vin}, 1},
		{"node", "", `query($id: ID!) { node(id: $id) { ... on Vehicle { ` + related + ` } } }`, map[string]any{"id": id}, 1},
		{"page", "", `query($d: ID!) { vehicles(first: 50, filter: {dealerId: $d}, orderBy: {field: PRICE, direction: ASC}) {
			nodes { ` + related + ` } pageInfo { endCursor } } }`, map[string]any{"d": dealer}, 1},
		{"page of 100 with edges and nodes", "", `{ vehicles(first: 100) { edges { cursor node { ` + related + ` } } nodes { id make { name } } } }`, nil, 1},
		{"page with totalCount", "", `query($d: ID!) { vehicles(first: 50, filter: {dealerId: $d}, orderBy: {field: PRICE, direction: ASC}) {
			nodes { ` + related + ` } totalCount } }`, map[string]any{"d": dealer}, 2},
		// A search first resolves its words (the models they name), in one
		// statement shared by the page and its count.
		{"search page", "", `{ vehicles(first: 20, filter: {search: "a e", status: [AVAILABLE], fuel: []}) { nodes { ` + related + ` } } }`, nil, 2},
		{"search page with totalCount", "", `{ vehicles(first: 20, filter: {search: "a e", status: [AVAILABLE]}) { nodes { vin } totalCount } }`, nil, 3},
		{"dealers with nested searched vehicles and their totalCount", "", `{ dealers(first: 20) { nodes { name vehicles(first: 5, filter: {search: "toyota"}) { nodes { vin } totalCount } } } }`, nil, 4},
		{"dealer with its searched vehicles and their totalCount", "", `query($d: ID!) { dealer(id: $d) { name vehicles(first: 10, filter: {search: "a"}) { nodes { vin } totalCount } } }`, map[string]any{"d": dealer}, 4},
		{"dealers with nested vehicles", "", `{ dealers(first: 20) { nodes { name vehicles(first: 5) { nodes { ` + related + ` } } } } }`, nil, 2},
		{"dealers with nested vehicles and their totalCount", "", `{ dealers(first: 20) { nodes { name vehicles(first: 5) { nodes { vin } totalCount } } } }`, nil, 3},
		{"dealers with their totalCount", "", `{ dealers(first: 20) { nodes { name } totalCount } }`, nil, 2},
		{"dealer with its vehicles", "", `query($d: ID!) { dealer(id: $d) { name vehicles(first: 10) { nodes { ` + related + ` } } } }`, map[string]any{"d": dealer}, 2},
		{"lookup with the dealer's vehicles", "", `query($id: ID!) { vehicle(id: $id) { vin dealer { name vehicles(first: 3) { nodes { vin model { name } } } } } }`, map[string]any{"id": id}, 2},
		{"lookup with its history", staff, `query($id: ID!) { vehicle(id: $id) { vin history { edges { node { kind snapshot { ` + related + ` } previous { ` + related + ` } vehicle { ` + related + ` } } } } } }`, map[string]any{"id": id}, 4},
		{"page with histories", staff, `query($d: ID!) { vehicles(first: 50, filter: {dealerId: $d}) { nodes { vin history(first: 2) { edges { node { kind } } } } } }`, map[string]any{"d": dealer}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := a.CountStatements(func() {
				r := a.PostAs(tc.auth, tc.query, tc.vars)
				if len(r.Errors) > 0 || string(r.Data) == "null" {
					t.Fatalf("%s", r.Raw)
				}
			})
			if got != tc.want {
				t.Fatalf("%d statements, want %d", got, tc.want)
			}
		})
	}
}

func relayID(typ string, id int64) string { return relay.NodeID(typ, id) }

// Hot reads reach PostgreSQL with placeholders, prepared once per
// connection: two lookups of different vehicles run one prepared
// statement twice.
func TestReadsArePreparedOnce(t *testing.T) {
	t.Parallel()
	a, db := oneConnectionAPI(t)
	var ids []int64
	if err := db.NewRaw("SELECT id FROM vehicles ORDER BY id LIMIT 2").Scan(context.Background(), &ids); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		a.Query(new(any), `query($id: ID!) { vehicle(id: $id) { vin model { name make { name } } dealer { name } } }`, map[string]any{"id": relayID("Vehicle", id)})
	}
	var rows []struct {
		Statement string
		Runs      int
	}
	if err := db.NewRaw(`SELECT statement, generic_plans + custom_plans AS runs FROM pg_prepared_statements
		WHERE statement LIKE '%FROM vehicles v%v.id = $1%'`).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Runs != 2 {
		t.Fatalf("prepared lookups: %+v, want one statement run twice", rows)
	}
	for _, id := range ids {
		if strings.Contains(rows[0].Statement, "= "+jsonNumber(id)) {
			t.Fatalf("the statement carries an argument in its text: %s", rows[0].Statement)
		}
	}
}

// A search is planned for its words every time: neither the probe that
// resolves them nor the statements with their conditions are prepared, so
// no generic plan, blind to the patterns, can turn a rare word's
// index read into a scan of the table. Other filtered reads stay prepared.
func TestSearchesAreNotPrepared(t *testing.T) {
	t.Parallel()
	a, db := oneConnectionAPI(t)
	// More runs than PostgreSQL's five custom plans before it considers a generic one.
	for range 7 {
		a.Query(new(any), `{ vehicles(first: 5, filter: {search: "toyota red"}) { nodes { vin } totalCount }
			dealers(first: 5) { nodes { vehicles(first: 2, filter: {search: "a"}) { nodes { vin } totalCount } } } }`, nil)
		a.Query(new(any), `{ vehicles(first: 5, filter: {status: [AVAILABLE]}) { nodes { vin } totalCount } }`, nil)
	}
	var prepared []string
	if err := db.NewRaw(`SELECT statement FROM pg_prepared_statements`).Scan(context.Background(), &prepared); err != nil {
		t.Fatal(err)
	}
	var filtered int
	for _, s := range prepared {
		if strings.Contains(s, "ILIKE") || strings.Contains(s, "model_id = ANY") {
			t.Errorf("a search statement is prepared: %s", s)
		}
		if strings.Contains(s, "v.status = $") {
			filtered++
		}
	}
	if filtered == 0 {
		t.Errorf("the filtered page is not prepared; prepared: %q", prepared)
	}
}

// oneConnectionAPI is Carlot on a seeded database through a pool of one
// connection, so the statements of the requests and the ground truth the
// test reads share a session (prepared statements are per session).
func oneConnectionAPI(t *testing.T) (*api, *bun.DB) {
	t.Helper()
	url := testdb.URL(t, testdb.Seeded)
	db, err := database.Open(url, database.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return wrap(apitest.New(t, server.Build, apitest.Options{DB: db, RequireJSON: true})), db
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Every field whose type carries vehicles (a Vehicle, a type that may be
// one, or a type reaching one through its fields) goes through the
// planner, which records the fields it resolved. The fields come from the
// schema: one added without a case below fails here, and one whose
// resolver reads vehicles some other way fails its case.
func TestEveryVehicleFieldGoesThroughThePlanner(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staff := a.login(p.staffA)
	admin := a.login(p.admin)
	id, _ := a.vehicleOf(p.dealerA)
	var vin string
	a.SQL(&vin, "SELECT vin FROM vehicles WHERE id = ?", mustDBID(t, id))
	dealer := relayID("Dealer", p.dealerA)
	var refresh struct{ Login authPayload }
	a.Query(&refresh, apitest.LoginMutation, map[string]any{"email": p.staffA.Email, "password": password})

	const lot = `vehicles(first: 2) { nodes { vin model { name } } }`
	type check struct {
		auth    string
		query   string
		vars    map[string]any
		planned []string // the coordinates the planner must have resolved
	}
	queries := map[string]check{
		"Query.node":            {"", `query($id: ID!) { node(id: $id) { ... on Vehicle { vin make { name } } } }`, map[string]any{"id": id}, []string{"Query.node"}},
		"Query.vehicle":         {"", `query($id: ID!) { vehicle(id: $id) { vin } }`, map[string]any{"id": id}, []string{"Query.vehicle"}},
		"Query.vehicleByVin":    {"", `query($vin: String!) { vehicleByVin(vin: $vin) { vin } }`, map[string]any{"vin": vin}, []string{"Query.vehicleByVin"}},
		"Query.vehicles":        {"", `{ vehicles(first: 2) { nodes { vin } } }`, nil, []string{"Query.vehicles"}},
		"Query.dealer":          {"", `query($d: ID!) { dealer(id: $d) { ` + lot + ` } }`, map[string]any{"d": dealer}, []string{"Dealer.vehicles"}},
		"Query.dealers":         {"", `{ dealers(first: 2) { nodes { ` + lot + ` } } }`, nil, []string{"Query.dealers", "Dealer.vehicles"}},
		"Query.me":              {staff, `{ me { dealer { ` + lot + ` } } }`, nil, []string{"Dealer.vehicles"}},
		"Mutation.login":        {"", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { dealer { ` + lot + ` } } } }`, map[string]any{"e": p.staffA.Email, "p": password}, []string{"Dealer.vehicles"}},
		"Mutation.refreshToken": {"", `mutation($r: String!) { refreshToken(refreshToken: $r) { user { dealer { ` + lot + ` } } } }`, map[string]any{"r": refresh.Login.RefreshToken}, []string{"Dealer.vehicles"}},
		"Mutation.createVehicle": {staff, `mutation($input: CreateVehicleInput!) { createVehicle(input: $input) { vin dealer { name } } }`,
			map[string]any{"input": a.newVehicleInput(p.dealerA, validVIN("1FTFW1ET5DFC00002"))}, []string{"Mutation.createVehicle"}},
		"Mutation.updateVehicle": {staff, `mutation($id: ID!) { updateVehicle(id: $id, input: {priceCents: 4321}) { vin model { name } } }`, map[string]any{"id": id}, []string{"Mutation.updateVehicle"}},
		"Mutation.createDealer":  {admin, `mutation { createDealer(input: {name: "Planned Motors", city: "Lyon"}) { ` + lot + ` } }`, nil, []string{"Dealer.vehicles"}},
		"Mutation.updateDealer":  {staff, `mutation($d: ID!) { updateDealer(id: $d, input: {phone: "+1 416 555 0100"}) { ` + lot + ` } }`, map[string]any{"d": dealer}, []string{"Dealer.vehicles"}},
		"Dealer.vehicles":        {"", `query($d: ID!) { dealer(id: $d) { ` + lot + ` } }`, map[string]any{"d": dealer}, []string{"Dealer.vehicles"}},
		"Vehicle.dealer":         {"", `query($id: ID!) { vehicle(id: $id) { dealer { ` + lot + ` } } }`, map[string]any{"id": id}, []string{"Query.vehicle", "Dealer.vehicles"}},
		"Vehicle.history":        {staff, `query($id: ID!) { vehicle(id: $id) { history { edges { node { kind } } } } }`, map[string]any{"id": id}, []string{"Vehicle.history"}},
		"VehicleEvent.vehicle":   {staff, `query($id: ID!) { vehicle(id: $id) { history { edges { node { vehicle { vin } } } } } }`, map[string]any{"id": id}, []string{"VehicleEvent.vehicle"}},
		"VehicleEvent.snapshot":  {staff, `query($id: ID!) { vehicle(id: $id) { history { edges { node { snapshot { vin } } } } } }`, map[string]any{"id": id}, []string{"VehicleEvent.snapshot"}},
		"VehicleEvent.previous":  {staff, `query($id: ID!) { vehicle(id: $id) { history { edges { node { previous { vin } } } } } }`, map[string]any{"id": id}, []string{"VehicleEvent.previous"}},
		"VehicleEvent.actor":     {staff, `query($id: ID!) { vehicle(id: $id) { history { edges { node { actor { dealer { ` + lot + ` } } } } } } }`, map[string]any{"id": id}, []string{"Dealer.vehicles"}},
		"User.dealer":            {staff, `{ me { dealer { ` + lot + ` } } }`, nil, []string{"Dealer.vehicles"}},
		"AuthPayload.user":       {"", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { dealer { ` + lot + ` } } } }`, map[string]any{"e": p.staffA.Email, "p": password}, []string{"Dealer.vehicles"}},
	}
	subscriptions := map[string]check{
		"Subscription.vehicleEvents":  {"", `subscription { vehicleEvents { vehicle { vin } snapshot { vin } previous { vin } } }`, nil, []string{"VehicleEvent.vehicle", "VehicleEvent.snapshot", "VehicleEvent.previous"}},
		"Subscription.vehicleUpdated": {"", `subscription($id: ID!) { vehicleUpdated(id: $id) { vin dealer { name } } }`, map[string]any{"id": id}, []string{"Subscription.vehicleUpdated"}},
	}

	for _, field := range fieldsCarryingVehicles(graph.NewExecutableSchema(graph.Config{}).Schema()) {
		_, inHTTP := queries[field]
		_, inSub := subscriptions[field]
		if !inHTTP && !inSub {
			t.Errorf("%s returns vehicles: give it a case here (and make its resolver go through graph/plan)", field)
		}
	}

	// The history needs an update to show (and an event with a previous state).
	if r := a.PostAs(staff, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 5555}}); len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}
	for field, c := range queries {
		t.Run(field, func(t *testing.T) {
			rec := new(plan.Recorder)
			body, _ := json.Marshal(map[string]any{"query": c.query, "variables": c.vars})
			req := httptest.NewRequestWithContext(plan.WithRecorder(context.Background(), rec), "POST", "/graphql", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			r := a.Send(req)
			if len(r.Errors) > 0 || strings.Contains(string(r.Data), "null") {
				t.Fatalf("%s", r.Raw)
			}
			for _, want := range c.planned {
				if !slices.Contains(rec.Planned(), want) {
					t.Errorf("planned %v, want %s among them", rec.Planned(), want)
				}
			}
		})
	}

	rec := new(plan.Recorder)
	srv := httptest.NewServer(withRecorder(a.Handler, rec))
	t.Cleanup(srv.Close)
	sub := apitest.Dial(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", gqlws.Options{})
	for field, c := range subscriptions {
		if err := sub.Subscribe(apitest.Wait(t), field, c.query, c.vars); err != nil {
			t.Fatal(err)
		}
	}
	apitest.Eventually(t, func() bool { return a.http.LiveSubscribers() == len(subscriptions) }, 10*time.Second, "the subscriptions became active")
	rec.Reset()
	if r := a.PostAs(staff, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 6666}}); len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}
	for range subscriptions {
		m, err := sub.Next(apitest.Wait(t))
		if err != nil || m.Type != "next" || strings.Contains(string(m.Payload), "errors") {
			t.Fatalf("subscription: %v %+v", err, m)
		}
	}
	for field, c := range subscriptions {
		for _, want := range c.planned {
			if !slices.Contains(rec.Planned(), want) {
				t.Errorf("%s: planned %v, want %s among them", field, rec.Planned(), want)
			}
		}
	}
}

func withRecorder(h http.Handler, rec *plan.Recorder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(plan.WithRecorder(r.Context(), rec)))
	})
}

// fieldsCarryingVehicles lists, as "Type.field", every field of the schema whose
// type reaches Vehicle through its fields (or is a type Vehicle may be),
// leaving out the fields of connections (with a pageInfo) and edges (with a
// cursor), which belong to the field that returns the connection.
func fieldsCarryingVehicles(schema *ast.Schema) []string {
	reaches := map[string]bool{}
	var reach func(name string, seen map[string]bool) bool
	reach = func(name string, seen map[string]bool) bool {
		if name == "Vehicle" {
			return true
		}
		def := schema.Types[name]
		if def == nil || seen[name] {
			return false
		}
		seen[name] = true
		if def.IsAbstractType() {
			for _, p := range schema.GetPossibleTypes(def) {
				if p.Name == "Vehicle" {
					return true
				}
			}
		}
		for _, f := range def.Fields {
			if reach(f.Type.Name(), seen) {
				return true
			}
		}
		return false
	}
	var out []string
	for name, def := range schema.Types {
		if def.Kind != ast.Object || strings.HasPrefix(name, "__") || def.Fields.ForName("pageInfo") != nil || def.Fields.ForName("cursor") != nil {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if _, ok := reaches[f.Type.Name()]; !ok {
				reaches[f.Type.Name()] = reach(f.Type.Name(), map[string]bool{})
			}
			if reaches[f.Type.Name()] {
				out = append(out, name+"."+f.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}
