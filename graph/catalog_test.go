package graph_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
)

func TestNodeRoundTripsEveryType(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	var ids struct{ VehicleID, DealerID, MakeID, ModelID int64 }
	a.SQL(&ids, "SELECT id AS vehicle_id, dealer_id, make_id, model_id FROM vehicles ORDER BY id LIMIT 1")

	for _, tc := range []struct {
		typ string
		id  int64
	}{{"Vehicle", ids.VehicleID}, {"Dealer", ids.DealerID}, {"Make", ids.MakeID}, {"Model", ids.ModelID}} {
		t.Run(tc.typ, func(t *testing.T) {
			gid := relay.NodeID(tc.typ, tc.id)
			var out struct {
				Node *struct {
					Typename string `json:"__typename"`
					ID       string `json:"id"`
				}
			}
			a.Query(&out, `query($id: ID!) { node(id: $id) { __typename id } }`, map[string]any{"id": gid})
			if out.Node == nil || out.Node.Typename != tc.typ || out.Node.ID != gid {
				t.Fatalf("node(%s) = %+v", gid, out.Node)
			}
		})
	}

	t.Run("typed lookups", func(t *testing.T) {
		var out struct {
			Vehicle *struct{ ID string }
			Dealer  *struct{ ID string }
			Wrong   *struct{ ID string }
		}
		a.Query(&out, `query($v: ID!, $d: ID!) { vehicle(id: $v) { id } dealer(id: $d) { id } wrong: vehicle(id: $d) { id } }`,
			map[string]any{"v": relay.NodeID("Vehicle", ids.VehicleID), "d": relay.NodeID("Dealer", ids.DealerID)})
		if out.Vehicle == nil || out.Dealer == nil || out.Wrong != nil {
			t.Fatalf("typed lookups: %+v", out)
		}
	})
}

func TestUnknownIDsAreNull(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	r := a.Post(`query($v: ID!, $d: ID!, $n: ID!) { vehicle(id: $v) { id } dealer(id: $d) { id } node(id: $n) { id } }`,
		map[string]any{"v": relay.NodeID("Vehicle", 999999), "d": relay.NodeID("Dealer", 999999), "n": relay.NodeID("Make", 999999)})
	if len(r.Errors) != 0 || string(r.Data) != `{"vehicle":null,"dealer":null,"node":null}` {
		t.Fatalf("got %s", r.Raw)
	}
}

func TestVehicleStats(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	var out struct {
		VehicleStats struct {
			Count         int
			MinPriceCents *int
			AvgPriceCents *int
			MaxPriceCents *int
			ByStatus      []struct {
				Status string
				Count  int
			}
			ByMake []struct {
				Make  struct{ Name string }
				Count int
			}
		}
	}
	query := `query($filter: VehicleFilter) { vehicleStats(filter: $filter) {
		count minPriceCents avgPriceCents maxPriceCents
		byStatus { status count } byMake { make { name } count } } }`
	statements := a.CountStatements(func() { a.Query(&out, query, nil) })
	s := out.VehicleStats

	var want struct{ Count, Min, Avg, Max int }
	a.SQL(&want, "SELECT count(*), min(price_cents), round(avg(price_cents)) AS avg, max(price_cents) FROM vehicles")
	if s.Count != want.Count || *s.MinPriceCents != want.Min || *s.AvgPriceCents != want.Avg || *s.MaxPriceCents != want.Max {
		t.Fatalf("stats %+v, want %+v", s, want)
	}
	sum := 0
	var statuses []string
	for _, b := range s.ByStatus {
		sum += b.Count
		statuses = append(statuses, b.Status)
	}
	if sum != s.Count || !slices.Equal(statuses, []string{"AVAILABLE", "RESERVED", "SOLD"}) {
		t.Fatalf("byStatus %+v does not add up to %d", s.ByStatus, s.Count)
	}
	sum = 0
	for i, b := range s.ByMake {
		sum += b.Count
		if b.Make.Name == "" || (i > 0 && b.Count > s.ByMake[i-1].Count) {
			t.Fatalf("byMake not by count, most first: %+v", s.ByMake)
		}
	}
	if sum != s.Count {
		t.Fatalf("byMake adds up to %d, want %d", sum, s.Count)
	}
	if statements > 2 {
		t.Fatalf("vehicleStats with byMake ran %d statements, want at most 2", statements)
	}

	t.Run("empty result", func(t *testing.T) {
		a.Query(&out, query, map[string]any{"filter": map[string]any{"yearMin": 3000}})
		s := out.VehicleStats
		if s.Count != 0 || s.MinPriceCents != nil || s.AvgPriceCents != nil || len(s.ByMake) != 0 || len(s.ByStatus) != 3 {
			t.Fatalf("stats of nothing: %+v", s)
		}
	})
}

