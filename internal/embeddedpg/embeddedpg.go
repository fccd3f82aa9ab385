// Package embeddedpg starts and stops a private PostgreSQL cluster using the
// PostgreSQL server binaries already installed on the machine (initdb and
// postgres). Nothing is downloaded: PostgreSQL 14 or newer must be installed
// (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16).
//
// It backs two uses: running the server locally without DATABASE_URL, on a
// persistent cluster kept between runs (for example under ./.data/postgres),
// and the test suite, which starts a throwaway (Ephemeral) cluster in a
// temporary directory.
//
// The cluster is created with "trust" authentication for the superuser role
// "postgres" and listens on 127.0.0.1 only, with no Unix-domain socket. Trust
// on loopback is acceptable for a private development or test cluster; do not
// use this package for anything reachable by other users you do not trust.
//
// PostgreSQL refuses to run as root. When the current process is root, initdb
// and postgres run as the OS user "postgres" (or "nobody" if that does not
// exist) through exec.Cmd credentials. If that user cannot reach the
// requested data directory (for example a checkout under a mode-0700 home
// directory), the cluster is placed under /var/lib/carlot/<hash>/postgres and
// the requested path becomes a symlink to it.
package embeddedpg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNoBinaries is returned (wrapped) when no usable PostgreSQL server
// binaries can be found on the machine.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, postgres) not found: install PostgreSQL 14 or newer (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16) or set DATABASE_URL")

// superuser is the role created by initdb (-U) and used in URLs.
const superuser = "postgres"

const (
	readyTimeout   = 60 * time.Second
	bindRetries    = 3
	logTailLines   = 20
	quitGrace      = 5 * time.Second
	minMajor       = 14
	logFileName    = "postgres.log"
	pidFileName    = "postmaster.pid"
	versionFile    = "PG_VERSION"
	listenAddress  = "127.0.0.1"
	maxConnections = "200"
)

// Options configures Start.
type Options struct {
	// DataDir is the cluster directory; it is created by initdb when it is
	// empty or missing. Required. Relative paths are resolved against the
	// current directory.
	DataDir string
	// BinDir optionally names the directory holding initdb and postgres.
	// Empty means discover them (see FindBinaries).
	BinDir string
	// Port is the TCP port to listen on. 0 reuses the port of a cluster
	// already running on DataDir, or else picks a free loopback port.
	Port int
	// Ephemeral disables durability (fsync, synchronous_commit,
	// full_page_writes) for throwaway test clusters.
	Ephemeral bool
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
}

// Cluster is a running PostgreSQL cluster, either started by Start or an
// already-running one that Start found on the same data directory.
type Cluster struct {
	port    int
	dataDir string
	owned   bool // false when Start reused a cluster it did not start
	proc    *process
	logger  *slog.Logger

	mu      sync.Mutex
	stopped bool
	stopErr error
}

// Start initialises the cluster if DataDir holds none, starts postgres
// listening on 127.0.0.1 only, waits until it accepts connections and
// returns. If a postgres server is already running on the same data
// directory, Start reuses it instead of starting another one (and Stop will
// then leave it running). The server outlives ctx; ctx only bounds the work
// done by Start itself.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.DataDir == "" {
		return nil, errors.New("embeddedpg: Options.DataDir is required")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	requested, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("embeddedpg: resolve data directory %q: %w", opts.DataDir, err)
	}
	binDir, err := FindBinaries(opts.BinDir)
	if err != nil {
		return nil, err
	}
	ru, err := currentRunAs()
	if err != nil {
		return nil, err
	}
	dataDir, err := resolveDataDir(requested, ru, logger)
	if err != nil {
		return nil, err
	}
	if opts.Ephemeral && strings.HasPrefix(dataDir, fallbackBase+string(filepath.Separator)) {
		logger.Warn("embeddedpg: ephemeral cluster placed in the persistent fallback directory; make the temporary directory and its parents mode 0755 (os.MkdirTemp creates 0700) so it stays there",
			"path", dataDir, "requested", requested)
	}

	if c, err := reuseRunning(ctx, dataDir, opts.Port, logger); c != nil || err != nil {
		return c, err
	}

	logPath := filepath.Join(filepath.Dir(requested), logFileName)
	if err := ensureInitialized(ctx, binDir, dataDir, ru, logPath, logger); err != nil {
		return nil, err
	}

	port := opts.Port
	for attempt := 1; ; attempt++ {
		if opts.Port == 0 {
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		proc, err := startServer(ctx, binDir, dataDir, port, opts.Ephemeral, ru, logPath, logger)
		if err == nil {
			logger.Info("embeddedpg: PostgreSQL started", "port", port, "data_dir", dataDir, "log", logPath)
			return &Cluster{port: port, dataDir: dataDir, owned: true, proc: proc, logger: logger}, nil
		}
		var be *bindError
		if errors.As(err, &be) && opts.Port == 0 && attempt < bindRetries {
			logger.Info("embeddedpg: port in use, retrying on another port", "port", port)
			continue
		}
		return nil, err
	}
}

