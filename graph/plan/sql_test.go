package plan

import (
	"reflect"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/carlot/carlot/models"
)

func ptr[T any](v T) *T { return &v }

// pageQueries are a bare page, a dealer's lot and a busy search form.
var pageQueries = map[string]models.VehicleQuery{
	"none": {Order: models.DefaultVehicleOrder, Limit: 21},
	"dealer": {
		Filter: &models.VehicleFilter{DealerID: ptr[int64](7)},
		Order:  models.VehicleOrder{Field: models.OrderByPrice, Direction: models.Ascending}, Limit: 51,
		After: &models.VehiclePosition{Key: int64(2_399_900), ID: 4242},
	},
	"everything": {
		Filter: &models.VehicleFilter{
			MakeID: ptr[int64](3), ModelID: ptr[int64](4), Statuses: []models.VehicleStatus{models.StatusAvailable},
			Fuels: []models.FuelType{}, YearMin: ptr(2015), YearMax: ptr(2024),
			PriceMinCents: ptr[int64](1_000_000), PriceMaxCents: ptr[int64](5_000_000), MileageMaxKm: ptr(80_000),
			Conditions: []models.VehicleCondition{models.ConditionNew, models.ConditionCertified},
			BodyStyles: []models.BodyStyle{models.BodySUV}, Transmissions: []models.Transmission{models.TransmissionManual},
			Drivetrains: []models.Drivetrain{models.DrivetrainAWD, models.DrivetrainFourWD}, StockNumber: ptr("U-1042"),
			SearchWords: []string{"toyota", "50%_off"},
			Search: []models.SearchTerm{
				{Word: "toyota", Pattern: models.ContainsPattern("toyota"), ModelIDs: []int64{12, 13}},
				{Word: "50%_off", Pattern: models.ContainsPattern("50%_off"), ModelIDs: []int64{}},
			},
		},
		Order: models.DefaultVehicleOrder, Limit: 101, FromEnd: true,
		After:  &models.VehiclePosition{Key: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ID: 99},
		Before: &models.VehiclePosition{Key: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), ID: 9},
	},
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// A statement's text is built once per shape; later requests of the shape
// only collect their arguments, which must line up with the placeholders
// the text was built with.
func TestStatementTextsAndArgumentsAgree(t *testing.T) {
	p := New(nil, Options{})
	shape := vehicleShape{columns: allColumns, rel: relAll}
	for name, q := range pageQueries {
		build := func() (string, []any) {
			fk, words := filterKey(q.Filter)
			key := statementKey{kind: kindPage, columns: shape.columns, rel: shape.rel, filter: fk, words: words,
				order: q.Order, fromEnd: q.FromEnd, after: q.After != nil, before: q.Before != nil}
			return p.statement(key, func(b *builder) {
				b.write("SELECT ", b.selectList(shape), " FROM vehicles v", b.joins(shape))
				b.filter(q.Filter)
				b.bounds(&q)
				b.write(" ORDER BY ", b.orderBy(&q), " LIMIT ", b.arg(q.Limit))
			})
		}
		text, first := build()
		cached, again := build()
		if cached != text || !reflect.DeepEqual(first, again) {
			t.Fatalf("%s: a cached shape gave %q %v, first %q %v", name, cached, again, text, first)
		}
		highest := 0
		for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
			n, _ := strconv.Atoi(m[1])
			highest = max(highest, n)
		}
		if highest != len(first) {
			t.Fatalf("%s: placeholders up to $%d for %d arguments in %s", name, highest, len(first), text)
		}
	}
	f := pageQueries["everything"].Filter
	_, args := p.statement(statementKey{kind: kindCount, filter: 1}, func(b *builder) { b.filter(f) })
	if args[len(args)-2] != `%50\%\_off%` {
		t.Fatalf("a search word's %% and _ are not escaped: %v", args)
	}
}

