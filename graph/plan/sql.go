package plan

import (
	"strconv"
	"strings"

	"github.com/carlot/carlot/models"
)

// Statement kinds.
const (
	kindByID uint8 = iota
	kindByIDs
	kindByVIN
	kindPage
	kindDealerPages
	kindCount
	kindDealerCounts
	kindRelations
	kindDealers
	kindDealerCount
	kindEvents
	kindFacets
)

// statementKey identifies a statement's shape: everything its SQL text
// depends on, and nothing its arguments carry.
type statementKey struct {
	kind    uint8
	columns uint32
	rel     uint8
	filter  uint32 // which conditions of the filter are set
	words   uint8  // how many search words
	rollup  uint8  // which rollup a count reads (rollupNone: the vehicles)
	near    bool   // the filter has a distance condition (see near.go)
	facets  uint32 // the facets a kindFacets statement reads (see facets.go)
	order   models.VehicleOrder
	fromEnd bool
	after   bool
	before  bool
}

// builder writes a statement's text (unless it is already known) and
// collects its arguments, in one pass, so the two cannot disagree.
type builder struct {
	build bool
	sb    strings.Builder
	args  []any
	where bool // a WHERE has been written
}

// arg adds an argument and returns its placeholder.
func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	if !b.build {
		return ""
	}
	return "$" + strconv.Itoa(len(b.args))
}

func (b *builder) write(parts ...string) {
	if !b.build {
		return
	}
	for _, p := range parts {
		b.sb.WriteString(p)
	}
}

// cond adds a condition to the WHERE clause.
func (b *builder) cond(parts ...string) {
	if b.where {
		b.write(" AND ")
	} else {
		b.write(" WHERE ")
		b.where = true
	}
	b.write(parts...)
}

// statement returns the text for key, building it with fill when it is not
// known yet, and the arguments fill collects either way.
func (p *Planner) statement(key statementKey, fill func(*builder)) (string, []any) {
	text, ok := p.texts.Get(key)
	b := &builder{build: !ok}
	fill(b)
	if !ok {
		text = b.sb.String()
		p.texts.Add(key, text)
	}
	return text, b.args
}

// Filter condition bits of statementKey.filter.
const (
	fMake uint32 = 1 << iota
	fModel
	fDealer
	fStatus
	fFuel
	fYearMin
	fYearMax
	fPriceMin
	fPriceMax
	fMileageMax
	fOneStatus // a single status: "=" rather than "= ANY"
	fOneFuel
	fCondition
	fBodyStyle
	fTransmission
	fDrivetrain
	fOneCondition
	fOneBodyStyle
	fOneTransmission
	fOneDrivetrain
	fStockNumber
)

func filterKey(f *models.VehicleFilter) (uint32, uint8) {
	if f == nil {
		return 0, 0
	}
	var k uint32
	set := func(bit uint32, on bool) {
		if on {
			k |= bit
		}
	}
	set(fMake, f.MakeID != nil)
	set(fModel, f.ModelID != nil)
	set(fDealer, f.DealerID != nil)
	set(fStatus, f.Statuses != nil)
	set(fFuel, f.Fuels != nil)
	set(fYearMin, f.YearMin != nil)
	set(fYearMax, f.YearMax != nil)
	set(fPriceMin, f.PriceMinCents != nil)
	set(fPriceMax, f.PriceMaxCents != nil)
	set(fMileageMax, f.MileageMaxKm != nil)
	set(fOneStatus, len(f.Statuses) == 1)
	set(fOneFuel, len(f.Fuels) == 1)
	set(fCondition, f.Conditions != nil)
	set(fBodyStyle, f.BodyStyles != nil)
	set(fTransmission, f.Transmissions != nil)
	set(fDrivetrain, f.Drivetrains != nil)
	set(fOneCondition, len(f.Conditions) == 1)
	set(fOneBodyStyle, len(f.BodyStyles) == 1)
	set(fOneTransmission, len(f.Transmissions) == 1)
	set(fOneDrivetrain, len(f.Drivetrains) == 1)
	set(fStockNumber, f.StockNumber != nil)
	return k, uint8(len(f.SearchWords))
}

