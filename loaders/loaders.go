// Package loaders batches the reads that GraphQL fields make one object at a
// time, where sibling fields must share a batch: the makes, models, dealers
// and users that nodes, stats and accounts point to. (Vehicles, and what
// they point to, are read by the planner, graph/plan.) A fresh set of
// loaders is made for every HTTP request and every websocket operation, so
// nothing is cached across them.
package loaders

import (
	"context"
	"sync"
	"time"

	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
	"github.com/vikstrous/dataloadgen"
)

// DefaultWait is how long a loader collects keys before it fetches them. The
// resolvers of one list run concurrently and ask within microseconds of each
// other; the wait only needs to cover the scheduler.
const DefaultWait = 2 * time.Millisecond

// Catalog loads rows the API never changes once created.
type Catalog struct {
	Make         *dataloadgen.Loader[int64, *models.Make]
	Model        *dataloadgen.Loader[int64, *models.Model]
	Dealer       *dataloadgen.Loader[int64, *models.Dealer]
	User         *dataloadgen.Loader[int64, *models.User]
	ModelsOfMake *dataloadgen.Loader[int64, []*models.Model]

	db          bun.IDB
	primedMakes primed
}

// Loaders are one operation's batch loaders.
type Loaders struct {
	*Catalog
}

// NewCatalog returns catalog loaders reading from db.
//
// A batch runs with the context of the first caller in it, and its result,
// an error included, stays in the cache for every later caller. A shared
// catalog must not keep "context canceled" because the subscriber that
// happened to start a batch hung up, so its reads ignore cancellation
// (statement_timeout still bounds them).
func NewCatalog(db bun.IDB, wait time.Duration) *Catalog {
	opt := dataloadgen.WithWait(wait)
	return &Catalog{
		db: db,
		Make: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*models.Make, []error) {
			rows, err := models.MakesByID(context.WithoutCancel(ctx), db, ids)
			return inKeyOrder(ids, rows, err, func(m *models.Make) int64 { return m.ID }, "make")
		}, opt),
		Model: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*models.Model, []error) {
			rows, err := models.ModelsByID(context.WithoutCancel(ctx), db, ids)
			return inKeyOrder(ids, rows, err, func(m *models.Model) int64 { return m.ID }, "model")
		}, opt),
		Dealer: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*models.Dealer, []error) {
			rows, err := models.DealersByID(context.WithoutCancel(ctx), db, ids)
			return inKeyOrder(ids, rows, err, func(d *models.Dealer) int64 { return d.ID }, "dealer")
		}, opt),
		User: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*models.User, []error) {
			rows, err := models.UsersByID(context.WithoutCancel(ctx), db, ids)
			return inKeyOrder(ids, rows, err, func(u *models.User) int64 { return u.ID }, "user")
		}, opt),
		ModelsOfMake: dataloadgen.NewLoader(func(ctx context.Context, makeIDs []int64) ([][]*models.Model, []error) {
			rows, err := models.ModelsByMakeID(context.WithoutCancel(ctx), db, makeIDs)
			if err != nil {
				return nil, sameError(len(makeIDs), err)
			}
			byMake := make(map[int64][]*models.Model, len(makeIDs))
			for _, m := range rows {
				byMake[m.MakeID] = append(byMake[m.MakeID], m)
			}
			out := make([][]*models.Model, len(makeIDs))
			for i, id := range makeIDs {
				out[i] = byMake[id]
				if out[i] == nil {
					out[i] = []*models.Model{}
				}
			}
			return out, nil
		}, opt),
	}
}

// New returns fresh loaders reading from db. A nil catalog gets a fresh one
// too; pass one to share its cache.
func New(db bun.IDB, wait time.Duration, catalog *Catalog) *Loaders {
	if catalog == nil {
		catalog = NewCatalog(db, wait)
	}
	return &Loaders{Catalog: catalog}
}

// inKeyOrder lines rows up with the keys that asked for them, with a
// not-found error for each key that has no row (dataloadgen requires one
// result and one error slot per key, in key order).
func inKeyOrder[T any](keys []int64, rows []*T, err error, id func(*T) int64, what string) ([]*T, []error) {
	if err != nil {
		return nil, sameError(len(keys), err)
	}
	byID := make(map[int64]*T, len(rows))
	for _, r := range rows {
		byID[id(r)] = r
	}
	out := make([]*T, len(keys))
	var errs []error
	for i, k := range keys {
		if r, ok := byID[k]; ok {
			out[i] = r
			continue
		}
		if errs == nil {
			errs = make([]error, len(keys))
		}
		errs[i] = models.Errorf(models.CodeNotFound, "%s not found", what)
	}
	return out, errs
}

// sameError gives every key the same error. (A one-element slice would do
// too, but dataloadgen reads that as "one error for all", which hides the
// shape; being explicit keeps the invariant obvious.)
func sameError(n int, err error) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

type contextKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, contextKey{}, l)
}

// WithLazy returns ctx carrying loaders made by build when first asked for:
// for operations that may never need them, such as a subscription whose
// events carry everything they render.
func WithLazy(ctx context.Context, build func() *Loaders) context.Context {
	return context.WithValue(ctx, contextKey{}, &lazy{build: build})
}

type lazy struct {
	once  sync.Once
	build func() *Loaders
	l     *Loaders
}

// For returns the loaders of the request ctx belongs to. It panics when
// there are none: that is a wiring defect, not a runtime condition.
func For(ctx context.Context) *Loaders {
	switch l := ctx.Value(contextKey{}).(type) {
	case *Loaders:
		return l
	case *lazy:
		l.once.Do(func() { l.l = l.build() })
		return l.l
	}
	panic("loaders: no loaders in context; is the loaders middleware installed?")
}
