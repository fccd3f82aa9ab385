package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/embeddedpg"
	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/migrations"
)

// Losing PostgreSQL does not crash the server: requests fail with
// INTERNAL_SERVER_ERROR, /readyz turns 503 while /healthz stays 200, and
// when the database is back everything works again without a restart.
func TestDatabaseOutageAndRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a PostgreSQL cluster of its own")
	}
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	// As root the cluster runs as an unprivileged user, who must be able to enter the directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := embeddedpg.Options{DataDir: filepath.Join(dir, "postgres"), Ephemeral: true}
	cluster, err := embeddedpg.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = cluster.Stop(context.Background()) })
	admin, err := database.Open(cluster.URL("postgres"), database.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE carlot"); err != nil {
		t.Fatal(err)
	}
	_ = admin.Close()
	db, err := database.Open(cluster.URL("carlot"), database.Options{MaxOpenConns: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := migrations.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Run(ctx, db, seed.Options{Vehicles: 50}); err != nil {
		t.Fatal(err)
	}
	a := newTestAPIOn(t, db, testConfig(t, nil))
	const page = `{ vehicles(first: 3) { nodes { vin make { name } dealer { name } } totalCount } }`
	probe := func(path string) int {
		return a.send(httptest.NewRequest(http.MethodGet, path, nil)).status
	}

	a.mustQuery(page, nil)
	if s := probe("/readyz"); s != http.StatusOK {
		t.Fatalf("/readyz before the outage = %d", s)
	}

	port := cluster.Port()
	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		r := a.post(page, nil)
		if r.status != http.StatusOK || r.code() != "INTERNAL_SERVER_ERROR" || len(r.body.Errors) != 1 {
			t.Fatalf("during the outage: %d %s", r.status, r.raw)
		}
		for _, leak := range []string{"dial", "connect", "127.0.0.1", "SQLSTATE", "pgdriver"} {
			if strings.Contains(r.raw, leak) {
				t.Fatalf("the response leaks %q: %s", leak, r.raw)
			}
		}
	}
	if s := probe("/readyz"); s != http.StatusServiceUnavailable {
		t.Fatalf("/readyz during the outage = %d", s)
	}
	if s := probe("/healthz"); s != http.StatusOK {
		t.Fatalf("/healthz during the outage = %d", s)
	}

	opts.Port = port
	restarted, err := embeddedpg.Start(ctx, opts)
	if err != nil {
		t.Fatalf("restart PostgreSQL on port %d: %v", port, err)
	}
	t.Cleanup(func() { _ = restarted.Stop(context.Background()) })

	// The pool drops its dead connections and dials again by itself; poll
	// until it has (it normally takes one request), then everything works.
	deadline := time.Now().Add(30 * time.Second)
	for probe("/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not recover within 30s of the database's return")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 5 {
		a.mustQuery(page, nil)
	}
	if s := probe("/healthz"); s != http.StatusOK {
		t.Fatalf("/healthz after recovery = %d", s)
	}
	if strings.Contains(a.logs.String(), `"level":"ERROR","msg":"panic`) {
		t.Fatal("the outage caused a panic")
	}
}
