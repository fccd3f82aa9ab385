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
func (r *Resolver) vehicleByVIN(ctx context.Context, vin string) (*models.Vehicle, error) {
	vin = models.NormalizeVIN(vin)
	if !models.VINShaped(vin) {
		return nil, nil
	}
	return r.Plan.VehicleByVIN(ctx, vin)
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

// vehicle resolves Query.vehicle: one statement, the relations selected
// joined in.
func (r *Resolver) vehicle(ctx context.Context, id string) (*models.Vehicle, error) {
	typ, n, err := relay.ParseNodeID(id)
	if err != nil {
		return nil, badID("id")
	}
	if typ != models.TypeVehicle {
		return nil, nil
	}
	return r.Plan.Vehicle(ctx, n)
}