func TestDealersAndTheirVehicles(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	var wantNames []string
	a.SQL(&wantNames, "SELECT name FROM dealers ORDER BY name, id")
	var counts []int
	a.SQL(&counts, "SELECT (SELECT count(*) FROM vehicles v WHERE v.dealer_id = d.id) FROM dealers d ORDER BY name, id")

	type dealerPage struct {
		Dealers struct {
			Nodes []struct {
				Name     string
				Vehicles vehiclePage
			}
			PageInfo   pageInfo
			TotalCount int
		}
	}
	var names []string
	var after any
	for i := 0; ; i++ {
		var out dealerPage
		a.Query(&out, `query($after: String) { dealers(first: 10, after: $after) {
			nodes { name vehicles(first: 3, orderBy: {field: PRICE, direction: DESC}) { nodes { priceCents dealer { name } } totalCount } }
			pageInfo { hasNextPage endCursor } totalCount } }`, map[string]any{"after": after})
		if out.Dealers.TotalCount != len(wantNames) {
			t.Fatalf("totalCount = %d, want %d", out.Dealers.TotalCount, len(wantNames))
		}
		for _, d := range out.Dealers.Nodes {
			at := len(names)
			names = append(names, d.Name)
			if d.Vehicles.TotalCount != counts[at] || len(d.Vehicles.Nodes) != min(3, counts[at]) {
				t.Fatalf("dealer %s: %d of %d vehicles, want %d", d.Name, len(d.Vehicles.Nodes), d.Vehicles.TotalCount, counts[at])
			}
			for j, v := range d.Vehicles.Nodes {
				if v.Dealer.Name != d.Name || (j > 0 && v.PriceCents > d.Vehicles.Nodes[j-1].PriceCents) {
					t.Fatalf("dealer %s has a wrong or misordered vehicle: %+v", d.Name, d.Vehicles.Nodes)
				}
			}
		}
		if !out.Dealers.PageInfo.HasNextPage {
			break
		}
		after = *out.Dealers.PageInfo.EndCursor
	}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("dealers paged as %v, want %v", names, wantNames)
	}
}

func TestMakesListTheirModels(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	var out struct {
		Makes []struct {
			ID     string
			Name   string
			Models []struct {
				Name string
				Make struct{ ID string }
			}
		}
	}
	a.Query(&out, `{ makes { id name models { name make { id } } } }`, nil)
	var wantModels int
	a.SQL(&wantModels, "SELECT count(*) FROM models")
	got := 0
	for i, m := range out.Makes {
		if i > 0 && m.Name < out.Makes[i-1].Name {
			t.Fatalf("makes not by name: %q before %q", out.Makes[i-1].Name, m.Name)
		}
		for _, md := range m.Models {
			if md.Make.ID != m.ID {
				t.Fatalf("model %s of make %s points at %s", md.Name, m.ID, md.Make.ID)
			}
		}
		got += len(m.Models)
	}
	if got != wantModels || len(out.Makes) < 10 {
		t.Fatalf("%d makes with %d models, want %d models", len(out.Makes), got, wantModels)
	}
}

