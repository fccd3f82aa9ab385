package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
)

const facetsQuery = `query($f: VehicleFilter, $wide: Int!, $odd: Int!) {
	vehicleStats(filter: $f) {
		count
		byFuel { value count }
		byCondition { value count }
		byBodyStyle { value count }
		byYear { year count }
		wide: priceHistogram(bucketCents: $wide) { minCents maxCents count }
		odd: priceHistogram(bucketCents: $odd) { minCents maxCents count }
	}
}`

type valueCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

type priceBucket struct {
	MinCents int64 `json:"minCents"`
	MaxCents int64 `json:"maxCents"`
	Count    int   `json:"count"`
}

type facetStats struct {
	Count       int          `json:"count"`
	ByFuel      []valueCount `json:"byFuel"`
	ByCondition []valueCount `json:"byCondition"`
	ByBodyStyle []valueCount `json:"byBodyStyle"`
	ByYear      []struct {
		Year  int `json:"year"`
		Count int `json:"count"`
	} `json:"byYear"`
	Wide []priceBucket `json:"wide"`
	Odd  []priceBucket `json:"odd"`
}

// groundFacet counts the vehicles matching where by expr, with plain SQL.
func (g *geoFixture) groundFacet(t *testing.T, expr, where string, args []any) map[string]int {
	t.Helper()
	var rows []struct {
		Value string `bun:"value"`
		N     int    `bun:"n"`
	}
	g.SQL(&rows, "SELECT ("+expr+")::text AS value, count(*) AS n FROM vehicles v JOIN models md ON md.id = v.model_id WHERE "+where+" AND ("+expr+") IS NOT NULL GROUP BY 1", args...)
	out := map[string]int{}
	for _, r := range rows {
		out[r.Value] = r.N
	}
	return out
}

// checkValues fails unless got lists every one of values, in order, with
// the counts of want (zero for those missing).
func checkValues(t *testing.T, facet string, got []valueCount, values []string, want map[string]int) {
	t.Helper()
	if len(got) != len(values) {
		t.Fatalf("%s: %v, want one entry for each of %v", facet, got, values)
	}
	for i, v := range values {
		if got[i].Value != v || got[i].Count != want[v] {
			t.Fatalf("%s: %v, want %v in order %v", facet, got, want, values)
		}
	}
}

// checkHistogram fails unless h is the histogram of the vehicles' prices
// in buckets of width, from the lowest price's bucket to the highest's.
func checkHistogram(t *testing.T, name string, h []priceBucket, width int64, prices map[string]int, count int) {
	t.Helper()
	if count == 0 {
		if len(h) != 0 {
			t.Fatalf("%s: %v for no vehicles", name, h)
		}
		return
	}
	lo, hi := int64(-1), int64(-1)
	buckets := map[int64]int{}
	for p, n := range prices {
		c, _ := strconv.ParseInt(p, 10, 64)
		if lo < 0 || c < lo {
			lo = c
		}
		hi = max(hi, c)
		buckets[c/width] += n
	}
	if h[0].MinCents != lo/width*width || h[len(h)-1].MaxCents <= hi || h[len(h)-1].MinCents > hi {
		t.Fatalf("%s: buckets from %d to %d, prices from %d to %d", name, h[0].MinCents, h[len(h)-1].MaxCents, lo, hi)
	}
	sum := 0
	for i, b := range h {
		if b.MaxCents-b.MinCents != width || b.MinCents%width != 0 || i > 0 && b.MinCents != h[i-1].MaxCents {
			t.Fatalf("%s: bucket %d is [%d, %d), width %d", name, i, b.MinCents, b.MaxCents, width)
		}
		if b.Count != buckets[b.MinCents/width] {
			t.Fatalf("%s: bucket [%d, %d) counts %d, want %d", name, b.MinCents, b.MaxCents, b.Count, buckets[b.MinCents/width])
		}
		sum += b.Count
	}
	if sum != count {
		t.Fatalf("%s: buckets add up to %d, count is %d", name, sum, count)
	}
}

