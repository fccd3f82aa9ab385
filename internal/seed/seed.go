// Package seed loads Carlot's demo data: fifteen real makes with their real
// models, three dozen invented dealers in twelve Canadian cities, and any
// number of demo vehicles.
//
// The data is deterministic: demo vehicle i (its VIN, make, model, dealer,
// year, color, mileage, fuel, price, status, created_at and listing
// details) is derived from i alone, never from the clock or from how many
// vehicles are seeded, so seeding N vehicles always yields the same rows,
// and seeding more later adds exactly the missing ones. Run is idempotent: a second identical run inserts
// nothing. Vehicles are streamed with COPY (straight into an empty table,
// else through a staging table), so a million take about a minute.
//
// It also creates the demo accounts: an ADMIN (AdminEmail) and one STAFF
// user per demo dealer (StaffEmail), all with one password, chosen by the
// caller or generated and returned once.
package seed

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/carlot/carlot/internal/media"
	"github.com/carlot/carlot/models"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Options says what Run loads.
type Options struct {
	// Vehicles is how many demo vehicles should exist: the first Vehicles of
	// the deterministic sequence (0 to MaxVehicles). Vehicles already present
	// are left alone; none are removed.
	Vehicles int
	// Reset deletes all catalog data first (vehicles, dealers, models and
	// makes, with TRUNCATE … RESTART IDENTITY CASCADE, so also the rows of
	// any table referencing them: users and their refresh tokens), including
	// rows that are not demo data, and the vehicle event log, which
	// describes a catalog that no longer exists. The event sequence counter
	// is kept: subscribers may hold sequence numbers from before the reset,
	// and new events must still come after them.
	Reset bool
	// Password is the demo accounts' password. Empty: a random one, returned
	// in Result.GeneratedPassword when an account got it.
	Password string
	// Log receives a summary line; nil discards it.
	Log *slog.Logger
	// Media, when set, receives generated photos of the first
	// PhotoVehicles demo vehicles (those that have none yet).
	Media media.Store
}

// Result counts the rows Run inserted (all zero on a repeat run).
type Result struct {
	Makes, Models, Dealers, Vehicles int
	// Users counts the demo accounts created.
	Users int
	// Photos counts the demo photos added.
	Photos int
	// GeneratedPassword is the random password given to the accounts this
	// run created, when Options.Password was empty and it created any; it
	// is stored only as a hash, so this is the one chance to show it.
	GeneratedPassword string
}

// lockKey is the transaction-level advisory lock that serializes concurrent
// seeds of the same database (the ASCII of "carlotsd").
const lockKey = 0x6361726c6f74_7364

