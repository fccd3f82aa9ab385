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
)

// statementKey identifies a statement's shape: everything its SQL text
// depends on, and nothing its arguments carry.
type statementKey struct {
	kind    uint8
	columns uint16
	rel     uint8
	filter  uint16 // which conditions of the filter are set
	words   uint8  // how many search words
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
	fMake uint16 = 1 << iota
	fModel
	fDealer
	fStatus
	fFuel
	fYearMin
	fYearMax
	fPriceMin
	fPriceMax
	fMileageMax
)

func filterKey(f *models.VehicleFilter) (uint16, uint8) {
	if f == nil {
		return 0, 0
	}
	var k uint16
	set := func(bit uint16, on bool) {
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
	return k, uint8(len(f.SearchWords))
}

// filter writes the conditions of f, with the meaning of
// models.VehicleFilter's own SQL: every set condition must hold; search
// words each match the VIN, the color, or the make or model name, ignoring
// case, % and _ literally.
func (b *builder) filter(f *models.VehicleFilter) {
	if f == nil {
		return
	}
	if f.MakeID != nil {
		b.cond("v.make_id = ", b.arg(*f.MakeID))
	}
	if f.ModelID != nil {
		b.cond("v.model_id = ", b.arg(*f.ModelID))
	}
	if f.DealerID != nil {
		b.cond("v.dealer_id = ", b.arg(*f.DealerID))
	}
	if f.Statuses != nil {
		b.cond("v.status = ANY(", b.arg(asStrings(f.Statuses)), "::text[])")
	}
	if f.Fuels != nil {
		b.cond("v.fuel = ANY(", b.arg(asStrings(f.Fuels)), "::text[])")
	}
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
	for _, word := range f.SearchWords {
		w := b.arg(models.ContainsPattern(word))
		// Make and model names live in small tables: match them there and
		// filter vehicles by the matching model ids (an index lookup).
		b.cond("(v.vin ILIKE ", w, " OR v.color ILIKE ", w, " OR v.model_id IN (SELECT smd.id FROM models smd JOIN makes smk ON smk.id = smd.make_id WHERE smd.name ILIKE ", w, " OR smk.name ILIKE ", w, "))")
	}
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
		list += ", d.name, d.city, d.created_at"
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
