package models

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// TypeVehiclePhoto is the type name of vehicle photos' keys.
const TypeVehiclePhoto = "VehiclePhoto"

// MaxPhotosPerVehicle is how many photos a vehicle may have.
const MaxPhotosPerVehicle = 40

// MaxPhotoAltLength is the longest alt text, in characters.
const MaxPhotoAltLength = 500

// VehiclePhoto is one photo of a vehicle. Its files are in the media store
// under content-addressed names; the row is what refers to them, so a file
// no row names may be deleted.
type VehiclePhoto struct {
	bun.BaseModel `bun:"table:vehicle_photos,alias:vp"`

	ID        int64 `bun:"id,pk,autoincrement"`
	VehicleID int64 `bun:"vehicle_id,notnull"`
	// Position orders a vehicle's photos from 0, the primary photo, with
	// no gaps.
	Position      int       `bun:"position,notnull"`
	ImageName     string    `bun:"image_name,notnull"`
	ThumbnailName string    `bun:"thumbnail_name,notnull"`
	Width         int       `bun:"width,notnull"`
	Height        int       `bun:"height,notnull"`
	ContentType   string    `bun:"content_type,notnull"`
	Alt           *string   `bun:"alt"`
	CreatedAt     time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// Key names the photo.
func (p *VehiclePhoto) Key() Key { return Key{TypeVehiclePhoto, p.ID} }

// MediaPath is where the server serves the media store's files, so the
// path of a file is MediaPath + its name.
const MediaPath = "/media/"

// URL is where the photo's image is served, relative to the server.
func (p *VehiclePhoto) URL() string { return MediaPath + p.ImageName }

// ThumbnailURL is where the photo's thumbnail is served, relative to the
// server.
func (p *VehiclePhoto) ThumbnailURL() string { return MediaPath + p.ThumbnailName }

// Files returns the names of the photo's files in the media store.
func (p *VehiclePhoto) Files() []string { return []string{p.ImageName, p.ThumbnailName} }

// NewVehiclePhoto is a photo to add, as its files were stored.
type NewVehiclePhoto struct {
	ImageName, ThumbnailName string
	Width, Height            int
	ContentType              string
}

// PhotoUpload is a photo to add: its alt text, the content hashes of the
// files it will store, and store, which stores them and says what was
// stored. AddVehiclePhoto calls store inside its transaction, once the
// actor may add the photo, holding the files' locks (see LockFiles).
type PhotoUpload struct {
	Alt    *string
	Hashes []string
	Store  func(context.Context) (NewVehiclePhoto, error)
}

// CheckPhotoAlt records a bad alt text in inv and returns the text to
// store, trimmed: nil for none or blank. It is checked as the listing's
// texts are (validText): one line, no NUL or control characters, at most
// MaxPhotoAltLength characters once trimmed.
func CheckPhotoAlt(alt *string, inv *Invalid) *string {
	if alt == nil {
		return nil
	}
	if !utf8.ValidString(*alt) {
		inv.Add("alt", "is not valid UTF-8")
		return nil
	}
	return validText(inv, "alt", alt, MaxPhotoAltLength, false)
}

// AddVehiclePhoto appends a photo to vehicle id for actor, in one
// transaction that bumps the vehicle's version and appends its UPDATED
// event. The files are stored (up.Store) inside it, after the checks and
// before the row that refers to them is written, under the files' locks:
// no cleanup (ReleaseFiles) of another photo's files with the same content
// can delete them between the two. A failure after storing leaves files
// that the caller releases.
func AddVehiclePhoto(ctx context.Context, db bun.IDB, actor *Actor, vehicleID int64, up PhotoUpload, expectedVersion *int) (*VehiclePhoto, error) {
	if err := CanManageSomeVehicles(actor); err != nil {
		return nil, err
	}
	var inv Invalid
	alt := CheckPhotoAlt(up.Alt, &inv)
	if err := inv.Err(); err != nil {
		return nil, err
	}
	var added *VehiclePhoto
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		v, err := lockVehicle(ctx, tx, actor, vehicleID, expectedVersion)
		if err != nil {
			return err
		}
		n, err := tx.NewSelect().Model((*VehiclePhoto)(nil)).Where("vp.vehicle_id = ?", v.ID).Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxPhotosPerVehicle {
			return errTooManyPhotos()
		}
		if err := LockFiles(ctx, tx, up.Hashes); err != nil {
			return err
		}
		in, err := up.Store(ctx)
		if err != nil {
			return err
		}
		p := &VehiclePhoto{
			VehicleID: v.ID, Position: n, ImageName: in.ImageName, ThumbnailName: in.ThumbnailName,
			Width: in.Width, Height: in.Height, ContentType: in.ContentType, Alt: alt,
		}
		if _, err := tx.NewInsert().Model(p).Returning("*").Exec(ctx); err != nil {
			return err
		}
		added = p
		return touchVehicle(ctx, tx, v, actor)
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// CheckPhotoAddable makes, in one read and without locking, the checks
// AddVehiclePhoto makes again under the vehicle's lock: the vehicle
// exists, actor may manage it, expectedVersion (when given) is its
// version, and it has room for another photo. Run before an upload is
// decoded, it makes an upload that would be refused cost a query rather
// than a decode.
func CheckPhotoAddable(ctx context.Context, db bun.IDB, actor *Actor, vehicleID int64, expectedVersion *int) error {
	if err := CanManageSomeVehicles(actor); err != nil {
		return err
	}
	var v struct {
		DealerID int64
		Version  int
		Photos   int
	}
	err := db.NewRaw(`SELECT v.dealer_id, v.version,
		(SELECT count(*) FROM vehicle_photos vp WHERE vp.vehicle_id = v.id) AS photos
		FROM vehicles v WHERE v.id = ?`, vehicleID).Scan(ctx, &v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Errorf(CodeNotFound, "vehicle not found")
	case err != nil:
		return err
	}
	if err := CanManageDealerVehicles(actor, v.DealerID); err != nil {
		return err
	}
	if expectedVersion != nil && *expectedVersion != v.Version {
		return Errorf(CodeConflict, "version mismatch: expectedVersion is %d but the vehicle is at version %d; read the vehicle again and retry", *expectedVersion, v.Version)
	}
	if v.Photos >= MaxPhotosPerVehicle {
		return errTooManyPhotos()
	}
	return nil
}

func errTooManyPhotos() error {
	var inv Invalid
	inv.Add("vehicleId", "the vehicle already has %d photos, the most it may have", MaxPhotosPerVehicle)
	return inv.Err()
}

// ErrPhotoProcessingBusy answers an upload whose context ended while it
// waited for other uploads' decoding to make room.
var ErrPhotoProcessingBusy = &Error{Code: CodeRateLimited, Message: "too many photos are being processed at once; try again shortly"}

// RemoveVehiclePhoto deletes photo id for actor and closes the gap it
// leaves in its vehicle's positions, in one transaction that bumps the
// vehicle's version and appends its UPDATED event. It returns the removed
// photo, whose files the caller deletes once no photo refers to them (see
// UnreferencedFiles).
func RemoveVehiclePhoto(ctx context.Context, db bun.IDB, actor *Actor, id int64, expectedVersion *int) (*VehiclePhoto, error) {
	if err := CanManageSomeVehicles(actor); err != nil {
		return nil, err
	}
	var removed *VehiclePhoto
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		p := new(VehiclePhoto)
		err := tx.NewSelect().Model(p).Where("vp.id = ?", id).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return errPhotoNotFound
		}
		if err != nil {
			return err
		}
		// The vehicle's lock serialises every change to its photos; the
		// photo is read again under it, since it may have gone meanwhile.
		v, err := lockVehicle(ctx, tx, actor, p.VehicleID, expectedVersion)
		if err != nil {
			return err
		}
		err = tx.NewRaw("DELETE FROM vehicle_photos WHERE id = ? AND vehicle_id = ? RETURNING position", p.ID, v.ID).
			Scan(ctx, &p.Position)
		if errors.Is(err, sql.ErrNoRows) {
			return errPhotoNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*VehiclePhoto)(nil)).Set("position = vp.position - 1").
			Where("vp.vehicle_id = ? AND vp.position > ?", v.ID, p.Position).Exec(ctx); err != nil {
			return err
		}
		removed = p
		return touchVehicle(ctx, tx, v, actor)
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// ReorderVehiclePhotos puts vehicle id's photos in the order of photoIDs,
// which must name each of its photos exactly once, in one transaction that
// bumps the vehicle's version and appends its UPDATED event. It returns the
// photos in their new order.
func ReorderVehiclePhotos(ctx context.Context, db bun.IDB, actor *Actor, vehicleID int64, photoIDs []int64, expectedVersion *int) ([]*VehiclePhoto, error) {
	if err := CanManageSomeVehicles(actor); err != nil {
		return nil, err
	}
	var photos []*VehiclePhoto
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		v, err := lockVehicle(ctx, tx, actor, vehicleID, expectedVersion)
		if err != nil {
			return err
		}
		var current []int64
		if err := tx.NewSelect().Model((*VehiclePhoto)(nil)).Column("id").Where("vp.vehicle_id = ?", v.ID).
			Order("id").Scan(ctx, &current); err != nil {
			return err
		}
		wanted := slices.Sorted(slices.Values(photoIDs))
		if !slices.Equal(current, wanted) {
			var inv Invalid
			inv.Add("photoIds", "must list each of the vehicle's %d photos exactly once", len(current))
			return inv.Err()
		}
		// The unique (vehicle, position) constraint is checked at commit,
		// so positions may swap in one statement.
		if _, err := tx.NewRaw(`UPDATE vehicle_photos vp SET position = o.position - 1
			FROM unnest(?::bigint[]) WITH ORDINALITY AS o(id, position)
			WHERE vp.id = o.id AND vp.vehicle_id = ?`, pgdialect.Array(photoIDs), v.ID).Exec(ctx); err != nil {
			return err
		}
		if photos, err = PhotosOfVehicle(ctx, tx, v.ID); err != nil {
			return err
		}
		return touchVehicle(ctx, tx, v, actor)
	})
	if err != nil {
		return nil, err
	}
	return photos, nil
}

