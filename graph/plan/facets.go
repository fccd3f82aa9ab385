package plan

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/carlot/carlot/models"
)

// Facets: the counts a storefront shows beside its filters
// (VehicleStats.byFuel, byCondition, byBodyStyle, byYear and
// priceHistogram), for the filter of the results. Whatever the client
// selects of them costs one statement, a UNION ALL of one part per facet
// selected, each answering (facet, value, vehicles) rows. When
// vehicle_rollup answers the filter exactly, fuel, condition and body style
// are read there (one pass, a grouping set each), and years and prices in
// vehicle_facet_rollup, when the filter names dealers (a dealer or a
// distance); else in vehicle_total_rollup and vehicle_facet_total_rollup: a price histogram when its
// bucket is a multiple of the $500 step (of the $5,000 wide step, in the
// totals, when it allows), on the vehicles otherwise. When no rollup does
// (ranges, transmission, drivetrain, words found in VINs, colors, trims or
// stock numbers), one pass over the matching vehicles counts every facet,
// a grouping set each.

// Facet bits of statementKey.facets. The bits above facetPrices say, for
// each histogram in order, whether the facet rollup answers it; the count
// of histograms is in bits facetPrices to facetPrices+3.
const (
	facetFuel uint32 = 1 << iota
	facetCondition
	facetBodyStyle
	facetYear
	facetPrices      = 4 // shift of the number of histograms
	facetPriceRollup = 8 // shift of the per-histogram rollup bits
	maxHistograms    = 8 // distinct bucket widths in one vehicleStats
	priceFacetPrefix = "price"
)

// facetRequest is what a VehicleStats selection asks of the facets.
type facetRequest struct {
	bits    uint32
	buckets []int64 // the distinct valid bucketCents of priceHistogram fields
}

// selectedFacets reads the facets selected on the VehicleStats the field
// being resolved returns. A priceHistogram with an invalid bucketCents is
// left out: its own resolver reports it.
func selectedFacets(ctx context.Context) facetRequest {
	oc, sel := fieldSelection(ctx)
	var r facetRequest
	for _, f := range graphql.CollectFields(oc, sel, []string{"VehicleStats"}) {
		switch f.Name {
		case "byFuel":
			r.bits |= facetFuel
		case "byCondition":
			r.bits |= facetCondition
		case "byBodyStyle":
			r.bits |= facetBodyStyle
		case "byYear":
			r.bits |= facetYear
		case "priceHistogram":
			if b, ok := intArg(f.ArgumentMap(oc.Variables)["bucketCents"]); ok && b >= 1 && !slices.Contains(r.buckets, b) {
				r.buckets = append(r.buckets, b)
			}
		}
	}
	return r
}

// NeedsPriceRange reports whether the vehicleStats being resolved asks for
// a histogram no rollup holds (a bucket not a multiple of
// models.FacetPriceStep): its width is then checked against the price
// range before the vehicles are counted.
func NeedsPriceRange(ctx context.Context) bool {
	return slices.ContainsFunc(selectedFacets(ctx).buckets, func(b int64) bool { return b%models.FacetPriceStep != 0 })
}