// The conditions are the ones PostgreSQL answers from the indexes: a
// single status or fuel is an equality (PostgreSQL 15 reads an index in
// order under "=", not under "= ANY"), a stock number is compared as its
// indexes hold it, and a search word ORs five conditions that each have an
// index, its models found beforehand.
func TestFilterConditionsUseTheIndexes(t *testing.T) {
	term := models.SearchTerm{Word: "red", Pattern: "%red%", ModelIDs: []int64{3, 7}}
	for _, tc := range []struct {
		name   string
		filter models.VehicleFilter
		want   string
	}{
		{"one status", models.VehicleFilter{Statuses: []models.VehicleStatus{models.StatusAvailable}}, ` WHERE v.status = $1::text`},
		{"one fuel", models.VehicleFilter{Fuels: []models.FuelType{models.FuelElectric}}, ` WHERE v.fuel = $1::text`},
		{"two fuels", models.VehicleFilter{Fuels: []models.FuelType{models.FuelElectric, models.FuelHybrid}}, ` WHERE v.fuel = ANY($1::text[])`},
		{"no status", models.VehicleFilter{Statuses: []models.VehicleStatus{}}, ` WHERE v.status = ANY($1::text[])`},
		{"resolved word", models.VehicleFilter{SearchWords: []string{"red"}, Search: []models.SearchTerm{term}},
			` WHERE (v.vin ILIKE $1 OR v.color ILIKE $1 OR v.trim ILIKE $1 OR v.stock_number ILIKE $1 OR v.model_id = ANY($2::bigint[]))`},
		{"one condition", models.VehicleFilter{Conditions: []models.VehicleCondition{models.ConditionNew}}, ` WHERE v.condition = $1::text`},
		{"two body styles", models.VehicleFilter{BodyStyles: []models.BodyStyle{models.BodySUV, models.BodyPickup}}, ` WHERE v.body_style = ANY($1::text[])`},
		{"transmission and drivetrain", models.VehicleFilter{Transmissions: []models.Transmission{models.TransmissionCVT},
			Drivetrains: []models.Drivetrain{models.DrivetrainAWD, models.DrivetrainFWD}},
			` WHERE v.transmission = $1::text AND v.drivetrain = ANY($2::text[])`},
		{"stock number", models.VehicleFilter{StockNumber: ptr("u-1042")}, ` WHERE lower(v.stock_number) = lower($1::text)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(nil, Options{})
			fk, words := filterKey(&tc.filter)
			text, _ := p.statement(statementKey{kind: kindCount, filter: fk, words: words}, func(b *builder) { b.filter(&tc.filter) })
			if text != tc.want {
				t.Fatalf("SQL %q, want %q", text, tc.want)
			}
		})
	}
	// One status and two statuses are different shapes.
	one, _ := filterKey(&models.VehicleFilter{Statuses: []models.VehicleStatus{models.StatusSold}})
	two, _ := filterKey(&models.VehicleFilter{Statuses: []models.VehicleStatus{models.StatusSold, models.StatusReserved}})
	if one == two {
		t.Fatal("one status and two share a statement shape")
	}
	// So are filters on different listing details.
	seen := map[uint32]string{}
	for name, f := range map[string]*models.VehicleFilter{
		"condition":     {Conditions: []models.VehicleCondition{models.ConditionNew}},
		"conditions":    {Conditions: []models.VehicleCondition{models.ConditionNew, models.ConditionUsed}},
		"body style":    {BodyStyles: []models.BodyStyle{models.BodySUV}},
		"body styles":   {BodyStyles: []models.BodyStyle{models.BodySUV, models.BodyVan}},
		"transmission":  {Transmissions: []models.Transmission{models.TransmissionCVT}},
		"transmissions": {Transmissions: []models.Transmission{models.TransmissionCVT, models.TransmissionManual}},
		"drivetrain":    {Drivetrains: []models.Drivetrain{models.DrivetrainAWD}},
		"drivetrains":   {Drivetrains: []models.Drivetrain{models.DrivetrainAWD, models.DrivetrainRWD}},
		"stock number":  {StockNumber: ptr("A1")},
		"nothing":       {},
	} {
		k, _ := filterKey(f)
		if other, ok := seen[k]; ok {
			t.Fatalf("%s and %s share a statement shape", name, other)
		}
		seen[k] = name
	}
}

// A filter whose words were never resolved cannot be written: it would
// silently ignore them.
func TestUnresolvedSearchIsRefused(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	p := New(nil, Options{})
	f := &models.VehicleFilter{SearchWords: []string{"red"}}
	p.statement(statementKey{kind: kindCount, words: 1}, func(b *builder) { b.filter(f) })
}

// BenchmarkPageStatement measures what a page request costs the planner
// before PostgreSQL: the text of a known shape and the arguments.
func BenchmarkPageStatement(b *testing.B) {
	p := New(nil, Options{})
	shape := vehicleShape{columns: 1 | 1<<4, rel: relAll}
	for name, q := range pageQueries {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fk, words := filterKey(q.Filter)
				key := statementKey{kind: kindPage, columns: shape.columns, rel: shape.rel, filter: fk, words: words,
					order: q.Order, fromEnd: q.FromEnd, after: q.After != nil, before: q.Before != nil}
				p.statement(key, func(bd *builder) {
					bd.write("SELECT ", bd.selectList(shape), " FROM vehicles v", bd.joins(shape))
					bd.filter(q.Filter)
					bd.bounds(&q)
					bd.write(" ORDER BY ", bd.orderBy(&q), " LIMIT ", bd.arg(q.Limit))
				})
			}
		})
	}
}
