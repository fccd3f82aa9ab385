package graph_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
)

// countCase is a vehicles filter, as GraphQL takes it and as plain SQL
// over vehicles v (joined to their model md and make mk) means it.
type countCase struct {
	name   string
	filter map[string]any
	where  string
	args   []any
	// rollup: the count is exact in vehicle_rollup (r) or in
	// vehicle_color_rollup (c), or only in the vehicles ("").
	rollup string
}

func countCases(a *api) []countCase {
	var some struct {
		DealerID    int64  `bun:"dealer_id"`
		Color       string `bun:"color"`
		VIN         string `bun:"vin"`
		StockNumber string `bun:"stock_number"`
	}
	// A color that names no trim or stock number: words found there are
	// counted from the vehicles.
	a.SQL(&some, `SELECT dealer_id, color, vin, stock_number FROM vehicles v WHERE color IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM vehicles w WHERE w.trim ILIKE '%' || v.color || '%' OR w.stock_number ILIKE '%' || v.color || '%')
		ORDER BY id LIMIT 1`)
	// A color that is part of a trim ("Red" in "Preferred").
	var colorInTrims string
	a.SQL(&colorInTrims, `SELECT v.color FROM vehicles v WHERE v.color IS NOT NULL
		AND EXISTS (SELECT 1 FROM vehicles w WHERE w.trim ILIKE '%' || v.color || '%') ORDER BY v.id LIMIT 1`)
	dealer := relayID("Dealer", some.DealerID)
	word := func(w string) string {
		return fmt.Sprintf("(v.vin ILIKE '%%%[1]s%%' OR v.color ILIKE '%%%[1]s%%' OR v.trim ILIKE '%%%[1]s%%' OR v.stock_number ILIKE '%%%[1]s%%'"+
			" OR md.name ILIKE '%%%[1]s%%' OR mk.name ILIKE '%%%[1]s%%')", w)
	}
	stockPart := some.StockNumber[:4] // the condition letter, the plant and two digits
	vinPart := some.VIN[5:11]
	return []countCase{
		{"none", nil, "true", nil, "r"},
		{"dealer", map[string]any{"dealerId": dealer}, "v.dealer_id = ?", []any{some.DealerID}, "r"},
		{"one status", map[string]any{"status": []string{"AVAILABLE"}}, "v.status = 'AVAILABLE'", nil, "r"},
		{"statuses and a fuel", map[string]any{"status": []string{"RESERVED", "SOLD"}, "fuel": []string{"ELECTRIC"}},
			"v.status IN ('RESERVED', 'SOLD') AND v.fuel = 'ELECTRIC'", nil, "r"},
		{"no status", map[string]any{"status": []string{}}, "false", nil, "r"},
		{"make word", map[string]any{"search": "FoRd"}, word("ford"), nil, "r"},
		{"make and model words", map[string]any{"search": "toyota cam", "status": []string{"SOLD"}},
			word("toyota") + " AND " + word("cam") + " AND v.status = 'SOLD'", nil, "r"},
		{"word nothing has", map[string]any{"search": "zeppelin"}, word("zeppelin"), nil, "r"},
		{"make and color words", map[string]any{"search": "toyota " + some.Color}, word("toyota") + " AND " + word(some.Color), nil, "c"},
		{"dealer and color word", map[string]any{"search": some.Color, "dealerId": dealer}, word(some.Color) + " AND v.dealer_id = ?", []any{some.DealerID}, ""},
		{"VIN part", map[string]any{"search": vinPart}, word(vinPart), nil, ""},
		{"underscore", map[string]any{"search": "_"}, word(`\_`), nil, ""},
		{"year and price", map[string]any{"yearMin": 2018, "priceMaxCents": 3_000_000, "fuel": []string{"GASOLINE"}},
			"v.year >= 2018 AND v.price_cents <= 3000000 AND v.fuel = 'GASOLINE'", nil, ""},
		// Words found in colors or trims (but in no VIN or stock number)
		// select whole groups of the color rollup, which has no dealers.
		{"color word also in trims", map[string]any{"search": colorInTrims}, word(colorInTrims), nil, "c"},
		{"make and color word also in trims", map[string]any{"search": "mazda " + colorInTrims}, word("mazda") + " AND " + word(colorInTrims), nil, "c"},
		{"trim word", map[string]any{"search": "limited"}, word("limited"), nil, "c"},
		{"make and trim words", map[string]any{"search": "Toyota XLE", "status": []string{"AVAILABLE"}},
			word("toyota") + " AND " + word("xle") + " AND v.status = 'AVAILABLE'", nil, "c"},
		{"dealer and trim word", map[string]any{"search": "limited", "dealerId": dealer}, word("limited") + " AND v.dealer_id = ?", []any{some.DealerID}, ""},
		{"condition and trim word", map[string]any{"search": "limited", "condition": []string{"USED"}}, word("limited") + " AND v.condition = 'USED'", nil, ""},
		{"stock number part", map[string]any{"search": strings.ToLower(stockPart)}, word(stockPart), nil, ""},
		{"stock number", map[string]any{"stockNumber": strings.ToLower(some.StockNumber)}, "lower(v.stock_number) = lower(?)", []any{some.StockNumber}, ""},
		// Condition and body style are part of vehicle_rollup's groups.
		{"one condition", map[string]any{"condition": []string{"NEW"}}, "v.condition = 'NEW'", nil, "r"},
		{"conditions and a make word", map[string]any{"condition": []string{"USED", "CERTIFIED"}, "search": "ford"},
			"v.condition IN ('USED', 'CERTIFIED') AND " + word("ford"), nil, "r"},
		{"body styles on a dealer's lot", map[string]any{"bodyStyle": []string{"SUV", "PICKUP"}, "dealerId": dealer},
			"v.body_style IN ('SUV', 'PICKUP') AND v.dealer_id = ?", []any{some.DealerID}, "r"},
		{"conditions, body styles and a status", map[string]any{"condition": []string{"USED", "CERTIFIED"}, "bodyStyle": []string{"SUV", "WAGON"}, "status": []string{"AVAILABLE"}},
			"v.condition IN ('USED', 'CERTIFIED') AND v.body_style IN ('SUV', 'WAGON') AND v.status = 'AVAILABLE'", nil, "r"},
		// Transmission and drivetrain are in no rollup: these count the vehicles.
		{"transmission", map[string]any{"transmission": []string{"MANUAL"}}, "v.transmission = 'MANUAL'", nil, ""},
		{"drivetrains and a status", map[string]any{"drivetrain": []string{"AWD", "FOUR_WD"}, "status": []string{"SOLD"}},
			"v.drivetrain IN ('AWD', 'FOUR_WD') AND v.status = 'SOLD'", nil, ""},
		{"condition and drivetrain", map[string]any{"condition": []string{"NEW"}, "drivetrain": []string{"AWD"}},
			"v.condition = 'NEW' AND v.drivetrain = 'AWD'", nil, ""},
		{"no condition", map[string]any{"condition": []string{}}, "false", nil, "r"},
	}
}

