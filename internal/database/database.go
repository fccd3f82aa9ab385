// Package database opens Carlot's connection pool to PostgreSQL.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// Options tunes the pool.
type Options struct {
	// MaxOpenConns caps connections to PostgreSQL (0 means 20).
	MaxOpenConns int
	// StatementTimeout makes PostgreSQL cancel any statement running longer (0 means none).
	StatementTimeout time.Duration
	// ReadTimeout is how long the driver waits for PostgreSQL's next reply
	// before giving up on the connection when the context sets no deadline:
	// 0 means the driver's default, 10 s; NoReadTimeout means no limit, for
	// admin commands whose statements may run for minutes.
	ReadTimeout time.Duration
	// ApplicationName shows in pg_stat_activity.
	ApplicationName string
}

// NoReadTimeout, as Options.ReadTimeout, lets a statement's reply take as long as it takes.
const NoReadTimeout time.Duration = -1

// Open returns a bun.DB for the PostgreSQL URL dsn. It does not connect yet;
// call Ping to find out whether the database is reachable.
func Open(dsn string, opts Options) (db *bun.DB, err error) {
	if err := checkURL(dsn); err != nil {
		return nil, err
	}
	// pgdriver panics on a DSN it cannot parse; turn that into an error
	// without repeating the DSN, which may hold a password.
	defer func() {
		if recover() != nil {
			db, err = nil, errors.New("DATABASE_URL could not be parsed")
		}
	}()
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 20
	}
	if opts.ApplicationName == "" {
		opts.ApplicationName = "carlot"
	}
	connOpts := []pgdriver.Option{
		pgdriver.WithDSN(dsn),
		pgdriver.WithApplicationName(opts.ApplicationName),
		pgdriver.WithDialTimeout(5 * time.Second),
	}
	switch {
	case opts.ReadTimeout == NoReadTimeout:
		connOpts = append(connOpts, pgdriver.WithReadTimeout(0)) // the driver reads 0 as "no deadline"
	case opts.ReadTimeout > 0:
		connOpts = append(connOpts, pgdriver.WithReadTimeout(opts.ReadTimeout))
	}
	if opts.StatementTimeout > 0 {
		connOpts = append(connOpts, pgdriver.WithConnParams(map[string]any{
			"statement_timeout": opts.StatementTimeout.Milliseconds(),
		}))
	}
	sqldb := sql.OpenDB(pgdriver.NewConnector(connOpts...))
	sqldb.SetMaxOpenConns(opts.MaxOpenConns)
	sqldb.SetMaxIdleConns(opts.MaxOpenConns)
	// Recycle connections now and then so a failover or restarted server is picked up.
	sqldb.SetConnMaxLifetime(30 * time.Minute)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)

	db = bun.NewDB(sqldb, pgdialect.New())
	db.AddQueryHook(models.StatementCounter{})
	return db, nil
}

// checkURL rejects what pgdriver cannot use, with a message that never
// repeats the URL.
func checkURL(dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return errors.New("DATABASE_URL is not a valid URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("DATABASE_URL must start with postgres:// (got scheme %q)", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("DATABASE_URL has no host")
	}
	return nil
}

// Ping checks that the database answers within a few seconds.
func Ping(ctx context.Context, db *bun.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}
