package graph

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/carlot/carlot/graph/plan"
	"github.com/carlot/carlot/internal/media"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/models"
)

// photos resolves Vehicle.photos: the vehicle's photos in order, read for
// every vehicle of its page at once.
func (r *Resolver) photos(ctx context.Context, v *models.Vehicle) ([]*models.VehiclePhoto, error) {
	return r.Plan.Photos(ctx, pageOf(ctx), v.ID)
}

// primaryPhoto resolves Vehicle.primaryPhoto, from the same read as photos.
func (r *Resolver) primaryPhoto(ctx context.Context, v *models.Vehicle) (*models.VehiclePhoto, error) {
	photos, err := r.photos(ctx, v)
	if err != nil || len(photos) == 0 {
		return nil, err
	}
	return photos[0], nil
}

// pageOf returns the page of vehicles the field being resolved is under
// (the nearest enclosing VehicleConnection), or nil when it is under none.
func pageOf(ctx context.Context) *plan.PhotoPage {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		conn, ok := fc.Result.(*VehicleConnection)
		if !ok || conn == nil {
			continue
		}
		pg := &plan.PhotoPage{Page: conn, Field: fc.Field.Field, Vehicles: make([]int64, len(conn.Nodes))}
		for i, v := range conn.Nodes {
			pg.Vehicles[i] = v.ID
		}
		return pg
	}
	return nil
}

// defaultPhotoGate bounds the decoding of resolvers without a PhotoGate.
var defaultPhotoGate = sync.OnceValue(func() *media.Gate { return media.NewGate(0) })

// addVehiclePhoto resolves Mutation.addVehiclePhoto. What can be checked
// without the file is checked first (the vehicle, the actor's right to
// it, its version and its room for another photo); then the upload is
// decoded and re-encoded, a few at a time (PhotoGate); its files are
// stored inside the transaction that adds the row (see
// models.AddVehiclePhoto), which checks again, and released again if that
// fails.
func (r *Resolver) addVehiclePhoto(ctx context.Context, vehicleID string, file graphql.Upload, alt *string, expectedVersion *int) (*models.VehiclePhoto, error) {
	actor := models.ActorFrom(ctx)
	if err := models.CanManageSomeVehicles(actor); err != nil {
		return nil, err
	}
	var inv models.Invalid
	id := idArg(vehicleID, models.TypeVehicle, "vehicleId", &inv)
	models.CheckPhotoAlt(alt, &inv)
	if err := inv.Err(); err != nil {
		return nil, err
	}
	if r.Media == nil || file.File == nil {
		return nil, errors.New("photo upload: no media store or no file")
	}
	if err := models.CheckPhotoAddable(ctx, r.DB, actor, id, expectedVersion); err != nil {
		return nil, err
	}
	gate := r.PhotoGate
	if gate == nil {
		gate = defaultPhotoGate()
	}
	processed, err := gate.Process(ctx, file.File, r.MediaLimits)
	if err != nil {
		return nil, uploadError(err)
	}
	var stored []string
	store := func(ctx context.Context) (models.NewVehiclePhoto, error) {
		image, err := r.Media.Put(ctx, bytes.NewReader(processed.Image.Data), processed.Image.ContentType)
		if err != nil {
			return models.NewVehiclePhoto{}, err
		}
		stored = append(stored, image)
		thumb, err := r.Media.Put(ctx, bytes.NewReader(processed.Thumbnail.Data), processed.Thumbnail.ContentType)
		if err != nil {
			return models.NewVehiclePhoto{}, err
		}
		stored = append(stored, thumb)
		return models.NewVehiclePhoto{
			ImageName: image, ThumbnailName: thumb, ContentType: processed.Image.ContentType,
			Width: processed.Image.Width, Height: processed.Image.Height,
		}, nil
	}
	p, err := models.AddVehiclePhoto(ctx, r.DB, actor, id, models.PhotoUpload{
		Alt: alt, Hashes: processed.Hashes(), Store: store,
	}, expectedVersion)
	if err != nil {
		r.releaseFiles(ctx, stored)
		return nil, err
	}
	return p, nil
}

// removeVehiclePhoto resolves Mutation.removeVehiclePhoto and returns the
// removed photo's ID.
func (r *Resolver) removeVehiclePhoto(ctx context.Context, id string, expectedVersion *int) (string, error) {
	actor := models.ActorFrom(ctx)
	if err := models.CanManageSomeVehicles(actor); err != nil {
		return "", err
	}
	photoID, err := photoIDArg(id, "id")
	if err != nil {
		return "", err
	}
	p, err := models.RemoveVehiclePhoto(ctx, r.DB, actor, photoID, expectedVersion)
	if err != nil {
		return "", err
	}
	r.releaseFiles(ctx, p.Files())
	return NodeID(p.Key()), nil
}

// reorderVehiclePhotos resolves Mutation.reorderVehiclePhotos.
func (r *Resolver) reorderVehiclePhotos(ctx context.Context, vehicleID string, photoIDs []string, expectedVersion *int) ([]*models.VehiclePhoto, error) {
	actor := models.ActorFrom(ctx)
	if err := models.CanManageSomeVehicles(actor); err != nil {
		return nil, err
	}
	var inv models.Invalid
	id := idArg(vehicleID, models.TypeVehicle, "vehicleId", &inv)
	ids := make([]int64, len(photoIDs))
	for i, s := range photoIDs {
		n, ok := decodeID(s, models.TypeVehiclePhoto)
		if !ok {
			inv.Add("photoIds", "%q is not a valid VehiclePhoto ID", s)
		}
		ids[i] = n
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	return models.ReorderVehiclePhotos(ctx, r.DB, actor, id, ids, expectedVersion)
}

// releaseFiles deletes those of names that no photo refers to any more.
// It runs after the change that released them committed (or failed), and
// even if the request has ended meanwhile; a failure is only logged: an
// unreferenced file left behind costs space, never correctness.
func (r *Resolver) releaseFiles(ctx context.Context, names []string) {
	if len(names) == 0 || r.Media == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if _, err := models.ReleaseFiles(ctx, r.DB, names, r.Media.Delete); err != nil {
		r.Log.ErrorContext(ctx, "delete unreferenced photo files", "files", names, "err", err)
	}
}

// photoIDArg decodes a photo's global ID: a malformed ID is bad input; a
// well-formed ID of something else names no photo.
func photoIDArg(id, field string) (int64, error) {
	typ, n, err := relay.ParseNodeID(id)
	if err != nil {
		return 0, badID(field)
	}
	if typ != models.TypeVehiclePhoto {
		return 0, models.Errorf(models.CodeNotFound, "photo not found")
	}
	return n, nil
}

// uploadError turns the intake's refusals into bad input on the file
// argument, with their safe messages, and a wait for decoding that
// outlasted the request into RATE_LIMITED; anything else is the server's
// fault.
func uploadError(err error) error {
	if errors.Is(err, media.ErrBusy) {
		return models.ErrPhotoProcessingBusy
	}
	for _, refusal := range []error{media.ErrTooLarge, media.ErrUnsupported, media.ErrDimensions, media.ErrUnreadable} {
		if errors.Is(err, refusal) {
			var inv models.Invalid
			inv.Add("file", "%s", err.Error())
			return inv.Err()
		}
	}
	return err
}
