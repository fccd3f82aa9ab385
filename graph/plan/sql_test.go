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
			SearchWords: []string{"toyota", "50%_off"},
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
	if args[len(args)-1] != `%50\%\_off%` {
		t.Fatalf("a search word's %% and _ are not escaped: %v", args)
	}
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
