package graph

import (
	"context"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/models"
)

// createVehicle resolves Mutation.createVehicle.
func (r *Resolver) createVehicle(ctx context.Context, in CreateVehicleInput) (*models.Vehicle, error) {
	actor := models.ActorFrom(ctx)
	if err := models.CanManageSomeVehicles(actor); err != nil {
		return nil, err
	}
	var inv models.Invalid
	nv := models.NewVehicle{
		VIN: in.Vin, Year: in.Year, Color: in.Color, MileageKm: in.MileageKm,
		PriceCents: int64(in.PriceCents), Fuel: in.Fuel,
		Listing: models.Listing{
			StockNumber: in.StockNumber, Condition: in.Condition, Trim: in.Trim, BodyStyle: in.BodyStyle,
			Transmission: in.Transmission, Drivetrain: in.Drivetrain, InteriorColor: in.InteriorColor,
			MSRPCents: widen(in.MsrpCents), Description: in.Description, Features: in.Features, InStockSince: in.InStockSince,
		},
	}
	nv.ModelID = idArg(in.ModelID, models.TypeModel, "modelId", &inv)
	nv.DealerID = idArg(in.DealerID, models.TypeDealer, "dealerId", &inv)
	if in.Status != nil {
		nv.Status = *in.Status
	}
	nv.Check(&inv)
	if err := inv.Err(); err != nil {
		return nil, err
	}
	v, err := models.CreateVehicle(ctx, r.DB, actor, nv)
	if err != nil {
		return nil, err
	}
	return r.Plan.Related(ctx, v)
}

// updateVehicle resolves Mutation.updateVehicle.
func (r *Resolver) updateVehicle(ctx context.Context, id string, in UpdateVehicleInput, expectedVersion *int) (*models.Vehicle, error) {
	actor := models.ActorFrom(ctx)
	if err := models.CanManageSomeVehicles(actor); err != nil {
		return nil, err
	}
	vehicleID, err := vehicleIDArg(id)
	if err != nil {
		return nil, err
	}
	var inv models.Invalid
	patch := models.VehiclePatch{Color: in.Color, MileageKm: in.MileageKm, PriceCents: widen(in.PriceCents), Status: in.Status,
		Listing: models.Listing{
			StockNumber: in.StockNumber, Condition: in.Condition, Trim: in.Trim, BodyStyle: in.BodyStyle,
			Transmission: in.Transmission, Drivetrain: in.Drivetrain, InteriorColor: in.InteriorColor,
			MSRPCents: widen(in.MsrpCents), Description: in.Description, Features: in.Features, InStockSince: in.InStockSince,
		},
	}
	if in.DealerID != nil {
		d := idArg(*in.DealerID, models.TypeDealer, "dealerId", &inv)
		patch.DealerID = &d
	}
	patch.Check(&inv)
	if err := inv.Err(); err != nil {
		return nil, err
	}
	v, err := models.UpdateVehicle(ctx, r.DB, actor, vehicleID, patch, expectedVersion)
	if err != nil {
		return nil, err
	}
	return r.Plan.Related(ctx, v)
}

// deleteVehicle resolves Mutation.deleteVehicle and returns the deleted vehicle's ID.
func (r *Resolver) deleteVehicle(ctx context.Context, id string, expectedVersion *int) (string, error) {
	actor := models.ActorFrom(ctx)
	if err := models.CanManageSomeVehicles(actor); err != nil {
		return "", err
	}
	vehicleID, err := vehicleIDArg(id)
	if err != nil {
		return "", err
	}
	files, err := models.DeleteVehicleWithPhotos(ctx, r.DB, actor, vehicleID, expectedVersion)
	if err != nil {
		return "", err
	}
	r.releaseFiles(ctx, files)
	return relay.NodeID(models.TypeVehicle, vehicleID), nil
}

// createDealer resolves Mutation.createDealer.
func (r *Resolver) createDealer(ctx context.Context, in CreateDealerInput) (*models.Dealer, error) {
	return models.CreateDealer(ctx, r.DB, models.ActorFrom(ctx), models.DealerChange{
		Name: &in.Name, City: &in.City, Latitude: in.Latitude, Longitude: in.Longitude,
		PostalCode: in.PostalCode, Phone: in.Phone, Website: in.Website,
	})
}

// updateDealer resolves Mutation.updateDealer.
func (r *Resolver) updateDealer(ctx context.Context, id string, in UpdateDealerInput) (*models.Dealer, error) {
	typ, dealerID, err := relay.ParseNodeID(id)
	if err != nil {
		return nil, badID("id")
	}
	if typ != models.TypeDealer {
		return nil, models.Errorf(models.CodeNotFound, "dealer not found")
	}
	return models.UpdateDealer(ctx, r.DB, models.ActorFrom(ctx), dealerID, models.DealerChange{
		Name: in.Name, City: in.City, Latitude: in.Latitude, Longitude: in.Longitude,
		PostalCode: in.PostalCode, Phone: in.Phone, Website: in.Website,
	})
}

// idArg decodes a required global ID input field of type typ, recording a
// bad one in inv.
func idArg(id, typ, field string, inv *models.Invalid) int64 {
	n, ok := decodeID(id, typ)
	if !ok {
		inv.Add(field, "is not a valid %s ID", typ)
	}
	return n
}

// vehicleIDArg decodes the vehicle a mutation names: a malformed ID is bad
// input; a well-formed ID of something else names no vehicle.
func vehicleIDArg(id string) (int64, error) {
	typ, n, err := relay.ParseNodeID(id)
	if err != nil {
		return 0, badID("id")
	}
	if typ != models.TypeVehicle {
		return 0, models.Errorf(models.CodeNotFound, "vehicle not found")
	}
	return n, nil
}
