package models

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// FuelType is what a vehicle runs on.
type FuelType string

// The fuel types.
const (
	FuelGasoline FuelType = "GASOLINE"
	FuelDiesel   FuelType = "DIESEL"
	FuelHybrid   FuelType = "HYBRID"
	FuelElectric FuelType = "ELECTRIC"
)

// VehicleStatus is where a vehicle is in its sale.
type VehicleStatus string

// The vehicle statuses, in the order the API lists them.
const (
	StatusAvailable VehicleStatus = "AVAILABLE"
	StatusReserved  VehicleStatus = "RESERVED"
	StatusSold      VehicleStatus = "SOLD"
)

// VehicleStatuses lists every status in declaration order.
var VehicleStatuses = []VehicleStatus{StatusAvailable, StatusReserved, StatusSold}

// VehicleCondition is whether a vehicle is new, used or certified pre-owned.
type VehicleCondition string

// The conditions, in the order the API lists them.
const (
	ConditionNew       VehicleCondition = "NEW"
	ConditionUsed      VehicleCondition = "USED"
	ConditionCertified VehicleCondition = "CERTIFIED"
)

// VehicleConditions lists every condition in declaration order.
var VehicleConditions = []VehicleCondition{ConditionNew, ConditionUsed, ConditionCertified}

// BodyStyle is the shape of a vehicle's body.
type BodyStyle string

// The body styles, in the order the API lists them.
const (
	BodySedan       BodyStyle = "SEDAN"
	BodyHatchback   BodyStyle = "HATCHBACK"
	BodyWagon       BodyStyle = "WAGON"
	BodyCoupe       BodyStyle = "COUPE"
	BodyConvertible BodyStyle = "CONVERTIBLE"
	BodySUV         BodyStyle = "SUV"
	BodyPickup      BodyStyle = "PICKUP"
	BodyVan         BodyStyle = "VAN"
	BodyMinivan     BodyStyle = "MINIVAN"
)

// BodyStyles lists every body style in declaration order.
var BodyStyles = []BodyStyle{BodySedan, BodyHatchback, BodyWagon, BodyCoupe, BodyConvertible, BodySUV, BodyPickup, BodyVan, BodyMinivan}

// Transmission is how a vehicle changes gears.
type Transmission string

// The transmissions.
const (
	TransmissionAutomatic Transmission = "AUTOMATIC"
	TransmissionManual    Transmission = "MANUAL"
	TransmissionCVT       Transmission = "CVT"
)

// Drivetrain is which wheels a vehicle drives.
type Drivetrain string

// The drivetrains.
const (
	DrivetrainFWD    Drivetrain = "FWD"
	DrivetrainRWD    Drivetrain = "RWD"
	DrivetrainAWD    Drivetrain = "AWD"
	DrivetrainFourWD Drivetrain = "FOUR_WD"
)

// FuelTypes lists every fuel type in declaration order.
var FuelTypes = []FuelType{FuelGasoline, FuelDiesel, FuelHybrid, FuelElectric}

