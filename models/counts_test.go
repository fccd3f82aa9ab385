package models_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
)

// everything reads every vehicle, and the names search words match.
func everything(t *testing.T, db bun.IDB) ([]*models.Vehicle, models.CatalogNames) {
	t.Helper()
	ctx := context.Background()
	var vehicles []*models.Vehicle
	if err := db.NewSelect().Model(&vehicles).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	var names []struct {
		ID       int64
		Name     string
		MakeName string
	}
	if err := db.NewRaw("SELECT md.id, md.name, mk.name AS make_name FROM models md JOIN makes mk ON mk.id = md.make_id").Scan(ctx, &names); err != nil {
		t.Fatal(err)
	}
	byModel := make(map[int64][2]string, len(names))
	for _, n := range names {
		byModel[n.ID] = [2]string{n.MakeName, n.Name}
	}
	return vehicles, func(_, modelID int64) (string, string) { n := byModel[modelID]; return n[0], n[1] }
}

// filterCases covers what the rollups answer (dealer, make, model, status,
// fuel, condition, body style, words that only name models; without a
// dealer, words found in colors or trims) and what they cannot (ranges,
// transmission, drivetrain, stock numbers, words in VINs or stock numbers;
// words in colors or trims with a dealer, condition or body style).
func filterCases(t *testing.T, db bun.IDB) map[string]*models.VehicleFilter {
	t.Helper()
	ctx := context.Background()
	// Some vehicle whose color is no part of a trim or stock number (search
	// words found there are not counted from the rollups).
	var some models.Vehicle
	if err := db.NewSelect().Model(&some).Where("v.color IS NOT NULL").
		Where("NOT EXISTS (SELECT 1 FROM vehicles w WHERE w.trim ILIKE '%' || v.color || '%' OR w.stock_number ILIKE '%' || v.color || '%')").
		OrderExpr("v.id").Limit(1).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	var ford int64
	if err := db.NewRaw("SELECT id FROM makes WHERE name = 'Ford'").Scan(ctx, &ford); err != nil {
		t.Fatal(err)
	}
	return map[string]*models.VehicleFilter{
		"none":                    {},
		"nil":                     nil,
		"dealer":                  {DealerID: &some.DealerID},
		"make":                    {MakeID: &ford},
		"model and status":        {ModelID: &some.ModelID, Statuses: []models.VehicleStatus{models.StatusAvailable}},
		"two statuses":            {Statuses: []models.VehicleStatus{models.StatusReserved, models.StatusSold}},
		"no status":               {Statuses: []models.VehicleStatus{}},
		"fuel":                    {Fuels: []models.FuelType{models.FuelElectric}},
		"dealer status fuel":      {DealerID: &some.DealerID, Statuses: []models.VehicleStatus{models.StatusAvailable}, Fuels: []models.FuelType{models.FuelGasoline, models.FuelHybrid}},
		"make word":               {SearchWords: []string{"FoRd"}},
		"model word":              {SearchWords: []string{"corolla"}},
		"make and model word":     {SearchWords: []string{"toyota", "cam"}, Statuses: []models.VehicleStatus{models.StatusSold}},
		"word nothing has":        {SearchWords: []string{"zeppelin"}},
		"color word":              {SearchWords: []string{strings.ToLower(*some.Color)}},
		"color and trim word":     {SearchWords: []string{"red"}}, // Red, and Mazda's Preferred trim
		"make and color":          {SearchWords: []string{"toyota", *some.Color}},
		"dealer and color":        {SearchWords: []string{*some.Color}, DealerID: &some.DealerID},
		"vin part":                {SearchWords: []string{some.VIN[5:11]}},
		"vin part lowercase":      {SearchWords: []string{"1" + "a"}},
		"percent":                 {SearchWords: []string{"%"}},
		"underscore":              {SearchWords: []string{"_"}},
		"year and price":          {YearMin: ptr(2018), PriceMaxCents: ptr[int64](3_000_000), Fuels: []models.FuelType{models.FuelGasoline}},
		"mileage and dealer":      {MileageMaxKm: ptr(50_000), DealerID: &some.DealerID},
		"trim word":               {SearchWords: []string{"limited"}},
		"stock number part":       {SearchWords: []string{strings.ToLower((*some.StockNumber)[2:6])}},
		"stock number":            {StockNumber: ptr(strings.ToLower(*some.StockNumber))},
		"condition":               {Conditions: []models.VehicleCondition{models.ConditionNew}},
		"conditions and make":     {Conditions: []models.VehicleCondition{models.ConditionUsed, models.ConditionCertified}, MakeID: &ford},
		"body styles":             {BodyStyles: []models.BodyStyle{models.BodySUV, models.BodyPickup}, DealerID: &some.DealerID},
		"transmission":            {Transmissions: []models.Transmission{models.TransmissionManual}},
		"drivetrains":             {Drivetrains: []models.Drivetrain{models.DrivetrainAWD, models.DrivetrainFourWD}, Statuses: []models.VehicleStatus{models.StatusSold}},
		"dealer and trim word":    {SearchWords: []string{"limited"}, DealerID: &some.DealerID},
		"condition and trim word": {SearchWords: []string{"limited"}, Conditions: []models.VehicleCondition{models.ConditionUsed}},
		"body style and color":    {SearchWords: []string{*some.Color}, BodyStyles: []models.BodyStyle{models.BodySUV}},
		"listing and status":      {Conditions: []models.VehicleCondition{models.ConditionUsed, models.ConditionCertified}, BodyStyles: []models.BodyStyle{models.BodySUV, models.BodyWagon}, Statuses: []models.VehicleStatus{models.StatusAvailable}},
	}
}

