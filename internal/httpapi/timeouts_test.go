package httpapi

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/uptrace/bun"
)

// lockVehicles holds an exclusive lock on the vehicles table from another
// connection until the test ends or release is called, so any query on it
// waits.
func lockVehicles(t *testing.T, db *bun.DB) (release func()) {
	t.Helper()
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(t.Context(), "LOCK TABLE vehicles IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

// Both deadlines end a query stuck behind a lock with INTERNAL_SERVER_ERROR:
// REQUEST_TIMEOUT through the request's context, DB_STATEMENT_TIMEOUT in
// PostgreSQL itself.
func TestDeadlines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"REQUEST_TIMEOUT", map[string]string{"REQUEST_TIMEOUT": "300ms", "DB_STATEMENT_TIMEOUT": "1m"}},
		{"DB_STATEMENT_TIMEOUT", map[string]string{"REQUEST_TIMEOUT": "1m", "DB_STATEMENT_TIMEOUT": "300ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := apitest.Config(t, tc.env)
			url := testdb.URL(t, testdb.Seeded)
			db, err := database.Open(url, database.Options{StatementTimeout: cfg.StatementTimeout})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			a := newTestAPIOn(t, db, cfg)
			locker, err := database.Open(url, database.Options{MaxOpenConns: 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = locker.Close() })
			release := lockVehicles(t, locker)

			done := make(chan apitest.Response, 1)
			go func() { done <- a.Post(`{ vehicles(first: 1) { nodes { vin } } }`, nil) }()
			var r apitest.Response
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the request is still waiting after 30s")
			}
			if r.Status != http.StatusOK || r.Code() != "INTERNAL_SERVER_ERROR" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			if strings.Contains(r.Raw, "statement") || strings.Contains(r.Raw, "timeout") || strings.Contains(r.Raw, "SQLSTATE") {
				t.Fatalf("the driver's message reached the client: %s", r.Raw)
			}
			release()
			a.MustQuery(`{ vehicles(first: 1) { nodes { vin } } }`, nil)
		})
	}
}

// A hundred clients that send half a request and stall hold a goroutine
// each, not the server: a normal request is answered at once, and the
// stalled connections are closed after READ_HEADER_TIMEOUT (headers) or the
// read timeout (bodies).
func TestStalledClientsDoNotStallOthers(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Seeded, map[string]string{"READ_HEADER_TIMEOUT": "1s", "REQUEST_TIMEOUT": "1s"})
	srv := NewServer(a.Config, a.Handler, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := ln.Addr().String()

	const stalled = 100
	conns := make([]net.Conn, 0, stalled)
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	for i := range stalled {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		half := "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: applic" // headers cut short
		if i%2 == 1 {
			half = "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":" // body cut short
		}
		if _, err := io.WriteString(c, half); err != nil {
			t.Fatal(err)
		}
	}

	client := &http.Client{Timeout: 5 * time.Second}
	start := time.Now()
	resp, err := client.Post("http://"+addr+"/graphql", "application/json", strings.NewReader(`{"query":"{ vehicles(first: 5) { nodes { vin } } }"}`))
	if err != nil {
		t.Fatalf("a normal request beside %d stalled clients: %v", stalled, err)
	}
	body := readAll(t, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "vin") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	t.Logf("answered in %v beside %d stalled clients", time.Since(start), stalled)

	// The server hangs up on every stalled client by itself.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []int
	for i, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, err := io.Copy(io.Discard, bufio.NewReader(c)) // returns when the server closes the connection
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				mu.Lock()
				open = append(open, i)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(open) > 0 {
		t.Fatalf("%d stalled connections still open after 20s (first: %d)", len(open), open[0])
	}
}

// A request that runs out of time has PostgreSQL cancel its statement
// rather than leave it waiting behind the lock until DB_STATEMENT_TIMEOUT.
func TestTimedOutRequestCancelsItsStatement(t *testing.T) {
	t.Parallel()
	cfg := apitest.Config(t, map[string]string{"REQUEST_TIMEOUT": "300ms", "DB_STATEMENT_TIMEOUT": "10m"})
	url := testdb.URL(t, testdb.Seeded)
	db, err := database.Open(url, database.Options{StatementTimeout: cfg.StatementTimeout, ApplicationName: "carlot-timeout-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	a := newTestAPIOn(t, db, cfg)
	locker, err := database.Open(url, database.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = locker.Close() })
	lockVehicles(t, locker)

	if r := a.Post(`{ vehicles(first: 1) { nodes { vin } } }`, nil); r.Code() != "INTERNAL_SERVER_ERROR" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	waiting := func() int {
		var n int
		err := locker.NewRaw(`SELECT count(*) FROM pg_stat_activity
			WHERE application_name = 'carlot-timeout-test' AND wait_event_type = 'Lock'`).Scan(t.Context(), &n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	apitest.Eventually(t, func() bool { return waiting() == 0 }, 20*time.Second, "the timed-out statement stopped waiting in PostgreSQL")
}
