package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/embeddedpg"
	"github.com/carlot/carlot/internal/httpapi"
	"github.com/carlot/carlot/internal/logging"
	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/migrations"
	"github.com/carlot/carlot/models"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for --driver pgx
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// environment is what the measurements run against: the seeded database,
// Carlot on a loopback port, and the direct baseline on another.
type environment struct {
	db         *bun.DB
	api        *httpapi.API
	tally      *statementTally
	graphqlURL string // http://127.0.0.1:PORT/graphql
	directURL  string // http://127.0.0.1:PORT (the baseline)
	// databaseURL is the scratch database's.
	databaseURL string
	password    string // the demo accounts' password
	seed        seedResult
	pgVersion   string

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
func prepare(ctx context.Context, s *settings, getenv func(string) string, progress func(string, ...any)) (env *environment, err error) {
	env = &environment{tally: &statementTally{}, password: "bench-" + randomHex(12)}
	defer func() {
		if err != nil {
			env.close(progress)
		}
	}()
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

	overrides := serverEnv(dbURL)
	cfg, err := config.Load(func(k string) string {
		if v, ok := overrides[k]; ok {
			return v
		}
		return getenv(k)
	})
	if err != nil {
		return nil, err
	}
	env.db, err = database.Open(dbURL, database.Options{
		MaxOpenConns: cfg.DBMaxConns, StatementTimeout: cfg.StatementTimeout, ApplicationName: "carlot-bench",
	})
	if err != nil {
		return nil, err
	}
	env.db.AddQueryHook(env.tally)
	env.cleanups = append(env.cleanups, func() { _ = env.db.Close() })
	if _, err := migrations.Migrate(ctx, env.db); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	_ = env.db.NewRaw("SHOW server_version").Scan(ctx, &env.pgVersion)

	// Seeding and vacuuming are admin work, as `server db seed` does it: no
	// request-sized timeouts (a million vehicles take longer).
	loader, err := database.Open(dbURL, database.Options{MaxOpenConns: 1, ReadTimeout: database.NoReadTimeout, ApplicationName: "carlot-bench-seed"})
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

	if s.driver == "pgx" {
		// Seeded through pgdriver (its COPY); measured through pgx.
		if env.db, err = openPgx(dbURL, cfg.DBMaxConns); err != nil {
			return nil, err
		}
		env.db.AddQueryHook(env.tally)
		env.cleanups = append(env.cleanups, func() { _ = env.db.Close() })
	}

	log := logging.New(os.Stderr, cfg.LogLevel, cfg.LogFormat)
	env.api = httpapi.New(httpapi.Deps{Config: cfg, DB: env.db, Log: log})
	if err := env.serve(httpapi.NewServer(cfg, env.api, log), &env.graphqlURL); err != nil {
		return nil, err
	}
	env.graphqlURL += "/graphql"
	env.cleanups = append(env.cleanups, env.api.Close) // runs before the server's Shutdown (cleanups run in reverse)
	if err := env.serve(&http.Server{Handler: newDirectHandler(env.db), IdleTimeout: 2 * time.Minute}, &env.directURL); err != nil {
		return nil, err
	}
	return env, nil
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
	cluster, err := embeddedpg.Start(ctx, embeddedpg.Options{
		DataDir:   filepath.Join(dir, "postgres"),
		Ephemeral: true,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return "", err
	}
	env.cleanups = append(env.cleanups, func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = cluster.Stop(stopCtx)
	})
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

// statementTally is a bun query hook that counts every statement on the
// pool, and separately those run for one chosen request id (the mutation
// whose fan-out is being measured).
type statementTally struct {
	all      atomic.Int64
	excluded atomic.Int64
	exclude  atomic.Pointer[string]
}

// BeforeQuery implements bun.QueryHook.
func (t *statementTally) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

// AfterQuery implements bun.QueryHook.
func (t *statementTally) AfterQuery(ctx context.Context, _ *bun.QueryEvent) {
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

// openPgx opens a bun pool over pgx's database/sql driver, configured like
// database.Open's, to compare the drivers on the same work.
func openPgx(dsn string, maxConns int) (*bun.DB, error) {
	// bun sends SQL with its arguments already inlined, so every lookup is a
	// new text: pgx's default (prepare and cache each statement) would pay
	// a prepare per query. The simple protocol is the fair comparison.
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("default_query_exec_mode", "simple_protocol")
	u.RawQuery = q.Encode()
	sqldb, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, err
	}
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	db := bun.NewDB(sqldb, pgdialect.New())
	db.AddQueryHook(models.StatementCounter{})
	return db, nil
}