// PhotosOfVehicle returns a vehicle's photos in order.
func PhotosOfVehicle(ctx context.Context, db bun.IDB, vehicleID int64) ([]*VehiclePhoto, error) {
	photos := []*VehiclePhoto{}
	err := db.NewSelect().Model(&photos).Where("vp.vehicle_id = ?", vehicleID).Order("vp.position").Scan(ctx)
	return photos, err
}

// PhotoByID returns the photo id, or nil when there is none.
func PhotoByID(ctx context.Context, db bun.IDB, id int64) (*VehiclePhoto, error) {
	p := new(VehiclePhoto)
	err := db.NewSelect().Model(p).Where("vp.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ReleaseFiles deletes (with remove) those of names that no photo refers
// to, as its image or thumbnail, and returns them. Call it after the change
// that stopped referring to them has committed. It holds the files' locks
// while it looks and deletes, so a photo being added with the same content
// either is committed first (and the file is kept) or stores the file
// again after it is gone.
func ReleaseFiles(ctx context.Context, db bun.IDB, names []string, remove func(ctx context.Context, name string) error) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	var released []string
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := LockFiles(ctx, tx, names); err != nil {
			return err
		}
		if err := tx.NewRaw(`SELECT DISTINCT n.name FROM unnest(?::text[]) AS n(name)
			WHERE NOT EXISTS (SELECT 1 FROM vehicle_photos vp WHERE vp.image_name = n.name)
			  AND NOT EXISTS (SELECT 1 FROM vehicle_photos vp WHERE vp.thumbnail_name = n.name)
			ORDER BY n.name`, pgdialect.Array(names)).Scan(ctx, &released); err != nil {
			return err
		}
		for _, name := range released {
			if err := remove(ctx, name); err != nil {
				return err
			}
		}
		return nil
	})
	return released, err
}