// Vehicle is a vehicle listed by a dealer.
type Vehicle struct {
	bun.BaseModel `bun:"table:vehicles,alias:v"`

	ID         int64         `bun:"id,pk,autoincrement" json:"id"`
	VIN        string        `bun:"vin,notnull" json:"vin"`
	MakeID     int64         `bun:"make_id,notnull" json:"make_id"`
	ModelID    int64         `bun:"model_id,notnull" json:"model_id"`
	DealerID   int64         `bun:"dealer_id,notnull" json:"dealer_id"`
	Year       int           `bun:"year,notnull" json:"year"`
	Color      *string       `bun:"color" json:"color"`
	MileageKm  int           `bun:"mileage_km,notnull" json:"mileage_km"`
	PriceCents int64         `bun:"price_cents,notnull" json:"price_cents"`
	Fuel       FuelType      `bun:"fuel,notnull" json:"fuel"`
	Status     VehicleStatus `bun:"status,notnull" json:"status"`

	// The listing's details. StockNumber is unique per dealer in any
	// letter case; InStockSince is when the vehicle arrived on the lot.
	StockNumber   *string          `bun:"stock_number" json:"stock_number"`
	Condition     VehicleCondition `bun:"condition,notnull" json:"condition"`
	Trim          *string          `bun:"trim" json:"trim"`
	BodyStyle     *BodyStyle       `bun:"body_style" json:"body_style"`
	Transmission  *Transmission    `bun:"transmission" json:"transmission"`
	Drivetrain    *Drivetrain      `bun:"drivetrain" json:"drivetrain"`
	InteriorColor *string          `bun:"interior_color" json:"interior_color"`
	MSRPCents     *int64           `bun:"msrp_cents" json:"msrp_cents"`
	Description   *string          `bun:"description" json:"description"`
	Features      []string         `bun:"features,array,notnull" json:"features"`
	InStockSince  time.Time        `bun:"in_stock_since,nullzero,notnull,default:current_timestamp" json:"in_stock_since"`

	Version   int       `bun:"version,notnull" json:"version"`
	CreatedAt time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at,nullzero,notnull,default:current_timestamp" json:"updated_at"`

	// Make, Model and Dealer are the related rows a client asked for, filled
	// in by the read planner (graph/plan) before the vehicle is handed to
	// GraphQL; nil when not asked for. They are never stored or put in events.
	Make   *Make   `bun:"-" json:"-"`
	Model  *Model  `bun:"-" json:"-"`
	Dealer *Dealer `bun:"-" json:"-"`
	// DistanceKm is how far the vehicle's dealer is from the point of the
	// read's filter (VehicleFilter.Near); nil when it had none.
	DistanceKm *float64 `bun:"-" json:"-"`
}

// DaysOnLot is how many whole days have passed since the vehicle arrived
// on the lot (zero for one arriving in the future).
func (v *Vehicle) DaysOnLot() int {
	return max(0, int(time.Since(v.InStockSince)/(24*time.Hour)))
}

// Key names the vehicle.
func (v *Vehicle) Key() Key { return Key{TypeVehicle, v.ID} }

// GeoRadius is a circle on the earth: a point in WGS 84 degrees and a
// radius in kilometres.
type GeoRadius struct {
	Latitude, Longitude, RadiusKm float64
}

// VehicleFilter narrows a list of vehicles; every set condition must hold.
type VehicleFilter struct {
	MakeID, ModelID, DealerID    *int64
	Statuses                     []VehicleStatus
	Fuels                        []FuelType
	YearMin, YearMax             *int
	PriceMinCents, PriceMaxCents *int64
	MileageMaxKm                 *int
	Conditions                   []VehicleCondition
	BodyStyles                   []BodyStyle
	Transmissions                []Transmission
	Drivetrains                  []Drivetrain
	// StockNumber matches the stock number exactly, ignoring case.
	StockNumber *string
	// Near keeps the vehicles whose dealer is within a radius of a point.
	Near *GeoRadius
	// SearchWords must each match the VIN, make name, model name, color,
	// trim or stock number, ignoring case.
	SearchWords []string
	// Search is SearchWords resolved by ResolveSearch, one term per word;
	// nil until then.
	Search []SearchTerm
}

// apply adds the filter's conditions to a query over vehicles aliased v.
// Its search words should have been resolved (ResolveSearch); unresolved
// words fall back to matching make and model names in a sub-select, which
// is exact but cannot use the vehicles' indexes.
func (f *VehicleFilter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if f == nil {
		return q
	}
	q = f.applyGroup(q, "v")
	if f.YearMin != nil {
		q = q.Where("v.year >= ?", *f.YearMin)
	}
	if f.YearMax != nil {
		q = q.Where("v.year <= ?", *f.YearMax)
	}
	if f.PriceMinCents != nil {
		q = q.Where("v.price_cents >= ?", *f.PriceMinCents)
	}
	if f.PriceMaxCents != nil {
		q = q.Where("v.price_cents <= ?", *f.PriceMaxCents)
	}
	if f.MileageMaxKm != nil {
		q = q.Where("v.mileage_km <= ?", *f.MileageMaxKm)
	}
	q = f.applyListing(q)
	if f.Search != nil {
		for _, t := range f.Search {
			q = t.where(q)
		}
		return q
	}
	for _, word := range f.SearchWords {
		q = q.Where(`(v.vin ILIKE ?0 OR v.color ILIKE ?0 OR v.trim ILIKE ?0 OR v.stock_number ILIKE ?0 OR v.model_id IN (
			SELECT md.id FROM models md JOIN makes mk ON mk.id = md.make_id
			WHERE md.name ILIKE ?0 OR mk.name ILIKE ?0))`, ContainsPattern(word))
	}
	return q
}

