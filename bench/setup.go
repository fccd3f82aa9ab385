package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/carlot/carlot/internal/app"
	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/embeddedpg"
	"github.com/carlot/carlot/internal/httpapi"
	"github.com/carlot/carlot/internal/logging"
	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/migrations"
	"github.com/uptrace/bun"
)

// environment is what the measurements run against: the seeded scratch
// database, the binaries of Carlot and of the ceiling (each run as a child
// process while it is measured), and, for the subscriber runs only, Carlot
// in this process.
type environment struct {
	// db is the bench's own pool on the scratch database: sampling, reading
	// ids, and (with tally) the in-process server of the subscriber runs.
	db    *bun.DB
	tally *statementTally
	// api and graphqlURL are the in-process server's, once startInProcess ran.
	api        *app.App
	graphqlURL string // http://127.0.0.1:PORT/graphql
	// databaseURL is the scratch database's.
	databaseURL string
	password    string // the demo accounts' password
	seed        seedResult
	pgVersion   string
	// postmaster is the PID of the cluster's postmaster when it runs on this
	// machine (its processes' CPU time is then read from /proc), else 0.
	postmaster int
	// statStatements tells whether pg_stat_statements counts the statements.
	statStatements bool
	// serverBin and ceilingBin are the built binaries.
	serverBin, ceilingBin string
	getenv                func(string) string
	logs                  io.Writer // the children's output

	cleanups []func()
}

// seedResult is how long seeding took.
type seedResult struct {
	Vehicles int     `json:"vehicles"`
	Seconds  float64 `json:"seconds"`
}

// serverEnv is the configuration Carlot gets under load, on top of the
// process environment: no rate limits or websocket cap (one client address
// sends everything), warnings only (an access-log line per request would
// measure the logger), tokens that outlive the run, and the broker's
// safety poll slowed to a minute so that the statements counted while an
// event fans out are that event's alone (NOTIFY still wakes it at once).
func serverEnv(databaseURL string) map[string]string {
	return map[string]string{
		"DATABASE_URL":         databaseURL,
		"JWT_SECRET":           randomHex(32),
		"RATE_LIMIT_PER_IP":    "0",
		"RATE_LIMIT_PER_USER":  "0",
		"MAX_WS_CONNS_PER_IP":  "0",
		"LOG_LEVEL":            "warn",
		"ACCESS_TOKEN_TTL":     "2h",
		"EVENTS_POLL_INTERVAL": "1m",
		"AUTO_MIGRATE":         "false",
	}
}

// prepare builds the environment. Close it to stop everything and drop the
// scratch database.
func prepare(ctx context.Context, s *settings, getenv func(string) string, logs io.Writer, progress func(string, ...any)) (env *environment, err error) {
	env = &environment{tally: &statementTally{}, password: "bench-" + randomHex(12), getenv: getenv, logs: logs}
	defer func() {
		if err != nil {
			env.close(progress)
		}
	}()
	if err := env.build(ctx); err != nil {
		return nil, err
	}
	serverURL := getenv("DATABASE_URL")
	if serverURL == "" {
		if serverURL, err = env.startCluster(ctx); err != nil {
			return nil, err
		}
	}
	dbURL, err := env.createScratchDatabase(ctx, serverURL)
	if err != nil {
		return nil, err
	}
	env.databaseURL = dbURL

	env.db, err = database.Open(dbURL, database.Options{MaxOpenConns: 20, ApplicationName: "carlot-bench", OnStatement: env.tally.count})
	if err != nil {
		return nil, err
	}
	env.cleanups = append(env.cleanups, func() { _ = env.db.Close() })
	if _, err := migrations.Migrate(ctx, env.db); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	_ = env.db.NewRaw("SHOW server_version").Scan(ctx, &env.pgVersion)

	// Seeding and vacuuming are admin work, as `server db seed` does it: no
	// request-sized timeouts (a million vehicles take longer).
	loader, err := database.Open(dbURL, database.Options{MaxOpenConns: 1, ApplicationName: "carlot-bench-seed"})
	if err != nil {
		return nil, err
	}
	defer loader.Close()
	start := time.Now()
	if _, err := seed.Run(ctx, loader, seed.Options{Vehicles: s.vehicles, Password: env.password}); err != nil {
		return nil, err
	}
	env.seed = seedResult{Vehicles: s.vehicles, Seconds: time.Since(start).Seconds()}
	// Fresh statistics, as autovacuum would eventually gather them.
	if _, err := loader.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		return nil, fmt.Errorf("vacuum: %w", err)
	}
	env.statStatements = enableStatStatements(ctx, env.db)
	env.postmaster = findPostmaster(ctx, env.db)
	return env, nil
}

// build compiles Carlot's server and the ceiling into a temporary directory.
func (env *environment) build(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "carlot-bench-bin-")
	if err != nil {
		return err
	}
	env.cleanups = append(env.cleanups, func() { _ = os.RemoveAll(dir) })
	env.serverBin, env.ceilingBin = filepath.Join(dir, "carlot"), filepath.Join(dir, "ceiling")
	for bin, pkg := range map[string]string{env.serverBin: "github.com/carlot/carlot/cmd/server", env.ceilingBin: "github.com/carlot/carlot/bench/ceiling"} {
		out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return nil
}