// groundTruth counts the vehicles matching c, in all and per dealer, and
// lists the first page of 100, newest first, with plain SQL.
func groundTruth(a *api, c countCase) (int, map[string]int, []string) {
	const from = " FROM vehicles v JOIN models md ON md.id = v.model_id JOIN makes mk ON mk.id = v.make_id WHERE "
	var n int
	a.SQL(&n, "SELECT count(*)"+from+c.where, c.args...)
	var rows []struct {
		DealerID int64 `bun:"dealer_id"`
		Count    int   `bun:"count"`
	}
	a.SQL(&rows, "SELECT v.dealer_id, count(*) AS count"+from+c.where+" GROUP BY v.dealer_id", c.args...)
	byDealer := map[string]int{}
	for _, r := range rows {
		byDealer[relayID("Dealer", r.DealerID)] = r.Count
	}
	var ids []int64
	a.SQL(&ids, "SELECT v.id"+from+c.where+" ORDER BY v.created_at DESC, v.id DESC LIMIT 100", c.args...)
	page := make([]string, len(ids))
	for i, id := range ids {
		page[i] = relayID("Vehicle", id)
	}
	return n, byDealer, page
}

const countsQuery = `query($f: VehicleFilter) {
	vehicles(first: 1, filter: $f) { totalCount }
	page: vehicles(first: 100, filter: $f) { nodes { id } }
	dealers(first: 100) { nodes { id vehicles(first: 1, filter: $f) { totalCount } } }
}`