// filter writes the conditions of f on vehicles aliased v, with the
// meaning of models.VehicleFilter's own SQL: every set condition must hold;
// each search word matches the VIN, the color, the trim, the stock number,
// or the make or model name, ignoring case, % and _ literally. f's search
// words must have been resolved (Planner.resolve): each becomes
//
//	(v.vin ILIKE pattern OR v.color ILIKE pattern OR v.trim ILIKE pattern
//	 OR v.stock_number ILIKE pattern OR v.model_id = ANY(model ids))
//
// which PostgreSQL answers by OR-ing five bitmap index scans (see
// models.SearchTerm).
func (b *builder) filter(f *models.VehicleFilter) {
	if f == nil {
		return
	}
	b.groupFilter(f, "v")
	if f.YearMin != nil {
		b.cond("v.year >= ", b.arg(*f.YearMin))
	}
	if f.YearMax != nil {
		b.cond("v.year <= ", b.arg(*f.YearMax))
	}
	if f.PriceMinCents != nil {
		b.cond("v.price_cents >= ", b.arg(*f.PriceMinCents))
	}
	if f.PriceMaxCents != nil {
		b.cond("v.price_cents <= ", b.arg(*f.PriceMaxCents))
	}
	if f.MileageMaxKm != nil {
		b.cond("v.mileage_km <= ", b.arg(*f.MileageMaxKm))
	}
	if f.Conditions != nil {
		b.oneOf(b.col("v.condition"), asStrings(f.Conditions))
	}
	if f.BodyStyles != nil {
		b.oneOf(b.col("v.body_style"), asStrings(f.BodyStyles))
	}
	if f.Transmissions != nil {
		b.oneOf(b.col("v.transmission"), asStrings(f.Transmissions))
	}
	if f.Drivetrains != nil {
		b.oneOf(b.col("v.drivetrain"), asStrings(f.Drivetrains))
	}
	if f.StockNumber != nil {
		// In lower case, as the unique index (lower(stock_number),
		// dealer_id) holds it.
		b.cond("lower(v.stock_number) = lower(", b.arg(*f.StockNumber), "::text)")
	}
	for _, t := range searchTerms(f) {
		p := b.arg(t.Pattern)
		b.cond("(v.vin ILIKE ", p, " OR v.color ILIKE ", p, " OR v.trim ILIKE ", p, " OR v.stock_number ILIKE ", p,
			" OR v.model_id = ANY(", b.arg(t.ModelIDs), "::bigint[]))")
	}
}

// searchTerms returns f's resolved search words; a filter whose words were
// not resolved is a mistake of the planner's, which resolves every filter
// before building its SQL.
func searchTerms(f *models.VehicleFilter) []models.SearchTerm {
	if f.NeedsSearch() {
		panic("plan: a filter's search words were not resolved")
	}
	return f.Search
}

// groupFilter writes the conditions of f on the columns that vehicles and
// the vehicle rollups share (make, model, dealer, status, fuel), on the
// table aliased alias. A single status or fuel is an equality: PostgreSQL
// 15 reads an index such as (status, fuel, price_cents, id) in price order
// under "=" but not under "= ANY".
func (b *builder) groupFilter(f *models.VehicleFilter, alias string) {
	col := func(name string) string {
		if !b.build {
			return ""
		}
		return alias + "." + name
	}
	if f.MakeID != nil {
		b.cond(col("make_id"), " = ", b.arg(*f.MakeID))
	}
	if f.ModelID != nil {
		b.cond(col("model_id"), " = ", b.arg(*f.ModelID))
	}
	if f.DealerID != nil {
		b.cond(col("dealer_id"), " = ", b.arg(*f.DealerID))
	}
	b.nearFilter(f, col("dealer_id"))
	if f.Statuses != nil {
		b.oneOf(col("status"), asStrings(f.Statuses))
	}
	if f.Fuels != nil {
		b.oneOf(col("fuel"), asStrings(f.Fuels))
	}
}

// col is a column name, when the text is being built.
func (b *builder) col(name string) string {
	if !b.build {
		return ""
	}
	return name
}

// oneOf writes "column is one of values".
func (b *builder) oneOf(column string, values []string) {
	if len(values) == 1 {
		b.cond(column, " = ", b.arg(values[0]), "::text")
		return
	}
	b.cond(column, " = ANY(", b.arg(values), "::text[])")
}

// Which table answers a count (statementKey.rollup).
const (
	rollupNone uint8 = iota
	rollupVehicles
	rollupColors
	rollupTotals // vehicle_rollup's groups without the dealer
)

// rollupOf says which rollup answers counts of the vehicles matching f
// exactly (models.VehicleFilter.Rollup); f's words must be resolved.
func rollupOf(f *models.VehicleFilter) uint8 {
	switch f.Rollup() {
	case "vehicle_rollup":
		return rollupVehicles
	case "vehicle_color_rollup":
		return rollupColors
	case "vehicle_total_rollup":
		return rollupTotals
	}
	return rollupNone
}