// applyGroup adds the filter's conditions on the columns that vehicles and
// the vehicle rollup share (dealer, make, model, status, fuel) to a query
// over either, aliased alias. A distance is a set of dealers.
func (f *VehicleFilter) applyGroup(q *bun.SelectQuery, alias string) *bun.SelectQuery {
	col := func(name string) bun.Safe { return bun.Safe(alias + "." + name) }
	if f.MakeID != nil {
		q = q.Where("? = ?", col("make_id"), *f.MakeID)
	}
	if f.ModelID != nil {
		q = q.Where("? = ?", col("model_id"), *f.ModelID)
	}
	if f.DealerID != nil {
		q = q.Where("? = ?", col("dealer_id"), *f.DealerID)
	}
	if f.Near != nil {
		q = f.Near.where(q, col("dealer_id"))
	}
	if f.Statuses != nil {
		q = whereOneOf(q, col("status"), f.Statuses)
	}
	if f.Fuels != nil {
		q = whereOneOf(q, col("fuel"), f.Fuels)
	}
	return q
}

// whereOneOf adds "column is one of values". A single value is written as
// a plain equality: PostgreSQL 15 reads an index such as (status, fuel,
// price_cents, id) in price order only under equalities; with
// "= ANY('{AVAILABLE}')" it sorts the whole match instead.
func whereOneOf[S ~string](q *bun.SelectQuery, column bun.Safe, values []S) *bun.SelectQuery {
	if len(values) == 1 {
		return q.Where("? = ?", column, string(values[0]))
	}
	return q.Where("? = ANY(?)", column, pgdialect.Array(asStrings(values)))
}

// Rollup names the table, if any, that answers counts and statistics of
// the vehicles matching f exactly: vehicle_rollup when f narrows only by
// dealer (or a distance, which is a set of dealers), make, model, status,
// fuel, condition, body style and words that only name models
// (vehicle_total_rollup, its groups without the dealer, when f names no
// dealer or distance); vehicle_color_rollup when it also has words found in colors or trims
// (and in no VIN or stock number) but narrows by no dealer, distance,
// condition or body style; "" otherwise (ranges, transmission, drivetrain,
// stock number, words found in VINs or stock numbers, unresolved words).
func (f *VehicleFilter) Rollup() string {
	if f == nil {
		return "vehicle_total_rollup"
	}
	if f.YearMin != nil || f.YearMax != nil || f.PriceMinCents != nil || f.PriceMaxCents != nil || f.MileageMaxKm != nil {
		return ""
	}
	if f.Transmissions != nil || f.Drivetrains != nil || f.StockNumber != nil {
		return "" // no rollup knows these listing details
	}
	if len(f.SearchWords) > 0 && f.Search == nil {
		return ""
	}
	table := "vehicle_rollup"
	for _, t := range f.Search {
		switch {
		case t.InVINs, t.InStockNumbers:
			return ""
		case t.InColors || t.InTrims:
			if f.DealerID != nil || f.Near != nil || f.Conditions != nil || f.BodyStyles != nil {
				return "" // the color rollup has no dealers, conditions or body styles
			}
			table = "vehicle_color_rollup"
		}
	}
	if table == "vehicle_rollup" && f.DealerID == nil && f.Near == nil {
		return "vehicle_total_rollup"
	}
	return table
}

// fromRollup starts a query over f.Rollup(), aliased r, with f's conditions.
// A search word selects the groups of the models it names, and in the
// color rollup also those whose color or trim contains it.
func (f *VehicleFilter) fromRollup(db bun.IDB) *bun.SelectQuery {
	q := db.NewSelect().TableExpr("? AS r", bun.Ident(f.Rollup()))
	if f == nil {
		return q
	}
	q = f.applyGroup(q, "r")
	if f.Conditions != nil {
		q = whereOneOf(q, "r.condition", f.Conditions)
	}
	if f.BodyStyles != nil {
		q = whereOneOf(q, "r.body_style", f.BodyStyles)
	}
	for _, t := range f.Search {
		if t.InColors || t.InTrims {
			q = q.Where("(r.color ILIKE ?0 OR r.trim ILIKE ?0 OR r.model_id = ANY(?1))", t.Pattern, pgdialect.Array(t.ModelIDs))
		} else {
			q = q.Where("r.model_id = ANY(?)", pgdialect.Array(t.ModelIDs))
		}
	}
	return q
}