func TestFacetsAddUpForEveryFilter(t *testing.T) {
	t.Parallel()
	g := newGeoFixture(t, 40)
	var vin string
	g.SQL(&vin, "SELECT vin FROM vehicles ORDER BY id LIMIT 1")
	torontoID := g.dealers["Toronto"]
	for _, tc := range []struct {
		name   string
		filter map[string]any
		where  string
		args   []any
	}{
		{"none", nil, "true", nil},
		{"dealer", map[string]any{"dealerId": relayID("Dealer", torontoID)}, "v.dealer_id = ?", []any{torontoID}},
		{"statuses and fuel", map[string]any{"status": []string{"SOLD"}, "fuel": []string{"DIESEL", "HYBRID"}},
			"v.status = 'SOLD' AND v.fuel IN ('DIESEL', 'HYBRID')", nil},
		{"model word", map[string]any{"search": "corol"}, "md.name ILIKE '%corol%'", nil},
		{"VIN part", map[string]any{"search": vin[8:14]}, "v.vin LIKE ?", []any{"%" + vin[8:14] + "%"}},
		{"year and price range", map[string]any{"yearMin": 2017, "priceMaxCents": 3_000_000}, "v.year >= 2017 AND v.price_cents <= 3000000", nil},
		{"near", map[string]any{"near": g.near(toronto, 100)}, "v.dealer_id IN (?, ?)", []any{torontoID, g.dealers["Hamilton"]}},
		{"nothing", map[string]any{"yearMin": 3000}, "false", nil},
		// Listing details no rollup knows.
		{"condition", map[string]any{"condition": []string{"NEW"}}, "v.condition = 'NEW'", nil},
		{"body styles", map[string]any{"bodyStyle": []string{"SUV", "HATCHBACK"}}, "v.body_style IN ('SUV', 'HATCHBACK')", nil},
		{"near and condition", map[string]any{"near": g.near(toronto, 100), "condition": []string{"USED"}},
			"v.dealer_id IN (?, ?) AND v.condition = 'USED'", []any{torontoID, g.dealers["Hamilton"]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out struct{ VehicleStats facetStats }
			g.Query(&out, facetsQuery, map[string]any{"f": tc.filter, "wide": 500_000, "odd": 333_333})
			s := out.VehicleStats
			var count int
			g.SQL(&count, "SELECT count(*) FROM vehicles v JOIN models md ON md.id = v.model_id WHERE "+tc.where, tc.args...)
			if s.Count != count {
				t.Fatalf("count %d, want %d", s.Count, count)
			}
			checkValues(t, "byFuel", s.ByFuel, []string{"GASOLINE", "DIESEL", "HYBRID", "ELECTRIC"}, g.groundFacet(t, "v.fuel", tc.where, tc.args))
			checkValues(t, "byCondition", s.ByCondition, []string{"NEW", "USED", "CERTIFIED"}, g.groundFacet(t, "v.condition", tc.where, tc.args))
			bodies := g.groundFacet(t, "v.body_style", tc.where, tc.args)
			checkValues(t, "byBodyStyle", s.ByBodyStyle, []string{"SEDAN", "HATCHBACK", "WAGON", "COUPE", "CONVERTIBLE", "SUV", "PICKUP", "VAN", "MINIVAN"}, bodies)
			var withoutBody int
			g.SQL(&withoutBody, "SELECT count(*) FROM vehicles v JOIN models md ON md.id = v.model_id WHERE body_style IS NULL AND "+tc.where, tc.args...)
			sum := func(vs []valueCount) int {
				n := 0
				for _, v := range vs {
					n += v.Count
				}
				return n
			}
			if sum(s.ByFuel) != count || sum(s.ByCondition) != count || sum(s.ByBodyStyle) != count-withoutBody {
				t.Fatalf("byFuel adds up to %d, byCondition to %d, byBodyStyle to %d; count %d, %d without a body style",
					sum(s.ByFuel), sum(s.ByCondition), sum(s.ByBodyStyle), count, withoutBody)
			}
			years := g.groundFacet(t, "v.year", tc.where, tc.args)
			if len(s.ByYear) != len(years) {
				t.Fatalf("byYear %v, want %v", s.ByYear, years)
			}
			yearSum := 0
			for i, y := range s.ByYear {
				if y.Count != years[strconv.Itoa(y.Year)] || y.Count == 0 || i > 0 && y.Year >= s.ByYear[i-1].Year {
					t.Fatalf("byYear %v, want %v newest first", s.ByYear, years)
				}
				yearSum += y.Count
			}
			if yearSum != count {
				t.Fatalf("byYear adds up to %d, count %d", yearSum, count)
			}
			prices := g.groundFacet(t, "v.price_cents", tc.where, tc.args)
			checkHistogram(t, "histogram by $5,000", s.Wide, 500_000, prices, count)
			checkHistogram(t, "histogram by $3,333.33", s.Odd, 333_333, prices, count)
		})
	}
}