// rollupFilter writes the conditions of f on the rollup rollup, aliased r.
// A search word there selects the models it names, or in the color rollup
// also the colors and trims containing it; rollupOf has ruled out words
// found in VINs and stock numbers, and filters on the listing details no
// rollup holds (the color rollup holds neither condition nor body style).
func (b *builder) rollupFilter(f *models.VehicleFilter, rollup uint8) {
	if f == nil {
		return
	}
	b.groupFilter(f, "r")
	if f.Conditions != nil {
		b.oneOf(b.col("r.condition"), asStrings(f.Conditions))
	}
	if f.BodyStyles != nil {
		b.oneOf(b.col("r.body_style"), asStrings(f.BodyStyles))
	}
	for _, t := range searchTerms(f) {
		if rollup == rollupColors {
			p := b.arg(t.Pattern)
			b.cond("(r.color ILIKE ", p, " OR r.trim ILIKE ", p, " OR r.model_id = ANY(", b.arg(t.ModelIDs), "::bigint[]))")
		} else {
			b.cond("r.model_id = ANY(", b.arg(t.ModelIDs), "::bigint[])")
		}
	}
}

// rollupTable is the table a count reads.
func rollupTable(rollup uint8) string {
	switch rollup {
	case rollupColors:
		return "vehicle_color_rollup"
	case rollupTotals:
		return "vehicle_total_rollup"
	}
	return "vehicle_rollup"
}

func asStrings[S ~string](values []S) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// bounds writes the keyset bounds of q and its order; orderBy returns the
// ORDER BY list (the rows come in reverse when q.FromEnd).
func (b *builder) bounds(q *models.VehicleQuery) {
	var col, cast string
	if b.build {
		col, cast = "v."+q.Order.Field.Column(), keyCast(q.Order.Field)
	}
	desc := q.Order.Direction == models.Descending
	if q.After != nil {
		b.cond("(", col, ", v.id) ", compareOp(!desc), " (", b.arg(q.After.Key), cast, ", ", b.arg(q.After.ID), ")")
	}
	if q.Before != nil {
		b.cond("(", col, ", v.id) ", compareOp(desc), " (", b.arg(q.Before.Key), cast, ", ", b.arg(q.Before.ID), ")")
	}
}

func (b *builder) orderBy(q *models.VehicleQuery) string {
	if !b.build {
		return ""
	}
	dir := "ASC"
	if (q.Order.Direction == models.Descending) != q.FromEnd {
		dir = "DESC"
	}
	return "v." + q.Order.Field.Column() + " " + dir + ", v.id " + dir
}

// keyCast types a cursor's key. Integer keys are bigint whatever the
// column, so a cursor naming a year beyond the column's range compares (and
// finds nothing past it) instead of failing to encode.
func keyCast(f models.VehicleOrderField) string {
	if f == models.OrderByCreatedAt {
		return "::timestamptz"
	}
	return "::bigint"
}

func compareOp(greater bool) string {
	if greater {
		return ">"
	}
	return "<"
}

// vehicleColumnList is the vehicle part of a select list: the keys, then
// the shape's columns in vehicleColumns order.
func vehicleColumnList(s vehicleShape) string {
	var sb strings.Builder
	sb.WriteString("v.id, v.make_id, v.model_id, v.dealer_id")
	for i, c := range vehicleColumns {
		if s.columns&(1<<i) != 0 {
			sb.WriteString(", v.")
			sb.WriteString(c.column)
		}
	}
	return sb.String()
}

// columnList is vehicleColumnList, when the text is being built.
func (b *builder) columnList(s vehicleShape) string {
	if !b.build {
		return ""
	}
	return vehicleColumnList(s)
}

// selectList is the whole select list of a vehicle read: the vehicle's
// columns, then its relations' (see scanner).
func (b *builder) selectList(s vehicleShape) string {
	if !b.build {
		return ""
	}
	list := vehicleColumnList(s)
	if s.rel&(relMake|relModel) != 0 {
		list += ", mk.name"
	}
	if s.rel&relModel != 0 {
		list += ", md.name"
	}
	if s.rel&relDealer != 0 {
		list += ", " + dealerColumns
	}
	if s.distance {
		list += ", v.dist"
	}
	return list
}

// joins joins a shape's relations to vehicles aliased v. A vehicle's make
// is its model's make (a foreign key says so), so one join serves both.
func (b *builder) joins(s vehicleShape) string {
	if !b.build {
		return ""
	}
	out := ""
	if s.rel&(relMake|relModel) != 0 {
		out += " JOIN makes mk ON mk.id = v.make_id"
	}
	if s.rel&relModel != 0 {
		out += " JOIN models md ON md.id = v.model_id"
	}
	if s.rel&relDealer != 0 {
		out += " JOIN dealers d ON d.id = v.dealer_id"
	}
	return out
}