// Port returns the TCP port the cluster listens on (on 127.0.0.1).
func (c *Cluster) Port() int { return c.port }

// User returns the database superuser role name, always "postgres".
func (c *Cluster) User() string { return superuser }

// URL returns a connection URL for database on this cluster, of the form
// postgres://postgres@127.0.0.1:PORT/DATABASE?sslmode=disable. The database
// "postgres" always exists; creating others is up to the caller.
func (c *Cluster) URL(database string) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable",
		superuser, listenAddress, c.port, url.PathEscape(database))
}

// DataDir returns the data directory actually used: the real path, which
// differs from Options.DataDir when that is a symlink (for example to the
// /var/lib/carlot fallback used when running as root).
func (c *Cluster) DataDir() string { return c.dataDir }

// Stop shuts the cluster down if Start started it: it sends SIGINT (fast
// shutdown) to the postmaster and waits for it to exit. If ctx expires first
// it sends SIGQUIT (immediate shutdown) and finally kills the process group.
// Stop is idempotent and does nothing for a cluster that Start merely reused.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return c.stopErr
	}
	c.stopped = true
	if !c.owned || c.proc == nil {
		return nil
	}
	c.stopErr = c.proc.stop(ctx)
	if c.stopErr == nil {
		c.logger.Info("embeddedpg: PostgreSQL stopped", "port", c.port)
	}
	return c.stopErr
}

// process is a postgres postmaster started by this package.
type process struct {
	pid  int
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // result of cmd.Wait, valid after done is closed
}