// Run loads the demo data into db in one transaction: all of it or, on
// error, nothing. The database must be migrated. Concurrent runs on the same
// database wait for each other.
//
// Makes, models and dealers that exist (by name, ignoring case for makes and
// models; by name and city for dealers) are reused, and vehicles whose VIN
// exists are skipped, so a repeat run inserts nothing and changes nothing.
// When it adds many vehicles (10,000 or more, and at least half as many as
// exist) Run drops the vehicles' secondary indexes, foreign keys and the
// rollups' insert triggers and restores them before committing (adding the
// new vehicles to the rollups in one pass), which roughly halves the time
// but locks the vehicles table against readers until the run commits.
func Run(ctx context.Context, db *bun.DB, opts Options) (res Result, err error) {
	if opts.Vehicles < 0 {
		return Result{}, fmt.Errorf("seed: the number of vehicles must not be negative (got %d)", opts.Vehicles)
	}
	if opts.Vehicles > MaxVehicles {
		return Result{}, fmt.Errorf("seed: at most %d vehicles can be seeded (got %d)", MaxVehicles, opts.Vehicles)
	}
	if p := models.PasswordProblem(opts.Password); opts.Password != "" && p != "" {
		return Result{}, fmt.Errorf("seed: the demo accounts' password %s", p)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()

	// One dedicated connection: COPY needs the driver connection, and it
	// must be the one running the transaction.
	conn, err := db.Conn(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("seed: get a database connection: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return Result{}, fmt.Errorf("seed: begin transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(lockKey)); err != nil {
		return Result{}, fmt.Errorf("seed: wait for other seeds to finish: %w", err)
	}
	if opts.Reset {
		// vehicle_events is append-only for UPDATE and DELETE; TRUNCATE is
		// the one way to empty it. vehicle_event_sequence is not truncated.
		if _, err := tx.ExecContext(ctx, "TRUNCATE vehicles, dealers, models, makes, vehicle_events RESTART IDENTITY CASCADE"); err != nil {
			return Result{}, fmt.Errorf("seed: reset: delete the catalog: %w", err)
		}
	}
	if res.Makes, err = insertMakes(ctx, tx); err != nil {
		return Result{}, fmt.Errorf("seed: insert makes: %w", err)
	}
	if res.Models, err = insertModels(ctx, tx); err != nil {
		return Result{}, fmt.Errorf("seed: insert models: %w", err)
	}
	if res.Dealers, err = insertDealers(ctx, tx); err != nil {
		return Result{}, fmt.Errorf("seed: insert dealers: %w", err)
	}
	ids, err := readIDs(ctx, tx)
	if err != nil {
		return Result{}, fmt.Errorf("seed: read back catalog ids: %w", err)
	}
	if res.Users, res.GeneratedPassword, err = seedAccounts(ctx, tx, ids, opts.Password); err != nil {
		return Result{}, fmt.Errorf("seed: accounts: %w", err)
	}
	if res.Vehicles, err = insertVehicles(ctx, conn, tx, ids, opts.Vehicles); err != nil {
		return Result{}, fmt.Errorf("seed: insert vehicles: %w", err)
	}
	if opts.Media != nil {
		if res.Photos, err = seedPhotos(ctx, tx, opts.Media); err != nil {
			return Result{}, fmt.Errorf("seed: photos: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Result{}, fmt.Errorf("seed: commit: %w", err)
	}
	log.InfoContext(ctx, "demo data seeded",
		"makes", res.Makes, "models", res.Models, "dealers", res.Dealers, "vehicles", res.Vehicles, "users", res.Users, "photos", res.Photos,
		"requested_vehicles", opts.Vehicles, "reset", opts.Reset, "duration", time.Since(start).Round(time.Millisecond))
	return res, nil
}

// affected returns how many rows an INSERT inserted.
func affected(res interface{ RowsAffected() (int64, error) }, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// The inserts below skip rows that exist (WHERE NOT EXISTS) rather than only
// relying on ON CONFLICT, which would consume an identity value per skipped
// row: a repeat run then changes nothing, not even the sequences. ON
// CONFLICT still guards against rows committed concurrently by something
// other than a seed.

func insertMakes(ctx context.Context, tx bun.Tx) (int, error) {
	names := make([]string, len(catalog))
	for i, mk := range catalog {
		names[i] = mk.name
	}
	return affected(tx.ExecContext(ctx, `
		INSERT INTO makes (name)
		SELECT t.name FROM unnest(?::text[]) WITH ORDINALITY AS t(name, ord)
		WHERE NOT EXISTS (SELECT 1 FROM makes mk WHERE lower(mk.name) = lower(t.name))
		ORDER BY t.ord
		ON CONFLICT (lower(name)) DO NOTHING`, pgdialect.Array(names)))
}

func insertModels(ctx context.Context, tx bun.Tx) (int, error) {
	var makeNames, modelNames []string
	for _, mk := range catalog {
		for _, md := range mk.models {
			makeNames = append(makeNames, mk.name)
			modelNames = append(modelNames, md.name)
		}
	}
	return affected(tx.ExecContext(ctx, `
		INSERT INTO models (make_id, name)
		SELECT mk.id, t.name
		FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS t(make_name, name, ord)
		JOIN makes mk ON lower(mk.name) = lower(t.make_name)
		WHERE NOT EXISTS (SELECT 1 FROM models md WHERE md.make_id = mk.id AND lower(md.name) = lower(t.name))
		ORDER BY t.ord
		ON CONFLICT (make_id, lower(name)) DO NOTHING`, pgdialect.Array(makeNames), pgdialect.Array(modelNames)))
}

// insertDealers inserts the demo dealers whose (name, city) is not taken
// (dealers have no unique key, so there is no ON CONFLICT here; the advisory
// lock keeps concurrent seeds from inserting a dealer twice).
func insertDealers(ctx context.Context, tx bun.Tx) (int, error) {
	names := make([]string, len(dealers))
	cities := make([]string, len(dealers))
	created := make([]string, len(dealers))
	latitudes := make([]float64, len(dealers))
	longitudes := make([]float64, len(dealers))
	postalCodes := make([]string, len(dealers))
	phones := make([]string, len(dealers))
	websites := make([]string, len(dealers))
	for i, d := range dealers {
		names[i], cities[i] = d.name, d.city
		created[i] = dealerCreatedAt(i).Format(time.RFC3339)
		c := contactOf(i)
		latitudes[i], longitudes[i], postalCodes[i], phones[i], websites[i] = c.latitude, c.longitude, c.postalCode, c.phone, c.website
	}
	return affected(tx.ExecContext(ctx, `
		INSERT INTO dealers (name, city, created_at, latitude, longitude, postal_code, phone, website)
		SELECT t.name, t.city, t.created_at, t.latitude, t.longitude, t.postal_code, t.phone, t.website
		FROM unnest(?::text[], ?::text[], ?::timestamptz[], ?::float8[], ?::float8[], ?::text[], ?::text[], ?::text[])
			WITH ORDINALITY AS t(name, city, created_at, latitude, longitude, postal_code, phone, website, ord)
		WHERE NOT EXISTS (SELECT 1 FROM dealers d WHERE d.name = t.name AND d.city = t.city)
		ORDER BY t.ord`, pgdialect.Array(names), pgdialect.Array(cities), pgdialect.Array(created),
		pgdialect.Array(latitudes), pgdialect.Array(longitudes), pgdialect.Array(postalCodes), pgdialect.Array(phones), pgdialect.Array(websites)))
}

// catalogIDs are the database ids of the demo catalog, indexed like catalog
// and dealers.
type catalogIDs struct {
	makes   []int64
	models  [][]int64
	dealers []int64
}

func readIDs(ctx context.Context, tx bun.Tx) (*catalogIDs, error) {
	ids := &catalogIDs{makes: make([]int64, len(catalog)), models: make([][]int64, len(catalog)), dealers: make([]int64, len(dealers))}

	var lowerMakes []string
	for _, mk := range catalog {
		lowerMakes = append(lowerMakes, strings.ToLower(mk.name))
	}
	var rows []struct {
		ID    int64  `bun:"id"`
		Make  string `bun:"make"`
		Model string `bun:"model"`
	}
	err := tx.NewRaw(`
		SELECT mk.id, lower(mk.name) AS make, '' AS model FROM makes mk WHERE lower(mk.name) = ANY(?0)
		UNION ALL
		SELECT md.id, lower(mk.name), lower(md.name) FROM models md JOIN makes mk ON mk.id = md.make_id
		WHERE lower(mk.name) = ANY(?0)`, pgdialect.Array(lowerMakes)).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	byName := make(map[[2]string]int64, len(rows))
	for _, r := range rows {
		byName[[2]string{r.Make, r.Model}] = r.ID
	}
	for i, mk := range catalog {
		key := strings.ToLower(mk.name)
		if ids.makes[i] = byName[[2]string{key, ""}]; ids.makes[i] == 0 {
			return nil, fmt.Errorf("make %q is missing", mk.name)
		}
		ids.models[i] = make([]int64, len(mk.models))
		for j, md := range mk.models {
			if ids.models[i][j] = byName[[2]string{key, strings.ToLower(md.name)}]; ids.models[i][j] == 0 {
				return nil, fmt.Errorf("model %q %q is missing", mk.name, md.name)
			}
		}
	}

	names := make([]string, len(dealers))
	for i, d := range dealers {
		names[i] = d.name
	}
	var dealerRows []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
		City string `bun:"city"`
	}
	// A dealer added by hand with a demo dealer's name and city is reused;
	// with several, the oldest.
	err = tx.NewRaw(`SELECT min(id) AS id, name, city FROM dealers WHERE name = ANY(?) GROUP BY name, city`,
		pgdialect.Array(names)).Scan(ctx, &dealerRows)
	if err != nil {
		return nil, err
	}
	dealerIDs := make(map[[2]string]int64, len(dealerRows))
	for _, r := range dealerRows {
		dealerIDs[[2]string{r.Name, r.City}] = r.ID
	}
	for i, d := range dealers {
		if ids.dealers[i] = dealerIDs[[2]string{d.name, d.city}]; ids.dealers[i] == 0 {
			return nil, fmt.Errorf("dealer %q in %s is missing", d.name, d.city)
		}
	}
	return ids, nil
}

// vehicleColumns are the columns of the staging table, in COPY order.
const vehicleColumns = "i, vin, make_id, model_id, dealer_id, year, color, mileage_km, price_cents, fuel, status, created_at, " + listingColumns

// directColumns are the columns a COPY straight into vehicles fills, in
// COPY order (a rowReader made with direct set writes them).
const directColumns = "vin, make_id, model_id, dealer_id, year, color, mileage_km, price_cents, fuel, status, created_at, " + listingColumns + ", updated_at"

// listingColumns are the listing details' columns, in COPY order.
const listingColumns = "stock_number, condition, trim, body_style, transmission, drivetrain, interior_color, msrp_cents, description, features, in_stock_since"

// insertVehicles makes demo vehicles 0..n-1 exist. Into an empty table it
// streams them with COPY; otherwise into a temporary staging table first,
// then inserts those whose VIN is not taken.
func insertVehicles(ctx context.Context, conn bun.Conn, tx bun.Tx, ids *catalogIDs, n int) (int, error) {
	if n == 0 {
		return 0, nil
	}
	var empty bool
	if err := tx.NewRaw("SELECT NOT EXISTS (SELECT FROM vehicles)").Scan(ctx, &empty); err != nil {
		return 0, fmt.Errorf("look for vehicles: %w", err)
	}
	var inserted int
	var err error
	if empty {
		inserted, err = copyVehicles(ctx, conn, tx, ids, n)
	} else {
		inserted, err = stageVehicles(ctx, conn, tx, ids, n)
	}
	if err != nil {
		return 0, err
	}
	if inserted > 0 {
		// Plan the API's queries with statistics that include the new rows.
		if _, err := tx.ExecContext(ctx, "ANALYZE vehicles"); err != nil {
			return 0, fmt.Errorf("analyze vehicles: %w", err)
		}
	}
	return inserted, nil
}

// copyFrom runs a COPY ... FROM STDIN on conn (the connection a
// transaction runs on, so the COPY is part of it), reading the rows from r,
// and returns how many rows it copied.
func copyFrom(ctx context.Context, conn bun.Conn, r io.Reader, copySQL string) (int64, error) {
	var copied int64
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("COPY needs a pgx connection, not %T", dc)
		}
		tag, err := c.Conn().PgConn().CopyFrom(ctx, r, copySQL)
		copied = tag.RowsAffected()
		return err
	})
	return copied, err
}

// copyVehicles streams demo vehicles 0..n-1 into the empty vehicles table,
// in order, so vehicle i gets id i+1.
func copyVehicles(ctx context.Context, conn bun.Conn, tx bun.Tx, ids *catalogIDs, n int) (int, error) {
	var load *bulkLoad
	if n >= rebuildMinRows {
		owner, err := ownsVehicles(ctx, tx)
		if err != nil {
			return 0, err
		}
		if owner {
			if load, err = prepareBulkLoad(ctx, tx); err != nil {
				return 0, err
			}
		}
	}
	r := newRowReader(ids, n)
	r.direct = true
	copied, err := copyFrom(ctx, conn, r, "COPY vehicles ("+directColumns+") FROM STDIN")
	if err != nil {
		return 0, fmt.Errorf("copy into vehicles: %w", err)
	}
	if copied != int64(n) {
		return 0, fmt.Errorf("copy into vehicles: copied %d of %d rows", copied, n)
	}
	if err := load.finish(ctx, tx, n); err != nil {
		return 0, err
	}
	return n, nil
}

// stageVehicles copies demo vehicles 0..n-1 into a temporary staging table
// and inserts those whose VIN is not taken.
func stageVehicles(ctx context.Context, conn bun.Conn, tx bun.Tx, ids *catalogIDs, n int) (int, error) {
	if _, err := tx.ExecContext(ctx, `
		CREATE TEMP TABLE seed_vehicles (
			i           integer     NOT NULL,
			vin         text        NOT NULL,
			make_id     bigint      NOT NULL,
			model_id    bigint      NOT NULL,
			dealer_id   bigint      NOT NULL,
			year        integer     NOT NULL,
			color       text,
			mileage_km  integer     NOT NULL,
			price_cents bigint      NOT NULL,
			fuel        text        NOT NULL,
			status      text        NOT NULL,
			created_at  timestamptz NOT NULL,
			stock_number   text        NOT NULL,
			condition      text        NOT NULL,
			trim           text        NOT NULL,
			body_style     text        NOT NULL,
			transmission   text        NOT NULL,
			drivetrain     text        NOT NULL,
			interior_color text        NOT NULL,
			msrp_cents     bigint,
			description    text        NOT NULL,
			features       text[]      NOT NULL,
			in_stock_since timestamptz NOT NULL
		) ON COMMIT DROP`); err != nil {
		return 0, fmt.Errorf("create staging table: %w", err)
	}
	// conn is the connection tx runs on, so the COPY is part of tx.
	copied, err := copyFrom(ctx, conn, newRowReader(ids, n), "COPY seed_vehicles ("+vehicleColumns+") FROM STDIN")
	if err != nil {
		return 0, fmt.Errorf("copy into staging table: %w", err)
	}
	if copied != int64(n) {
		return 0, fmt.Errorf("copy into staging table: copied %d of %d rows", copied, n)
	}
	rebuild, err := shouldRebuildIndexes(ctx, tx)
	if err != nil {
		return 0, err
	}
	var load *bulkLoad
	onConflict := "ON CONFLICT (vin) DO NOTHING"
	if rebuild {
		if load, err = prepareBulkLoad(ctx, tx); err != nil {
			return 0, err
		}
		// The VIN index is gone, and with it ON CONFLICT's arbiter; the
		// table is locked against every other writer until commit, and
		// rebuilding the index checks the VINs are still unique.
		onConflict = ""
	}
	// Insert in index order, so that a fresh database numbers vehicle i as id i+1.
	// A demo stock number that a vehicle of the same dealer already uses
	// (one listed through the API) is left out rather than the vehicle.
	inserted, err := affected(tx.ExecContext(ctx, `
		INSERT INTO vehicles (vin, make_id, model_id, dealer_id, year, color, mileage_km, price_cents, fuel, status, version, created_at, updated_at,
			stock_number, condition, trim, body_style, transmission, drivetrain, interior_color, msrp_cents, description, features, in_stock_since)
		SELECT s.vin, s.make_id, s.model_id, s.dealer_id, s.year, s.color, s.mileage_km, s.price_cents, s.fuel, s.status, 1, s.created_at, s.created_at,
			CASE WHEN taken.id IS NULL THEN s.stock_number END, s.condition, s.trim, s.body_style, s.transmission, s.drivetrain,
			s.interior_color, s.msrp_cents, s.description, s.features, s.in_stock_since
		FROM seed_vehicles s
		LEFT JOIN vehicles taken ON taken.dealer_id = s.dealer_id AND lower(taken.stock_number) = lower(s.stock_number)
		WHERE NOT EXISTS (SELECT 1 FROM vehicles v WHERE v.vin = s.vin)
		ORDER BY s.i
		`+onConflict))
	if err != nil {
		return 0, fmt.Errorf("insert from staging table: %w", err)
	}
	if err := load.finish(ctx, tx, inserted); err != nil {
		return 0, err
	}
	return inserted, nil
}

// A bulk load is much faster with the vehicles' secondary indexes and
// foreign keys dropped and rebuilt afterwards (in the same transaction)
// than with every row updating a dozen indexes, two of them trigram GIN
// indexes, and looking up its dealer and model: about half the time, and
// a third without the unique VIN index. It pays when the new rows are many
// and at least about half as many as the rows already there.
const rebuildMinRows = 10_000

// shouldRebuildIndexes reports whether to drop and rebuild the indexes for
// the rows staged in seed_vehicles.
func shouldRebuildIndexes(ctx context.Context, tx bun.Tx) (bool, error) {
	var missing int
	err := tx.NewRaw(`SELECT count(*) FROM seed_vehicles s WHERE NOT EXISTS (SELECT 1 FROM vehicles v WHERE v.vin = s.vin)`).Scan(ctx, &missing)
	if err != nil {
		return false, fmt.Errorf("count new vehicles: %w", err)
	}
	if missing < rebuildMinRows {
		return false, nil
	}
	// Count the existing rows only as far as matters.
	var existing int
	err = tx.NewRaw(`SELECT count(*) FROM (SELECT FROM vehicles LIMIT ?) AS x`, 2*missing+1).Scan(ctx, &existing)
	if err != nil {
		return false, fmt.Errorf("count existing vehicles: %w", err)
	}
	if existing > 2*missing {
		return false, nil
	}
	return ownsVehicles(ctx, tx)
}

// ownsVehicles reports whether the seed may drop the vehicles' indexes and
// foreign keys, which only the table's owner may.
func ownsVehicles(ctx context.Context, tx bun.Tx) (bool, error) {
	var owner bool
	err := tx.NewRaw(`SELECT pg_has_role(c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = 'vehicles'::regclass`).Scan(ctx, &owner)
	if err != nil {
		return false, fmt.Errorf("find the owner of vehicles: %w", err)
	}
	return owner, nil
}

// bulkLoad is what prepareBulkLoad dropped from vehicles, to be restored
// exactly as it was by finish.
type bulkLoad struct {
	indexes     []droppedObject
	constraints []droppedObject
	// triggers are the rollups' insert triggers, when dropped: then the
	// rows above afterID (the highest id before the load) are still to be
	// added to the rollups.
	triggers []droppedObject
	afterID  int64
}

// rollupInsertTriggers are the statement-level triggers that add inserted
// vehicles to the rollups, which vehicle_rollups_add_vehicles (see
// migrations/20260401000005_vehicle_facet_rollup.tx.up.sql) replaces for a
// bulk load.
var rollupInsertTriggers = []string{"vehicle_facet_rollup_inserted", "vehicle_rollup_inserted"}

// droppedObject is an index, a constraint or a trigger of vehicles dropped
// for a bulk load.
type droppedObject struct {
	Name    string  `bun:"name"`
	Def     string  `bun:"def"`
	Comment *string `bun:"comment"`
}

// prepareBulkLoad drops the vehicles' secondary indexes, the unique ones
// included, and their foreign keys: every index but the primary key and
// those backing constraints. Rebuilt afterwards, an index is built once
// from sorted rows, and a foreign key is checked in one join, instead of
// a dozen index insertions and two key lookups per row. It takes an
// ACCESS EXCLUSIVE lock on vehicles until commit.
//
// It also drops the rollups' insert triggers, when both are enabled:
// their transition table holds the whole wide rows, which they scan eight
// times; finish adds the new rows to the rollups in one narrow pass.
func prepareBulkLoad(ctx context.Context, tx bun.Tx) (*bulkLoad, error) {
	load := new(bulkLoad)
	err := tx.NewRaw(`
		SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def,
		       obj_description(i.indexrelid, 'pg_class') AS comment
		FROM pg_index i
		WHERE i.indrelid = 'vehicles'::regclass
		  AND NOT i.indisprimary AND NOT i.indisexclusion
		  AND i.indisvalid AND i.indisready AND i.indislive
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY i.indexrelid`).Scan(ctx, &load.indexes)
	if err != nil {
		return nil, fmt.Errorf("list vehicle indexes: %w", err)
	}
	err = tx.NewRaw(`
		SELECT quote_ident(c.conname) AS name, pg_get_constraintdef(c.oid) AS def,
		       obj_description(c.oid, 'pg_constraint') AS comment
		FROM pg_constraint c
		WHERE c.conrelid = 'vehicles'::regclass AND c.contype = 'f' AND c.convalidated
		ORDER BY c.oid`).Scan(ctx, &load.constraints)
	if err != nil {
		return nil, fmt.Errorf("list vehicle foreign keys: %w", err)
	}
	if len(load.indexes) > 0 {
		names := make([]string, len(load.indexes))
		for i, ix := range load.indexes {
			names[i] = ix.Name // already quoted as needed by regclass output
		}
		if _, err := tx.ExecContext(ctx, "DROP INDEX ?", bun.Safe(strings.Join(names, ", "))); err != nil {
			return nil, fmt.Errorf("drop vehicle indexes for the bulk load: %w", err)
		}
	}
	for _, c := range load.constraints {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE vehicles DROP CONSTRAINT ?", bun.Safe(c.Name)); err != nil {
			return nil, fmt.Errorf("drop foreign key %s for the bulk load: %w", c.Name, err)
		}
	}
	// A trigger disabled by hand stays as it is, and so do the rollups:
	// then the load leaves the triggers alone.
	var triggers []droppedObject
	err = tx.NewRaw(`SELECT quote_ident(t.tgname) AS name, pg_get_triggerdef(t.oid) AS def,
		       obj_description(t.oid, 'pg_trigger') AS comment
		FROM pg_trigger t
		WHERE t.tgrelid = 'vehicles'::regclass AND t.tgname IN (?) AND t.tgenabled = 'O'
		ORDER BY t.tgname`, bun.In(rollupInsertTriggers)).Scan(ctx, &triggers)
	if err != nil {
		return nil, fmt.Errorf("look for the rollup triggers: %w", err)
	}
	if len(triggers) < len(rollupInsertTriggers) {
		return load, nil
	}
	// The table is locked against every other writer (by the DROP INDEX
	// above, or else by the DROP TRIGGER below) until commit, so the rows
	// above the highest id now are exactly the rows the load inserts,
	// unless a vehicle was given an id by hand at or above the identity's
	// next value: then the load keeps the triggers.
	var seq string
	if err := tx.NewRaw("SELECT pg_get_serial_sequence('vehicles', 'id')").Scan(ctx, &seq); err != nil {
		return nil, fmt.Errorf("find the sequence of the vehicle ids: %w", err)
	}
	var ids struct {
		Max  int64 `bun:"max"`
		Next int64 `bun:"next"`
	}
	err = tx.NewRaw(`SELECT (SELECT coalesce(max(id), 0) FROM vehicles) AS max,
		(SELECT CASE WHEN s.is_called THEN s.last_value + p.seqincrement ELSE s.last_value END
		 FROM pg_sequence p, LATERAL (SELECT last_value, is_called FROM `+seq+`) s
		 WHERE p.seqrelid = ?::regclass) AS next`, seq).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("find the highest vehicle id: %w", err)
	}
	if ids.Next <= ids.Max {
		return load, nil
	}
	// Dropped rather than disabled: PostgreSQL fills the transition table
	// of a disabled trigger all the same.
	for _, tg := range triggers {
		if _, err := tx.ExecContext(ctx, "DROP TRIGGER ? ON vehicles", bun.Safe(tg.Name)); err != nil {
			return nil, fmt.Errorf("drop trigger %s for the bulk load: %w", tg.Name, err)
		}
	}
	load.afterID, load.triggers = ids.Max, triggers
	return load, nil
}

