package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/carlot/carlot/graph/plan"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/models"
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

// vehicleStats resolves Query.vehicleStats: the totals in one statement,
// and the facets selected in one more (the planner's).
func (r *Resolver) vehicleStats(ctx context.Context, filter *VehicleFilter) (*models.VehicleStats, error) {
	var inv models.Invalid
	f := vehicleFilter(filter, &inv)
	if err := inv.Err(); err != nil {
		return nil, err
	}
	// Both statements share one resolution of the search words.
	f, err := r.Plan.ResolveSearch(ctx, f)
	if err != nil {
		return nil, err
	}
	compute := models.ComputeVehicleTotals
	if plan.NeedsPriceRange(ctx) {
		compute = models.ComputeVehicleStats
	}
	for _, field := range graphql.CollectFieldsCtx(ctx, []string{"VehicleStats"}) {
		if field.Name == "minPriceCents" || field.Name == "maxPriceCents" {
			compute = models.ComputeVehicleStats
		}
	}
	stats, err := compute(ctx, r.DB, f)
	if err != nil {
		return nil, err
	}
	if err := r.Plan.VehicleFacets(ctx, f, stats); err != nil {
		return nil, err
	}
	if len(stats.ByMake) == 0 {
		return stats, nil
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