// launch starts cmd and reaps it in a dedicated goroutine.
//
// Pdeathsig (Linux) is delivered when the *thread* that forked the child
// exits, not when the process exits (https://go.dev/issue/27505). Go may
// terminate an idle OS thread (for example when a goroutine exits while
// locked to it), so locking the thread only around cmd.Start is not enough:
// the thread could later die and take postgres down with it. Instead the
// goroutine that starts the child locks its OS thread and keeps it locked
// until cmd.Wait returns, i.e. for the whole lifetime of the child. That
// costs one OS thread per running cluster, and guarantees the death signal
// fires only when our process really goes away (or after the child is gone).
func launch(cmd *exec.Cmd) (*process, error) {
	p := &process{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked on purpose: see the comment above. When this
		// goroutine returns, the runtime terminates the locked thread,
		// which is harmless because the child has already exited.
		if err := cmd.Start(); err != nil {
			started <- err
			close(p.done)
			return
		}
		p.pid = cmd.Process.Pid
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) exitError() error {
	if p.err != nil {
		return fmt.Errorf("embeddedpg: postgres (pid %d) exited: %w", p.pid, p.err)
	}
	return nil
}

// stop performs a fast shutdown, escalating to immediate shutdown and kill
// when ctx expires.
func (p *process) stop(ctx context.Context) error {
	if p.exited() {
		return p.exitError()
	}
	if err := syscall.Kill(p.pid, syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("embeddedpg: signal postgres (pid %d): %w", p.pid, err)
	}
	select {
	case <-p.done:
		return p.exitError()
	case <-ctx.Done():
	}
	p.kill()
	return fmt.Errorf("embeddedpg: postgres (pid %d) did not shut down in time, forced immediate shutdown: %w", p.pid, ctx.Err())
}

// kill sends SIGQUIT (immediate shutdown), then SIGKILL to the whole process
// group if the postmaster is still there after a grace period, and waits.
func (p *process) kill() {
	if p.exited() {
		return
	}
	_ = syscall.Kill(p.pid, syscall.SIGQUIT)
	select {
	case <-p.done:
		return
	case <-time.After(quitGrace):
	}
	_ = syscall.Kill(-p.pid, syscall.SIGKILL) // Setpgid: pgid == pid
	<-p.done
}

// bindError reports that postgres could not bind its port.
type bindError struct{ msg string }

func (e *bindError) Error() string { return e.msg }

// startServer runs postgres on dataDir and waits until it is ready.
func startServer(ctx context.Context, binDir, dataDir string, port int, ephemeral bool, ru *runAs, logPath string, logger *slog.Logger) (*process, error) {
	logFile, offset, err := openLog(logPath)
	if err != nil {
		return nil, err
	}
	args := []string{
		"-D", dataDir,
		"-p", strconv.Itoa(port),
		"-k", "",
		"-c", "listen_addresses=" + listenAddress,
		"-c", "max_connections=" + maxConnections,
	}
	if ephemeral {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(binDir, "postgres"), args...)
	cmd.Dir = dataDir
	cmd.Env = childEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: a terminal Ctrl-C must not reach postgres
		// before we shut it down cleanly.
		Setpgid:    true,
		Credential: ru.credential(),
	}
	setDeathSignal(cmd.SysProcAttr)
	logger.Debug("embeddedpg: starting postgres", "bin", cmd.Path, "args", args)
	proc, err := launch(cmd)
	logFile.Close() // the child has its own copy of the descriptor
	if err != nil {
		return nil, fmt.Errorf("embeddedpg: start postgres: %w", err)
	}
	if err := waitReady(ctx, dataDir, port, proc); err != nil {
		proc.kill()
		tail := logTail(logPath, offset)
		if strings.Contains(tail, "could not bind") || strings.Contains(tail, "could not create any TCP/IP sockets") {
			return nil, &bindError{msg: fmt.Sprintf("embeddedpg: postgres could not bind 127.0.0.1:%d (port in use)%s", port, formatTail(logPath, tail))}
		}
		return nil, fmt.Errorf("embeddedpg: postgres on port %d: %w%s", port, err, formatTail(logPath, tail))
	}
	return proc, nil
}

