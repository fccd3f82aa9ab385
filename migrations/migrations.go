// Package migrations holds Carlot's database schema as embedded SQL migrations
// and runs them with bun's migrator.
//
// Every migration is an up/down pair of transactional SQL files
// (NAME.tx.up.sql, NAME.tx.down.sql), so a failed migration leaves nothing
// half-applied. The binary carries them, so a deployed server needs no files
// beside it.
package migrations

import (
	"context"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var sqlFiles embed.FS

// Dir is where `server db create` writes new migrations, relative to the
// repository root.
const Dir = "migrations"

// All returns Carlot's migrations, read once from the embedded files.
var All = sync.OnceValues(func() (*migrate.Migrations, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(sqlFiles); err != nil {
		return nil, fmt.Errorf("embedded migrations: %w", err)
	}
	return ms, nil
})

// LockKey is the session-level PostgreSQL advisory lock (the ASCII of
// "carlotmg") that one migrator holds, on a connection of its own, while it
// creates the migration table and applies or rolls back migrations. PostgreSQL
// releases it when that session ends, however it ends: a migrator killed
// mid-migration leaves no lock behind, and its migration's transaction is
// rolled back.
const LockKey int64 = 0x6361726c6f746d67

// lockPoll is how often a migrator waiting for another one tries the lock.
const lockPoll = 100 * time.Millisecond

// newMigrator returns a migrator that marks a migration applied only after it
// succeeded (bun's default marks it first, so a failed migration would look
// applied). Before each migration runs, beforeEach is called inside the
// migration's transaction (nil: nothing).
func newMigrator(db *bun.DB, beforeEach migrate.MigrationHook) (*migrate.Migrator, error) {
	ms, err := All()
	if err != nil {
		return nil, err
	}
	opts := []migrate.MigratorOption{migrate.WithMarkAppliedOnSuccess(true)}
	if beforeEach != nil {
		opts = append(opts, migrate.BeforeMigration(beforeEach))
	}
	return migrate.NewMigrator(db, ms, opts...), nil
}

// Migrate applies every pending migration under the migration lock
// (LockKey), so several replicas starting at once on a fresh database apply
// each migration exactly once: the others wait, then find nothing to do. It
// returns the names of the migrations it applied.
func Migrate(ctx context.Context, db *bun.DB) ([]string, error) {
	var applied []string
	err := withLock(ctx, db, func(m *migrate.Migrator) error {
		group, err := m.Migrate(ctx)
		if group != nil {
			for _, mg := range group.Migrations {
				applied = append(applied, FullName(mg))
			}
		}
		return err
	})
	return applied, err
}

// Rollback undoes the most recently applied migration group, under the
// migration lock, and returns the names of the migrations it rolled back.
func Rollback(ctx context.Context, db *bun.DB) ([]string, error) {
	var undone []string
	err := withLock(ctx, db, func(m *migrate.Migrator) error {
		group, err := m.Rollback(ctx)
		if group != nil {
			for _, mg := range group.Migrations {
				undone = append(undone, FullName(mg))
			}
		}
		return err
	})
	return undone, err
}

// Status lists every known migration with whether it has been applied.
func Status(ctx context.Context, db *bun.DB) (migrate.MigrationSlice, error) {
	var ms migrate.MigrationSlice
	err := withLock(ctx, db, func(m *migrate.Migrator) error {
		var err error
		ms, err = m.MigrationsWithStatus(ctx)
		return err
	})
	return ms, err
}

// Pending returns how many migrations have not been applied yet. It only reads,
// so it suits a readiness probe; a database never migrated has them all pending.
func Pending(ctx context.Context, db bun.IDB) (int, error) {
	ms, err := All()
	if err != nil {
		return 0, err
	}
	var applied []string
	err = db.NewSelect().Table("bun_migrations").Column("name").Scan(ctx, &applied)
	if err != nil {
		var exists bool
		if e := db.NewSelect().ColumnExpr("to_regclass('bun_migrations') IS NOT NULL").Scan(ctx, &exists); e == nil && !exists {
			return len(ms.Sorted()), nil
		}
		return 0, err
	}
	done := make(map[string]bool, len(applied))
	for _, name := range applied {
		done[name] = true
	}
	pending := 0
	for _, mg := range ms.Sorted() {
		if !done[mg.Name] {
			pending++
		}
	}
	return pending, nil
}

// Create writes a new empty transactional up/down SQL pair for name into
// dir, stamped with now, and returns the paths written.
func Create(dir, name string, now time.Time) ([]string, error) {
	if !migrationName.MatchString(name) {
		return nil, fmt.Errorf("invalid name %q: use lowercase letters, digits and _", name)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("directory %q not found: run this from the repository root", dir)
	}
	base := filepath.Join(dir, now.UTC().Format("20060102150405")+"_"+name)
	var paths []string
	for _, part := range []struct{ suffix, comment string }{
		{".tx.up.sql", "-- Runs in a transaction: a failure applies nothing.\n"},
		{".tx.down.sql", "-- Undoes the up migration, also in a transaction.\n"},
	} {
		p := base + part.suffix
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return paths, err
		}
		_, err = f.WriteString(part.comment)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

var migrationName = regexp.MustCompile(`^[a-z0-9_]+$`)

// FullName is a migration's file name without its suffix: bun splits it
// into Name (the timestamp) and Comment.
func FullName(m migrate.Migration) string {
	if m.Comment == "" {
		return m.Name
	}
	return m.Name + "_" + m.Comment
}

// withLock runs fn with a migrator while this process holds the migration
// lock on a connection of its own. The migration table is created under the
// lock too, so concurrent migrators on a fresh database never race to create
// it. Each migration checks, in its own transaction, that the lock's session
// is still alive; if it died, the migration is refused rather than run
// unguarded. The lock's connection is closed at the end rather than returned
// to the pool, which releases the lock whatever happened.
func withLock(ctx context.Context, db *bun.DB, fn func(*migrate.Migrator) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// Ending the session releases its advisory lock; a pooled connection
		// would keep it. pgx's database/sql adapter over a pool hands a
		// discarded connection back to the pool, so close the session itself.
		_ = conn.Raw(func(dc any) error {
			if c, ok := dc.(interface{ Conn() *pgx.Conn }); ok {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				_ = c.Conn().Close(ctx)
			}
			return driver.ErrBadConn
		})
		_ = conn.Close()
	}()
	var pid int
	for {
		var locked bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?), pg_backend_pid()", LockKey).Scan(&locked, &pid); err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
		if locked {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for another migration to finish: %w", ctx.Err())
		case <-time.After(lockPoll):
		}
	}
	m, err := newMigrator(db, func(ctx context.Context, tx bun.IConn, mg *migrate.Migration) error {
		return checkLockHeld(ctx, tx, pid)
	})
	if err != nil {
		return err
	}
	if _, err := db.NewCreateTable().Model((*migrate.Migration)(nil)).
		ModelTableExpr(migrationsTable).IfNotExists().Exec(ctx); err != nil {
		return fmt.Errorf("create %s: %w", migrationsTable, err)
	}
	return fn(m)
}

// migrationsTable is where bun records applied migrations.
const migrationsTable = "bun_migrations"

// errLockLost refuses a migration whose lock's session has ended, since
// another migrator may now hold the lock.
var errLockLost = errors.New("the migration lock's database session ended; run the migration again")

// checkLockHeld reports errLockLost unless the session pid still holds the
// migration lock.
func checkLockHeld(ctx context.Context, db bun.IConn, pid int) error {
	var held bool
	err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
		WHERE locktype = 'advisory' AND pid = ? AND granted AND objsubid = 1
		  AND classid::int8 = ? AND objid::int8 = ?)`,
		pid, uint64(LockKey)>>32, uint64(LockKey)&0xffffffff).Scan(&held)
	if err != nil {
		return err
	}
	if !held {
		return errLockLost
	}
	return nil
}