func TestPriceHistogramBounds(t *testing.T) {
	t.Parallel()
	g := newGeoFixture(t, 40)
	hist := func(bucket int, filter map[string]any) ([]priceBucket, map[string]any) {
		r := g.Post(`query($b: Int!, $f: VehicleFilter) { vehicleStats(filter: $f) { count priceHistogram(bucketCents: $b) { minCents maxCents count } } }`,
			map[string]any{"b": bucket, "f": filter})
		var out struct {
			VehicleStats struct {
				PriceHistogram []priceBucket `json:"priceHistogram"`
			}
		}
		if len(r.Errors) > 0 {
			return nil, r.Errors[0].Extensions
		}
		if err := json.Unmarshal(r.Data, &out); err != nil {
			t.Fatal(err)
		}
		return out.VehicleStats.PriceHistogram, nil
	}
	// Prices are $15,000 to $54,000 in steps of $1,000: by $500, every
	// other bucket is empty, and there would be 79 of them.
	for _, tc := range []struct {
		name   string
		bucket int
		filter map[string]any
		fields []string
		n      int
	}{
		{"zero", 0, nil, []string{"bucketCents"}, 0},
		{"negative", -100, nil, []string{"bucketCents"}, 0},
		{"too many buckets", 50_000, nil, []string{"bucketCents"}, 0},
		{"exactly 40 buckets", 100_000, nil, nil, 40},
		{"50 buckets, empty ones between", 80_000, nil, nil, 50},
		{"one bucket", 100_000_000, nil, nil, 1},
		{"one cent", 1, map[string]any{"priceMinCents": 1_500_000, "priceMaxCents": 1_500_000}, nil, 1},
		{"one cent, every price", 1, nil, []string{"bucketCents"}, 0},
		{"too many buckets of an odd width", 33_333, nil, []string{"bucketCents"}, 0},
		{"no vehicles", 100_000, map[string]any{"yearMin": 3000}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ext := hist(tc.bucket, tc.filter)
			if tc.fields != nil {
				if ext["code"] != "BAD_USER_INPUT" || !slices.Equal(errorFields(ext), tc.fields) {
					t.Fatalf("extensions %v, want BAD_USER_INPUT on %v", ext, tc.fields)
				}
				return
			}
			if ext != nil {
				t.Fatalf("error %v", ext)
			}
			if len(h) != tc.n {
				t.Fatalf("%d buckets, want %d: %v", len(h), tc.n, h)
			}
			if tc.bucket == 80_000 {
				empty := 0
				for _, b := range h {
					if b.Count == 0 {
						empty++
					}
				}
				if empty == 0 || h[0].MinCents != 1_440_000 || h[49].MaxCents != 5_440_000 {
					t.Fatalf("by $800: %v", h)
				}
			}
		})
	}
}

