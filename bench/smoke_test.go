package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// TestHarnessSmoke runs the harness end to end on a tiny catalog for a
// moment: every HTTP operation and both baselines must answer without an
// error, and the report must come out. It measures nothing; the
// subscriber run needs the bench binary itself and is left to `go run ./bench`.
func TestHarnessSmoke(t *testing.T) {
	s, err := parseFlags([]string{"--vehicles", "300", "--concurrency", "2", "--duration", "100ms", "--warmup", "0s",
		"--ops", "lookup,page,page10,page100,dealers,search,write", "--out", t.TempDir() + "/result.json"}, io.Discard)
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
	env, err := prepare(t.Context(), s, getenv, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer env.close(quiet)

	rep := newReport(s, nil)
	rep.Seed = env.seed
	if err := measureHTTP(t.Context(), env, s, rep, quiet); err != nil {
		t.Fatal(err)
	}
	want := []string{"lookup", "direct-lookup", "page", "direct-page", "page10", "page100", "dealers", "search", "write"}
	if len(rep.Ops) != len(want) {
		t.Fatalf("measured %d operations, want %d", len(rep.Ops), len(want))
	}
	for i, o := range rep.Ops {
		if o.Name != want[i] || o.Requests == 0 || o.Errors > 0 {
			t.Errorf("%s: %d requests, %d errors (first: %s)", o.Name, o.Requests, o.Errors, o.FirstError)
		}
	}
	rep.finish()
	if err := rep.write(s.out); err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	rep.markdown(&table)
	if !strings.Contains(table.String(), "| lookup req/s ÷ direct | ≥ 0.60 |") {
		t.Errorf("the budget table lacks the lookup ratio:\n%s", table.String())
	}
}
