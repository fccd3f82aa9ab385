package plan

import (
	"time"

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

	v             models.Vehicle
	fuel, status  string
	color         pgtype.Text
	makeName      string
	modelName     string
	dealerName    string
	dealerCity    string
	dealerCreated time.Time
	makes         map[int64]*models.Make
	models        map[int64]*models.Model
	dealers       map[int64]*models.Dealer
}

func newScanner(s vehicleShape) *scanner {
	sc := &scanner{shape: s}
	sc.dest = append(make([]any, 0, 4+len(vehicleColumns)+5), &sc.v.ID, &sc.v.MakeID, &sc.v.ModelID, &sc.v.DealerID)
	for i := range vehicleColumns {
		if s.columns&(1<<i) == 0 {
			continue
		}
		var d any
		switch i {
		case 0:
			d = &sc.v.VIN
		case 1:
			d = &sc.v.Year
		case 2:
			d = &sc.color
		case 3:
			d = &sc.v.MileageKm
		case 4:
			d = &sc.v.PriceCents
		case 5:
			d = &sc.fuel
		case 6:
			d = &sc.status
		case 7:
			d = &sc.v.Version
		case 8:
			d = &sc.v.CreatedAt
		case 9:
			d = &sc.v.UpdatedAt
		}
		sc.dest = append(sc.dest, d)
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
		sc.dest = append(sc.dest, &sc.dealerName, &sc.dealerCity, &sc.dealerCreated)
		sc.dealers = make(map[int64]*models.Dealer)
	}
	return sc
}

// scan reads the current row into a new vehicle.
func (sc *scanner) scan(rows pgx.Rows) (*models.Vehicle, error) {
	if err := rows.Scan(sc.dest...); err != nil {
		return nil, err
	}
	v := new(models.Vehicle)
	*v = sc.v
	v.Fuel, v.Status = models.FuelType(sc.fuel), models.VehicleStatus(sc.status)
	if sc.color.Valid {
		c := sc.color.String
		v.Color = &c
	}
	v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
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
			d = &models.Dealer{ID: v.DealerID, Name: sc.dealerName, City: sc.dealerCity, CreatedAt: sc.dealerCreated.UTC()}
			sc.dealers[v.DealerID] = d
		}
		v.Dealer = d
	}
	return v, nil
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

// scanDealers reads id, name, city, created_at rows.
func scanDealers(rows pgx.Rows, capacity int) ([]*models.Dealer, error) {
	defer rows.Close()
	out := make([]*models.Dealer, 0, capacity)
	for rows.Next() {
		d := new(models.Dealer)
		if err := rows.Scan(&d.ID, &d.Name, &d.City, &d.CreatedAt); err != nil {
			return nil, err
		}
		d.CreatedAt = d.CreatedAt.UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}
