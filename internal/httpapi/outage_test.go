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

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/embeddedpg"
	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/migrations"
	"github.com/uptrace/bun"
)

// Losing PostgreSQL does not crash the server: requests fail with
// INTERNAL_SERVER_ERROR, /readyz turns 503 while /healthz stays 200, and
// when the database is back everything works again without a restart.
func TestDatabaseOutageAndRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a PostgreSQL cluster of its own")
	}
	t.Parallel()
	o := startOutageCluster(t, seed.Options{Vehicles: 50})
	a := newTestAPIOn(t, o.db, apitest.Config(t, nil))
	const page = `{ vehicles(first: 3) { nodes { vin make { name } dealer { name } } totalCount } }`
	probe := func(path string) int {
		return a.Send(httptest.NewRequest(http.MethodGet, path, nil)).Status
	}

	a.MustQuery(page, nil)
	if s := probe("/readyz"); s != http.StatusOK {
		t.Fatalf("/readyz before the outage = %d", s)
	}

	o.stop()
	for range 3 {
		r := a.Post(page, nil)
		if r.Status != http.StatusOK || r.Code() != "INTERNAL_SERVER_ERROR" || len(r.Errors) != 1 {
			t.Fatalf("during the outage: %d %s", r.Status, r.Raw)
		}
		for _, leak := range []string{"dial", "connect", "127.0.0.1", "SQLSTATE", "pgdriver"} {
			if strings.Contains(r.Raw, leak) {
				t.Fatalf("the response leaks %q: %s", leak, r.Raw)
			}
		}
	}
	if s := probe("/readyz"); s != http.StatusServiceUnavailable {
		t.Fatalf("/readyz during the outage = %d", s)
	}
	if s := probe("/healthz"); s != http.StatusOK {
		t.Fatalf("/healthz during the outage = %d", s)
	}

	o.restart()

	// The pool drops its dead connections and dials again by itself; poll
	// until it has (it normally takes one request), then everything works.
	apitest.Eventually(t, func() bool { return probe("/readyz") == http.StatusOK }, 30*time.Second, "/readyz recovered after the database's return")
	for range 5 {
		a.MustQuery(page, nil)
	}
	if s := probe("/healthz"); s != http.StatusOK {
		t.Fatalf("/healthz after recovery = %d", s)
	}
	if strings.Contains(a.Logs.String(), `"level":"ERROR","msg":"panic`) {
		t.Fatal("the outage caused a panic")
	}
}

// outageCluster is a PostgreSQL cluster of the test's own, which it can stop
// and start again on the same port, with a migrated and seeded database.
type outageCluster struct {
	t       *testing.T
	opts    embeddedpg.Options
	cluster *embeddedpg.Cluster
	db      *bun.DB
}

func startOutageCluster(t *testing.T, seedOpts seed.Options) *outageCluster {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	// As root the cluster runs as an unprivileged user, who must be able to enter the directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	o := &outageCluster{t: t, opts: embeddedpg.Options{DataDir: filepath.Join(dir, "postgres"), Ephemeral: true}}
	var err error
	if o.cluster, err = embeddedpg.Start(ctx, o.opts); err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = o.cluster.Stop(context.Background()) })
	admin, err := database.Open(o.cluster.URL("postgres"), database.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE carlot"); err != nil {
		t.Fatal(err)
	}
	_ = admin.Close()
	if o.db, err = database.Open(o.cluster.URL("carlot"), database.Options{MaxOpenConns: 5}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.db.Close() })
	if _, err := migrations.Migrate(ctx, o.db); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Run(ctx, o.db, seedOpts); err != nil {
		t.Fatal(err)
	}
	return o
}

// stop takes the database away.
func (o *outageCluster) stop() {
	o.t.Helper()
	o.opts.Port = o.cluster.Port()
	if err := o.cluster.Stop(o.t.Context()); err != nil {
		o.t.Fatal(err)
	}
}

// restart brings it back on the same port.
func (o *outageCluster) restart() {
	o.t.Helper()
	restarted, err := embeddedpg.Start(o.t.Context(), o.opts)
	if err != nil {
		o.t.Fatalf("restart PostgreSQL on port %d: %v", o.opts.Port, err)
	}
	o.cluster = restarted
}
