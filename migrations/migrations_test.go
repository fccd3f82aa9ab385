package migrations_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
