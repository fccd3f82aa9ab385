package models

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// MaxColorLength bounds a vehicle's color.
const MaxColorLength = 40

// NewVehicle is what creating a vehicle needs.
type NewVehicle struct {
	VIN        string
	ModelID    int64
	DealerID   int64
	Year       int
	Color      *string
	MileageKm  int
	PriceCents int64
	Fuel       FuelType
	Status     VehicleStatus
	// Listing holds the listing details; Condition defaults to USED and
	// InStockSince to now.
	Listing
}

// VehiclePatch lists the fields an update changes; nil leaves a field as it
// is. An empty Color clears the color; the listing details clear as
// Listing says.
type VehiclePatch struct {
	Color      *string
	MileageKm  *int
	PriceCents *int64
	Status     *VehicleStatus
	DealerID   *int64
	Listing
}

// Check records what is wrong with the patch that needs no database to see,
// and returns the color it sets (nil to clear it).
func (p VehiclePatch) Check(inv *Invalid) *string {
	if p.Color == nil && p.MileageKm == nil && p.PriceCents == nil && p.Status == nil && p.DealerID == nil && !p.Listing.given() {
		inv.Add("input", "name at least one field to change")
	}
	color := validColor(inv, p.Color)
	p.Listing.check(inv)
	if p.MileageKm != nil {
		validMileage(inv, *p.MileageKm)
	}
	if p.PriceCents != nil && *p.PriceCents < 0 {
		inv.Add("priceCents", "must not be negative")
	}
	return color
}

// MaxMileageKm is the largest mileage a vehicle can record (its column is a
// 32-bit integer).
const MaxMileageKm = math.MaxInt32

// validMileage accepts what the mileage column holds, from zero.
func validMileage(inv *Invalid, km int) {
	switch {
	case km < 0:
		inv.Add("mileageKm", "must not be negative")
	case km > MaxMileageKm:
		inv.Add("mileageKm", "must be at most %d", MaxMileageKm)
	}
}

// validYear accepts model years from the first car to next year's models.
func validYear(inv *Invalid, year int) {
	if max := time.Now().Year() + 1; year < 1886 || year > max {
		inv.Add("year", "must be between 1886 and %d", max)
	}
}

func validColor(inv *Invalid, color *string) *string {
	if color == nil {
		return nil
	}
	c := strings.TrimSpace(*color)
	switch {
	case strings.ContainsRune(c, 0):
		inv.Add("color", "must not contain NUL characters")
	case len([]rune(c)) > MaxColorLength:
		inv.Add("color", "must be at most %d characters", MaxColorLength)
	}
	if c == "" {
		return nil
	}
	return &c
}

// Check records what is wrong with in that needs no database to see, and
// returns the vehicle it describes.
func (in NewVehicle) Check(inv *Invalid) *Vehicle {
	v := &Vehicle{
		VIN: NormalizeVIN(in.VIN), ModelID: in.ModelID, DealerID: in.DealerID, Year: in.Year,
		MileageKm: in.MileageKm, PriceCents: in.PriceCents, Fuel: in.Fuel, Status: in.Status, Version: 1,
		Condition: ConditionUsed, Features: []string{},
	}
	if v.Status == "" {
		v.Status = StatusAvailable
	}
	in.Listing.check(inv).setOn(v)
	if p := VINProblem(v.VIN); p != "" {
		inv.Add("vin", "%s", p)
	}
	validYear(inv, in.Year)
	v.Color = validColor(inv, in.Color)
	validMileage(inv, in.MileageKm)
	if in.PriceCents < 0 {
		inv.Add("priceCents", "must not be negative")
	}
	return v
}

