package graph

import (
	"context"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
)

// vehicleByVIN resolves Query.vehicleByVin. VINs are matched in any letter
// case; something that cannot be a VIN matches nothing and costs no query.
// (The check digit is not required here: imported VINs from outside North
// America need not carry one.)
func vehicleByVIN(ctx context.Context, db bun.IDB, vin string) (*models.Vehicle, error) {
	vin = models.NormalizeVIN(vin)
	if !models.VINShaped(vin) {
		return nil, nil
	}
	v, err := models.VehicleByVIN(ctx, db, vin)
	if err != nil {
		return nil, err
	}
	return relateRoot(ctx, v)
}

// vehicleStats resolves Query.vehicleStats.
func vehicleStats(ctx context.Context, db bun.IDB, filter *VehicleFilter) (*models.VehicleStats, error) {
	var inv models.Invalid
	f := vehicleFilter(filter, &inv)
	if err := inv.Err(); err != nil {
		return nil, err
	}
	stats, err := models.ComputeVehicleStats(ctx, db, f)
	if err != nil || len(stats.ByMake) == 0 {
		return stats, err
	}
	ids := make([]int64, len(stats.ByMake))
	for i, m := range stats.ByMake {
		ids[i] = m.MakeID
	}
	return stats, loaders.For(ctx).PrefetchMakes(ctx, ids)
}

// vehicle resolves Query.vehicle. It reads the row directly instead of
// through the loader, whose batching window would only delay a lookup that
// has nothing to batch with, and primes the loader for the rest of the query.
func vehicle(ctx context.Context, db bun.IDB, id string) (*models.Vehicle, error) {
	typ, n, err := relay.ParseNodeID(id)
	if err != nil {
		return nil, badID("id")
	}
	if typ != models.TypeVehicle {
		return nil, nil
	}
	rows, err := models.VehiclesByID(ctx, db, []int64{n})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	loaders.For(ctx).Vehicle.Prime(n, rows[0])
	return relateRoot(ctx, rows[0])
}