// waitReady polls until postmaster.pid (written by proc) reports "ready" and
// a TCP connection to the port succeeds. It gives up when proc exits, ctx is
// done or readyTimeout passes.
func waitReady(ctx context.Context, dataDir string, port int, proc *process) error {
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	delay := 10 * time.Millisecond
	for {
		if info, err := readPidFile(dataDir); err == nil && info.pid == proc.pid && info.status == "ready" && canDial(port) {
			return nil
		}
		select {
		case <-proc.done:
			if proc.err != nil {
				return fmt.Errorf("exited during startup: %w", proc.err)
			}
			return errors.New("exited during startup")
		case <-ctx.Done():
			return fmt.Errorf("startup interrupted: %w", ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("not ready after %s", readyTimeout)
		case <-time.After(delay):
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

// reuseRunning returns a non-owning Cluster if a postgres server is already
// running on dataDir. A stale postmaster.pid (dead pid) is left to postgres,
// which handles it itself.
func reuseRunning(ctx context.Context, dataDir string, wantPort int, logger *slog.Logger) (*Cluster, error) {
	deadline := time.Now().Add(readyTimeout)
	for {
		info, err := readPidFile(dataDir)
		if err != nil || !processAlive(info.pid) || !isPostgresProcess(info.pid) {
			return nil, nil
		}
		if wantPort != 0 && info.port != wantPort {
			return nil, fmt.Errorf("embeddedpg: a postgres server (pid %d) is already running on %s with port %d, not the requested port %d", info.pid, dataDir, info.port, wantPort)
		}
		if info.status == "ready" && canDial(info.port) {
			logger.Info("embeddedpg: reusing running PostgreSQL", "pid", info.pid, "port", info.port, "data_dir", dataDir)
			return &Cluster{port: info.port, dataDir: dataDir, owned: false, logger: logger}, nil
		}
		// Starting up or shutting down: wait until it is ready or gone.
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("embeddedpg: postgres (pid %d) on %s is running but not accepting connections on 127.0.0.1:%d (status %q)", info.pid, dataDir, info.port, info.status)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("embeddedpg: waiting for running postgres (pid %d): %w", info.pid, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// pidInfo is the part of postmaster.pid this package uses.
type pidInfo struct {
	pid    int
	port   int
	status string
}

// readPidFile parses <dataDir>/postmaster.pid: line 1 is the postmaster pid,
// line 4 the port and line 8 the status ("starting", "ready", "stopping"...).
func readPidFile(dataDir string) (pidInfo, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, pidFileName))
	if err != nil {
		return pidInfo{}, err
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return pidInfo{}, errors.New("postmaster.pid too short")
	}
	var info pidInfo
	if info.pid, err = strconv.Atoi(strings.TrimSpace(lines[0])); err != nil || info.pid <= 0 {
		return pidInfo{}, fmt.Errorf("postmaster.pid: bad pid %q", lines[0])
	}
	if info.port, err = strconv.Atoi(strings.TrimSpace(lines[3])); err != nil {
		return pidInfo{}, fmt.Errorf("postmaster.pid: bad port %q", lines[3])
	}
	if len(lines) >= 8 {
		info.status = strings.TrimSpace(lines[7])
	}
	return info, nil
}

// processAlive reports whether pid exists (EPERM means it exists but belongs
// to another user).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func canDial(port int) bool {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(listenAddress, strconv.Itoa(port)), time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", listenAddress+":0")
	if err != nil {
		return 0, fmt.Errorf("embeddedpg: pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ensureInitialized runs initdb unless dataDir already holds a cluster, and
// makes sure the directory has the ownership and mode postgres requires.
func ensureInitialized(ctx context.Context, binDir, dataDir string, ru *runAs, logPath string, logger *slog.Logger) error {
	if _, err := os.Stat(filepath.Join(dataDir, versionFile)); err == nil {
		return fixOwnership(dataDir, ru, logger)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("embeddedpg: create data directory: %w", err)
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		return fmt.Errorf("embeddedpg: read data directory: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("embeddedpg: %s is not empty and holds no PostgreSQL cluster (no %s): empty it or choose another directory", dataDir, versionFile)
	}
	if err := os.Chmod(dataDir, 0o700); err != nil {
		return fmt.Errorf("embeddedpg: chmod data directory: %w", err)
	}
	if ru != nil {
		if err := os.Chown(dataDir, int(ru.uid), int(ru.gid)); err != nil {
			return fmt.Errorf("embeddedpg: chown data directory to %s: %w", ru.name, err)
		}
	}

	logFile, offset, err := openLog(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"),
		"-D", dataDir,
		"-U", superuser,
		"--auth=trust",
		"-E", "UTF8",
		"--locale=C",
		"--no-sync",
		"--no-instructions",
	)
	cmd.Dir = dataDir // initdb needs a working directory its user can reach
	cmd.Env = childEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: ru.credential()}
	logger.Info("embeddedpg: initialising PostgreSQL cluster", "data_dir", dataDir)
	if err := cmd.Run(); err != nil {
		logFile.Sync()
		return fmt.Errorf("embeddedpg: initdb %s: %w%s", dataDir, err, formatTail(logPath, logTail(logPath, offset)))
	}
	return nil
}

// childEnv is the environment for initdb and postgres: ours without PG*
// variables (PGDATA, PGPORT... must not override the flags we pass) and with
// the C locale so that messages we look for are in English.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") || strings.HasPrefix(kv, "LANGUAGE=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "LANG=C")
}

// openLog opens the server log in append mode as the current process and
// returns its size before anything new is written.
func openLog(path string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("embeddedpg: open log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("embeddedpg: stat log file: %w", err)
	}
	return f, fi.Size(), nil
}

// logTail returns the last logTailLines lines written to path after offset.
func logTail(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return strings.Join(lines, "\n")
}

func formatTail(path, tail string) string {
	if strings.TrimSpace(tail) == "" {
		return fmt.Sprintf(" (see %s)", path)
	}
	return fmt.Sprintf(" (see %s); last log lines:\n%s", path, tail)
}
