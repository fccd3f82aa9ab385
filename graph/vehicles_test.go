package graph_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
)

type vehicleNode struct {
	ID         string  `json:"id"`
	VIN        string  `json:"vin"`
	Year       int     `json:"year"`
	Color      *string `json:"color"`
	MileageKm  int     `json:"mileageKm"`
	PriceCents int     `json:"priceCents"`
	Fuel       string  `json:"fuel"`
	Status     string  `json:"status"`
	CreatedAt  string  `json:"createdAt"`
	Make       struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"make"`
	Model struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"model"`
	Dealer struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"dealer"`
}

type pageInfo struct {
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
	StartCursor     *string `json:"startCursor"`
	EndCursor       *string `json:"endCursor"`
}

type vehiclePage struct {
	Edges []struct {
		Cursor string      `json:"cursor"`
		Node   vehicleNode `json:"node"`
	} `json:"edges"`
	Nodes      []vehicleNode `json:"nodes"`
	PageInfo   pageInfo      `json:"pageInfo"`
	TotalCount int           `json:"totalCount"`
}

const vehicleFields = `id vin year color mileageKm priceCents fuel status createdAt
	make { id name } model { id name } dealer { id name }`

const pageQuery = `query($first: Int, $after: String, $last: Int, $before: String, $filter: VehicleFilter, $orderBy: VehicleOrder) {
	vehicles(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
		edges { cursor node { id } }
		nodes { ` + vehicleFields + ` }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		totalCount
	}
}`

func (a *api) page(vars map[string]any) vehiclePage {
	a.T.Helper()
	var out struct{ Vehicles vehiclePage }
	a.Query(&out, pageQuery, vars)
	return out.Vehicles
}

// dbIDs decodes the vehicles' global IDs to database ids.
func dbIDs(t *testing.T, nodes []vehicleNode) []int64 {
	t.Helper()
	ids := make([]int64, len(nodes))
	for i, n := range nodes {
		typ, id, err := relay.ParseNodeID(n.ID)
		if err != nil || typ != "Vehicle" {
			t.Fatalf("bad vehicle id %q", n.ID)
		}
		ids[i] = id
	}
	return ids
}

func TestFirstPageHasNestedObjects(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	var out struct {
		Vehicles struct{ Nodes []vehicleNode }
	}
	a.Query(&out, `{ vehicles(first: 5) { nodes { vin make { name } model { name } dealer { name } } } }`, nil)
	if len(out.Vehicles.Nodes) != 5 {
		t.Fatalf("got %d vehicles, want 5", len(out.Vehicles.Nodes))
	}
	for _, v := range out.Vehicles.Nodes {
		if len(v.VIN) != 17 || v.Make.Name == "" || v.Model.Name == "" || v.Dealer.Name == "" {
			t.Errorf("incomplete vehicle: %+v", v)
		}
	}
}

// orderings lists every order the API offers with the SQL that states it.
var orderings = []struct {
	field, direction, sql string
}{
	{"CREATED_AT", "DESC", "created_at DESC, id DESC"},
	{"CREATED_AT", "ASC", "created_at ASC, id ASC"},
	{"PRICE", "ASC", "price_cents ASC, id ASC"},
	{"PRICE", "DESC", "price_cents DESC, id DESC"},
	{"YEAR", "ASC", "year ASC, id ASC"},
	{"YEAR", "DESC", "year DESC, id DESC"},
	{"MILEAGE", "ASC", "mileage_km ASC, id ASC"},
	{"MILEAGE", "DESC", "mileage_km DESC, id DESC"},
}

func TestThreePagesByPriceChainWithoutGapsOrDuplicates(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	var want []int64
	a.SQL(&want, "SELECT id FROM vehicles ORDER BY price_cents, id LIMIT 120")

	var got []int64
	var after any
	for i := range 3 {
		p := a.page(map[string]any{"first": 40, "after": after, "orderBy": map[string]any{"field": "PRICE", "direction": "ASC"}})
		if len(p.Nodes) != 40 || !p.PageInfo.HasNextPage || p.PageInfo.HasPreviousPage != (i > 0) {
			t.Fatalf("page %d: %d nodes, pageInfo %+v", i, len(p.Nodes), p.PageInfo)
		}
		if p.Edges[39].Cursor != *p.PageInfo.EndCursor || p.Edges[0].Cursor != *p.PageInfo.StartCursor {
			t.Fatalf("page %d: start/end cursors disagree with edges", i)
		}
		for j := 1; j < len(p.Nodes); j++ {
			if p.Nodes[j].PriceCents < p.Nodes[j-1].PriceCents {
				t.Fatalf("page %d is not in price order at %d", i, j)
			}
		}
		got = append(got, dbIDs(t, p.Nodes)...)
		after = *p.PageInfo.EndCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("three pages differ from the first 120 by price:\n got %v\nwant %v", got, want)
	}
}

// Every ordering, paged forward and then backward through a filtered set,
// must visit exactly the rows SQL orders the same way.
func TestEveryOrderingPagesBothWays(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	var dealerID int64
	a.SQL(&dealerID, "SELECT dealer_id FROM vehicles GROUP BY dealer_id ORDER BY count(*) DESC, dealer_id LIMIT 1")
	filter := map[string]any{"dealerId": relay.NodeID("Dealer", dealerID)}

	for _, o := range orderings {
		t.Run(o.field+" "+o.direction, func(t *testing.T) {
			var want []int64
			a.SQL(&want, "SELECT id FROM vehicles WHERE dealer_id = ? ORDER BY "+o.sql, dealerID)
			if len(want) < 10 {
				t.Fatalf("the busiest dealer has only %d vehicles", len(want))
			}
			orderBy := map[string]any{"field": o.field, "direction": o.direction}

			var forward []int64
			var after any
			for pages := 0; ; pages++ {
				p := a.page(map[string]any{"first": 7, "after": after, "filter": filter, "orderBy": orderBy})
				forward = append(forward, dbIDs(t, p.Nodes)...)
				if p.TotalCount != len(want) {
					t.Fatalf("totalCount = %d, want %d", p.TotalCount, len(want))
				}
				if !p.PageInfo.HasNextPage {
					break
				}
				after = *p.PageInfo.EndCursor
			}
			if !slices.Equal(forward, want) {
				t.Fatalf("forward:\n got %v\nwant %v", forward, want)
			}

			var backward []int64
			var before any
			for {
				p := a.page(map[string]any{"last": 7, "before": before, "filter": filter, "orderBy": orderBy})
				backward = append(dbIDs(t, p.Nodes), backward...)
				if !p.PageInfo.HasPreviousPage {
					break
				}
				before = *p.PageInfo.StartCursor
			}
			if !slices.Equal(backward, want) {
				t.Fatalf("backward:\n got %v\nwant %v", backward, want)
			}
		})
	}
}

func TestLastBeforeReturnsThePreviousPage(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	orderBy := map[string]any{"field": "PRICE", "direction": "ASC"}
	first := a.page(map[string]any{"first": 20, "orderBy": orderBy})
	second := a.page(map[string]any{"first": 20, "after": *first.PageInfo.EndCursor, "orderBy": orderBy})
	back := a.page(map[string]any{"last": 20, "before": *second.PageInfo.StartCursor, "orderBy": orderBy})
	if !slices.Equal(dbIDs(t, back.Nodes), dbIDs(t, first.Nodes)) {
		t.Fatal("last/before from the second page does not give the first page back")
	}
	if back.PageInfo.HasPreviousPage || !back.PageInfo.HasNextPage {
		t.Fatalf("pageInfo of the first page reached backward: %+v", back.PageInfo)
	}

	var want []int64
	a.SQL(&want, "SELECT id FROM (SELECT id, price_cents FROM vehicles ORDER BY price_cents DESC, id DESC LIMIT 5) t ORDER BY price_cents, id")
	tail := a.page(map[string]any{"last": 5, "orderBy": orderBy})
	if !slices.Equal(dbIDs(t, tail.Nodes), want) || tail.PageInfo.HasNextPage || !tail.PageInfo.HasPreviousPage {
		t.Fatalf("last: 5 = %v (%+v), want %v", dbIDs(t, tail.Nodes), tail.PageInfo, want)
	}
}

func TestPagesStayStableUnderConcurrentInserts(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	orderBy := map[string]any{"field": "PRICE", "direction": "ASC"}
	first := a.page(map[string]any{"first": 10, "orderBy": orderBy})
	// A cheaper car lands before the cursor while the client is reading page one.
	var ids struct {
		ModelID, MakeID, DealerID int64
	}
	a.SQL(&ids, "SELECT model_id, make_id, dealer_id FROM vehicles LIMIT 1")
	if _, err := a.DB.NewRaw(`INSERT INTO vehicles (vin, make_id, model_id, dealer_id, year, mileage_km, price_cents, fuel)
		VALUES ('1HGCM82633A004352', ?, ?, ?, 2020, 1000, 0, 'GASOLINE')`, ids.MakeID, ids.ModelID, ids.DealerID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	second := a.page(map[string]any{"first": 10, "after": *first.PageInfo.EndCursor, "orderBy": orderBy})

	var want []int64
	a.SQL(&want, "SELECT id FROM vehicles WHERE vin <> '1HGCM82633A004352' ORDER BY price_cents, id LIMIT 20")
	got := append(dbIDs(t, first.Nodes), dbIDs(t, second.Nodes)...)
	if !slices.Equal(got, want) {
		t.Fatalf("pages shifted after an insert:\n got %v\nwant %v", got, want)
	}
}

func TestFiltersNarrowWithoutLeaking(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	var sample struct {
		MakeID, ModelID, DealerID int64
		Year                      int
	}
	a.SQL(&sample, "SELECT make_id, model_id, dealer_id, year FROM vehicles ORDER BY id LIMIT 1")
	var total int
	a.SQL(&total, "SELECT count(*) FROM vehicles")

	cases := []struct {
		name   string
		filter map[string]any
		where  string
		ok     func(vehicleNode) bool
	}{
		{"make", map[string]any{"makeId": relay.NodeID("Make", sample.MakeID)}, fmt.Sprintf("make_id = %d", sample.MakeID),
			func(v vehicleNode) bool { return v.Make.ID == relay.NodeID("Make", sample.MakeID) }},
		{"model", map[string]any{"modelId": relay.NodeID("Model", sample.ModelID)}, fmt.Sprintf("model_id = %d", sample.ModelID),
			func(v vehicleNode) bool { return v.Model.ID == relay.NodeID("Model", sample.ModelID) }},
		{"dealer", map[string]any{"dealerId": relay.NodeID("Dealer", sample.DealerID)}, fmt.Sprintf("dealer_id = %d", sample.DealerID),
			func(v vehicleNode) bool { return v.Dealer.ID == relay.NodeID("Dealer", sample.DealerID) }},
		{"status", map[string]any{"status": []string{"RESERVED", "SOLD"}}, "status IN ('RESERVED', 'SOLD')",
			func(v vehicleNode) bool { return v.Status == "RESERVED" || v.Status == "SOLD" }},
		{"fuel", map[string]any{"fuel": []string{"ELECTRIC"}}, "fuel = 'ELECTRIC'",
			func(v vehicleNode) bool { return v.Fuel == "ELECTRIC" }},
		{"year range", map[string]any{"yearMin": 2015, "yearMax": 2018}, "year BETWEEN 2015 AND 2018",
			func(v vehicleNode) bool { return v.Year >= 2015 && v.Year <= 2018 }},
		{"price range", map[string]any{"priceMinCents": 1000000, "priceMaxCents": 2500000}, "price_cents BETWEEN 1000000 AND 2500000",
			func(v vehicleNode) bool { return v.PriceCents >= 1000000 && v.PriceCents <= 2500000 }},
		{"mileage", map[string]any{"mileageMaxKm": 30000}, "mileage_km <= 30000",
			func(v vehicleNode) bool { return v.MileageKm <= 30000 }},
		{"combined", map[string]any{"status": []string{"AVAILABLE"}, "yearMin": 2018, "priceMaxCents": 3000000},
			"status = 'AVAILABLE' AND year >= 2018 AND price_cents <= 3000000",
			func(v vehicleNode) bool { return v.Status == "AVAILABLE" && v.Year >= 2018 && v.PriceCents <= 3000000 }},
		{"nothing matches", map[string]any{"yearMin": 2020, "yearMax": 2010}, "false",
			func(vehicleNode) bool { return false }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want int
			a.SQL(&want, "SELECT count(*) FROM vehicles WHERE "+tc.where)
			if tc.where != "false" && (want == 0 || want == total) {
				t.Fatalf("filter %q does not narrow the seeded data (%d of %d)", tc.where, want, total)
			}
			p := a.page(map[string]any{"first": 100, "filter": tc.filter})
			if p.TotalCount != want {
				t.Errorf("totalCount = %d, want %d", p.TotalCount, want)
			}
			if len(p.Nodes) != min(want, 100) {
				t.Errorf("page has %d vehicles, want %d", len(p.Nodes), min(want, 100))
			}
			for _, v := range p.Nodes {
				if !tc.ok(v) {
					t.Fatalf("non-matching vehicle leaked: %+v", v)
				}
			}
		})
	}
}

func TestSearchMatchesNamesVINAndColorInAnyCase(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	var makeName string
	a.SQL(&makeName, "SELECT mk.name FROM vehicles v JOIN makes mk ON mk.id = v.make_id GROUP BY mk.name ORDER BY count(*) DESC LIMIT 1")
	var modelName, vin string
	a.SQL(&modelName, "SELECT md.name FROM vehicles v JOIN models md ON md.id = v.model_id GROUP BY md.name ORDER BY count(*) DESC LIMIT 1")
	a.SQL(&vin, "SELECT vin FROM vehicles ORDER BY id LIMIT 1")

	matches := `SELECT count(*) FROM vehicles v JOIN models md ON md.id = v.model_id JOIN makes mk ON mk.id = v.make_id
		WHERE v.vin ILIKE ?0 OR v.color ILIKE ?0 OR md.name ILIKE ?0 OR mk.name ILIKE ?0`
	for _, tc := range []struct{ name, search, pattern string }{
		{"make name in mixed case", mixCase(makeName), "%" + makeName + "%"},
		{"model name in lower case", strings.ToLower(modelName), "%" + modelName + "%"},
		{"part of a VIN in lower case", strings.ToLower(vin[3:11]), "%" + vin[3:11] + "%"},
		{"color", "SILVER", "%silver%"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want int
			a.SQL(&want, matches, tc.pattern)
			if want == 0 {
				t.Fatalf("no seeded vehicle matches %q", tc.pattern)
			}
			p := a.page(map[string]any{"first": 100, "filter": map[string]any{"search": tc.search}})
			if p.TotalCount != want {
				t.Fatalf("search %q: totalCount = %d, want %d", tc.search, p.TotalCount, want)
			}
			needle := strings.ToLower(tc.search)
			for _, v := range p.Nodes {
				color := ""
				if v.Color != nil {
					color = *v.Color
				}
				if !strings.Contains(strings.ToLower(v.VIN+"|"+v.Make.Name+"|"+v.Model.Name+"|"+color), needle) {
					t.Fatalf("search %q returned a non-matching vehicle %+v", tc.search, v)
				}
			}
		})
	}

	t.Run("every word must match", func(t *testing.T) {
		p := a.page(map[string]any{"first": 100, "filter": map[string]any{"search": makeName + " zzzznotacolor"}})
		if p.TotalCount != 0 || len(p.Nodes) != 0 {
			t.Fatalf("a word matching nothing still returned %d vehicles", p.TotalCount)
		}
	})
	t.Run("LIKE wildcards are literal", func(t *testing.T) {
		for _, s := range []string{"%", "_", `\`, "' OR 1=1 --", "%'; DROP TABLE vehicles; --"} {
			p := a.page(map[string]any{"first": 5, "filter": map[string]any{"search": s}})
			if p.TotalCount != 0 {
				t.Fatalf("search %q matched %d vehicles", s, p.TotalCount)
			}
		}
		var n int
		a.SQL(&n, "SELECT count(*) FROM vehicles")
		if n == 0 {
			t.Fatal("vehicles are gone")
		}
	})
}

func mixCase(s string) string {
	b := []rune(s)
	for i := range b {
		if i%2 == 0 {
			b[i] = []rune(strings.ToUpper(string(b[i])))[0]
		} else {
			b[i] = []rune(strings.ToLower(string(b[i])))[0]
		}
	}
	return string(b)
}

func TestVehicleByVINIgnoresCase(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	var vin string
	a.SQL(&vin, "SELECT vin FROM vehicles ORDER BY id DESC LIMIT 1")
	var out struct {
		VehicleByVin *struct{ VIN string } `json:"vehicleByVin"`
		Missing      *struct{ VIN string } `json:"missing"`
		Garbage      *struct{ VIN string } `json:"garbage"`
	}
	a.Query(&out, `query($vin: String!) {
		vehicleByVin(vin: $vin) { vin }
		missing: vehicleByVin(vin: "1HGCM82633A004352") { vin }
		garbage: vehicleByVin(vin: "not a vin") { vin }
	}`, map[string]any{"vin": " " + strings.ToLower(vin)})
	if out.VehicleByVin == nil || out.VehicleByVin.VIN != vin {
		t.Fatalf("vehicleByVin(%q) = %+v", strings.ToLower(vin), out.VehicleByVin)
	}
	if out.Missing != nil || out.Garbage != nil {
		t.Fatalf("unknown VINs should be null: %+v", out)
	}
}