func wantStats(vehicles []*models.Vehicle) *models.VehicleStats {
	s := &models.VehicleStats{Count: len(vehicles)}
	var sum int64
	byMake := map[int64]int{}
	byStatus := map[models.VehicleStatus]int{}
	for _, v := range vehicles {
		sum += v.PriceCents
		if s.MinPriceCents == nil || v.PriceCents < *s.MinPriceCents {
			s.MinPriceCents = ptr(v.PriceCents)
		}
		if s.MaxPriceCents == nil || v.PriceCents > *s.MaxPriceCents {
			s.MaxPriceCents = ptr(v.PriceCents)
		}
		byMake[v.MakeID]++
		byStatus[v.Status]++
	}
	if len(vehicles) > 0 {
		s.AvgPriceCents = ptr(int64(math.Round(float64(sum) / float64(len(vehicles)))))
	}
	for _, st := range models.VehicleStatuses {
		s.ByStatus = append(s.ByStatus, models.StatusCount{Status: st, Count: byStatus[st]})
	}
	for id, n := range byMake {
		s.ByMake = append(s.ByMake, models.MakeCount{MakeID: id, Count: n})
	}
	slices.SortFunc(s.ByMake, func(a, b models.MakeCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return cmp.Compare(a.MakeID, b.MakeID)
	})
	return s
}

func statsString(s *models.VehicleStats) string {
	show := func(p *int64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("count %d min %s avg %s max %s byStatus %v byMake %v",
		s.Count, show(s.MinPriceCents), show(s.AvgPriceCents), show(s.MaxPriceCents), s.ByStatus, s.ByMake)
}

// Counts, per-dealer counts and statistics agree with the filter's
// meaning (VehicleFilter.Matches) over every vehicle, whether they are
// answered by the rollup or by the vehicles.
func TestCountsAndStatsMatchTheFilter(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Seeded)
	ctx := context.Background()
	vehicles, names := everything(t, db)
	for name, f := range filterCases(t, db) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var match []*models.Vehicle
			for _, v := range vehicles {
				if f.Matches(v, names) {
					match = append(match, v)
				}
			}
			stats, err := models.ComputeVehicleStats(ctx, db, f)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := statsString(stats), statsString(wantStats(match)); got != want {
				t.Fatalf("ComputeVehicleStats:\n got %s\nwant %s", got, want)
			}
			// The same without the cheapest and dearest price.
			totals, err := models.ComputeVehicleTotals(ctx, db, f)
			if err != nil {
				t.Fatal(err)
			}
			want := wantStats(match)
			want.MinPriceCents, want.MaxPriceCents = nil, nil
			if got, want := statsString(totals), statsString(want); got != want {
				t.Fatalf("ComputeVehicleTotals:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// statsCount is vehicleStats' count for f.
func statsCount(t *testing.T, db bun.IDB, f *models.VehicleFilter) int {
	t.Helper()
	stats, err := models.ComputeVehicleStats(context.Background(), db, f)
	if err != nil {
		t.Fatal(err)
	}
	return stats.Count
}

// The rollup answers what it can: skewing it shows in exactly those counts.
// (totalCount follows the same rule in the read planner; graph's counts
// tests hold it to it.)
func TestCountsComeFromTheRollupWhenTheyCan(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Seeded)
	ctx := context.Background()
	cases := filterCases(t, db)
	before := map[string]int{}
	for name, f := range cases {
		before[name] = statsCount(t, db, f)
	}
	// One more vehicle in every group (only the rollups: their triggers are on vehicles).
	for _, table := range []string{"vehicle_rollup", "vehicle_total_rollup", "vehicle_color_rollup"} {
		if _, err := db.ExecContext(ctx, "UPDATE ? SET vehicles = vehicles + 1", bun.Ident(table)); err != nil {
			t.Fatal(err)
		}
	}
	fromRollup := []string{"none", "nil", "dealer", "make", "model and status", "two statuses", "fuel",
		"dealer status fuel", "make word", "model word", "make and model word", "color word", "make and color",
		"color and trim word", "trim word", "condition", "conditions and make", "body styles", "listing and status"}
	for name, f := range cases {
		n := statsCount(t, db, f)
		if rolled := slices.Contains(fromRollup, name); rolled != (n != before[name]) {
			t.Errorf("%s: count %d before skewing the rollup, %d after; want it read from the rollup: %v", name, before[name], n, rolled)
		}
	}
}
