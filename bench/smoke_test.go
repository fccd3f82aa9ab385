package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// TestHarnessSmoke runs the harness end to end on a tiny catalog for a
// moment: Carlot and the ceiling run as child processes, every HTTP
// operation and both ceilings must answer without an error, the counters
// must be read, and the report must come out. It measures nothing; the
// subscriber run needs the bench binary itself and is left to `go run ./bench`.
// The load comes from the Go generator, so wrk is not needed; when wrk is
// installed (and not in -short mode) a second pass sends the lookup, its
// ceiling and the writes through it.
func TestHarnessSmoke(t *testing.T) {
	s, err := parseFlags([]string{"--vehicles", "300", "--concurrency", "2", "--duration", "100ms", "--warmup", "0s", "--load", "go",
		"--ops", "lookup,page,pagecount,page10,page100,dealers,search,write", "--out", t.TempDir() + "/result.json"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// Any database on the test server will do: prepare makes a scratch one beside it.
	server := testdb.URL(t, testdb.Empty)
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return server
		}
		return ""
	}
	quiet := func(string, ...any) {}
	env, err := prepare(t.Context(), s, getenv, io.Discard, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer env.close(quiet)
	if env.postmaster == 0 {
		t.Error("the test cluster runs on this machine, but its postmaster was not found")
	}
	// The subscriber runs count the statements of the in-process server,
	// whose planner sends its reads on the pgx pool, not through bun.
	before := env.tally.all.Load()
	var one int
	if err := database.Pool(env.db).QueryRow(t.Context(), "SELECT $1::int", database.Prepared, 1).Scan(&one); err != nil {
		t.Fatal(err)
	}
	if got := env.tally.all.Load() - before; got != 1 {
		t.Errorf("a statement sent on the pgx pool counted %d times, want 1", got)
	}

	rep := newReport(s, nil)
	rep.Seed = env.seed
	if err := measureHTTP(t.Context(), env, s, rep, quiet); err != nil {
		t.Fatal(err)
	}
	want := []string{"lookup", "ceiling-lookup", "page", "ceiling-page", "pagecount", "page10", "page100", "dealers", "search", "write"}
	checkOps(t, rep, want)
	for _, o := range rep.Ops {
		if o.PostgresCPUms == nil || o.StatementsPerRequest == nil || o.ServerStatementsPerRequest == nil {
			t.Errorf("%s: PostgreSQL CPU, statements or the server's statement count not read", o.Name)
		}
	}
	rep.finish()
	if err := rep.write(s.out); err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	rep.markdown(&table)
	for _, line := range []string{"| lookup req/s ÷ ceiling | ≥ 0.50 |", "| page req/s ÷ ceiling | ≥ 0.35 |", "| lookup PostgreSQL CPU ÷ ceiling's | ≤ 2 |"} {
		if !strings.Contains(table.String(), line) {
			t.Errorf("the budget table lacks %q:\n%s", line, table.String())
		}
	}

	if testing.Short() || wrkPath() == "" {
		t.Log("wrk pass skipped (-short, or wrk not installed)")
		return
	}
	s.load, s.duration, s.ops = "wrk", time.Second, []string{"lookup", "write"}
	rep = newReport(s, nil)
	if err := measureHTTP(t.Context(), env, s, rep, quiet); err != nil {
		t.Fatal(err)
	}
	checkOps(t, rep, []string{"lookup", "ceiling-lookup", "write"})
}

// checkOps checks that rep measured the operations want, in order, each
// with requests and without errors.
func checkOps(t *testing.T, rep *report, want []string) {
	t.Helper()
	if len(rep.Ops) != len(want) {
		t.Fatalf("measured %d operations, want %d", len(rep.Ops), len(want))
	}
	for i, o := range rep.Ops {
		if o.Name != want[i] || o.Requests == 0 || o.Errors > 0 {
			t.Errorf("%s (want %s): %d requests, %d errors (first: %s)", o.Name, want[i], o.Requests, o.Errors, o.FirstError)
		}
	}
}

// TestCeilingAnswersLikeCarlot checks that the ceiling gives the same JSON as
// Carlot for the lookup and page bodies the bench sends, so that the two are
// compared on the same work.
func TestCeilingAnswersLikeCarlot(t *testing.T) {
	s, err := parseFlags([]string{"--vehicles", "300", "--load", "go", "--ops", "lookup,page"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	server := testdb.URL(t, testdb.Empty)
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return server
		}
		return ""
	}
	quiet := func(string, ...any) {}
	env, err := prepare(t.Context(), s, getenv, io.Discard, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer env.close(quiet)
	catalog, err := sampleCatalog(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(s)
	defer client.CloseIdleConnections()

	carlot, err := env.startCarlot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ops, err := operations(t.Context(), env, catalog, client, carlot.graphqlURL())
	if err != nil {
		carlot.stop()
		t.Fatal(err)
	}
	var bodies [][]byte
	r := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		bodies = append(bodies, ops["lookup"].body(r, nil), ops["page"].body(r, nil))
	}
	bodies = append(bodies, []byte(`{"query":`+strconv.Quote(lookupQuery)+`,"variables":{"id":"`+relay.NodeID(models.TypeVehicle, 1<<40)+`"}}`))
	answers := func(url string) []string {
		var out []string
		for _, b := range bodies {
			status, raw, err := post(t.Context(), client, url, "", b, nil)
			if err != nil || status != http.StatusOK {
				t.Fatalf("POST %s: %d %v", b, status, err)
			}
			out = append(out, string(raw))
		}
		return out
	}
	want := answers(carlot.graphqlURL())
	carlot.stop()

	ceiling, err := env.startCeiling(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer ceiling.stop()
	got := answers(ceiling.graphqlURL())
	for i := range bodies {
		var g, w any
		if json.Unmarshal([]byte(got[i]), &g) != nil || json.Unmarshal([]byte(want[i]), &w) != nil || !reflect.DeepEqual(g, w) {
			t.Errorf("for %s\nthe ceiling answers %s\nCarlot answers      %s", bodies[i], got[i], want[i])
		}
	}
}
