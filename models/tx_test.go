package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
)

// state is what a write changes: the vehicles and the event stream.
type state struct {
	vehicles  int
	events    int
	lastEvent int64
}

func readState(t *testing.T, db bun.IDB) state {
	t.Helper()
	ctx := context.Background()
	var s state
	var err error
	if s.vehicles, err = db.NewSelect().Model((*models.Vehicle)(nil)).Count(ctx); err != nil {
		t.Fatal(err)
	}
	if s.events, err = db.NewSelect().Model((*models.VehicleEvent)(nil)).Count(ctx); err != nil {
		t.Fatal(err)
	}
	if s.lastEvent, err = models.LastEventSequence(ctx, db); err != nil {
		t.Fatal(err)
	}
	return s
}

// Writes run in the transaction they are given: a caller wraps several in
// its own and decides, and a write that fails inside it undoes only itself.
func TestWritesJoinTheCallersTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t, testdb.Empty)
	u, err := models.CreateUser(ctx, db, models.NewUser{Email: "admin@example.com", Password: "a long enough password", Role: models.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	admin := u.Actor()
	mk := &models.Make{Name: "Toyota"}
	if _, err := db.NewInsert().Model(mk).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	md := &models.Model{MakeID: mk.ID, Name: "Corolla"}
	if _, err := db.NewInsert().Model(md).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	dealer, err := models.CreateDealer(ctx, db, admin, models.DealerChange{Name: ptr("Main Street Motors"), City: ptr("Springfield")})
	if err != nil {
		t.Fatal(err)
	}
	newVehicle := func(vin string) models.NewVehicle {
		return models.NewVehicle{VIN: vin, ModelID: md.ID, DealerID: dealer.ID, Year: 2020, MileageKm: 1000, PriceCents: 1_500_000, Fuel: models.FuelGasoline}
	}
	before := readState(t, db)

	t.Run("rolled back, nothing changed and no event", func(t *testing.T) {
		errUndo := errors.New("the caller changes its mind")
		err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			v, err := models.CreateVehicle(ctx, tx, admin, newVehicle("1HGCM82633A004352"))
			if err != nil {
				return err
			}
			price := int64(1_400_000)
			if _, err := models.UpdateVehicle(ctx, tx, admin, v.ID, models.VehiclePatch{PriceCents: &price}, nil); err != nil {
				return err
			}
			if got := readState(t, tx); got.vehicles != before.vehicles+1 || got.events != before.events+2 {
				t.Errorf("inside the transaction: %+v, want one more vehicle and two more events than %+v", got, before)
			}
			return errUndo
		})
		if !errors.Is(err, errUndo) {
			t.Fatalf("RunInTx: %v, want the caller's error", err)
		}
		if after := readState(t, db); after != before {
			t.Fatalf("after the rollback: %+v, want %+v", after, before)
		}
	})

	t.Run("a failed write inside undoes only itself", func(t *testing.T) {
		var created *models.Vehicle
		err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			var err error
			if created, err = models.CreateVehicle(ctx, tx, admin, newVehicle("JH4KA7561PC008269")); err != nil {
				return err
			}
			stale := created.Version + 1
			err = models.DeleteVehicle(ctx, tx, admin, created.ID, &stale)
			if e := (*models.Error)(nil); !errors.As(err, &e) || e.Code != models.CodeConflict {
				t.Errorf("delete at a stale version: %v, want CONFLICT", err)
			}
			return nil // the caller's transaction is still usable, and commits
		})
		if err != nil {
			t.Fatal(err)
		}
		after := readState(t, db)
		if after.vehicles != before.vehicles+1 || after.events != before.events+1 {
			t.Fatalf("after the commit: %+v, want the created vehicle and its one event more than %+v", after, before)
		}
	})
}
