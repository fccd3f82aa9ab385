package plan

import (
	"context"
	"slices"
	"sync"

	"github.com/carlot/carlot/models"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vikstrous/dataloadgen"
)

// photosSQL reads the photos of a set of vehicles, each vehicle's in order,
// on the (vehicle_id, position) index.
const photosSQL = `SELECT vp.id, vp.vehicle_id, vp.position, vp.image_name, vp.thumbnail_name,
	vp.width, vp.height, vp.content_type, vp.alt, vp.created_at
	FROM vehicle_photos vp WHERE vp.vehicle_id = ANY($1::bigint[]) ORDER BY vp.vehicle_id, vp.position`

// PhotoPage is the page of vehicles a Vehicle.photos field is under.
type PhotoPage struct {
	// Page identifies the page (its connection) within the operation.
	Page any
	// Field is the connection field the page is the value of.
	Field *ast.Field
	// Vehicles are the ids of the page's vehicles.
	Vehicles []int64
}

// Photos resolves Vehicle.photos and Vehicle.primaryPhoto: the vehicle's
// photos in order.
//
// A vehicle listed in a page (pg, nil for none) has its photos read with
// those of the whole page in one statement by the first field that asks;
// the others (and the primaryPhoto fields) find theirs read, whatever the
// timing. A page of a nested level (the vehicles of every dealer of a
// page, planned together) counts as one page. A vehicle not listed in a
// page joins a short-lived batch of whatever photos are asked for
// alongside it.
func (p *Planner) Photos(ctx context.Context, pg *PhotoPage, vehicleID int64) ([]*models.VehiclePhoto, error) {
	record(ctx)
	op := operationFrom(ctx)
	if op == nil {
		byVehicle, err := p.photos(ctx, []int64{vehicleID})
		if err != nil {
			return nil, err
		}
		return orEmpty(byVehicle[vehicleID]), nil
	}
	var b *photoBatch
	op.mu.Lock()
	if pg != nil {
		if op.photoPages == nil {
			op.photoPages = make(map[any]*photoBatch)
		}
		if pg.Field != nil {
			level := op.photoPages[pg.Field]
			if level == nil {
				level = newPhotoBatch(op.nestedLevel(pg.Field))
				op.photoPages[pg.Field] = level
			}
			if level.members[vehicleID] {
				b = level
			}
		}
		if b == nil && slices.Contains(pg.Vehicles, vehicleID) {
			if b = op.photoPages[pg.Page]; b == nil {
				b = newPhotoBatch(pg.Vehicles)
				op.photoPages[pg.Page] = b
			}
		}
	}
	if b == nil {
		if op.photoLoader == nil {
			op.photoLoader = dataloadgen.NewLoader(p.fetchPhotos, dataloadgen.WithWait(p.opts.BatchWait))
		}
		l := op.photoLoader
		op.mu.Unlock()
		return l.Load(ctx, vehicleID)
	}
	op.mu.Unlock()
	b.once.Do(func() { b.byVehicle, b.err = p.photos(ctx, b.vehicles) })
	if b.err != nil {
		return nil, b.err
	}
	return orEmpty(b.byVehicle[vehicleID]), nil
}

// nestedLevel returns the ids of the vehicles read for a nested
// connection field (Dealer.vehicles) for all its parents at once. The
// caller holds op.mu.
func (op *operation) nestedLevel(field *ast.Field) []int64 {
	var ids []int64
	for key, page := range op.nested {
		if key.field != field {
			continue
		}
		for _, v := range page.rows {
			ids = append(ids, v.ID)
		}
	}
	return ids
}

// photoBatch is the photos of a page's vehicles, read once.
type photoBatch struct {
	vehicles  []int64
	members   map[int64]bool
	once      sync.Once
	byVehicle map[int64][]*models.VehiclePhoto
	err       error
}

func newPhotoBatch(vehicles []int64) *photoBatch {
	b := &photoBatch{vehicles: vehicles, members: make(map[int64]bool, len(vehicles))}
	for _, id := range vehicles {
		b.members[id] = true
	}
	return b
}

type photoLoader = dataloadgen.Loader[int64, []*models.VehiclePhoto]

func (p *Planner) fetchPhotos(ctx context.Context, vehicleIDs []int64) ([][]*models.VehiclePhoto, []error) {
	byVehicle, err := p.photos(ctx, vehicleIDs)
	if err != nil {
		errs := make([]error, len(vehicleIDs))
		for i := range errs {
			errs[i] = err
		}
		return nil, errs
	}
	out := make([][]*models.VehiclePhoto, len(vehicleIDs))
	for i, id := range vehicleIDs {
		out[i] = orEmpty(byVehicle[id])
	}
	return out, nil
}

// photos reads the photos of vehicleIDs in one statement.
func (p *Planner) photos(ctx context.Context, vehicleIDs []int64) (map[int64][]*models.VehiclePhoto, error) {
	rows, err := p.query(ctx, photosSQL, []any{vehicleIDs})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64][]*models.VehiclePhoto, len(vehicleIDs))
	for rows.Next() {
		ph := new(models.VehiclePhoto)
		if err := rows.Scan(&ph.ID, &ph.VehicleID, &ph.Position, &ph.ImageName, &ph.ThumbnailName,
			&ph.Width, &ph.Height, &ph.ContentType, &ph.Alt, &ph.CreatedAt); err != nil {
			return nil, err
		}
		ph.CreatedAt = ph.CreatedAt.UTC()
		out[ph.VehicleID] = append(out[ph.VehicleID], ph)
	}
	return out, rows.Err()
}

func orEmpty(photos []*models.VehiclePhoto) []*models.VehiclePhoto {
	if photos == nil {
		return []*models.VehiclePhoto{}
	}
	return photos
}
