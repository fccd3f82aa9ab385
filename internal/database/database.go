// Package database opens Carlot's connection pool to PostgreSQL.
//
// There is one pool, pgx's (pgxpool). The read planner (graph/plan) and the
// live event listener use it directly, with statements PostgreSQL prepares
// once per connection; bun (models, writes, migrations) runs on the same
// pool through pgx's database/sql adapter.
package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/carlot/carlot/models"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Options tunes the pool.
type Options struct {
	// MaxOpenConns caps connections to PostgreSQL (0 means 20).
	MaxOpenConns int
	// StatementTimeout makes PostgreSQL cancel any statement running longer
	// (0 means none: admin commands, whose statements may run for minutes,
	// leave it unset). pgx itself sets no read deadline of its own: a
	// statement waits for its reply as long as its context allows.
	StatementTimeout time.Duration
	// ApplicationName shows in pg_stat_activity.
	ApplicationName string
	// OnStatement, when set, is called with the context of every statement
	// sent to PostgreSQL, bun's and the planner's alike.
	OnStatement func(context.Context)
	// Tracer, when set, traces the statements sent with arguments: the
	// planner's, whose text holds placeholders. bun's statements carry their
	// arguments in their text, so they are traced by bun's own hook, which
	// sees them before the values are written in.
	Tracer pgx.QueryTracer
}

// Open returns a bun.DB for the PostgreSQL URL dsn, running on a pgx pool
// that Pool returns. It does not connect yet; call Ping to find out whether
// the database is reachable. Closing the bun.DB closes the pool.
func Open(dsn string, opts Options) (*bun.DB, error) {
	if err := checkURL(dsn); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("DATABASE_URL could not be parsed")
	}
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 20
	}
	if opts.ApplicationName == "" {
		opts.ApplicationName = "carlot"
	}
	cfg.MaxConns = int32(min(opts.MaxOpenConns, 1<<30))
	// Recycle connections now and then so a failover or restarted server is picked up.
	cfg.MaxConnLifetime = 30 * time.Minute
	cfg.MaxConnIdleTime = 5 * time.Minute
	cc := cfg.ConnConfig
	cc.ConnectTimeout = 5 * time.Second
	cc.RuntimeParams["application_name"] = opts.ApplicationName
	// Floats read as text (statements sent unprepared) must read back
	// exactly: keyset cursors carry them (a page ordered by distance).
	// PostgreSQL prints the shortest exact form when this is above 0, its
	// default, but a role or database may have lowered it.
	cc.RuntimeParams["extra_float_digits"] = "3"
	if opts.StatementTimeout > 0 {
		cc.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	}
	// bun writes its arguments into the SQL text, so each of its statements
	// is new to PostgreSQL: send them as they are (one round trip, nothing
	// kept on the server). The planner's statements carry placeholders and
	// ask for pgx's per-connection statement cache themselves (see
	// Prepared).
	cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	cc.Tracer = statementTracer{onStatement: opts.OnStatement, traced: opts.Tracer}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, errors.New("DATABASE_URL could not be used")
	}
	sqldb := sql.OpenDB(poolConnector{Connector: stdlib.GetPoolConnector(pool), pool: pool})
	// The pgx pool keeps the idle connections; database/sql hands each back
	// to it after use instead of holding some of its own.
	sqldb.SetMaxIdleConns(0)
	return bun.NewDB(sqldb, pgdialect.New()), nil
}

// Prepared is the query execution mode for statements with placeholders
// that run again and again: pgx prepares each statement text once per
// connection and reuses it (and its plan) afterwards. Pass it as the first
// argument after the SQL.
const Prepared = pgx.QueryExecModeCacheStatement

// Pool returns the pgx pool under a bun.DB made by Open, or nil for
// another bun.DB.
func Pool(db *bun.DB) *pgxpool.Pool {
	if db == nil {
		return nil
	}
	if d, ok := db.DB.Driver().(poolDriver); ok {
		return d.pool
	}
	return nil
}

// poolConnector is pgx's database/sql connector on a pool, which also
// closes the pool when the sql.DB is closed and lets Pool find it.
type poolConnector struct {
	driver.Connector
	pool *pgxpool.Pool
}

func (c poolConnector) Driver() driver.Driver {
	return poolDriver{Driver: c.Connector.Driver(), pool: c.pool}
}

// Close implements io.Closer, which sql.DB.Close calls.
func (c poolConnector) Close() error {
	c.pool.Close()
	return nil
}

type poolDriver struct {
	driver.Driver
	pool *pgxpool.Pool
}

// statementTracer counts every statement sent (see models.WithStatementCount)
// and hands those sent with arguments to traced.
type statementTracer struct {
	onStatement func(context.Context)
	traced      pgx.QueryTracer
}

var _ pgx.QueryTracer = statementTracer{}

// tracedKey marks a statement's context when traced started a span for it.
type tracedKey struct{}

func (t statementTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	models.CountStatement(ctx)
	if t.onStatement != nil {
		t.onStatement(ctx)
	}
	if t.traced != nil && len(data.Args) > 0 {
		ctx = context.WithValue(t.traced.TraceQueryStart(ctx, conn, data), tracedKey{}, true)
	}
	return ctx
}

func (t statementTracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	if traced, _ := ctx.Value(tracedKey{}).(bool); traced {
		t.traced.TraceQueryEnd(ctx, conn, data)
	}
}

// checkURL rejects what cannot be a PostgreSQL URL, with a message that
// never repeats the URL.
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
