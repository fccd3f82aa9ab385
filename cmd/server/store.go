package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/embeddedpg"
	"github.com/carlot/carlot/internal/logging"
	"github.com/carlot/carlot/migrations"
	"github.com/uptrace/bun"
)

// embeddedDatabase is the database Carlot creates in its embedded cluster.
const embeddedDatabase = "carlot"

// store is the open database and whatever must be stopped with it.
type store struct {
	DB       *bun.DB
	Embedded bool
	cluster  *embeddedpg.Cluster
}

// openStore connects to DATABASE_URL, or starts the embedded cluster under
// the data directory and connects to its carlot database.
// statements, when not nil, traces the statements the planner sends.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger, statements pgx.QueryTracer) (*store, error) {
	return openStoreWith(ctx, cfg, log, database.Options{MaxOpenConns: cfg.DBMaxConns, StatementTimeout: cfg.StatementTimeout, Tracer: statements})
}

// openStoreWith is openStore with the pool's options chosen by the caller.
func openStoreWith(ctx context.Context, cfg *config.Config, log *slog.Logger, opts database.Options) (*store, error) {
	if !cfg.Embedded() {
		db, err := database.Open(cfg.DatabaseURL, opts)
		if err != nil {
			return nil, err
		}
		return &store{DB: db}, nil
	}

	cluster, err := embeddedpg.Start(ctx, embeddedpg.Options{
		DataDir: filepath.Join(cfg.DataDir, "postgres"),
		BinDir:  cfg.PGBinDir,
		Logger:  log,
	})
	if err != nil {
		if errors.Is(err, embeddedpg.ErrNoBinaries) {
			return nil, embeddedpg.ErrNoBinaries
		}
		return nil, fmt.Errorf("embedded PostgreSQL: %w", err)
	}
	s := &store{Embedded: true, cluster: cluster}
	if err := createDatabase(ctx, cluster.URL("postgres"), embeddedDatabase); err != nil {
		s.Close()
		return nil, err
	}
	if s.DB, err = database.Open(cluster.URL(embeddedDatabase), opts); err != nil {
		s.Close()
		return nil, err
	}
	log.Info("embedded PostgreSQL ready", "data_dir", cluster.DataDir(), "port", cluster.Port())
	return s, nil
}

// createDatabase creates the named database unless it exists.
func createDatabase(ctx context.Context, maintenanceURL, name string) error {
	admin, err := database.Open(maintenanceURL, database.Options{MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer admin.Close()
	var exists bool
	if err := admin.NewSelect().ColumnExpr("EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)", name).Scan(ctx, &exists); err != nil {
		return fmt.Errorf("embedded PostgreSQL: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE ?", bun.Ident(name)); err != nil {
		return fmt.Errorf("embedded PostgreSQL: create database: %w", err)
	}
	return nil
}

// Close closes the pool and stops the embedded cluster if this process started it.
func (s *store) Close() {
	if s.DB != nil {
		_ = s.DB.Close()
	}
	if s.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.cluster.Stop(ctx)
	}
}

// waitForDatabase pings until the database answers or the wait is over.
func waitForDatabase(ctx context.Context, db *bun.DB, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := database.Ping(ctx, db)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("database unreachable: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// openForCommand opens the database for an admin command: DATABASE_URL or
// the embedded cluster, quiet unless something goes wrong, and reachable.
//
// An admin command is no HTTP request: its statements (a seed's bulk insert
// and index builds, a migration) may run for minutes, so it takes neither
// the request-sized DB_STATEMENT_TIMEOUT nor the driver's 10-second read
// timeout. Interrupting the command still cancels it.
func openForCommand(ctx context.Context, getenv func(string) string) (*store, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	opts := database.Options{MaxOpenConns: cfg.DBMaxConns}
	// Commands print results on stdout; the log only says what went wrong.
	st, err := openStoreWith(ctx, cfg, logging.New(io.Discard, slog.LevelError, cfg.LogFormat), opts)
	if err != nil {
		return nil, err
	}
	if err := waitForDatabase(ctx, st.DB, 5*time.Second); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// requireMigrated refuses to go on while migrations are pending.
func requireMigrated(ctx context.Context, db bun.IDB) error {
	pending, err := migrations.Pending(ctx, db)
	if err != nil {
		return err
	}
	if pending > 0 {
		return fmt.Errorf("%d migrations are pending; run 'server db migrate' first", pending)
	}
	return nil
}