// LockFiles takes the transaction-scoped locks of the files with the given
// names or content hashes (a name starts with its content's hash, and the
// lock is the hash's), in one order so that two lockers never deadlock.
func LockFiles(ctx context.Context, tx bun.Tx, names []string) error {
	_, err := tx.NewRaw(`SELECT pg_advisory_xact_lock('vehicle_photos'::regclass::oid::int, hashtext(h))
		FROM (SELECT DISTINCT left(n, 64) AS h FROM unnest(?::text[]) AS n) files ORDER BY h`,
		pgdialect.Array(names)).Exec(ctx)
	return err
}

// DeleteVehicleWithPhotos deletes vehicle id for actor, with its photos,
// in one transaction with its DELETED event (whose snapshot is the vehicle
// as it was). It returns the names of the files the photos referred to,
// which the caller deletes once no photo refers to them (see
// UnreferencedFiles).
func DeleteVehicleWithPhotos(ctx context.Context, db bun.IDB, actor *Actor, id int64, expectedVersion *int) ([]string, error) {
	if err := CanManageSomeVehicles(actor); err != nil {
		return nil, err
	}
	var files []string
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		v, err := lockVehicle(ctx, tx, actor, id, expectedVersion)
		if err != nil {
			return err
		}
		// Read under the vehicle's lock, which every photo change takes.
		if files, err = photoFilesOfVehicle(ctx, tx, v.ID); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(v).WherePK().Exec(ctx); err != nil {
			return err
		}
		_, err = appendEvent(ctx, tx, EventDeleted, v, nil, actor)
		return err
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}

// photoFilesOfVehicle returns the names of every file a vehicle's photos
// refer to.
func photoFilesOfVehicle(ctx context.Context, tx bun.Tx, vehicleID int64) ([]string, error) {
	var photos []*VehiclePhoto
	if err := tx.NewSelect().Model(&photos).Column("image_name", "thumbnail_name").
		Where("vp.vehicle_id = ?", vehicleID).Scan(ctx); err != nil {
		return nil, err
	}
	var names []string
	for _, p := range photos {
		names = append(names, p.Files()...)
	}
	return names, nil
}

// touchVehicle records a change to a vehicle's photos as a change of the
// vehicle: its version goes up and an UPDATED event is appended, as for
// any other update. v must be locked (lockVehicle); it is updated in place.
func touchVehicle(ctx context.Context, tx bun.Tx, v *Vehicle, actor *Actor) error {
	previous := *v
	if _, err := tx.NewUpdate().Model(v).Set("version = v.version + 1").Set("updated_at = now()").
		WherePK().Returning("*").Exec(ctx); err != nil {
		return err
	}
	_, err := appendEvent(ctx, tx, EventUpdated, v, &previous, actor)
	return err
}

var errPhotoNotFound = &Error{Code: CodeNotFound, Message: "photo not found"}