func TestBadArgumentsAreBadUserInput(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	priceCursor := a.page(map[string]any{"first": 1, "orderBy": map[string]any{"field": "PRICE", "direction": "ASC"}}).PageInfo.EndCursor

	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
		field string
	}{
		{"first above 100", `{ vehicles(first: 101) { totalCount } }`, nil, "first"},
		{"negative first", `{ vehicles(first: -1) { totalCount } }`, nil, "first"},
		{"last above 100", `{ vehicles(last: 101) { totalCount } }`, nil, "last"},
		{"first and last", `{ vehicles(first: 1, last: 1) { totalCount } }`, nil, "last"},
		{"garbage cursor", `{ vehicles(after: "garbage") { totalCount } }`, nil, "after"},
		{"garbage before", `{ vehicles(last: 2, before: "Zm9vOmJhcg") { totalCount } }`, nil, "before"},
		{"cursor of another ordering", `query($c: String) { vehicles(after: $c) { totalCount } }`, map[string]any{"c": *priceCursor}, "after"},
		{"dealers first above 100", `{ dealers(first: 500) { totalCount } }`, nil, "first"},
		{"dealers garbage cursor", `{ dealers(after: "nope") { totalCount } }`, nil, "after"},
		{"nested first above 100", `{ dealers(first: 1) { nodes { vehicles(first: 1000) { totalCount } } } }`, nil, "first"},
		{"malformed node id", `{ node(id: "garbage") { id } }`, nil, "id"},
		{"malformed vehicle id", `{ vehicle(id: "1") { id } }`, nil, "id"},
		{"filter id of another type", `query($d: ID) { vehicles(filter: {makeId: $d}) { totalCount } }`, map[string]any{"d": relay.NodeID("Dealer", 1)}, "filter.makeId"},
		{"NUL in search", `query($s: String) { vehicles(filter: {search: $s}) { totalCount } }`, map[string]any{"s": "toy\x00ota"}, "filter.search"},
		{"search too long", `query($s: String) { vehicleStats(filter: {search: $s}) { count } }`, map[string]any{"s": strings.Repeat("a", 101)}, "filter.search"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.Post(tc.query, tc.vars)
			if code := r.ErrorCode(t); code != "BAD_USER_INPUT" {
				t.Fatalf("code = %q, want BAD_USER_INPUT: %s", code, r.Raw)
			}
			fields, _ := r.Errors[0].Extensions["fields"].([]any)
			if len(fields) == 0 || fields[0].(map[string]any)["field"] != tc.field {
				t.Fatalf("extensions.fields does not name %q: %s", tc.field, r.Raw)
			}
			apitest.MustNotLeak(t, r.Raw)
		})
	}

	t.Run("every bad field at once", func(t *testing.T) {
		r := a.Post(`{ vehicles(first: 101, after: "garbage", filter: {dealerId: "x"}) { totalCount } }`, nil)
		fields, _ := r.Errors[0].Extensions["fields"].([]any)
		if len(fields) != 3 {
			t.Fatalf("want three bad fields, got %s", r.Raw)
		}
	})
}

func TestMalformedDocumentsHaveGraphQLCodes(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	if code := a.Post(`{ vehicles(first: 1) { `, nil).ErrorCode(t); code != "GRAPHQL_PARSE_FAILED" {
		t.Fatalf("parse error code = %q", code)
	}
	if code := a.Post(`{ vehicles { nope } }`, nil).ErrorCode(t); code != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("validation error code = %q", code)
	}
}

func TestDatabaseFailuresAreMaskedAndLogged(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	if err := a.DB.Close(); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ vehicles(first: 1) { totalCount } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", "trace-me-42")
	r := a.Send(req)
	if code := r.ErrorCode(t); code != "INTERNAL_SERVER_ERROR" || r.Errors[0].Message != "internal server error" {
		t.Fatalf("got %s", r.Raw)
	}
	apitest.MustNotLeak(t, r.Raw)
	if !strings.Contains(a.Logs.String(), "trace-me-42") || !strings.Contains(a.Logs.String(), "database is closed") {
		t.Fatalf("the log does not hold the cause under the request id:\n%s", a.Logs.String())
	}
}