func TestFacetsCostOneStatement(t *testing.T) {
	t.Parallel()
	g := newGeoFixture(t, 5)
	stats := func(selection string, filter map[string]any) int64 {
		return g.CountStatements(func() {
			if r := g.Post(`query($f: VehicleFilter) { vehicleStats(filter: $f) { count `+selection+` } }`, map[string]any{"f": filter}); len(r.Errors) > 0 {
				t.Fatalf("%s", r.Raw)
			}
		})
	}
	for _, filter := range []map[string]any{nil, {"yearMin": 2016}, {"near": g.near(toronto, 100)}} {
		base := stats("", filter)
		for _, sel := range []string{
			"byFuel { count }",
			"byYear { count }",
			"byFuel { count } byCondition { count } byBodyStyle { count } byYear { year }",
			"a: priceHistogram(bucketCents: 100000) { count } b: priceHistogram(bucketCents: 123457) { count } byCondition { count }",
		} {
			if got := stats(sel, filter); got != base+1 {
				t.Fatalf("filter %v, %s: %d statements, want %d", filter, sel, got, base+1)
			}
		}
	}
	t.Run("too many bucket widths", func(t *testing.T) {
		sel := ""
		for i := range 9 {
			sel += fmt.Sprintf(" h%d: priceHistogram(bucketCents: %d) { count }", i, 100000*(i+1))
		}
		r := g.Post(`{ vehicleStats { count`+sel+` } }`, nil)
		if code := r.ErrorCode(t); code != "BAD_USER_INPUT" {
			t.Fatalf("%s", r.Raw)
		}
	})
}

// Facets read the rollups when vehicle_rollup answers the filter exactly
// (a histogram there when its bucket is a multiple of $500), the vehicles
// otherwise: skewing the rollups shows which. Condition and body style
// filters are answered there; words found in trims are not (the facet
// rollups hold no trims), nor transmission or drivetrain.
func TestFacetsComeFromTheRollupWhenExact(t *testing.T) {
	t.Parallel()
	g := newGeoFixture(t, 10)
	cases := []struct {
		name   string
		filter map[string]any
		rollup bool
	}{
		{"none", nil, true},
		{"dealer and status", map[string]any{"dealerId": relayID("Dealer", g.dealers["Montreal"]), "status": []string{"SOLD"}}, true},
		{"model word", map[string]any{"search": "corolla"}, true},
		{"year", map[string]any{"yearMin": 2016}, false},
		{"near", map[string]any{"near": g.near(montreal, 10)}, true},
		{"near and a price", map[string]any{"near": g.near(montreal, 10), "priceMinCents": 1}, false},
		{"near and listing filters", map[string]any{"near": g.near(montreal, 10), "status": []string{"SOLD"},
			"condition": []string{"USED", "CERTIFIED"}, "bodyStyle": []string{"SUV", "WAGON"}}, true},
		{"condition and body style", map[string]any{"condition": []string{"NEW"}, "bodyStyle": []string{"SEDAN"}}, true},
		{"dealer and body style", map[string]any{"dealerId": relayID("Dealer", g.dealers["Montreal"]), "bodyStyle": []string{"SUV"}}, true},
		{"model word and condition", map[string]any{"search": "corolla", "condition": []string{"USED"}}, true},
		{"trim word", map[string]any{"search": "preferred"}, false},
		{"drivetrain", map[string]any{"drivetrain": []string{"AWD"}}, false},
	}
	// Trims and drivetrains on some vehicles (the triggers keep the rollups right).
	if _, err := g.DB.ExecContext(context.Background(), "UPDATE vehicles SET trim = 'Preferred', drivetrain = 'AWD' WHERE id % 3 = 0"); err != nil {
		t.Fatal(err)
	}
	read := func(filter map[string]any, wide int) facetStats {
		var out struct{ VehicleStats facetStats }
		g.Query(&out, facetsQuery, map[string]any{"f": filter, "wide": wide, "odd": 333_333})
		return out.VehicleStats
	}
	// By $5,000 (the wide steps of the totals, without a dealer) and by
	// $1,000 (the $500 steps).
	before, beforeNarrow := map[string]facetStats{}, map[string]facetStats{}
	for _, c := range cases {
		before[c.name], beforeNarrow[c.name] = read(c.filter, 500_000), read(c.filter, 100_000)
	}
	for _, table := range []string{"vehicle_rollup", "vehicle_total_rollup", "vehicle_facet_rollup", "vehicle_facet_total_rollup"} {
		if _, err := g.DB.ExecContext(context.Background(), "UPDATE "+table+" SET vehicles = vehicles + 1"); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		after, was := read(c.filter, 500_000), before[c.name]
		narrow := read(c.filter, 100_000).Wide
		for _, facet := range []struct {
			name          string
			before, after any
			rollup        bool
		}{
			{"byFuel", was.ByFuel, after.ByFuel, c.rollup},
			{"byCondition", was.ByCondition, after.ByCondition, c.rollup},
			{"byBodyStyle", was.ByBodyStyle, after.ByBodyStyle, c.rollup},
			{"byYear", was.ByYear, after.ByYear, c.rollup},
			{"priceHistogram by $5,000", was.Wide, after.Wide, c.rollup},
			{"priceHistogram by $1,000", beforeNarrow[c.name].Wide, narrow, c.rollup},
			{"priceHistogram by $3,333.33", was.Odd, after.Odd, false},
		} {
			if changed := fmt.Sprint(facet.before) != fmt.Sprint(facet.after); changed != facet.rollup {
				t.Errorf("%s: %s %v before skewing the rollups, %v after; want it read from a rollup: %v",
					c.name, facet.name, facet.before, facet.after, facet.rollup)
			}
		}
	}
}

