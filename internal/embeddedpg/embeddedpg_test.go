package embeddedpg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireBinaries skips the test when the machine has no PostgreSQL.
func requireBinaries(t *testing.T) string {
	t.Helper()
	dir, err := FindBinaries("")
	if errors.Is(err, ErrNoBinaries) {
		t.Skipf("no PostgreSQL binaries: %v", err)
	}
	if err != nil {
		t.Fatalf("FindBinaries: %v", err)
	}
	return dir
}

// traversableTempDir returns t.TempDir() made searchable by everyone: the
// directories os.MkdirTemp creates are mode 0700, which the unprivileged
// postgres user could not enter when the tests run as root (Start would then
// use the /var/lib/carlot fallback).
func traversableTempDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	tmp := filepath.Clean(os.TempDir())
	for p := d; p != tmp && p != filepath.Dir(p); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func startCluster(t *testing.T, dataDir string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := Start(ctx, Options{DataDir: dataDir, Ephemeral: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c
}

func stopCluster(t *testing.T, c *Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func TestClusterLifecycle(t *testing.T) {
	t.Parallel()
	requireBinaries(t)
	base := traversableTempDir(t)
	dataDir := filepath.Join(base, "pg")

	c1 := startCluster(t, dataDir)
	if c1.Port() <= 0 {
		t.Fatalf("bad port %d", c1.Port())
	}
	if !canDial(c1.Port()) {
		t.Fatalf("cannot connect to 127.0.0.1:%d", c1.Port())
	}
	if c1.User() != "postgres" {
		t.Errorf("User() = %q", c1.User())
	}
	if want := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/carlot?sslmode=disable", c1.Port()); c1.URL("carlot") != want {
		t.Errorf("URL = %q, want %q", c1.URL("carlot"), want)
	}
	if real, _ := filepath.EvalSymlinks(dataDir); c1.DataDir() != real {
		t.Errorf("DataDir() = %q, want %q", c1.DataDir(), real)
	}
	if _, err := os.Stat(filepath.Join(base, "postgres.log")); err != nil {
		t.Errorf("server log: %v", err)
	}
	fi, err := os.Stat(c1.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, want 0700", fi.Mode().Perm())
	}
	ru, _ := currentRunAs()
	if ru != nil {
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != ru.uid {
			t.Errorf("data dir owned by uid %d, want %d (%s)", st.Uid, ru.uid, ru.name)
		}
	}
	marker := filepath.Join(c1.DataDir(), "carlot-test-marker")
	if err := os.WriteFile(marker, []byte("kept"), 0o600); err != nil {
		t.Fatal(err)
	}

	// A second Start on the same directory reuses the running server.
	c2 := startCluster(t, dataDir)
	if c2.Port() != c1.Port() {
		t.Fatalf("second Start port %d, want reused %d", c2.Port(), c1.Port())
	}
	stopCluster(t, c2)
	if !canDial(c1.Port()) {
		t.Fatal("Stop of the reusing Cluster stopped the server it did not start")
	}

	// Stopping the owner shuts the server down; Stop is idempotent.
	stopCluster(t, c1)
	if canDial(c1.Port()) {
		t.Fatalf("port %d still accepts connections after Stop", c1.Port())
	}
	if err := c1.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c1.DataDir(), pidFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("postmaster.pid after Stop: %v", err)
	}

	// A stale postmaster.pid (dead pid) must not prevent a restart.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf("%d\n%s\n0\n%d\n", dead.Process.Pid, c1.DataDir(), c1.Port())
	stalePath := filepath.Join(c1.DataDir(), pidFileName)
	if err := os.WriteFile(stalePath, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	if ru != nil { // as postgres would have left it
		if err := os.Chown(stalePath, int(ru.uid), int(ru.gid)); err != nil {
			t.Fatal(err)
		}
	}

	// Restart on the same directory keeps the data (no second initdb).
	c3 := startCluster(t, dataDir)
	if !canDial(c3.Port()) {
		t.Fatalf("cannot connect after restart on port %d", c3.Port())
	}
	if _, err := os.Stat(filepath.Join(c3.DataDir(), versionFile)); err != nil {
		t.Errorf("PG_VERSION after restart: %v", err)
	}
	if b, err := os.ReadFile(marker); err != nil || string(b) != "kept" {
		t.Errorf("marker file lost after restart (initdb rerun?): %q, %v", b, err)
	}

	// Stop with an expired context escalates to immediate shutdown.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c3.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Stop(cancelled ctx) = %v, want context.Canceled", err)
	}
	if canDial(c3.Port()) {
		t.Errorf("port %d still open after forced Stop", c3.Port())
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	requireBinaries(t)
	if _, err := Start(context.Background(), Options{}); err == nil {
		t.Fatal("Start without DataDir succeeded")
	}
	if _, err := Start(context.Background(), Options{DataDir: t.TempDir(), BinDir: t.TempDir()}); !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("Start with bad BinDir: %v, want ErrNoBinaries", err)
	}

	// A fixed port that is taken fails with the log tail in the error.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	dataDir := filepath.Join(traversableTempDir(t), "pg")
	c, err := Start(context.Background(), Options{DataDir: dataDir, Port: port, Ephemeral: true, Logger: testLogger(t)})
	if err == nil {
		c.Stop(context.Background())
		t.Fatalf("Start on busy port %d succeeded", port)
	}
	var be *bindError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "Address already in use") {
		t.Fatalf("Start on busy port: %v, want bind error with log tail", err)
	}
}