// A page's models, makes and dealers are joined into its statement, and a
// nested connection costs one statement for all its parents, whatever the
// page size.
func TestStatementsDoNotGrowWithPageSize(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	vehicles := `query($n: Int) { vehicles(first: $n) { nodes { vin make { name } model { name make { name } } dealer { name city } } } }`
	dealers := `query($n: Int) { dealers(first: $n) { nodes { name vehicles(first: 5) { nodes { vin make { name } model { name } } } } } }`
	for _, tc := range []struct {
		name  string
		query string
		limit int64
	}{
		{"vehicles with make, model and dealer", vehicles, 1},
		{"dealers with their first vehicles", dealers, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var counts []int64
			for _, n := range []int{10, 100} {
				counts = append(counts, a.CountStatements(func() {
					var out map[string]any
					a.Query(&out, tc.query, map[string]any{"n": n})
				}))
			}
			if counts[0] != counts[1] || counts[1] > tc.limit {
				t.Fatalf("statements for 10 and 100 items: %v, want equal and at most %d", counts, tc.limit)
			}
		})
	}
	// A field under each vehicle that loads through a batching loader shares
	// batches only if the vehicles are resolved concurrently (see
	// marshalList). How the batches fall depends on the scheduler, so this
	// asserts only that there is no statement per vehicle.
	t.Run("vehicles with their history", func(t *testing.T) {
		admin := a.login(a.accounts().admin) // history is for staff and admins
		statements := a.CountStatements(func() {
			r := a.PostAs(admin, `{ vehicles(first: 100) { nodes { vin history(first: 2) { edges { node { kind } } } } } }`, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("%s", r.Raw)
			}
		})
		if statements > 25 { // one per vehicle would be 101
			t.Fatalf("100 vehicles with their history ran %d statements, want a few batches, not one per vehicle", statements)
		}
	})
	t.Run("totalCount costs nothing unless selected", func(t *testing.T) {
		without := a.CountStatements(func() { a.Post(`{ vehicles(first: 5) { nodes { vin } } }`, nil) })
		with := a.CountStatements(func() { a.Post(`{ vehicles(first: 5) { nodes { vin } totalCount } }`, nil) })
		if without != 1 || with != 2 {
			t.Fatalf("statements without/with totalCount: %d/%d, want 1/2", without, with)
		}
	})
}

func TestHTTPSurface(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)

	t.Run("GET queries", func(t *testing.T) {
		q := url.Values{"query": {`{ vehicles(first: 2) { nodes { vin } } }`}}
		r := a.Send(httptest.NewRequest(http.MethodGet, "/graphql?"+q.Encode(), nil))
		if r.Status != http.StatusOK || len(r.Errors) != 0 || !strings.Contains(string(r.Data), "vin") {
			t.Fatalf("GET: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("request ids", func(t *testing.T) {
		r := a.Send(httptest.NewRequest(http.MethodGet, "/healthz", nil))
		if len(r.Header.Get("X-Request-ID")) < 16 {
			t.Fatalf("no generated X-Request-ID: %v", r.Header)
		}
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.Header.Set("X-Request-ID", "abc-123")
		if got := a.Send(req).Header.Get("X-Request-ID"); got != "abc-123" {
			t.Fatalf("X-Request-ID = %q, want the caller's", got)
		}
		req.Header.Set("X-Request-ID", "bad id\nwith newline")
		if got := a.Send(req).Header.Get("X-Request-ID"); got == "" || strings.ContainsAny(got, " \n") {
			t.Fatalf("unsafe X-Request-ID echoed: %q", got)
		}
	})
	t.Run("health and readiness", func(t *testing.T) {
		if r := a.Send(httptest.NewRequest(http.MethodGet, "/healthz", nil)); r.Status != 200 {
			t.Fatalf("/healthz = %d", r.Status)
		}
		if r := a.Send(httptest.NewRequest(http.MethodGet, "/readyz", nil)); r.Status != 200 {
			t.Fatalf("/readyz = %d %s", r.Status, r.Raw)
		}
	})
	t.Run("GraphiQL in development", func(t *testing.T) {
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "graphiql") {
			t.Fatalf("GET / = %d", rec.Code)
		}
	})
}

func TestReadinessNeedsMigrations(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	if _, err := a.DB.ExecContext(t.Context(), "DELETE FROM bun_migrations"); err != nil {
		t.Fatal(err)
	}
	if r := a.Send(httptest.NewRequest(http.MethodGet, "/readyz", nil)); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with pending migrations = %d %s", r.Status, r.Raw)
	}
	_ = a.DB.Close()
	if r := a.Send(httptest.NewRequest(http.MethodGet, "/readyz", nil)); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz without a database = %d", r.Status)
	}
	if r := a.Send(httptest.NewRequest(http.MethodGet, "/healthz", nil)); r.Status != http.StatusOK {
		t.Fatalf("/healthz without a database = %d", r.Status)
	}
}