// startInProcess starts Carlot in this process (the subscriber runs measure
// its memory with the Go runtime's own counters) and sets env.graphqlURL.
func (env *environment) startInProcess() error {
	overrides := serverEnv(env.databaseURL)
	cfg, err := config.Load(func(k string) string {
		if v, ok := overrides[k]; ok {
			return v
		}
		return env.getenv(k)
	})
	if err != nil {
		return err
	}
	log := logging.New(os.Stderr, cfg.LogLevel, cfg.LogFormat)
	if env.api, err = app.New(app.Deps{Config: cfg, DB: env.db, Log: log}); err != nil {
		return err
	}
	env.api.Start()
	if err := env.serve(httpapi.NewServer(cfg, env.api.Handler, log), &env.graphqlURL); err != nil {
		env.api.Close()
		return err
	}
	env.graphqlURL += "/graphql"
	env.cleanups = append(env.cleanups, env.api.Close) // runs before the server's Shutdown (cleanups run in reverse)
	return nil
}

// enableStatStatements creates pg_stat_statements in the scratch database
// and reports whether it counts (the library must be preloaded: the
// embedded cluster is started so; another server may not be).
func enableStatStatements(ctx context.Context, db *bun.DB) bool {
	if _, err := db.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		return false
	}
	_, err := db.ExecContext(ctx, "SELECT pg_stat_statements_reset()")
	return err == nil
}

// startCluster starts a throwaway embedded PostgreSQL (fsync off) in a
// temporary directory and returns its maintenance URL.
func (env *environment) startCluster(ctx context.Context) (string, error) {
	dir, err := os.MkdirTemp("", "carlot-bench-")
	if err != nil {
		return "", err
	}
	env.cleanups = append(env.cleanups, func() { _ = os.RemoveAll(dir) })
	// As root the cluster runs as an unprivileged user, who must be able to enter the directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	opts := embeddedpg.Options{
		DataDir:   filepath.Join(dir, "postgres"),
		Ephemeral: true,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	cluster, err := embeddedpg.Start(ctx, opts)
	if err != nil {
		return "", err
	}
	stop := func(c *embeddedpg.Cluster) error {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return c.Stop(stopCtx)
	}
	// pg_stat_statements counts statements per request; it loads only at
	// start, so set it and start again.
	admin, err := database.Open(cluster.URL("postgres"), database.Options{MaxOpenConns: 1, ApplicationName: "carlot-bench"})
	if err == nil {
		_, err = admin.ExecContext(ctx, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
		_ = admin.Close()
	}
	if err == nil {
		if err = stop(cluster); err == nil {
			cluster, err = embeddedpg.Start(ctx, opts)
		}
	}
	if err != nil {
		_ = stop(cluster)
		return "", fmt.Errorf("restart the embedded cluster with pg_stat_statements: %w", err)
	}
	env.cleanups = append(env.cleanups, func() { _ = stop(cluster) })
	return cluster.URL("postgres"), nil
}

// createScratchDatabase creates carlot_bench_<random> on the server at
// serverURL, returns its URL, and drops it (forcibly) at close.
func (env *environment) createScratchDatabase(ctx context.Context, serverURL string) (string, error) {
	admin, err := database.Open(serverURL, database.Options{MaxOpenConns: 1, ApplicationName: "carlot-bench"})
	if err != nil {
		return "", err
	}
	name := "carlot_bench_" + randomHex(4)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE ?", bun.Ident(name)); err != nil {
		_ = admin.Close()
		return "", fmt.Errorf("create scratch database: %w", err)
	}
	env.cleanups = append(env.cleanups, func() {
		dropCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(dropCtx, "DROP DATABASE IF EXISTS ? WITH (FORCE)", bun.Ident(name))
		_ = admin.Close()
	})
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", errors.New("DATABASE_URL is not a valid URL")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// serve runs srv on a fresh loopback port and sets *base to its http:// address.
func (env *environment) serve(srv *http.Server, base *string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	*base = "http://" + ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	env.cleanups = append(env.cleanups, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			_ = srv.Close()
		}
	})
	return nil
}

// close undoes prepare, last step first.
func (env *environment) close(progress func(string, ...any)) {
	for i := len(env.cleanups) - 1; i >= 0; i-- {
		env.cleanups[i]()
	}
	env.cleanups = nil
	progress("scratch database dropped")
}

// statementTally counts every statement sent on the bench's pool (bun's
// and the read planner's alike: the pool's driver reports each one), and
// separately those run for one chosen request id (the mutation whose
// fan-out is being measured).
type statementTally struct {
	all      atomic.Int64
	excluded atomic.Int64
	exclude  atomic.Pointer[string]
}

// count is the pool's database.Options.OnStatement.
func (t *statementTally) count(ctx context.Context) {
	t.all.Add(1)
	if id := t.exclude.Load(); id != nil && logging.RequestID(ctx) == *id {
		t.excluded.Add(1)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