func TestCanTraverse(t *testing.T) {
	t.Parallel()
	base := traversableTempDir(t)
	mk := func(name string, mode fs.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	private := mk("private", 0o700)
	inner := filepath.Join(private, "inner")
	if err := os.Mkdir(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	otherX := mk("otherx", 0o711)
	groupX := mk("groupx", 0o710)
	noX := mk("nox", 0o644)

	fi, err := os.Stat(private)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	owner, group := st.Uid, st.Gid
	const stranger = 54321

	cases := []struct {
		dir      string
		uid, gid uint32
		want     bool
		blocker  string
	}{
		{inner, owner, group, true, ""},
		{inner, stranger, stranger, false, private},
		{inner, stranger, group, false, private},
		{otherX, stranger, stranger, true, ""},
		{groupX, stranger, group, true, ""},
		{groupX, stranger, stranger, false, groupX},
		{noX, owner, group, owner == 0, ""},
		{noX, 0, 0, true, ""},
		{base, stranger, stranger, true, ""},
	}
	for _, tc := range cases {
		if tc.dir == noX && tc.uid == owner && owner == 0 {
			continue // uid 0 is root: always allowed, covered below
		}
		got, blocker, err := canTraverse(tc.dir, tc.uid, tc.gid)
		if err != nil {
			t.Errorf("canTraverse(%s, %d, %d): %v", tc.dir, tc.uid, tc.gid, err)
			continue
		}
		if got != tc.want {
			t.Errorf("canTraverse(%s, %d, %d) = %v, want %v", tc.dir, tc.uid, tc.gid, got, tc.want)
		}
		if !tc.want && tc.blocker != "" && blocker != tc.blocker {
			t.Errorf("canTraverse(%s, %d, %d) blocker = %s, want %s", tc.dir, tc.uid, tc.gid, blocker, tc.blocker)
		}
	}
	if _, _, err := canTraverse("relative/path", 1, 1); err == nil {
		t.Error("canTraverse accepted a relative path")
	}

	// As root, check the prediction against what the kernel really allows
	// the unprivileged user.
	ru, err := currentRunAs()
	if err != nil {
		t.Fatal(err)
	}
	if ru == nil {
		t.Log("not root: skipping checks against the unprivileged user")
		return
	}
	for _, dir := range []string{inner, otherX, base} {
		want, _, err := canTraverse(dir, ru.uid, ru.gid)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("/bin/sh", "-c", `cd "$1"`, "sh", dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: ru.credential()}
		got := cmd.Run() == nil
		if got != want {
			t.Errorf("%s: user %s can cd = %v, canTraverse = %v", dir, ru.name, got, want)
		}
	}
	if ok, _, _ := canTraverse(inner, ru.uid, ru.gid); ok {
		t.Errorf("user %s should not traverse %s (mode 0700, owned by root)", ru.name, private)
	}
}

func TestRootFallbackDataDir(t *testing.T) {
	// Not parallel: it redirects the package-level fallbackBase, which Start
	// reads; parallel tests only run once the sequential ones have finished.
	ru, err := currentRunAs()
	if err != nil {
		t.Fatal(err)
	}
	if ru == nil {
		t.Skip("fallback only applies when running as root")
	}
	requireBinaries(t)
	base := traversableTempDir(t)
	old := fallbackBase
	fallbackBase = filepath.Join(base, "varlib", "carlot")
	t.Cleanup(func() { fallbackBase = old })

	home := filepath.Join(base, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	requested := filepath.Join(home, "src", "app", ".data", "postgres")
	logger := testLogger(t)

	got, err := resolveDataDir(requested, ru, logger)
	if err != nil {
		t.Fatalf("resolveDataDir: %v", err)
	}
	if want := fallbackDir(requested); got != want {
		t.Fatalf("resolveDataDir = %s, want fallback %s", got, want)
	}
	if !strings.HasPrefix(got, fallbackBase+"/") || len(filepath.Base(filepath.Dir(got))) != 16 {
		t.Errorf("unexpected fallback layout %s", got)
	}
	if link, err := os.Readlink(requested); err != nil || link != got {
		t.Fatalf("requested path should be a symlink to %s: %q, %v", got, link, err)
	}
	if fi, err := os.Stat(fallbackBase); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("fallback base mode: %v, %v", fi, err)
	}
	if got2, err := resolveDataDir(requested, ru, logger); err != nil || got2 != got {
		t.Fatalf("second resolveDataDir = %s, %v; want %s", got2, err, got)
	}
	home0700, _ := os.Stat(home)
	if home0700.Mode().Perm() != 0o700 {
		t.Errorf("home mode changed to %v", home0700.Mode().Perm())
	}

	// End to end: a cluster on the unreachable path runs from the fallback.
	c := startCluster(t, requested)
	if c.DataDir() != got {
		t.Errorf("DataDir() = %s, want %s", c.DataDir(), got)
	}
	if !canDial(c.Port()) {
		t.Errorf("cannot connect to fallback cluster")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(requested), "postgres.log")); err != nil {
		t.Errorf("log next to requested dir: %v", err)
	}
	stopCluster(t, c)

	// A non-empty real directory that is unreachable is an error, not moved.
	other := filepath.Join(home, "other", "pg")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveDataDir(other, ru, logger); err == nil || !strings.Contains(err.Error(), "not reachable") {
		t.Errorf("resolveDataDir(unreachable non-empty dir) = %v, want not reachable error", err)
	}
}

func TestFindBinaries(t *testing.T) {
	t.Parallel()
	_, err := FindBinaries(t.TempDir())
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("FindBinaries(empty dir) = %v, want ErrNoBinaries", err)
	}
	if !strings.Contains(ErrNoBinaries.Error(), "install PostgreSQL 14") {
		t.Errorf("ErrNoBinaries message does not say what to install: %q", ErrNoBinaries)
	}

	dir := requireBinaries(t)
	for _, name := range []string{"postgres", "initdb"} {
		if !hasExecutable(dir, name) {
			t.Errorf("%s lacks %s", dir, name)
		}
	}
	major, err := serverMajor(dir)
	if err != nil || major < minMajor {
		t.Fatalf("serverMajor(%s) = %d, %v", dir, major, err)
	}
	if got, err := FindBinaries(dir); err != nil || got != dir {
		t.Errorf("FindBinaries(%q) = %q, %v", dir, got, err)
	}

	// A directory of symlinks (like /usr/local/bin) resolves to the real one.
	links := t.TempDir()
	for _, name := range []string{"postgres", "initdb"} {
		if err := os.Symlink(filepath.Join(dir, name), filepath.Join(links, name)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := FindBinaries(links); err != nil || got != dir {
		t.Errorf("FindBinaries(symlink dir) = %q, %v; want %q", got, err, dir)
	}
}

func TestParseMajor(t *testing.T) {
	for in, want := range map[string]int{
		"postgres (PostgreSQL) 15.5 (Debian 15.5-0+deb12u1)\n": 15,
		"postgres (PostgreSQL) 9.6.24\n":                       9,
		"postgres (PostgreSQL) 17beta1\n":                      17,
		"postgres (PostgreSQL) 16.2 (Homebrew)\n":              16,
	} {
		t.Run(in, func(t *testing.T) {
			if got, ok := parseMajor(in); !ok || got != want {
				t.Errorf("parseMajor(%q) = %d, %v; want %d", in, got, ok, want)
			}
		})
	}
	if _, ok := parseMajor("garbage"); ok {
		t.Error("parseMajor(garbage) succeeded")
	}
}

func TestGlobByVersion(t *testing.T) {
	base := t.TempDir()
	for _, v := range []string{"9.6", "10", "15", "14", "postgresql"} {
		if err := os.MkdirAll(filepath.Join(base, v, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got := globByVersion(filepath.Join(base, "*", "bin"), base+"/")
	var names []string
	for _, p := range got {
		names = append(names, filepath.Base(filepath.Dir(p)))
	}
	if want := "15 14 10 9.6 postgresql"; strings.Join(names, " ") != want {
		t.Errorf("order = %v, want %s", names, want)
	}
}
