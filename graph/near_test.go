package graph_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/gqlws"
	"github.com/carlot/carlot/internal/testdb"
)

// A city a test dealer stands in.
type city struct {
	name     string
	lat, lon float64
}

var (
	toronto   = city{"Toronto", 43.6532, -79.3832}
	hamilton  = city{"Hamilton", 43.2557, -79.8711}
	montreal  = city{"Montreal", 45.5017, -73.5673}
	vancouver = city{"Vancouver", 49.2827, -123.1207}
)

// greatCircleKm is the haversine distance on a sphere of the earth's mean
// radius: earthdistance's sphere is 0.1% larger, well within the 0.5% the
// tests allow.
func greatCircleKm(a, b city) float64 {
	const r = 6371.0088
	rad := func(d float64) float64 { return d * math.Pi / 180 }
	dLat, dLon := rad(b.lat-a.lat), rad(b.lon-a.lon)
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(rad(a.lat))*math.Cos(rad(b.lat))*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Sqrt(h))
}

// geoFixture is an empty database with a dealer in each of four cities
// (perDealer vehicles each) and one dealer without coordinates.
type geoFixture struct {
	*api
	dealers map[string]int64 // by city name; "Nowhere" has no coordinates
	cities  map[int64]city
}

func newGeoFixture(t *testing.T, perDealer int) *geoFixture {
	t.Helper()
	a := newAPI(t, testdb.Empty)
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := a.DB.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("INSERT INTO makes (name) VALUES ('Toyota')")
	exec("INSERT INTO models (make_id, name) SELECT id, m FROM makes, unnest(ARRAY['Corolla', 'RAV4']) m")
	g := &geoFixture{api: a, dealers: map[string]int64{}, cities: map[int64]city{}}
	for _, c := range []city{toronto, hamilton, montreal, vancouver, {name: "Nowhere"}} {
		var id int64
		if c.name == "Nowhere" {
			a.SQL(&id, "INSERT INTO dealers (name, city) VALUES (?, ?) RETURNING id", c.name+" Motors", c.name)
		} else {
			a.SQL(&id, "INSERT INTO dealers (name, city, latitude, longitude) VALUES (?, ?, ?, ?) RETURNING id", c.name+" Motors", c.name, c.lat, c.lon)
			g.cities[id] = c
		}
		g.dealers[c.name] = id
		// Vehicles with a spread of years, prices, conditions and body
		// styles (every fifth without one).
		exec(`INSERT INTO vehicles (vin, make_id, model_id, dealer_id, year, mileage_km, price_cents, fuel, status, condition, body_style)
			SELECT '1HGCM8' || lpad((?::bigint * 1000 + i)::text, 11, '0'), md.make_id, md.id, ?, 2015 + i % 7, i * 1000,
				1500000 + ((i * 7919 + ?::int * 104729) % 40) * 100000,
				(ARRAY['GASOLINE', 'DIESEL', 'HYBRID'])[1 + i % 3], (ARRAY['AVAILABLE', 'SOLD'])[1 + i % 2],
				(ARRAY['NEW', 'USED'])[1 + i % 2], CASE WHEN i % 5 = 0 THEN NULL ELSE (ARRAY['SEDAN', 'SUV', 'HATCHBACK'])[1 + i % 3] END
			FROM generate_series(1, ?) i, (SELECT id, make_id FROM models ORDER BY id LIMIT 1) md`,
			id, id, id, perDealer)
	}
	return g
}

func (g *geoFixture) near(c city, radiusKm float64) map[string]any {
	return map[string]any{"latitude": c.lat, "longitude": c.lon, "radiusKm": radiusKm}
}

const nearQuery = `query($first: Int, $after: String, $last: Int, $before: String, $filter: VehicleFilter, $orderBy: VehicleOrder) {
	vehicles(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
		edges { cursor node { id distanceKm dealer { id } } }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		totalCount
	}
}`

type nearNode struct {
	ID         string   `json:"id"`
	DistanceKm *float64 `json:"distanceKm"`
	Dealer     struct {
		ID string `json:"id"`
	} `json:"dealer"`
}