// The README's storefront query (a page near a point with its listing
// details, dealers and thumbnails, its total, and the facets beside it)
// costs the same few statements whatever the page size.
func TestStorefrontQueryCostsConstantStatements(t *testing.T) {
	t.Parallel()
	g := newGeoFixture(t, 30)
	const storefront = `query($first: Int!, $filter: VehicleFilter) {
		vehicles(first: $first, filter: $filter, orderBy: {field: DISTANCE, direction: ASC}) {
			totalCount
			edges { cursor node {
				id year trim condition priceCents mileageKm daysOnLot distanceKm
				make { name } model { name } dealer { name city phone }
				primaryPhoto { thumbnailUrl alt width height } } }
			pageInfo { hasNextPage endCursor }
		}
		vehicleStats(filter: $filter) {
			count byFuel { value count } byCondition { value count } byBodyStyle { value count }
			byYear { year count } priceHistogram(bucketCents: 500000) { minCents maxCents count }
		}
	}`
	filter := map[string]any{"near": g.near(toronto, 100), "status": []string{"AVAILABLE"}, "condition": []string{"NEW", "USED"}}
	cost := func(first int) (int64, int) {
		var out struct {
			Vehicles struct{ Edges []any }
		}
		n := g.CountStatements(func() { g.Query(&out, storefront, map[string]any{"first": first, "filter": filter}) })
		return n, len(out.Vehicles.Edges)
	}
	small, smallRows := cost(2)
	large, largeRows := cost(30)
	if smallRows != 2 || largeRows <= smallRows {
		t.Fatalf("pages of %d and %d vehicles: the fixture has too few matches", smallRows, largeRows)
	}
	if small != large || large > 6 {
		t.Fatalf("the storefront query ran %d statements for 2 vehicles and %d for %d, want the same, at most 6", small, large, largeRows)
	}
	t.Logf("%d statements", large)
}

// A histogram too fine for the prices is refused from the price range,
// before its buckets are counted on the vehicles (one group per price).
func TestFineHistogramIsRefusedBeforeCounting(t *testing.T) {
	t.Parallel()
	g := newGeoFixture(t, 20)
	run := func(selection string) (int64, string) {
		var code string
		n := g.CountStatements(func() {
			r := g.Post(`{ vehicleStats { count `+selection+` } }`, nil)
			if len(r.Errors) > 0 {
				code, _ = r.Errors[0].Extensions["code"].(string)
			}
		})
		return n, code
	}
	rangeOnly, _ := run("minPriceCents maxPriceCents")
	fine, code := run("priceHistogram(bucketCents: 1) { count }")
	if code != "BAD_USER_INPUT" || fine != rangeOnly {
		t.Fatalf("a one-cent histogram: %q after %d statements, want BAD_USER_INPUT after the %d of the price range", code, fine, rangeOnly)
	}
}
