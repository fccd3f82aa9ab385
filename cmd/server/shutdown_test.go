package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/uptrace/bun"
)

// holdVehicles locks the vehicles table from another connection, so a
// request reading it stays in flight until release.
func holdVehicles(t *testing.T, url string) (db *bun.DB, release func()) {
	t.Helper()
	db, err := database.Open(url, database.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(t.Context(), "LOCK TABLE vehicles IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	return db, func() { _ = tx.Rollback() }
}

// waitForBlockedQuery polls until a carlot connection waits for a lock.
func waitForBlockedQuery(t *testing.T, db *bun.DB) {
	t.Helper()
	apitest.Eventually(t, func() bool {
		var waiting int
		err := db.NewRaw(`SELECT count(*) FROM pg_stat_activity
			WHERE application_name = 'carlot' AND wait_event_type = 'Lock'`).Scan(t.Context(), &waiting)
		if err != nil {
			t.Fatal(err)
		}
		return waiting > 0
	}, 30*time.Second, "the request reached the database")
}

func postVehicles(base string) (int, string, error) {
	resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{ vehicles(first: 2) { nodes { vin } } }"}`))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// On SIGTERM the server stops accepting connections, lets the request in
// flight finish, and returns.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	url := testdb.URL(t, testdb.Seeded)
	base, stop := startServer(t, map[string]string{"DATABASE_URL": url, "SHUTDOWN_TIMEOUT": "30s"})
	db, release := holdVehicles(t, url)

	type result struct {
		status int
		body   string
		err    error
	}
	inFlight := make(chan result, 1)
	go func() {
		s, b, err := postVehicles(base)
		inFlight <- result{s, b, err}
	}()
	waitForBlockedQuery(t, db)

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()

	// New connections are refused once shutdown has begun...
	addr := strings.TrimPrefix(base, "http://")
	apitest.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		_ = c.Close()
		return false
	}, 30*time.Second, "the server refuses connections after SIGTERM")
	select {
	case err := <-stopped:
		t.Fatalf("run returned (%v) while a request was in flight", err)
	default:
	}

	// ...and the one in flight completes normally.
	release()
	r := <-inFlight
	if r.err != nil || r.status != http.StatusOK || !strings.Contains(r.body, "vin") {
		t.Fatalf("in-flight request: %v %d %s", r.err, r.status, r.body)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run after SIGTERM: %v", err)
	}
}

// A request that does not finish within SHUTDOWN_TIMEOUT does not keep the
// process alive: run returns an error once the timeout has passed.
func TestShutdownGivesUpAfterTheTimeout(t *testing.T) {
	t.Parallel()
	url := testdb.URL(t, testdb.Seeded)
	base, stop := startServer(t, map[string]string{"DATABASE_URL": url, "SHUTDOWN_TIMEOUT": "500ms", "REQUEST_TIMEOUT": "1m"})
	db, release := holdVehicles(t, url)
	defer release()

	go func() { _, _, _ = postVehicles(base) }()
	waitForBlockedQuery(t, db)
	start := time.Now()
	err := stop()
	if err == nil || !strings.Contains(err.Error(), "did not finish within 500ms") {
		t.Fatalf("run = %v, want the shutdown timeout", err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("run took %v to give up with SHUTDOWN_TIMEOUT=500ms", took)
	}
}