// CatalogNames looks up the names of a make and a model, for matching
// search words outside SQL.
type CatalogNames func(makeID, modelID int64) (makeName, modelName string)

// Matches reports whether v passes the filter, with the same meaning as the
// SQL the filter builds (a nil filter passes everything). names is only
// asked when the filter has search words.
func (f *VehicleFilter) Matches(v *Vehicle, names CatalogNames) bool {
	if f == nil {
		return true
	}
	eq := func(want *int64, got int64) bool { return want == nil || *want == got }
	atLeast := func(min *int, got int) bool { return min == nil || got >= *min }
	atMost := func(max *int, got int) bool { return max == nil || got <= *max }
	switch {
	case !eq(f.MakeID, v.MakeID), !eq(f.ModelID, v.ModelID), !eq(f.DealerID, v.DealerID),
		f.Statuses != nil && !slices.Contains(f.Statuses, v.Status),
		f.Fuels != nil && !slices.Contains(f.Fuels, v.Fuel),
		!atLeast(f.YearMin, v.Year), !atMost(f.YearMax, v.Year), !atMost(f.MileageMaxKm, v.MileageKm),
		f.PriceMinCents != nil && v.PriceCents < *f.PriceMinCents,
		f.PriceMaxCents != nil && v.PriceCents > *f.PriceMaxCents,
		!f.matchesListing(v):
		return false
	}
	if len(f.SearchWords) == 0 {
		return true
	}
	makeName, modelName := names(v.MakeID, v.ModelID)
	color := ""
	if v.Color != nil {
		color = *v.Color
	}
	haystack := strings.ToLower(v.VIN + "\x00" + color + "\x00" + makeName + "\x00" + modelName +
		"\x00" + deref(v.Trim) + "\x00" + deref(v.StockNumber))
	for _, w := range f.SearchWords {
		if !strings.Contains(haystack, strings.ToLower(w)) {
			return false
		}
	}
	return true
}

func asStrings[S ~string](values []S) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// escapeLike makes s match literally inside a LIKE pattern.
func escapeLike(s string) string { return likeEscaper.Replace(s) }

// ContainsPattern is the ILIKE pattern that matches text containing word,
// % and _ included literally: what a search word matches.
func ContainsPattern(word string) string { return "%" + escapeLike(word) + "%" }

// VehicleOrderField is a field vehicles can be ordered by.
type VehicleOrderField string

// The orderable fields.
const (
	OrderByCreatedAt VehicleOrderField = "CREATED_AT"
	OrderByPrice     VehicleOrderField = "PRICE"
	OrderByYear      VehicleOrderField = "YEAR"
	OrderByMileage   VehicleOrderField = "MILEAGE"
	// OrderByDistance orders by distance from the filter's Near point,
	// which it requires.
	OrderByDistance VehicleOrderField = "DISTANCE"
)

// OrderDirection is ascending or descending.
type OrderDirection string

// The directions.
const (
	Ascending  OrderDirection = "ASC"
	Descending OrderDirection = "DESC"
)

// VehicleOrder is a total order over vehicles: the field, then id, both in Direction.
type VehicleOrder struct {
	Field     VehicleOrderField
	Direction OrderDirection
}

// DefaultVehicleOrder lists the newest vehicles first.
var DefaultVehicleOrder = VehicleOrder{Field: OrderByCreatedAt, Direction: Descending}

func (f VehicleOrderField) column() string {
	switch f {
	case OrderByPrice:
		return "price_cents"
	case OrderByYear:
		return "year"
	case OrderByMileage:
		return "mileage_km"
	default:
		return "created_at"
	}
}

// Column is the vehicles column the field orders by.
func (f VehicleOrderField) Column() string { return f.column() }

// CursorName is the short name of the ordering that cursors carry, so that a
// cursor from one ordering is refused by another.
func (f VehicleOrderField) CursorName() string {
	switch f {
	case OrderByPrice:
		return "price"
	case OrderByYear:
		return "year"
	case OrderByMileage:
		return "mileage"
	case OrderByDistance:
		return "distance"
	default:
		return "created"
	}
}