// finish adds the inserted rows (as many as inserted) to the rollups and
// rebuilds what prepareBulkLoad dropped (nothing for a nil load).
func (load *bulkLoad) finish(ctx context.Context, tx bun.Tx, inserted int) error {
	if load == nil {
		return nil
	}
	if load.triggers != nil {
		var added int
		if err := tx.NewRaw("SELECT vehicle_rollups_add_vehicles(?)", load.afterID).Scan(ctx, &added); err != nil {
			return fmt.Errorf("add the new vehicles to the rollups: %w", err)
		}
		// Only a bug could make these differ; then the rollups would be
		// inexact: refuse rather than commit them.
		if added != inserted {
			return fmt.Errorf("add the new vehicles to the rollups: found %d vehicles above id %d, the load inserted %d", added, load.afterID, inserted)
		}
		for _, tg := range load.triggers {
			if _, err := tx.ExecContext(ctx, "?", bun.Safe(tg.Def)); err != nil {
				return fmt.Errorf("recreate trigger %s: %w", tg.Name, err)
			}
			if tg.Comment != nil {
				if _, err := tx.ExecContext(ctx, "COMMENT ON TRIGGER ? ON vehicles IS ?", bun.Safe(tg.Name), *tg.Comment); err != nil {
					return fmt.Errorf("restore the comment of trigger %s: %w", tg.Name, err)
				}
			}
		}
	}
	for _, ix := range load.indexes {
		if _, err := tx.ExecContext(ctx, "?", bun.Safe(ix.Def)); err != nil {
			return fmt.Errorf("recreate index %s: %w", ix.Name, err)
		}
		if ix.Comment != nil {
			if _, err := tx.ExecContext(ctx, "COMMENT ON INDEX ? IS ?", bun.Safe(ix.Name), *ix.Comment); err != nil {
				return fmt.Errorf("restore the comment of index %s: %w", ix.Name, err)
			}
		}
	}
	for _, c := range load.constraints {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE vehicles ADD CONSTRAINT ? ?", bun.Safe(c.Name), bun.Safe(c.Def)); err != nil {
			return fmt.Errorf("recreate foreign key %s: %w", c.Name, err)
		}
		if c.Comment != nil {
			if _, err := tx.ExecContext(ctx, "COMMENT ON CONSTRAINT ? ON vehicles IS ?", bun.Safe(c.Name), *c.Comment); err != nil {
				return fmt.Errorf("restore the comment of foreign key %s: %w", c.Name, err)
			}
		}
	}
	return nil
}