type nearPage struct {
	Edges []struct {
		Cursor string   `json:"cursor"`
		Node   nearNode `json:"node"`
	} `json:"edges"`
	PageInfo   pageInfo `json:"pageInfo"`
	TotalCount int      `json:"totalCount"`
}

func (g *geoFixture) page(vars map[string]any) nearPage {
	g.T.Helper()
	var out struct{ Vehicles nearPage }
	g.Query(&out, nearQuery, vars)
	return out.Vehicles
}

// checkDistance fails unless v's distance is the great-circle distance from
// c to its dealer's city, within 0.5%.
func (g *geoFixture) checkDistance(t *testing.T, from city, v nearNode) {
	t.Helper()
	dealer := g.cities[mustDBID(t, v.Dealer.ID)]
	want := greatCircleKm(from, dealer)
	if v.DistanceKm == nil {
		t.Fatalf("vehicle %s of %s: no distanceKm", v.ID, dealer.name)
	}
	if got := *v.DistanceKm; math.Abs(got-want) > 0.005*want+0.01 {
		t.Fatalf("vehicle %s of %s: distanceKm = %.3f, want %.3f (±0.5%%)", v.ID, dealer.name, got, want)
	}
}

func TestNearKeepsTheVehiclesOfDealersInTheCircle(t *testing.T) {
	t.Parallel()
	g := newGeoFixture(t, 6)
	for _, tc := range []struct {
		name   string
		from   city
		radius float64
		want   []string // cities whose dealers' vehicles are in
	}{
		{"Toronto 10 km", toronto, 10, []string{"Toronto"}},
		{"Toronto 100 km", toronto, 100, []string{"Toronto", "Hamilton"}},
		{"Toronto 600 km", toronto, 600, []string{"Toronto", "Hamilton", "Montreal"}},
		{"Toronto 5000 km", toronto, 5000, []string{"Toronto", "Hamilton", "Montreal", "Vancouver"}},
		{"Vancouver 3300 km (Toronto is 3,350 km away)", vancouver, 3300, []string{"Vancouver"}},
		{"the whole earth", city{"Gulf of Guinea", 0, 0}, 20000, []string{"Toronto", "Hamilton", "Montreal", "Vancouver"}},
		{"the middle of the Atlantic", city{"Atlantic", 30, -40}, 500, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := g.page(map[string]any{"first": 100, "filter": map[string]any{"near": g.near(tc.from, tc.radius)}})
			var got []string
			for _, e := range p.Edges {
				g.checkDistance(t, tc.from, e.Node)
				c := g.cities[mustDBID(t, e.Node.Dealer.ID)].name
				if !slices.Contains(got, c) {
					got = append(got, c)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("dealers in the circle: %v, want %v", got, want)
			}
			if p.TotalCount != 6*len(tc.want) || len(p.Edges) != p.TotalCount {
				t.Fatalf("totalCount %d, %d edges; want %d", p.TotalCount, len(p.Edges), 6*len(tc.want))
			}
		})
	}
	t.Run("no distance without near", func(t *testing.T) {
		p := g.page(map[string]any{"first": 5})
		for _, e := range p.Edges {
			if e.Node.DistanceKm != nil {
				t.Fatalf("distanceKm = %v without near", *e.Node.DistanceKm)
			}
		}
	})
	t.Run("combined with other conditions", func(t *testing.T) {
		p := g.page(map[string]any{"first": 100, "filter": map[string]any{"near": g.near(toronto, 600), "status": []string{"SOLD"}, "yearMin": 2017}})
		var want int
		g.SQL(&want, `SELECT count(*) FROM vehicles WHERE dealer_id IN (?, ?, ?) AND status = 'SOLD' AND year >= 2017`,
			g.dealers["Toronto"], g.dealers["Hamilton"], g.dealers["Montreal"])
		if p.TotalCount != want || len(p.Edges) != want || want == 0 {
			t.Fatalf("totalCount %d, %d edges; want %d", p.TotalCount, len(p.Edges), want)
		}
	})
}