// Key returns the value of v's sort key for this field, as cursors carry it.
func (f VehicleOrderField) Key(v *Vehicle) string {
	switch f {
	case OrderByPrice:
		return strconv.FormatInt(v.PriceCents, 10)
	case OrderByYear:
		return strconv.Itoa(v.Year)
	case OrderByMileage:
		return strconv.Itoa(v.MileageKm)
	case OrderByDistance:
		if v.DistanceKm == nil {
			return "0"
		}
		return strconv.FormatFloat(*v.DistanceKm, 'g', -1, 64)
	default:
		return strconv.FormatInt(v.CreatedAt.UnixMicro(), 10)
	}
}

// ParseKey turns a key made by Key back into a position in this ordering.
func (f VehicleOrderField) ParseKey(key string, id int64) (*VehiclePosition, error) {
	if f == OrderByDistance {
		d, err := strconv.ParseFloat(key, 64)
		if err != nil || math.IsNaN(d) || d < 0 || d > 2*MaxRadiusKm {
			return nil, errors.New("bad key")
		}
		return &VehiclePosition{Key: d, ID: id}, nil
	}
	n, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return nil, errors.New("bad key")
	}
	switch f {
	case OrderByCreatedAt:
		// Only times PostgreSQL's timestamptz holds; a forged key could name
		// any instant in ±292,000 years.
		t := time.UnixMicro(n).UTC()
		if t.Year() < 1 || t.Year() > 9999 {
			return nil, errors.New("bad key")
		}
		return &VehiclePosition{Key: t, ID: id}, nil
	case OrderByYear, OrderByMileage:
		if n < math.MinInt32 || n > math.MaxInt32 { // their columns are 32-bit
			return nil, errors.New("bad key")
		}
	}
	return &VehiclePosition{Key: n, ID: id}, nil
}

// VehiclePosition is a place in a vehicle ordering: the sort key's value and the id.
type VehiclePosition struct {
	Key any
	ID  int64
}

// VehicleQuery describes one page of vehicles.
type VehicleQuery struct {
	Filter *VehicleFilter
	Order  VehicleOrder
	// After and Before bound the page (exclusive) in Order.
	After, Before *VehiclePosition
	// Limit is how many rows to return at most.
	Limit int
	// FromEnd takes the last Limit rows of the bounded range instead of the
	// first; the rows still come back in Order.
	FromEnd bool
}

// VehicleStats aggregates the vehicles matching a filter.
type VehicleStats struct {
	Count         int
	MinPriceCents *int64
	AvgPriceCents *int64
	MaxPriceCents *int64
	// ByStatus has every status, in declaration order, zero counts included.
	ByStatus []StatusCount
	// ByMake has each make with vehicles, most vehicles first.
	ByMake []MakeCount
	// ByFuel, ByCondition and ByBodyStyle have every value, in declaration
	// order, zero counts included.
	ByFuel      []FuelCount
	ByCondition []ConditionCount
	ByBodyStyle []BodyStyleCount
	// ByYear has each model year with vehicles, newest first.
	ByYear []YearCount
	// PriceCounts holds, for each bucket width asked for, how many vehicles
	// are priced in each bucket (numbered from zero: bucket b holds prices
	// in [b×width, (b+1)×width)); only buckets with vehicles are present.
	// PriceHistogram lays them out.
	PriceCounts map[int64]map[int64]int
}

// FuelCount is how many vehicles run on a fuel.
type FuelCount struct {
	Value FuelType
	Count int
}

// ConditionCount is how many vehicles are in a condition.
type ConditionCount struct {
	Value VehicleCondition
	Count int
}

// BodyStyleCount is how many vehicles have a body style.
type BodyStyleCount struct {
	Value BodyStyle
	Count int
}

// YearCount is how many vehicles are of a model year.
type YearCount struct {
	Year  int
	Count int
}

// PriceBucket is how many vehicles are priced in [MinCents, MaxCents).
type PriceBucket struct {
	MinCents, MaxCents int64
	Count              int
}

// StatusCount is how many vehicles have a status.
type StatusCount struct {
	Status VehicleStatus
	Count  int
}

// MakeCount is how many vehicles are of a make.
type MakeCount struct {
	MakeID int64
	Count  int
}