// CreateVehicle validates in, checks that actor may list vehicles for its
// dealer, and stores the vehicle and its CREATED event in one transaction.
func CreateVehicle(ctx context.Context, db bun.IDB, actor *Actor, in NewVehicle) (*Vehicle, error) {
	if err := CanManageSomeVehicles(actor); err != nil {
		return nil, err
	}
	var inv Invalid
	v := in.Check(&inv)
	if err := inv.Err(); err != nil {
		return nil, err
	}
	if err := CanManageDealerVehicles(actor, in.DealerID); err != nil {
		return nil, err
	}

	var created *Vehicle
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var inv Invalid
		if err := tx.NewSelect().Model((*Model)(nil)).Column("make_id").Where("md.id = ?", in.ModelID).Scan(ctx, &v.MakeID); errors.Is(err, sql.ErrNoRows) {
			inv.Add("modelId", "no such model")
		} else if err != nil {
			return err
		}
		if err := dealerMustExist(ctx, tx, in.DealerID, "dealerId", &inv); err != nil {
			return err
		}
		if err := inv.Err(); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(v).ExcludeColumn("id", "created_at", "updated_at").Returning("*").Exec(ctx); err != nil {
			return vehicleConflict(v, err)
		}
		created = v
		_, err := appendEvent(ctx, tx, EventCreated, v, nil, actor)
		return err
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// UpdateVehicle applies patch to vehicle id for actor, in one transaction
// with its UPDATED event. The row is locked first, so concurrent updates
// apply one after the other and none is lost; when expectedVersion is given
// and the vehicle has moved on, nothing changes and the answer is CONFLICT.
// Moving a vehicle to another dealer needs the right to manage both.
func UpdateVehicle(ctx context.Context, db bun.IDB, actor *Actor, id int64, patch VehiclePatch, expectedVersion *int) (*Vehicle, error) {
	if err := CanManageSomeVehicles(actor); err != nil {
		return nil, err
	}
	var inv Invalid
	color := patch.Check(&inv)
	if err := inv.Err(); err != nil {
		return nil, err
	}
	listing := patch.Listing.check(new(Invalid)) // valid: Check has seen it

	var updated *Vehicle
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		v, err := lockVehicle(ctx, tx, actor, id, expectedVersion)
		if err != nil {
			return err
		}
		previous := *v
		if patch.DealerID != nil && *patch.DealerID != v.DealerID {
			if err := CanManageDealerVehicles(actor, *patch.DealerID); err != nil {
				return err
			}
			var inv Invalid
			if err := dealerMustExist(ctx, tx, *patch.DealerID, "dealerId", &inv); err != nil {
				return err
			}
			if err := inv.Err(); err != nil {
				return err
			}
			v.DealerID = *patch.DealerID
		}
		if patch.Color != nil {
			v.Color = color
		}
		if patch.MileageKm != nil {
			v.MileageKm = *patch.MileageKm
		}
		if patch.PriceCents != nil {
			v.PriceCents = *patch.PriceCents
		}
		if patch.Status != nil {
			v.Status = *patch.Status
		}
		listing.setOn(v)
		_, err = tx.NewUpdate().Model(v).
			Column("color", "mileage_km", "price_cents", "status", "dealer_id").Column(listingColumns...).
			Set("version = v.version + 1").Set("updated_at = now()").
			WherePK().Returning("*").Exec(ctx)
		if err != nil {
			return vehicleConflict(v, err)
		}
		updated = v
		_, err = appendEvent(ctx, tx, EventUpdated, v, &previous, actor)
		return err
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
}

// vehicleConflict turns the unique violation of a write of v into the
// CONFLICT it means (its VIN, or its stock number on its dealer's lot);
// other errors pass unchanged.
func vehicleConflict(v *Vehicle, err error) error {
	switch constraint, ok := uniqueViolation(err); {
	case !ok:
		return err
	case constraint == stockNumberConstraint && v.StockNumber != nil:
		return stockNumberTaken(*v.StockNumber)
	case constraint == "vehicles_vin_key":
		return Errorf(CodeConflict, "a vehicle with VIN %s already exists", v.VIN)
	}
	return err
}

// DeleteVehicle deletes vehicle id for actor, in one transaction with its
// DELETED event (whose snapshot is the vehicle as it was). Its photos go
// with it; DeleteVehicleWithPhotos also names their files.
func DeleteVehicle(ctx context.Context, db bun.IDB, actor *Actor, id int64, expectedVersion *int) error {
	_, err := DeleteVehicleWithPhotos(ctx, db, actor, id, expectedVersion)
	return err
}

// lockVehicle reads and row-locks a vehicle for a write, and checks that
// actor may manage it and that it is at the expected version.
func lockVehicle(ctx context.Context, tx bun.Tx, actor *Actor, id int64, expectedVersion *int) (*Vehicle, error) {
	v := new(Vehicle)
	err := tx.NewSelect().Model(v).Where("v.id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(CodeNotFound, "vehicle not found")
	}
	if err != nil {
		return nil, err
	}
	if err := CanManageDealerVehicles(actor, v.DealerID); err != nil {
		return nil, err
	}
	if expectedVersion != nil && *expectedVersion != v.Version {
		return nil, Errorf(CodeConflict, "version mismatch: expectedVersion is %d but the vehicle is at version %d; read the vehicle again and retry", *expectedVersion, v.Version)
	}
	return v, nil
}

func dealerMustExist(ctx context.Context, db bun.IDB, id int64, field string, inv *Invalid) error {
	exists, err := db.NewSelect().Model((*Dealer)(nil)).Where("d.id = ?", id).Exists(ctx)
	if err != nil {
		return err
	}
	if !exists {
		inv.Add(field, "no such dealer")
	}
	return nil
}
