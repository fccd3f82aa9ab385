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
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

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

// lockWait bounds how long a migration waits for another replica's migration
// to finish before giving up.
const lockWait = 60 * time.Second

// NewMigrator returns a migrator that marks a migration applied only after it
// succeeded (bun's default marks it first, so a failed migration would look applied).
func NewMigrator(db *bun.DB) (*migrate.Migrator, error) {
	ms, err := All()
	if err != nil {
		return nil, err
	}
	return migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true)), nil
}

// Migrate applies every pending migration under bun's migration lock, so
// several replicas starting at once apply each migration exactly once. It
// returns the names of the migrations it applied.
func Migrate(ctx context.Context, db *bun.DB) ([]string, error) {
	m, err := NewMigrator(db)
	if err != nil {
		return nil, err
	}
	var applied []string
	err = withLock(ctx, m, func() error {
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

// Rollback undoes the most recently applied migration group and returns the
// names of the migrations it rolled back.
func Rollback(ctx context.Context, db *bun.DB) ([]string, error) {
	m, err := NewMigrator(db)
	if err != nil {
		return nil, err
	}
	var undone []string
	err = withLock(ctx, m, func() error {
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
	m, err := NewMigrator(db)
	if err != nil {
		return nil, err
	}
	if err := m.Init(ctx); err != nil {
		return nil, err
	}
	return m.MigrationsWithStatus(ctx)
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

// ErrLocked reports that another process held the migration lock for longer
// than we were willing to wait.
var ErrLocked = errors.New("another migration is in progress (bun_migration_locks is held); if no migration is running, a crashed one left the lock: delete its row")

func withLock(ctx context.Context, m *migrate.Migrator, fn func() error) error {
	if err := m.Init(ctx); err != nil {
		return err
	}
	deadline := time.Now().Add(lockWait)
	for m.Lock(ctx) != nil {
		if time.Now().After(deadline) {
			return ErrLocked
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	defer func() {
		// Unlock even when ctx was cancelled mid-migration: a leftover lock row would block every later migration.
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = m.Unlock(unlockCtx)
	}()
	return fn()
}