// intArg reads an Int argument as gqlgen hands it over: a literal, or a
// variable decoded from JSON.
func intArg(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case float64:
		return int64(n), float64(int64(n)) == n
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// errTooManyHistograms is what VehicleFacets answers when a vehicleStats
// selects priceHistogram with more different bucket widths than it reads
// in one statement.
var errTooManyHistograms = models.Errorf(models.CodeBadUserInput,
	"invalid input: priceHistogram: at most %d different bucketCents in one vehicleStats", maxHistograms)

// VehicleFacets fills in the facets selected on the VehicleStats the field
// being resolved returns (Query.vehicleStats), for the vehicles matching f,
// in one statement; none when no facet is selected.
func (p *Planner) VehicleFacets(ctx context.Context, f *models.VehicleFilter, stats *models.VehicleStats) error {
	record(ctx)
	req := selectedFacets(ctx)
	if req.bits == 0 && len(req.buckets) == 0 {
		return nil
	}
	if len(req.buckets) > maxHistograms {
		return errTooManyHistograms
	}
	// A width the price range already refuses is not counted (its
	// histogram answers the error): counted on the vehicles, a fine one
	// would read a group per price.
	req.buckets = slices.DeleteFunc(req.buckets, func(b int64) bool {
		n, known := stats.PriceBuckets(b)
		return known && n > models.MaxPriceBuckets
	})
	if req.bits == 0 && len(req.buckets) == 0 {
		return nil
	}
	f, err := p.ResolveSearch(ctx, f)
	if err != nil {
		return err
	}
	fk, words := filterKey(f)
	rollup := rollupOf(f)
	if rollup == rollupColors {
		rollup = rollupNone
	}
	bits := req.bits | uint32(len(req.buckets))<<facetPrices
	for i, b := range req.buckets {
		if rollup != rollupNone && b%models.FacetPriceStep == 0 {
			bits |= 1 << (facetPriceRollup + i)
		}
	}
	key := statementKey{kind: kindFacets, filter: fk, words: words, rollup: rollup, near: hasNear(f), facets: bits}
	sql, args := p.statement(key, func(b *builder) {
		b.facets(f, rollup, req, bits)
	})
	rows, err := p.queryFiltered(ctx, f, sql, args)
	if err != nil {
		return err
	}
	defer rows.Close()
	if req.bits&facetFuel != 0 {
		stats.ByFuel = make([]models.FuelCount, len(models.FuelTypes))
		for i, v := range models.FuelTypes {
			stats.ByFuel[i].Value = v
		}
	}
	if req.bits&facetCondition != 0 {
		stats.ByCondition = make([]models.ConditionCount, len(models.VehicleConditions))
		for i, v := range models.VehicleConditions {
			stats.ByCondition[i].Value = v
		}
	}
	if req.bits&facetBodyStyle != 0 {
		stats.ByBodyStyle = make([]models.BodyStyleCount, len(models.BodyStyles))
		for i, v := range models.BodyStyles {
			stats.ByBodyStyle[i].Value = v
		}
	}
	if req.bits&facetYear != 0 {
		stats.ByYear = []models.YearCount{}
	}
	if len(req.buckets) > 0 {
		stats.PriceCounts = make(map[int64]map[int64]int, len(req.buckets))
		for _, b := range req.buckets {
			stats.PriceCounts[b] = make(map[int64]int)
		}
	}
	for rows.Next() {
		var facet, value string
		var n int
		if err := rows.Scan(&facet, &value, &n); err != nil {
			return err
		}
		if n <= 0 {
			continue
		}
		switch facet {
		case "fuel":
			if i := slices.Index(models.FuelTypes, models.FuelType(value)); i >= 0 {
				stats.ByFuel[i].Count = n
			}
		case "condition":
			if i := slices.Index(models.VehicleConditions, models.VehicleCondition(value)); i >= 0 {
				stats.ByCondition[i].Count = n
			}
		case "body_style":
			if i := slices.Index(models.BodyStyles, models.BodyStyle(value)); i >= 0 {
				stats.ByBodyStyle[i].Count = n
			}
		case "year":
			if y, err := strconv.Atoi(value); err == nil {
				stats.ByYear = append(stats.ByYear, models.YearCount{Year: y, Count: n})
			}
		default:
			i, err := strconv.Atoi(facet[len(priceFacetPrefix):])
			bucket, err2 := strconv.ParseInt(value, 10, 64)
			if err == nil && err2 == nil && i >= 0 && i < len(req.buckets) {
				stats.PriceCounts[req.buckets[i]][bucket] += n
			}
		}
	}
	slices.SortFunc(stats.ByYear, func(a, b models.YearCount) int { return cmp.Compare(b.Year, a.Year) })
	return rows.Err()
}

// facets writes the facet statement, answering (facet, value, vehicles)
// rows for every facet selected.
func (b *builder) facets(f *models.VehicleFilter, rollup uint8, req facetRequest, bits uint32) {
	parts := 0
	part := func() {
		if parts > 0 {
			b.write(" UNION ALL ")
		}
		parts++
		b.where = false
	}
	if rollup != rollupNone {
		// Fuel, condition and body style are columns of vehicle_rollup
		// and of its totals: one pass over the groups, a grouping set each.
		var sets []string
		var names []string
		for _, c := range []struct {
			bit  uint32
			name string
		}{{facetFuel, "fuel"}, {facetCondition, "condition"}, {facetBodyStyle, "body_style"}} {
			if req.bits&c.bit != 0 {
				sets = append(sets, "r."+c.name)
				names = append(names, c.name)
			}
		}
		if len(sets) > 0 {
			part()
			b.groupingSets(sets, names, "sum(r.vehicles)::bigint FROM "+rollupTable(rollup)+" r")
			b.rollupFilter(f, rollup)
			b.write(" GROUP BY GROUPING SETS ((", strings.Join(sets, "), ("), "))")
		}
		// Years and price steps: per dealer when f narrows by dealers,
		// else of all dealers together (a tenth of the rows).
		table := "vehicle_facet_total_rollup"
		if rollup == rollupVehicles {
			table = "vehicle_facet_rollup"
		}
		if req.bits&facetYear != 0 {
			part()
			b.write("SELECT 'year', r.value::text, sum(r.vehicles)::bigint FROM ", table, " r")
			b.cond("r.facet = 'year'")
			b.rollupFilter(f, rollup)
			b.write(" GROUP BY r.value")
		}
		for i, bucket := range req.buckets {
			part()
			label := "'" + priceFacetPrefix + strconv.Itoa(i) + "'"
			if bits&(1<<(facetPriceRollup+i)) != 0 {
				// The wide steps when the table has them and the bucket
				// allows (an argument: the text is the same either way).
				facet, step := "price", int64(models.FacetPriceStep)
				if table == "vehicle_facet_total_rollup" && bucket%models.FacetWidePriceStep == 0 {
					facet, step = "price_wide", models.FacetWidePriceStep
				}
				b.write("SELECT ", label, ", (r.value / ", b.arg(bucket/step), "::bigint)::text, sum(r.vehicles)::bigint",
					" FROM ", table, " r")
				b.cond("r.facet = ", b.arg(facet), "::text")
				b.rollupFilter(f, rollup)
			} else {
				b.write("SELECT ", label, ", (v.price_cents / ", b.arg(bucket), "::bigint)::text, count(*) FROM vehicles v")
				b.filter(f)
			}
			b.write(" GROUP BY 2")
		}
		return
	}
	// No rollup answers f: the matching vehicles are read once and
	// counted in every facet at the same time (one grouping set each).
	type set struct{ name, expr string }
	var sets []set
	for _, c := range []struct {
		bit        uint32
		name, expr string
	}{{facetFuel, "fuel", "v.fuel"}, {facetCondition, "condition", "v.condition"},
		{facetBodyStyle, "body_style", "v.body_style"}, {facetYear, "year", "v.year"}} {
		if req.bits&c.bit != 0 {
			sets = append(sets, set{c.name, c.expr})
		}
	}
	for i, bucket := range req.buckets {
		sets = append(sets, set{priceFacetPrefix + strconv.Itoa(i), "(v.price_cents / " + b.arg(bucket) + "::bigint)"})
	}
	exprs, names := make([]string, len(sets)), make([]string, len(sets))
	for i, st := range sets {
		exprs[i], names[i] = st.expr, st.name
	}
	b.groupingSets(exprs, names, "count(*) FROM vehicles v")
	b.filter(f)
	b.write(" GROUP BY GROUPING SETS ((", strings.Join(exprs, "), ("), "))")
}

// groupingSets writes the SELECT list of a statement grouped by GROUPING
// SETS, one set for each expression, each named by names: the facet's
// name, the value as text (empty for NULL: a vehicle without a body
// style) and the count, then count (the aggregate and the FROM clause).
func (b *builder) groupingSets(exprs, names []string, count string) {
	list := strings.Join(exprs, ", ")
	// GROUPING(...) has a bit set for each expression a row is not grouped
	// by, the first expression's the highest.
	all := 1<<len(exprs) - 1
	b.write("SELECT CASE GROUPING(", list, ")")
	for i, name := range names {
		b.write(" WHEN ", strconv.Itoa(all&^(1<<(len(exprs)-1-i))), " THEN '", name, "'")
	}
	b.write(" END, coalesce(")
	for _, e := range exprs {
		b.write(e, "::text, ")
	}
	b.write("''), ", count)
}
