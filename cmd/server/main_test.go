package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/testdb"
)

func TestMain(m *testing.M) {
	if os.Getenv(childServerEnv) != "" { // a server process a test started (see startServerProcess)
		main()
		os.Exit(0)
	}
	os.Exit(testdb.Main(m))
}

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// runCmd runs the program with args in the environment env, where
// MEDIA_DIR is a directory of the test's own unless env sets it.
func runCmd(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	if _, ok := env["MEDIA_DIR"]; !ok {
		env = maps.Clone(env)
		if env == nil {
			env = map[string]string{}
		}
		env["MEDIA_DIR"] = t.TempDir()
	}
	var out apitest.LogBuffer
	err := run(t.Context(), append([]string{"server"}, args...), envOf(env), strings.NewReader(""), &out, &out)
	return out.String(), err
}

func TestCommandLineErrorsAreOneLine(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"frobnicate"},
		{"db"},
		{"db", "explode"},
		{"db", "seed", "--vehicles", "many"},
		{"db", "seed", "--nope"},
		{"db", "create"},
		{"db", "create", "Bad Name"},
		{"serve", "extra"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, err := runCmd(t, nil, args...)
			if err == nil {
				t.Errorf("%v: want an error", args)
				return
			}
			if strings.Contains(err.Error(), "\n") || err.Error() == "" {
				t.Errorf("%v: error is not one line: %q", args, err)
			}
		})
	}
	if _, err := runCmd(t, map[string]string{"PORT": "eighty"}, "serve"); err == nil || !strings.Contains(err.Error(), "PORT") {
		t.Errorf("bad PORT: %v", err)
	}
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(manifest, []byte(`{"0123":"{ makes { name } }"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, map[string]string{"TRUSTED_DOCUMENTS": manifest, "CARLOT_DATA_DIR": t.TempDir()}, "serve"); err == nil ||
		!strings.Contains(err.Error(), "trusted documents") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a manifest with a wrong id: %v", err)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, nil, "help")
	if err != nil || !strings.Contains(out, "server db seed") {
		t.Fatalf("help: %v\n%s", err, out)
	}
}

func TestDBCommandsAgainstDatabaseURL(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.URL(t, testdb.Empty)}

	out, err := runCmd(t, env, "db", "rollback")
	if err != nil || !strings.Contains(out, "rolled back") {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	out, err = runCmd(t, env, "db", "status")
	if err != nil || !regexp.MustCompile(`(?m)^pending\s+\d+_catalog`).MatchString(out) {
		t.Fatalf("status after rollback: %v\n%s", err, out)
	}
	if _, err := runCmd(t, env, "db", "seed"); err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Fatalf("seed before migrating: %v", err)
	}
	out, err = runCmd(t, env, "db", "migrate")
	if err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err = runCmd(t, env, "db", "migrate")
	if err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate: %v\n%s", err, out)
	}
	out, err = runCmd(t, env, "db", "seed", "--vehicles", "50")
	if err != nil || !strings.Contains(out, "50 vehicles") || !strings.Contains(out, "40 photos") {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	out, err = runCmd(t, env, "db", "seed", "--vehicles", "50")
	if err != nil || !strings.Contains(out, "0 vehicles") {
		t.Fatalf("repeated seed added rows: %v\n%s", err, out)
	}
	out, err = runCmd(t, env, "db", "seed", "--vehicles", "20", "--reset")
	if err != nil || !strings.Contains(out, "20 vehicles") {
		t.Fatalf("seed --reset: %v\n%s", err, out)
	}
}

func TestDBCreateWritesAMigrationPair(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "migrations"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	out, err := runCmd(t, nil, "db", "create", "add_warranty")
	if err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"_add_warranty.tx.up.sql", "_add_warranty.tx.down.sql"} {
		if !strings.Contains(out, suffix) {
			t.Fatalf("output does not name *%s: %s", suffix, out)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "migrations", "*_add_warranty.tx.*.sql"))
	if len(files) != 2 {
		t.Fatalf("files written: %v", files)
	}
}

func TestUnreachableDatabaseFailsClearly(t *testing.T) {
	t.Parallel()
	_, err := runCmd(t, map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable"}, "db", "status")
	if err == nil || !strings.Contains(err.Error(), "database unreachable") {
		t.Fatalf("err = %v", err)
	}
	_, err = runCmd(t, map[string]string{"DATABASE_URL": "mysql://x"}, "db", "status")
	if err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingPostgreSQLBinariesSayWhatToInstall(t *testing.T) {
	t.Parallel()
	_, err := runCmd(t, map[string]string{"CARLOT_DATA_DIR": t.TempDir(), "CARLOT_PG_BIN_DIR": t.TempDir()}, "db", "status")
	if err == nil || !strings.Contains(err.Error(), "install PostgreSQL") {
		t.Fatalf("err = %v", err)
	}
}

// server runs `server serve` in the background and returns its base URL and
// a function that stops it (like SIGTERM) and returns run's error.
func startServer(t *testing.T, env map[string]string) (string, func() error) {
	t.Helper()
	env["PORT"] = "0"
	if env["CARLOT_DATA_DIR"] == "" {
		// Keep the development JWT key out of the source tree.
		env["CARLOT_DATA_DIR"] = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out apitest.LogBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"server"}, envOf(env), strings.NewReader(""), &out, &out) }()
	addr := regexp.MustCompile(`msg=listening addr=(\S*):(\d+)`)
	var m []string
	wait, stopWaiting := context.WithTimeout(ctx, 2*time.Minute)
	defer stopWaiting()
	if !apitest.Poll(wait, func() bool {
		if m = addr.FindStringSubmatch(out.String()); m != nil {
			return true
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("server exited before listening: %v\n%s", err, out.String())
		default:
		}
		return false
	}) {
		cancel()
		t.Fatalf("server did not listen within 2 minutes:\n%s", out.String())
	}
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			t.Fatal("server did not stop within a minute")
			return nil
		}
	}
	// Development binds to the loopback address unless HOST says otherwise.
	if env["HOST"] == "" && env["APP_ENV"] != "production" && m[1] != "127.0.0.1" {
		_ = stop()
		t.Fatalf("a development server listens on %s, not 127.0.0.1", m[1])
	}
	return "http://127.0.0.1:" + m[2], stop
}

func graphQL(t *testing.T, base, query string) map[string]any {
	t.Helper()
	var data map[string]any
	apitest.Remote(t, base).Query(&data, query, nil)
	if data == nil {
		t.Fatalf("no data for %s", query)
	}
	return data
}

const fiveVehicles = `{ vehicles(first: 5) { nodes { vin make { name } model { name } dealer { name } } } }`

// With no configuration at all the server runs its own PostgreSQL, migrates
// and seeds it, and finds the same data after a restart.
func TestServeEmbeddedFromNothingAndRestart(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	// As root the cluster runs as an unprivileged user that must be able to enter the temp dir.
	if err := os.Chmod(filepath.Dir(dataDir), 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CARLOT_DATA_DIR": dataDir}

	base, stop := startServer(t, env)
	first := graphQL(t, base, fiveVehicles)
	nodes := first["vehicles"].(map[string]any)["nodes"].([]any)
	if len(nodes) != 5 {
		t.Fatalf("want 5 seeded vehicles, got %v", first)
	}
	resp, err := http.Get(base + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GraphiQL: %v %v", err, resp)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	base, stop = startServer(t, env)
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	again := graphQL(t, base, fiveVehicles)
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(again)
	if !bytes.Equal(a, b) {
		t.Fatalf("data changed across a restart:\n%s\n%s", a, b)
	}
	var count map[string]any = graphQL(t, base, `{ vehicles { totalCount } }`)
	if got := count["vehicles"].(map[string]any)["totalCount"].(float64); got != defaultSeedVehicles {
		t.Fatalf("after restart %v vehicles, want %d (seeded twice?)", got, defaultSeedVehicles)
	}
}

func TestServeWithDatabaseURLDoesNotMigrateByItself(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.URL(t, testdb.Empty)}
	if _, err := runCmd(t, env, "db", "rollback"); err != nil {
		t.Fatal(err)
	}
	base, stop := startServer(t, env)
	defer stop()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d with migrations pending and AUTO_MIGRATE unset, want 503", resp.StatusCode)
	}
	out, err := runCmd(t, env, "db", "status")
	if err != nil || strings.Contains(out, "applied") {
		t.Fatalf("the server migrated by itself: %v\n%s", err, out)
	}
}