// vehicleStatsRow is one grouping of ComputeVehicleStats: the total
// (neither flag), one status or one make.
type vehicleStatsRow struct {
	ByStatus bool           `bun:"by_status"`
	ByMake   bool           `bun:"by_make"`
	Status   sql.NullString `bun:"status"`
	MakeID   sql.NullInt64  `bun:"make_id"`
	Count    int            `bun:"count"`
	Min      *int64         `bun:"min"`
	Avg      *int64         `bun:"avg"`
	Max      *int64         `bun:"max"`
}

// ComputeVehicleStats aggregates the vehicles matching f in one statement
// (grouping sets: the total, per status and per make). When a vehicle
// rollup can answer f, counts and the average come from it and the
// minimum and maximum price from the ends of a price index; otherwise the
// matching vehicles are aggregated.
func ComputeVehicleStats(ctx context.Context, db bun.IDB, f *VehicleFilter) (*VehicleStats, error) {
	return computeVehicleStats(ctx, db, f, true)
}

// ComputeVehicleTotals is ComputeVehicleStats without the minimum and
// maximum price (left nil), for a caller that shows neither: when a rollup
// answers f, finding them walks a price index until a vehicle matches f,
// which under a narrow filter (a few dealers, a body style) reads
// thousands of rows the rollup spares.
func ComputeVehicleTotals(ctx context.Context, db bun.IDB, f *VehicleFilter) (*VehicleStats, error) {
	return computeVehicleStats(ctx, db, f, false)
}

func computeVehicleStats(ctx context.Context, db bun.IDB, f *VehicleFilter, prices bool) (*VehicleStats, error) {
	f, err := ResolveSearch(ctx, db, f)
	if err != nil {
		return nil, err
	}
	var rows []vehicleStatsRow
	if f.Rollup() != "" {
		groups := f.fromRollup(db).ColumnExpr("r.status, r.make_id, r.vehicles, r.price_cents")
		q := db.NewSelect().
			With("g", groups).
			TableExpr("g").
			ColumnExpr("GROUPING(g.status) = 0 AS by_status, GROUPING(g.make_id) = 0 AS by_make").
			ColumnExpr("g.status, g.make_id, coalesce(sum(g.vehicles), 0) AS count").
			ColumnExpr("round(sum(g.price_cents)::numeric / nullif(sum(g.vehicles), 0))::bigint AS avg")
		if prices {
			// min and max alone: PostgreSQL reads each from one end of an index.
			q = q.With("p", f.apply(db.NewSelect().Model((*Vehicle)(nil))).
				ColumnExpr("min(v.price_cents) AS min, max(v.price_cents) AS max")).
				ColumnExpr("(SELECT p.min FROM p) AS min, (SELECT p.max FROM p) AS max")
		}
		err = q.GroupExpr("GROUPING SETS ((), (g.status), (g.make_id))").Scan(ctx, &rows)
	} else {
		err = f.apply(db.NewSelect().Model((*Vehicle)(nil))).
			ColumnExpr("GROUPING(v.status) = 0 AS by_status, GROUPING(v.make_id) = 0 AS by_make").
			ColumnExpr("v.status, v.make_id, count(*) AS count").
			ColumnExpr("min(v.price_cents) AS min, round(avg(v.price_cents))::bigint AS avg, max(v.price_cents) AS max").
			GroupExpr("GROUPING SETS ((), (v.status), (v.make_id))").
			Scan(ctx, &rows)
	}
	if err != nil {
		return nil, err
	}
	stats := &VehicleStats{ByStatus: make([]StatusCount, len(VehicleStatuses))}
	for i, s := range VehicleStatuses {
		stats.ByStatus[i].Status = s
	}
	for _, r := range rows {
		switch {
		case r.ByStatus:
			if i := slices.Index(VehicleStatuses, VehicleStatus(r.Status.String)); i >= 0 {
				stats.ByStatus[i].Count = r.Count
			}
		case r.ByMake:
			if r.Count == 0 {
				continue // a rollup group whose vehicles are gone
			}
			stats.ByMake = append(stats.ByMake, MakeCount{MakeID: r.MakeID.Int64, Count: r.Count})
		default:
			stats.Count, stats.AvgPriceCents = r.Count, r.Avg
			if prices {
				stats.MinPriceCents, stats.MaxPriceCents = r.Min, r.Max
			}
		}
	}
	slices.SortFunc(stats.ByMake, func(a, b MakeCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return cmp.Compare(a.MakeID, b.MakeID)
	})
	return stats, nil
}