// rowReader generates demo vehicles 0..n-1 as COPY text rows, a block at a
// time. It never fails: an error from a COPY source would leave the
// connection mid-COPY.
type rowReader struct {
	gen       *generator
	ids       *catalogIDs
	next, end int
	buf       []byte
	off       int
	v         vehicle
	// direct writes the rows for a COPY into vehicles (directColumns)
	// rather than into the staging table (vehicleColumns).
	direct bool
}

const rowBlock = 32 << 10

func newRowReader(ids *catalogIDs, n int) *rowReader {
	return &rowReader{gen: newGenerator(), ids: ids, end: n, buf: make([]byte, 0, rowBlock+2048)}
}

// Read implements io.Reader. It returns io.EOF only with no data, as
// some COPY writers require (they drop data returned together with io.EOF).
func (r *rowReader) Read(p []byte) (int, error) {
	if r.off == len(r.buf) {
		if r.next == r.end {
			return 0, io.EOF
		}
		r.fill()
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

func (r *rowReader) fill() {
	b := r.buf[:0]
	for r.next < r.end && len(b) < rowBlock {
		v := &r.v
		r.gen.vehicle(r.next, v)
		if !r.direct {
			b = strconv.AppendInt(b, int64(r.next), 10)
			b = append(b, '\t')
		}
		b = append(b, v.vin[:]...)
		b = append(b, '\t')
		b = strconv.AppendInt(b, r.ids.makes[v.make], 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, r.ids.models[v.make][v.model], 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, r.ids.dealers[v.dealer], 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(v.year), 10)
		b = append(b, '\t')
		if v.color == "" {
			b = append(b, `\N`...)
		} else {
			b = append(b, v.color...) // palette names need no COPY escaping
		}
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(v.mileageKm), 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, v.priceCents, 10)
		b = append(b, '\t')
		b = append(b, v.fuel...)
		b = append(b, '\t')
		b = append(b, v.status...)
		b = append(b, '\t')
		b = time.UnixMicro(v.createdAt).UTC().AppendFormat(b, "2006-01-02 15:04:05.000000")
		b = append(b, "+00"...)
		b = r.appendListing(b, v)
		if r.direct { // updated_at: listed and never changed since
			b = append(b, '\t')
			b = time.UnixMicro(v.createdAt).UTC().AppendFormat(b, "2006-01-02 15:04:05.000000")
			b = append(b, "+00"...)
		}
		b = append(b, '\n')
		r.next++
	}
	r.buf, r.off = b, 0
}

// appendListing appends the listing columns of v (listingColumns), each
// after a tab.
func (r *rowReader) appendListing(b []byte, v *vehicle) []byte {
	b = append(b, '\t')
	b = v.appendStockNumber(b)
	b = append(b, '\t')
	b = append(b, v.condition...)
	b = append(b, '\t')
	b = append(b, v.trim...) // trims, like the other fixed names, need no COPY escaping
	b = append(b, '\t')
	b = append(b, v.body...)
	b = append(b, '\t')
	b = append(b, v.transmission...)
	b = append(b, '\t')
	b = append(b, v.drivetrain...)
	b = append(b, '\t')
	b = append(b, v.interiorColor...)
	b = append(b, '\t')
	if v.msrpCents == 0 {
		b = append(b, `\N`...)
	} else {
		b = strconv.AppendInt(b, v.msrpCents, 10)
	}
	b = append(b, '\t')
	b = v.appendDescription(b)
	b = append(b, '\t')
	b = v.appendFeatures(b)
	b = append(b, '\t')
	b = time.UnixMicro(v.inStockSince).UTC().AppendFormat(b, "2006-01-02 15:04:05.000000")
	return append(b, "+00"...)
}
