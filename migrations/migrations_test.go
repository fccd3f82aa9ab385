package migrations_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/migrations"
	"github.com/uptrace/bun"
)

// migrateChildURL, when set, makes the test binary a migrator process that
// the lock tests kill (see TestKilledMigrationLeavesNothingToCleanUp).
const migrateChildURL = "CARLOT_TEST_MIGRATE_CHILD_URL"

func TestMain(m *testing.M) {
	if u := os.Getenv(migrateChildURL); u != "" {
		os.Exit(migrateChild(u))
	}
	os.Exit(testdb.Main(m))
}

// migrateChild migrates the database at dsn and reports like `server db migrate`.
func migrateChild(dsn string) int {
	db, err := database.Open(dsn, database.Options{MaxOpenConns: 4, ApplicationName: "carlot-migrate-child"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	if _, err := migrations.Migrate(context.Background(), db); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func openPool(t *testing.T, dsn, name string) *bun.DB {
	t.Helper()
	db, err := database.Open(dsn, database.Options{MaxOpenConns: 4, ApplicationName: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func allNames(t *testing.T) []string {
	t.Helper()
	ms, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms.Sorted() {
		names = append(names, migrations.FullName(m))
	}
	return names
}

// checkMigratedOnce fails unless every migration is recorded exactly once and
// bun's lock table was never created.
func checkMigratedOnce(t *testing.T, ctx context.Context, db *bun.DB) {
	t.Helper()
	var recorded []string
	if err := db.NewSelect().Table("bun_migrations").Column("name").Order("name").Scan(ctx, &recorded); err != nil {
		t.Fatal(err)
	}
	if want := len(allNames(t)); len(recorded) != want {
		t.Errorf("bun_migrations holds %d rows %v, want %d", len(recorded), recorded, want)
	}
	if n, err := migrations.Pending(ctx, db); err != nil || n != 0 {
		t.Errorf("pending after migrate: %d, %v", n, err)
	}
	var lockTable bool
	if err := db.NewSelect().ColumnExpr("to_regclass('bun_migration_locks') IS NOT NULL").Scan(ctx, &lockTable); err != nil {
		t.Fatal(err)
	}
	if lockTable {
		t.Error("bun_migration_locks exists: the migration lock is a table row again")
	}
}

func TestConcurrentMigratorsOnAFreshDatabaseAllSucceed(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dsn := testdb.URL(t, testdb.Blank)

	const runners = 6
	pools := make([]*bun.DB, runners)
	for i := range pools {
		pools[i] = openPool(t, dsn, fmt.Sprintf("carlot-migrate-%d", i))
		if err := pools[i].PingContext(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		mu      sync.Mutex
		applied []string
		errs    []error
	)
	for i := range pools {
		wg.Go(func() {
			<-start
			names, err := migrations.Migrate(ctx, pools[i])
			mu.Lock()
			defer mu.Unlock()
			applied = append(applied, names...)
			if err != nil {
				errs = append(errs, fmt.Errorf("migrator %d: %w", i, err))
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	sort.Strings(applied)
	if want := allNames(t); fmt.Sprint(applied) != fmt.Sprint(want) {
		t.Errorf("applied across all migrators: %v, want each migration once: %v", applied, want)
	}
	checkMigratedOnce(t, ctx, pools[0])
}

// stallFirstMigration makes the first migration's first CREATE TABLE wait:
// it creates that table in a transaction it keeps open until release.
func stallFirstMigration(t *testing.T, ctx context.Context, db *bun.DB) (release func()) {
	t.Helper()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE makes (id int)"); err != nil {
		t.Fatal(err)
	}
	return func() { _ = tx.Rollback() }
}

// waitForBlockedMigration polls until a backend of application app waits on
// a lock, which is the migration stalled by stallFirstMigration.
func waitForBlockedMigration(t *testing.T, ctx context.Context, db *bun.DB, app string) {
	t.Helper()
	if !apitest.Poll(ctx, func() bool {
		var waiting bool
		err := db.NewSelect().ColumnExpr(`EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE application_name = ? AND datname = current_database() AND wait_event_type = 'Lock')`, app).
			Scan(ctx, &waiting)
		if err != nil {
			t.Fatal(err)
		}
		return waiting
	}) {
		t.Fatal("the migrator never reached its first migration")
	}
}

func TestKilledMigrationLeavesNothingToCleanUp(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dsn := testdb.URL(t, testdb.Blank)
	db := openPool(t, dsn, "carlot-test")

	release := stallFirstMigration(t, ctx, db)
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), migrateChildURL+"="+dsn)
	if err := child.Start(); err != nil {
		release()
		t.Fatal(err)
	}
	waitForBlockedMigration(t, ctx, db, "carlot-migrate-child")
	// The migrator dies mid-migration, as under kill -9: nothing of it runs again.
	_ = child.Process.Kill()
	_ = child.Wait()
	release()

	// A bound only so that a regression fails rather than hangs; the lock is
	// free as soon as PostgreSQL has seen the session end.
	next, cancelNext := context.WithTimeout(ctx, 30*time.Second)
	defer cancelNext()
	applied, err := migrations.Migrate(next, db)
	if err != nil {
		t.Fatalf("migrate after a killed migrator: %v", err)
	}
	if fmt.Sprint(applied) != fmt.Sprint(allNames(t)) {
		t.Errorf("applied %v, want %v", applied, allNames(t))
	}
	checkMigratedOnce(t, ctx, db)
}

func TestMigrationLockOfATerminatedSessionIsReleased(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dsn := testdb.URL(t, testdb.Blank)
	db := openPool(t, dsn, "carlot-test")
	holder := openPool(t, dsn, "carlot-lock-holder")

	// Another migrator's session holds the lock…
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid() FROM (SELECT pg_advisory_lock(?)) AS l", migrations.LockKey).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := migrations.Migrate(ctx, db)
		done <- err
	}()
	// …until it dies.
	if _, err := db.ExecContext(ctx, "SELECT pg_terminate_backend(?)", pid); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("migrate after the lock holder died: %v", err)
	}
	checkMigratedOnce(t, ctx, db)
}

func TestMigrationWhoseLockSessionDiedIsNotRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dsn := testdb.URL(t, testdb.Blank)
	db := openPool(t, dsn, "carlot-test")
	migrator := openPool(t, dsn, "carlot-migrator")

	release := stallFirstMigration(t, ctx, db)
	done := make(chan error, 1)
	go func() {
		_, err := migrations.Migrate(ctx, migrator)
		done <- err
	}()
	waitForBlockedMigration(t, ctx, db, "carlot-migrator")
	// The session holding the lock dies while the first migration runs: the
	// first finishes (it began under the lock), the second must not start.
	if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND objid::int8 = ? AND granted
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		uint64(migrations.LockKey)&0xffffffff); err != nil {
		t.Fatal(err)
	}
	release()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "lock") {
		t.Fatalf("migrate went on after its lock was lost: %v", err)
	}
	var applied []string
	if err := db.NewSelect().Table("bun_migrations").Column("name").Scan(ctx, &applied); err != nil {
		t.Fatal(err)
	}
	if len(applied) >= len(allNames(t)) {
		t.Errorf("every migration ran although the lock was lost: %v", applied)
	}
	if _, err := migrations.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	checkMigratedOnce(t, ctx, db)
}

// The dealer contact details roll back on their own, as after the deploy
// that brought them, leaving every dealer as it was before; migrating again
// restores the columns and their checks.
func TestDealerContactDetailsRollBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t, testdb.Empty)
	exec := func(q string, args ...any) error {
		_, err := db.ExecContext(ctx, q, args...)
		return err
	}
	columns := func() []string {
		t.Helper()
		var cols []string
		if err := db.NewRaw(`SELECT column_name FROM information_schema.columns
			WHERE table_name = 'dealers' AND column_name IN ('latitude', 'longitude', 'postal_code', 'phone', 'website')
			ORDER BY column_name`).Scan(ctx, &cols); err != nil {
			t.Fatal(err)
		}
		return cols
	}
	if err := exec(`INSERT INTO dealers (name, city, latitude, longitude, postal_code, phone, website)
		VALUES ('Harbour Cars', 'Halifax', 44.6488, -63.5752, 'B3H 1A1', '+1 902 555 0142', 'https://harbour-cars.example/')`); err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]string{
		"latitude out of range":      `INSERT INTO dealers (name, city, latitude, longitude) VALUES ('x', 'y', 91, 0)`,
		"longitude out of range":     `INSERT INTO dealers (name, city, latitude, longitude) VALUES ('x', 'y', 0, -181)`,
		"latitude without longitude": `INSERT INTO dealers (name, city, latitude) VALUES ('x', 'y', 45)`,
		"long postal code":           `INSERT INTO dealers (name, city, postal_code) VALUES ('x', 'y', '12345678901234567')`,
		"phone with letters":         `INSERT INTO dealers (name, city, phone) VALUES ('x', 'y', 'call me')`,
		"phone with four digits":     `INSERT INTO dealers (name, city, phone) VALUES ('x', 'y', '+1 234')`,
		"website not http":           `INSERT INTO dealers (name, city, website) VALUES ('x', 'y', 'ftp://lot.example/')`,
	} {
		if err := exec(q); err == nil {
			t.Errorf("%s: the database accepted it", name)
		}
	}

	// As if the migration had come with a later deploy than the others.
	if err := exec(`UPDATE bun_migrations SET group_id = group_id + 1 WHERE name = '20260301000001'`); err != nil {
		t.Fatal(err)
	}
	undone, err := migrations.Rollback(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"20260301000001_dealer_contact"}; strings.Join(undone, ",") != strings.Join(want, ",") {
		t.Fatalf("rolled back %v, want %v", undone, want)
	}
	if cols := columns(); len(cols) != 0 {
		t.Fatalf("after rollback dealers still has %v", cols)
	}
	var name string
	if err := db.NewRaw(`SELECT name FROM dealers`).Scan(ctx, &name); err != nil || name != "Harbour Cars" {
		t.Fatalf("after rollback the dealer is %q (%v)", name, err)
	}

	if _, err := migrations.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if cols := columns(); len(cols) != 5 {
		t.Fatalf("after migrating again dealers has %v", cols)
	}
	if err := exec(`INSERT INTO dealers (name, city, latitude) VALUES ('x', 'y', 45)`); err == nil {
		t.Fatal("after migrating again the coordinates check is gone")
	}
}