func TestOrderByDistance(t *testing.T) {
	t.Parallel()
	g := newGeoFixture(t, 5)
	filter := map[string]any{"near": g.near(toronto, 5000)}
	for _, dir := range []string{"ASC", "DESC"} {
		t.Run(dir, func(t *testing.T) {
			order := map[string]any{"field": "DISTANCE", "direction": dir}
			all := g.page(map[string]any{"first": 100, "filter": filter, "orderBy": order})
			if len(all.Edges) != 20 {
				t.Fatalf("%d vehicles, want 20", len(all.Edges))
			}
			for i, e := range all.Edges {
				g.checkDistance(t, toronto, e.Node)
				if i == 0 {
					continue
				}
				prev := all.Edges[i-1].Node
				d0, d1 := *prev.DistanceKm, *e.Node.DistanceKm
				id0, id1 := mustDBID(t, prev.ID), mustDBID(t, e.Node.ID)
				inOrder := d0 < d1 || d0 == d1 && id0 < id1
				if dir == "DESC" {
					inOrder = d0 > d1 || d0 == d1 && id0 > id1
				}
				if !inOrder {
					t.Fatalf("vehicle %d (%.3f km) before %d (%.3f km) in %s", id0, d0, id1, d1, dir)
				}
			}
			first := g.cities[mustDBID(t, all.Edges[0].Node.Dealer.ID)].name
			if want := map[string]string{"ASC": "Toronto", "DESC": "Vancouver"}[dir]; first != want {
				t.Fatalf("first vehicle is %s's, want %s's", first, want)
			}

			// Forward, page by page, across dealers.
			var forward []string
			vars := map[string]any{"first": 3, "filter": filter, "orderBy": order}
			for {
				p := g.page(vars)
				for _, e := range p.Edges {
					forward = append(forward, e.Node.ID)
				}
				if !p.PageInfo.HasNextPage {
					break
				}
				vars["after"] = *p.PageInfo.EndCursor
			}
			// Backward, from the end.
			var backward []string
			vars = map[string]any{"last": 4, "filter": filter, "orderBy": order}
			for {
				p := g.page(vars)
				var ids []string
				for _, e := range p.Edges {
					ids = append(ids, e.Node.ID)
				}
				backward = append(ids, backward...)
				if !p.PageInfo.HasPreviousPage {
					break
				}
				vars["before"] = *p.PageInfo.StartCursor
			}
			var want []string
			for _, e := range all.Edges {
				want = append(want, e.Node.ID)
			}
			if !slices.Equal(forward, want) || !slices.Equal(backward, want) {
				t.Fatalf("paging forward %v, backward %v; one page %v", forward, backward, want)
			}
		})
	}

	t.Run("a cursor from another point is refused", func(t *testing.T) {
		order := map[string]any{"field": "DISTANCE", "direction": "ASC"}
		p := g.page(map[string]any{"first": 2, "filter": filter, "orderBy": order})
		for _, tc := range []struct {
			name string
			from city
		}{
			{"Montreal", montreal},
			{"a metre away", city{"Toronto", toronto.lat + 0.00001, toronto.lon}},
		} {
			r := g.Post(nearQuery, map[string]any{"first": 2, "after": *p.PageInfo.EndCursor, "orderBy": order,
				"filter": map[string]any{"near": g.near(tc.from, 5000)}})
			if code := r.ErrorCode(t); code != "BAD_USER_INPUT" {
				t.Fatalf("%s: %s", tc.name, r.Raw)
			}
			if f := errorFields(r.Errors[0].Extensions); !slices.Equal(f, []string{"after"}) {
				t.Fatalf("%s: fields %v: %s", tc.name, f, r.Raw)
			}
		}
		// Another radius around the same point orders the same way.
		next := g.page(map[string]any{"first": 2, "after": *p.PageInfo.EndCursor, "orderBy": order,
			"filter": map[string]any{"near": g.near(toronto, 100)}})
		if len(next.Edges) != 2 || *next.Edges[0].Node.DistanceKm > 100 {
			t.Fatalf("page after the cursor, 100 km around the same point: %+v", next)
		}
		// A cursor of another ordering, likewise.
		byPrice := g.page(map[string]any{"first": 2, "filter": filter, "orderBy": map[string]any{"field": "PRICE", "direction": "ASC"}})
		r := g.Post(nearQuery, map[string]any{"first": 2, "after": *byPrice.PageInfo.EndCursor, "orderBy": order, "filter": filter})
		if code := r.ErrorCode(t); code != "BAD_USER_INPUT" {
			t.Fatalf("a price cursor by DISTANCE: %s", r.Raw)
		}
	})

	t.Run("other orders within the circle", func(t *testing.T) {
		for _, field := range []string{"CREATED_AT", "PRICE", "YEAR", "MILEAGE"} {
			var want []string
			var rows []struct {
				ID int64 `bun:"id"`
			}
			col := map[string]string{"CREATED_AT": "created_at", "PRICE": "price_cents", "YEAR": "year", "MILEAGE": "mileage_km"}[field]
			g.SQL(&rows, fmt.Sprintf(`SELECT id FROM vehicles WHERE dealer_id IN (?, ?) ORDER BY %s DESC, id DESC LIMIT 7`, col),
				g.dealers["Toronto"], g.dealers["Hamilton"])
			for _, r := range rows {
				want = append(want, relayID("Vehicle", r.ID))
			}
			p := g.page(map[string]any{"first": 7, "filter": map[string]any{"near": g.near(toronto, 100)},
				"orderBy": map[string]any{"field": field, "direction": "DESC"}})
			var got []string
			for _, e := range p.Edges {
				got = append(got, e.Node.ID)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %v, want %v", field, got, want)
			}
		}
	})
}

