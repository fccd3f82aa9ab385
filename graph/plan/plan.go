// Package plan is Carlot's read planner: every GraphQL field that returns
// vehicles reads them here, and nowhere else.
//
// The field's selection decides, in one place, what a read fetches: the
// vehicle columns selected, the make, model (with its make) and dealer
// joined into the same statement, each nested connection (a dealer's
// vehicles under a page of dealers) as one statement per level for all its
// parents, and a count only when totalCount is selected. Statements carry
// their arguments as placeholders and are sent in pgx's statement-cache
// mode, so PostgreSQL parses and plans each shape once per connection; the
// SQL text of each shape is built once and kept.
//
// Search is the exception. A filter's search words are first resolved in
// one statement (ResolveSearch: the models each word names, and whether
// any VIN, color, trim or stock number contains it), and every statement
// with search conditions is sent unprepared (pgx's exec mode, still one
// round trip), so PostgreSQL plans it for its actual patterns and model ids
// each time. A
// prepared statement switches to a generic plan after five runs, blind to
// the values, and a rare word's search, answered in a millisecond from
// the trigram indexes, could become a scan of the whole table.
//
// Counts read the vehicle rollups when the filter allows an exact answer
// there (models.VehicleFilter.Rollup), and count the vehicles on their
// indexes otherwise.
package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/carlot/carlot/models"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"
)

// statementTexts is how many statement shapes keep their SQL text.
const statementTexts = 2048

// Planner reads vehicles (and dealers with their vehicles) for GraphQL
// fields. One is shared by every request.
type Planner struct {
	pool  *pgxpool.Pool
	texts *lru.Cache[statementKey, string]
	opts  Options
}

// Options configure a Planner.
type Options struct {
	// NestedQuery turns the arguments of a dealer's vehicles connection
	// (Dealer.vehicles), as the document gives them, into the page to read;
	// false when they are invalid (the field's resolver then reports why).
	NestedQuery func(args map[string]any) (models.VehicleQuery, bool)
	// BatchWait is how long the history loader collects sibling fields.
	BatchWait time.Duration
}

// New returns a planner running its statements on pool.
func New(pool *pgxpool.Pool, opts Options) *Planner {
	texts, _ := lru.New[statementKey, string](statementTexts)
	if opts.BatchWait <= 0 {
		opts.BatchWait = 2 * time.Millisecond
	}
	return &Planner{pool: pool, texts: texts, opts: opts}
}

var (
	// errNoPool is what a planner without a database answers.
	errNoPool = errors.New("plan: no database pool")
	// errClosed is what a planner whose pool was closed answers, in the
	// words database/sql uses for bun's statements.
	errClosed = errors.New("database is closed")
)

// query runs a planned statement in statement-cache mode: prepared once per
// connection, then only bound and executed.
func (p *Planner) query(ctx context.Context, sql string, args []any) (pgx.Rows, error) {
	return p.queryIn(ctx, pgx.QueryExecModeCacheStatement, sql, args)
}

// queryFiltered runs a planned statement whose conditions include f's.
// With search words it is planned anew on each run, with its arguments in
// view (see the package comment).
func (p *Planner) queryFiltered(ctx context.Context, f *models.VehicleFilter, sql string, args []any) (pgx.Rows, error) {
	if f != nil && len(f.Search) > 0 {
		return p.queryIn(ctx, pgx.QueryExecModeExec, sql, args)
	}
	return p.query(ctx, sql, args)
}

func (p *Planner) queryIn(ctx context.Context, mode pgx.QueryExecMode, sql string, args []any) (pgx.Rows, error) {
	if p.pool == nil {
		return nil, errNoPool
	}
	rows, err := p.pool.Query(ctx, sql, append([]any{mode}, args...)...)
	if errors.Is(err, puddle.ErrClosedPool) {
		err = fmt.Errorf("%w (%w)", errClosed, err)
	}
	return rows, err
}

// ResolveSearch returns f with its search words resolved into the model
// ids they name and whether VINs, colors, trims and stock numbers contain
// them, as models.ResolveSearch does: one statement when f has words not resolved
// yet, none otherwise. Every read of a filter resolves it first; a caller
// that reads a page and its totalCount resolves once and hands both the
// result.
func (p *Planner) ResolveSearch(ctx context.Context, f *models.VehicleFilter) (*models.VehicleFilter, error) {
	if !f.NeedsSearch() {
		return f, nil
	}
	// The probe carries its patterns as literals, so it is planned for
	// them: a rare word's probe reads a trigram index, a common one stops
	// at its first row.
	rows, err := p.queryIn(ctx, pgx.QueryExecModeExec, models.SearchProbe(f.SearchWords), nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	probe := make([]models.SearchProbeRow, 0, len(f.SearchWords))
	for rows.Next() {
		var r models.SearchProbeRow
		if err := rows.Scan(&r.Word, &r.ModelIDs, &r.InVINs, &r.InColors, &r.InTrims, &r.InStockNumbers); err != nil {
			return nil, err
		}
		probe = append(probe, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return f.WithSearch(probe)
}

// text returns the SQL text of a statement shape, building it on first use.
func (p *Planner) text(key statementKey, build func() string) string {
	if s, ok := p.texts.Get(key); ok {
		return s
	}
	s := build()
	p.texts.Add(key, s)
	return s
}

// An operation holds what a planned field leaves for the fields under it:
// the nested levels read for a page of parents, and the history batches.
type operation struct {
	mu      sync.Mutex
	nested  map[nestedKey]*nestedPage
	history *historyLoader
	// histories are the histories of pages' vehicles, read once a page.
	histories map[historyBatchKey]*historyBatch
	// photoLoader batches the photos of vehicles not listed in a page, and
	// photoPages holds those of pages' vehicles, read once a page.
	photoLoader *photoLoader
	photoPages  map[any]*photoBatch
}

type operationKey struct{}

// WithOperation returns ctx carrying fresh planner state for one GraphQL
// operation (query or mutation). Nested levels planned under a root field
// are found by the fields below it only through this state; without it
// they read on their own.
func WithOperation(ctx context.Context) context.Context {
	return context.WithValue(ctx, operationKey{}, &operation{})
}

func operationFrom(ctx context.Context) *operation {
	op, _ := ctx.Value(operationKey{}).(*operation)
	return op
}

// Recorder collects the fields the planner resolved, as "Type.field"
// coordinates, so tests can check that every field returning vehicles goes
// through the planner.
type Recorder struct {
	mu     sync.Mutex
	fields map[string]bool
}

type recorderKey struct{}

// WithRecorder returns ctx under which planned fields are recorded in r.
func WithRecorder(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, r)
}

// Planned returns the coordinates recorded so far, sorted.
func (r *Recorder) Planned() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.fields))
	for f := range r.fields {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// Reset forgets what was recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fields = nil
}

// record notes that the field being resolved went through the planner.
func record(ctx context.Context) {
	r, ok := ctx.Value(recorderKey{}).(*Recorder)
	if !ok {
		return
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fields == nil {
		r.fields = make(map[string]bool)
	}
	r.fields[fc.Object+"."+fc.Field.Name] = true
}