// The listing details and their indexes roll back on their own, leaving
// every vehicle as it was; migrating again restores them, with the stock
// number unique on its dealer's lot in any letter case.
func TestVehicleListingRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t, testdb.Empty)
	exec := func(q string, args ...any) error {
		_, err := db.ExecContext(ctx, q, args...)
		return err
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.NewRaw(q).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const listingColumns = `SELECT count(*) FROM information_schema.columns WHERE table_name = 'vehicles'
		AND column_name IN ('stock_number', 'condition', 'trim', 'body_style', 'transmission', 'drivetrain',
		'interior_color', 'msrp_cents', 'description', 'features', 'in_stock_since')`
	const listingIndexes = `SELECT count(*) FROM pg_indexes WHERE tablename = 'vehicles' AND indexname IN
		('vehicles_dealer_stock_number', 'vehicles_trim_trgm_idx', 'vehicles_stock_number_trgm_idx',
		 'vehicles_condition_created_at_id_idx', 'vehicles_body_style_created_at_id_idx')`
	insert := func(vin, stock string) error {
		return exec(`INSERT INTO vehicles (vin, make_id, model_id, dealer_id, year, mileage_km, price_cents, fuel, status, stock_number)
			SELECT ?, md.make_id, md.id, d.id, 2020, 0, 100, 'GASOLINE', 'AVAILABLE', ? FROM models md, dealers d LIMIT 1`, vin, stock)
	}
	for _, q := range []string{
		`INSERT INTO makes (name) VALUES ('Toyota')`,
		`INSERT INTO models (make_id, name) SELECT id, 'Corolla' FROM makes`,
		`INSERT INTO dealers (name, city) VALUES ('Harbour Cars', 'Halifax')`,
	} {
		if err := exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := insert("1HGCM82633A004352", "U-100"); err != nil {
		t.Fatal(err)
	}
	if err := insert("1HGCM82633A004353", "u-100"); err == nil {
		t.Fatal("a stock number in another letter case was accepted on the same lot")
	}
	if got := count(listingColumns); got != 11 {
		t.Fatalf("%d listing columns", got)
	}
	if got := count(listingIndexes); got != 5 {
		t.Fatalf("%d listing indexes", got)
	}

	// As if both migrations had come with a later deploy than the others.
	if err := exec(`UPDATE bun_migrations SET group_id = group_id + 1 WHERE name IN ('20260401000001', '20260401000002')`); err != nil {
		t.Fatal(err)
	}
	undone, err := migrations.Rollback(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(undone)
	if want := []string{"20260401000001_vehicle_listing", "20260401000002_vehicle_listing_indexes"}; !slices.Equal(undone, want) {
		t.Fatalf("rolled back %v, want %v", undone, want)
	}
	if got := count(listingColumns) + count(listingIndexes); got != 0 {
		t.Fatalf("after rollback %d listing columns and indexes remain", got)
	}
	if got := count(`SELECT count(*) FROM vehicles WHERE vin = '1HGCM82633A004352'`); got != 1 {
		t.Fatal("the vehicle is gone after rollback")
	}

	if _, err := migrations.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if got := count(listingColumns); got != 11 {
		t.Fatalf("after migrating again %d listing columns", got)
	}
	if got := count(listingIndexes); got != 5 {
		t.Fatalf("after migrating again %d listing indexes", got)
	}
	if got := count(`SELECT count(*) FROM vehicles WHERE condition = 'USED' AND features = '{}' AND in_stock_since = created_at`); got != 1 {
		t.Fatal("the existing vehicle did not get the defaults")
	}
}

// The distance index and the facet rollup roll back cleanly, leaving
// vehicles writable, and come back with the next migrate.
func TestDistanceAndFacetRollupRollBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t, testdb.Empty)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	objects := func() []string {
		t.Helper()
		var names []string
		if err := db.NewRaw(`SELECT relname::text FROM pg_class WHERE relname IN ('dealers_earth_idx', 'vehicles_dealer_id_id_idx', 'vehicle_facet_rollup', 'vehicle_facet_total_rollup', 'vehicle_total_rollup')
			UNION ALL SELECT tgname::text FROM pg_trigger WHERE tgname LIKE 'vehicle_facet_rollup%' ORDER BY 1`).Scan(ctx, &names); err != nil {
			t.Fatal(err)
		}
		return names
	}
	if got := objects(); len(got) != 9 {
		t.Fatalf("after migrating: %v", got)
	}
	// As if the two had come with a later deploy than the others.
	exec(`UPDATE bun_migrations SET group_id = group_id + 1 WHERE name IN ('20260401000003', '20260401000005')`)
	undone, err := migrations.Rollback(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(undone)
	if want := []string{"20260401000003_vehicle_distance", "20260401000005_vehicle_facet_rollup"}; strings.Join(undone, ",") != strings.Join(want, ",") {
		t.Fatalf("rolled back %v, want %v", undone, want)
	}
	if got := objects(); len(got) != 0 {
		t.Fatalf("after rollback: %v", got)
	}
	var listingColumns int
	if err := db.NewRaw(`SELECT count(*) FROM information_schema.columns
		WHERE table_name IN ('vehicle_rollup', 'vehicle_color_rollup') AND column_name IN ('condition', 'body_style', 'trim')`).Scan(ctx, &listingColumns); err != nil || listingColumns != 0 {
		t.Fatalf("after rollback the vehicle rollups keep %d listing columns (%v)", listingColumns, err)
	}
	exec(`INSERT INTO makes (name) VALUES ('Saab')`)
	exec(`INSERT INTO models (make_id, name) SELECT id, '900' FROM makes`)
	exec(`INSERT INTO dealers (name, city, latitude, longitude) VALUES ('Harbour Cars', 'Halifax', 44.6488, -63.5752)`)
	exec(`INSERT INTO vehicles (vin, make_id, model_id, dealer_id, year, mileage_km, price_cents, fuel)
		SELECT 'YS3AK35E7M1000001', md.make_id, md.id, d.id, 1991, 1000, 500000, 'GASOLINE' FROM models md, dealers d`)

	if _, err := migrations.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if got := objects(); len(got) != 9 {
		t.Fatalf("after migrating again: %v", got)
	}
	var rolled int
	if err := db.NewRaw(`SELECT coalesce(sum(vehicles), 0) FROM vehicle_facet_rollup WHERE facet = 'year'`).Scan(ctx, &rolled); err != nil || rolled != 1 {
		t.Fatalf("the facet rollup counts %d vehicles after migrating again, want the 1 there (%v)", rolled, err)
	}
	// The vehicle written while rolled back is in every rollup's new groups.
	for table, where := range map[string]string{
		"vehicle_rollup":             "condition = 'USED' AND body_style = ''",
		"vehicle_total_rollup":       "condition = 'USED' AND body_style = ''",
		"vehicle_color_rollup":       "color = '' AND trim = ''",
		"vehicle_facet_total_rollup": "facet = 'price' AND value = 10 AND condition = 'USED'",
	} {
		if err := db.NewRaw(`SELECT coalesce(sum(vehicles), 0) FROM `+table+` WHERE `+where).Scan(ctx, &rolled); err != nil || rolled != 1 {
			t.Fatalf("%s counts %d vehicles where %s after migrating again, want 1 (%v)", table, rolled, where, err)
		}
	}
}