func errorFields(ext map[string]any) []string {
	var out []string
	fields, _ := ext["fields"].([]any)
	for _, f := range fields {
		out = append(out, f.(map[string]any)["field"].(string))
	}
	slices.Sort(out)
	return out
}

func TestNearIsValidated(t *testing.T) {
	t.Parallel()
	g := newGeoFixture(t, 1)
	for _, tc := range []struct {
		name    string
		filter  map[string]any
		orderBy map[string]any
		want    []string
	}{
		{"every coordinate out of range", map[string]any{"near": map[string]any{"latitude": 90.5, "longitude": -180.5, "radiusKm": 0}}, nil,
			[]string{"filter.near.latitude", "filter.near.longitude", "filter.near.radiusKm"}},
		{"negative radius", map[string]any{"near": map[string]any{"latitude": 0, "longitude": 0, "radiusKm": -1}}, nil, []string{"filter.near.radiusKm"}},
		{"radius beyond the earth", map[string]any{"near": map[string]any{"latitude": -90, "longitude": 180, "radiusKm": 20000.5}}, nil, []string{"filter.near.radiusKm"}},
		{"DISTANCE without near", nil, map[string]any{"field": "DISTANCE", "direction": "ASC"}, []string{"orderBy.field"}},
		{"DISTANCE with other conditions only", map[string]any{"yearMin": 2000}, map[string]any{"field": "DISTANCE", "direction": "ASC"}, []string{"orderBy.field"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			queries := []string{nearQuery,
				`query($filter: VehicleFilter, $orderBy: VehicleOrder, $d: ID!) { dealer(id: $d) { vehicles(filter: $filter, orderBy: $orderBy) { nodes { id } } } }`}
			if tc.orderBy == nil { // vehicleStats has no order
				queries = append(queries, `query($filter: VehicleFilter) { vehicleStats(filter: $filter) { count } }`)
			}
			for _, q := range queries {
				vars := map[string]any{"filter": tc.filter}
				if tc.orderBy != nil {
					vars["orderBy"] = tc.orderBy
				}
				if strings.Contains(q, "$d: ID!") {
					vars["d"] = relayID("Dealer", g.dealers["Toronto"])
				}
				r := g.Post(q, vars)
				if code := r.ErrorCode(t); code != "BAD_USER_INPUT" {
					t.Fatalf("%s", r.Raw)
				}
				if got := errorFields(r.Errors[0].Extensions); !slices.Equal(got, tc.want) {
					t.Fatalf("fields %v, want %v (all at once): %s", got, tc.want, r.Raw)
				}
			}
		})
	}
}

