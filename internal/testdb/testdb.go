// Package testdb gives each test its own real PostgreSQL database, fast.
//
// A test package's TestMain calls Main, which starts a throwaway cluster
// (or uses the server in TEST_DATABASE_URL) for the package. The first test
// that asks for a template builds it once: Empty is migrated, Seeded is
// migrated and loaded with the deterministic demo data. Every New then clones
// a template with CREATE DATABASE … TEMPLATE, which copies files instead of
// replaying work, and drops the clone when the test ends. Tests therefore
// never share state and may run in parallel.
//
// Seeded also holds the demo accounts, all with the password Password: the
// ADMIN AdminEmail and one STAFF user per dealer (seed.StaffEmail).
package testdb

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/embeddedpg"
	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/migrations"
	"github.com/uptrace/bun"
)

// Template is the starting state of a test database.
type Template int

// The templates.
const (
	// Empty is migrated and holds no rows.
	Empty Template = iota
	// Seeded holds the demo data: SeedVehicles vehicles, dealers, makes,
	// models and the demo accounts (password Password).
	Seeded
	// Blank is a new database: not even migrated.
	Blank
)

// SeedVehicles is how many vehicles the Seeded template holds.
const SeedVehicles = 1000

// Password is the password of every demo account in the Seeded template.
const Password = "carlot-test-password"

// AdminEmail is the Seeded template's ADMIN account.
const AdminEmail = seed.AdminEmail

var (
	baseURL   string  // the server, with any database in the path
	admin     *bun.DB // connection to the maintenance database, for CREATE/DROP DATABASE
	prefix    string  // unique per test binary, so packages can share one server
	counter   atomic.Int64
	templates [3]struct {
		once sync.Once
		name string
		err  error
	}
)

// Main runs the package's tests with a database server available and returns
// the exit code: func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }.
func Main(m *testing.M) int {
	ctx := context.Background()
	prefix = fmt.Sprintf("carlot_t%d_%04x", os.Getpid(), rand.Uint32N(1<<16))
	stop, err := startServer(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	code := m.Run()
	for i := range templates {
		if templates[i].name != "" {
			_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS ? WITH (FORCE)", bun.Ident(templates[i].name))
		}
	}
	_ = admin.Close()
	stop()
	return code
}

func startServer(ctx context.Context) (stop func(), err error) {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		baseURL = u
		admin, err = database.Open(u, database.Options{MaxOpenConns: 4, ApplicationName: "carlot-test"})
		if err != nil {
			return nil, err
		}
		if err := database.Ping(ctx, admin); err != nil {
			return nil, fmt.Errorf("TEST_DATABASE_URL is not reachable: %w", err)
		}
		return func() {}, nil
	}
	dir, err := os.MkdirTemp("", "carlot-test-")
	if err != nil {
		return nil, err
	}
	// As root the cluster runs as an unprivileged user, who must be able to enter the directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	cluster, err := embeddedpg.Start(ctx, embeddedpg.Options{
		DataDir:   filepath.Join(dir, "postgres"),
		Ephemeral: true,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	baseURL = cluster.URL("postgres")
	admin, err = database.Open(baseURL, database.Options{MaxOpenConns: 4, ApplicationName: "carlot-test"})
	if err != nil {
		return nil, err
	}
	return func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = cluster.Stop(stopCtx)
		_ = os.RemoveAll(dir)
	}, nil
}

// URL returns the URL of a fresh database cloned from tpl; it is dropped when
// the test ends. Use it to start a whole server against the database.
func URL(t testing.TB, tpl Template) string {
	t.Helper()
	if admin == nil {
		t.Fatal("testdb: TestMain must call testdb.Main")
	}
	src, err := template(tpl)
	if err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	name := fmt.Sprintf("%s_%d", prefix, counter.Add(1))
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE ? TEMPLATE ?", bun.Ident(name), bun.Ident(src)); err != nil {
		t.Fatalf("testdb: clone: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS ? WITH (FORCE)", bun.Ident(name)); err != nil {
			t.Errorf("testdb: drop %s: %v", name, err)
		}
	})
	return withDatabase(baseURL, name)
}

// New returns a connection pool to a fresh database cloned from tpl. The pool
// is closed and the database dropped when the test ends.
func New(t testing.TB, tpl Template) *bun.DB {
	t.Helper()
	db, err := database.Open(URL(t, tpl), database.Options{MaxOpenConns: 10, ApplicationName: "carlot-test"})
	if err != nil {
		t.Fatalf("testdb: open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() }) // runs before the drop registered by URL
	return db
}

// template builds tpl once per test binary and returns its database name.
func template(tpl Template) (string, error) {
	tp := &templates[tpl]
	tp.once.Do(func() {
		ctx := context.Background()
		name := fmt.Sprintf("%s_tpl%d", prefix, tpl)
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE ?", bun.Ident(name)); err != nil {
			tp.err = err
			return
		}
		tp.name = name
		db, err := database.Open(withDatabase(baseURL, name), database.Options{MaxOpenConns: 4})
		if err != nil {
			tp.err = err
			return
		}
		defer db.Close()
		if tpl == Blank {
			return
		}
		if _, err := migrations.Migrate(ctx, db); err != nil {
			tp.err = fmt.Errorf("migrate: %w", err)
			return
		}
		if tpl == Seeded {
			if _, err := seed.Run(ctx, db, seed.Options{Vehicles: SeedVehicles, Password: Password}); err != nil {
				tp.err = fmt.Errorf("seed: %w", err)
				return
			}
		}
	})
	return tp.name, tp.err
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}