type countsAnswer struct {
	Vehicles struct{ TotalCount int }
	Page     struct{ Nodes []struct{ ID string } }
	Dealers  struct {
		Nodes []struct {
			ID       string
			Vehicles struct{ TotalCount int }
		}
	}
}

func (a *api) counts(f map[string]any) (int, map[string]int) {
	a.T.Helper()
	n, byDealer, _ := a.countsAndPage(f)
	return n, byDealer
}

func (a *api) countsAndPage(f map[string]any) (int, map[string]int, []string) {
	a.T.Helper()
	var out countsAnswer
	a.Query(&out, countsQuery, map[string]any{"f": f})
	page := []string{}
	for _, v := range out.Page.Nodes {
		page = append(page, v.ID)
	}
	byDealer := map[string]int{}
	for _, d := range out.Dealers.Nodes {
		if d.Vehicles.TotalCount > 0 {
			byDealer[d.ID] = d.Vehicles.TotalCount
		}
	}
	return out.Vehicles.TotalCount, byDealer, page
}

// totalCount, at the top and for each dealer, and a page agree with the
// filter's meaning, whether a rollup or the vehicles answer the counts.
func TestTotalCountsAndPagesMatchTheFilter(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	var dealers int
	a.SQL(&dealers, "SELECT count(*) FROM dealers")
	if dealers > 100 {
		t.Fatalf("%d dealers: the query reads 100", dealers)
	}
	for _, c := range countCases(a) {
		t.Run(c.name, func(t *testing.T) {
			want, wantByDealer, wantPage := groundTruth(a, c)
			got, byDealer, page := a.countsAndPage(c.filter)
			if got != want || fmt.Sprint(byDealer) != fmt.Sprint(wantByDealer) {
				t.Fatalf("totalCount %d, per dealer %v; want %d, %v", got, byDealer, want, wantByDealer)
			}
			if !slices.Equal(page, wantPage) {
				t.Fatalf("page %v, want %v", page, wantPage)
			}
		})
	}
}

// The rollups answer the counts they hold exactly: skewing them shows in
// exactly those counts, at the top and per dealer (the color rollup has no
// dealers).
func TestTotalCountsComeFromTheRollupsWhenExact(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	cases := countCases(a)
	type counts struct {
		total    int
		byDealer string
	}
	before := map[string]counts{}
	for _, c := range cases {
		n, byDealer := a.counts(c.filter)
		before[c.name] = counts{n, fmt.Sprint(byDealer)}
	}
	// One more vehicle in every group of both rollups (their triggers are on vehicles).
	for _, table := range []string{"vehicle_rollup", "vehicle_total_rollup", "vehicle_color_rollup"} {
		if _, err := a.DB.ExecContext(context.Background(), "UPDATE "+table+" SET vehicles = vehicles + 1"); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		if before[c.name].total == 0 {
			continue // no group to skew
		}
		n, byDealer := a.counts(c.filter)
		if fromRollup := slices.Contains([]string{"r", "c"}, c.rollup); fromRollup != (n != before[c.name].total) {
			t.Errorf("%s: totalCount %d before skewing the rollups, %d after; want it read from a rollup: %v", c.name, before[c.name].total, n, fromRollup)
		}
		if perDealer := c.rollup == "r"; perDealer != (fmt.Sprint(byDealer) != before[c.name].byDealer) {
			t.Errorf("%s: dealers' totalCount %s before skewing the rollups, %v after; want them read from the rollup: %v", c.name, before[c.name].byDealer, byDealer, perDealer)
		}
	}
}