func TestDealerVehiclesNear(t *testing.T) {
	t.Parallel()
	g := newGeoFixture(t, 4)
	const q = `query($filter: VehicleFilter) {
		dealers(first: 10) { nodes { id vehicles(first: 3, filter: $filter, orderBy: {field: DISTANCE, direction: ASC}) {
			nodes { id distanceKm dealer { id } } totalCount } } }
	}`
	var out struct {
		Dealers struct {
			Nodes []struct {
				ID       string `json:"id"`
				Vehicles struct {
					Nodes      []nearNode `json:"nodes"`
					TotalCount int        `json:"totalCount"`
				} `json:"vehicles"`
			} `json:"nodes"`
		} `json:"dealers"`
	}
	vars := map[string]any{"filter": map[string]any{"near": g.near(toronto, 600)}}
	statements := g.CountStatements(func() { g.Query(&out, q, vars) })
	// The dealers, their pages in one statement, their counts in one more.
	if statements != 3 {
		t.Fatalf("%d statements, want 3", statements)
	}
	inCircle := map[string]bool{"Toronto": true, "Hamilton": true, "Montreal": true}
	for _, d := range out.Dealers.Nodes {
		c := g.cities[mustDBID(t, d.ID)]
		want := 0
		if inCircle[c.name] {
			want = 4
		}
		if d.Vehicles.TotalCount != want || len(d.Vehicles.Nodes) != min(want, 3) {
			t.Fatalf("%s: totalCount %d, %d nodes; want %d", c.name, d.Vehicles.TotalCount, len(d.Vehicles.Nodes), want)
		}
		for i, v := range d.Vehicles.Nodes {
			g.checkDistance(t, toronto, v)
			if i > 0 && mustDBID(t, v.ID) < mustDBID(t, d.Vehicles.Nodes[i-1].ID) {
				t.Fatalf("%s: vehicles out of id order at equal distance", c.name)
			}
		}
	}
}

func TestNearStaysInTheStatementBudget(t *testing.T) {
	t.Parallel()
	g := newGeoFixture(t, 3)
	near := map[string]any{"near": g.near(toronto, 600)}
	for _, tc := range []struct {
		name  string
		query string
		want  int64
	}{
		{"page", `query($f: VehicleFilter) { vehicles(first: 5, filter: $f, orderBy: {field: DISTANCE, direction: ASC}) { nodes { vin distanceKm model { name } dealer { name } } } }`, 1},
		{"page with totalCount", `query($f: VehicleFilter) { vehicles(first: 5, filter: $f) { nodes { vin distanceKm } totalCount } }`, 2},
		{"page with nested dealer vehicles", `query($f: VehicleFilter) { vehicles(first: 5, filter: $f) { nodes { distanceKm dealer { vehicles(first: 2, filter: $f) { nodes { distanceKm } } } } } }`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := g.CountStatements(func() {
				if r := g.Post(tc.query, map[string]any{"f": near}); len(r.Errors) > 0 {
					t.Fatalf("%s", r.Raw)
				}
			})
			if got != tc.want {
				t.Fatalf("%d statements, want %d", got, tc.want)
			}
		})
	}
	t.Run("stats", func(t *testing.T) {
		stats := func(f map[string]any) int64 {
			return g.CountStatements(func() {
				if r := g.Post(`query($f: VehicleFilter) { vehicleStats(filter: $f) { count byStatus { count } } }`, map[string]any{"f": f}); len(r.Errors) > 0 {
					t.Fatalf("%s", r.Raw)
				}
			})
		}
		if with, without := stats(near), stats(nil); with != without {
			t.Fatalf("vehicleStats with near: %d statements, without: %d", with, without)
		}
	})
}

// An event carries no dealer position to measure: a subscription filtered
// by distance is refused, naming the field.
func TestSubscriptionsRefuseNear(t *testing.T) {
	t.Parallel()
	g := newGeoFixture(t, 1)
	sub := apitest.Dial(t, g.SocketURL(), gqlws.Options{})
	if err := sub.Subscribe(apitest.Wait(t), "1", eventsSubscription, map[string]any{"filter": map[string]any{"near": g.near(toronto, 50)}}); err != nil {
		t.Fatal(err)
	}
	m, err := sub.Next(apitest.Wait(t))
	if err != nil || m.Type != "error" && m.Type != "next" || !strings.Contains(string(m.Payload), "BAD_USER_INPUT") || !strings.Contains(string(m.Payload), "filter.near") {
		t.Fatalf("got %v %s %s, want a BAD_USER_INPUT error on filter.near", err, m.Type, m.Payload)
	}
}
