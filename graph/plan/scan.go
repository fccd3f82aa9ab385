package plan

import (
	"github.com/carlot/carlot/models"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// scanner reads the rows of a vehicle statement into models.Vehicle values:
// its destinations are fixed fields, typed as pgx decodes them directly, so
// a row costs no reflection. The makes, models and dealers of one
// statement's rows are shared between them (they are only read).
type scanner struct {
	shape vehicleShape
	dest  []any

	v            models.Vehicle
	fuel, status string
	color        pgtype.Text
	// The listing details, as pgx decodes them.
	condition                               string
	stockNumber, trim, interiorColor, descr pgtype.Text
	bodyStyle, transmission, drivetrain     pgtype.Text
	msrpCents                               pgtype.Int8
	features                                []string
	makeName                                string
	modelName                               string
	dealer                                  models.Dealer
	makes                                   map[int64]*models.Make
	models                                  map[int64]*models.Model
	dealers                                 map[int64]*models.Dealer
	distance                                pgtype.Float8
}

func newScanner(s vehicleShape) *scanner {
	sc := &scanner{shape: s}
	sc.dest = append(make([]any, 0, 4+len(vehicleColumns)+10), &sc.v.ID, &sc.v.MakeID, &sc.v.ModelID, &sc.v.DealerID)
	for i, c := range vehicleColumns {
		if s.columns&(1<<i) != 0 {
			sc.dest = append(sc.dest, sc.columnDest(c.column))
		}
	}
	if s.rel&(relMake|relModel) != 0 {
		sc.dest = append(sc.dest, &sc.makeName)
		sc.makes = make(map[int64]*models.Make)
	}
	if s.rel&relModel != 0 {
		sc.dest = append(sc.dest, &sc.modelName)
		sc.models = make(map[int64]*models.Model)
	}
	if s.rel&relDealer != 0 {
		sc.dest = append(sc.dest, dealerDest(&sc.dealer)...)
		sc.dealers = make(map[int64]*models.Dealer)
	}
	if s.distance {
		sc.dest = append(sc.dest, &sc.distance)
	}
	return sc
}

// columnDest is where a vehicle column is scanned to.
func (sc *scanner) columnDest(column string) any {
	switch column {
	case "vin":
		return &sc.v.VIN
	case "year":
		return &sc.v.Year
	case "color":
		return &sc.color
	case "mileage_km":
		return &sc.v.MileageKm
	case "price_cents":
		return &sc.v.PriceCents
	case "fuel":
		return &sc.fuel
	case "status":
		return &sc.status
	case "version":
		return &sc.v.Version
	case "created_at":
		return &sc.v.CreatedAt
	case "updated_at":
		return &sc.v.UpdatedAt
	case "stock_number":
		return &sc.stockNumber
	case "condition":
		return &sc.condition
	case "trim":
		return &sc.trim
	case "body_style":
		return &sc.bodyStyle
	case "transmission":
		return &sc.transmission
	case "drivetrain":
		return &sc.drivetrain
	case "interior_color":
		return &sc.interiorColor
	case "msrp_cents":
		return &sc.msrpCents
	case "description":
		return &sc.descr
	case "features":
		return &sc.features
	case "in_stock_since":
		return &sc.v.InStockSince
	}
	panic("plan: no destination for vehicle column " + column)
}

// scan reads the current row into a new vehicle.
func (sc *scanner) scan(rows pgx.Rows) (*models.Vehicle, error) {
	sc.features = nil // a fresh slice for each row: vehicles never share one
	if err := rows.Scan(sc.dest...); err != nil {
		return nil, err
	}
	v := new(models.Vehicle)
	*v = sc.v
	v.Fuel, v.Status = models.FuelType(sc.fuel), models.VehicleStatus(sc.status)
	v.Color = textOf(sc.color)
	v.CreatedAt, v.UpdatedAt, v.InStockSince = v.CreatedAt.UTC(), v.UpdatedAt.UTC(), v.InStockSince.UTC()
	if sc.shape.columns&listingBits != 0 {
		sc.listing(v)
	}
	if sc.distance.Valid {
		d := sc.distance.Float64
		v.DistanceKm = &d
	}
	rel := sc.shape.rel
	if rel&(relMake|relModel) != 0 {
		mk := sc.makes[v.MakeID]
		if mk == nil {
			mk = &models.Make{ID: v.MakeID, Name: sc.makeName}
			sc.makes[v.MakeID] = mk
		}
		if rel&relMake != 0 {
			v.Make = mk
		}
		if rel&relModel != 0 {
			md := sc.models[v.ModelID]
			if md == nil {
				md = &models.Model{ID: v.ModelID, MakeID: v.MakeID, Name: sc.modelName, Make: mk}
				sc.models[v.ModelID] = md
			}
			v.Model = md
		}
	}
	if rel&relDealer != 0 {
		d := sc.dealers[v.DealerID]
		if d == nil {
			d = new(models.Dealer)
			*d = sc.dealer
			d.ID, d.CreatedAt = v.DealerID, d.CreatedAt.UTC()
			sc.dealers[v.DealerID] = d
		}
		v.Dealer = d
	}
	return v, nil
}

// listingBits are the bits of vehicleColumns' listing details that need
// converting after a scan.
var listingBits = func() uint32 {
	var bits uint32
	for i, c := range vehicleColumns {
		switch c.column {
		case "stock_number", "condition", "trim", "body_style", "transmission", "drivetrain",
			"interior_color", "msrp_cents", "description", "features":
			bits |= 1 << i
		}
	}
	return bits
}()

// listing sets the listing details of the current row on v.
func (sc *scanner) listing(v *models.Vehicle) {
	v.StockNumber, v.Trim, v.InteriorColor, v.Description = textOf(sc.stockNumber), textOf(sc.trim), textOf(sc.interiorColor), textOf(sc.descr)
	v.Condition = models.VehicleCondition(sc.condition)
	v.BodyStyle = enumOf[models.BodyStyle](sc.bodyStyle)
	v.Transmission = enumOf[models.Transmission](sc.transmission)
	v.Drivetrain = enumOf[models.Drivetrain](sc.drivetrain)
	if sc.msrpCents.Valid {
		n := sc.msrpCents.Int64
		v.MSRPCents = &n
	}
	v.Features = sc.features
}

func textOf(t pgtype.Text) *string {
	if !t.Valid {
		return nil
	}
	s := t.String
	return &s
}

func enumOf[E ~string](t pgtype.Text) *E {
	if !t.Valid {
		return nil
	}
	e := E(t.String)
	return &e
}

// scanVehicles reads every row of a vehicle statement.
func scanVehicles(rows pgx.Rows, s vehicleShape, capacity int) ([]*models.Vehicle, error) {
	defer rows.Close()
	sc := newScanner(s)
	out := make([]*models.Vehicle, 0, capacity)
	for rows.Next() {
		v, err := sc.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// dealerColumns are the columns of a dealer other than its id, in the
// order dealerDest scans them: dealers are few and their rows narrow, so a
// statement that reads a dealer reads all of it.
const dealerColumns = "d.name, d.city, d.created_at, d.latitude, d.longitude, d.postal_code, d.phone, d.website"

// dealerDest is where dealerColumns are scanned to.
func dealerDest(d *models.Dealer) []any {
	return []any{&d.Name, &d.City, &d.CreatedAt, &d.Latitude, &d.Longitude, &d.PostalCode, &d.Phone, &d.Website}
}

// scanDealers reads rows of id and dealerColumns.
func scanDealers(rows pgx.Rows, capacity int) ([]*models.Dealer, error) {
	defer rows.Close()
	out := make([]*models.Dealer, 0, capacity)
	for rows.Next() {
		d := new(models.Dealer)
		if err := rows.Scan(append([]any{&d.ID}, dealerDest(d)...)...); err != nil {
			return nil, err
		}
		d.CreatedAt = d.CreatedAt.UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}
