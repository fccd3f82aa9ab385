// Package loaders batches the reads that GraphQL fields make one object at a
// time. A fresh set of loaders is made for every HTTP request (so nothing is
// cached across requests), and the models (read with their makes) and
// dealers of a page of vehicles cost one statement each, whatever the page
// size.
//
// The catalog part (makes, models, dealers, users: rows the API creates but
// never changes) can be shared: every subscription on a replica shares one
// for a short while, so an event fanned out to thousands of subscribers
// costs its catalog lookups once.
package loaders

import (
	"context"
	"encoding/json"
	"strconv"
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

	db                                       bun.IDB
	primedMakes, primedModels, primedDealers primed
}

// Loaders are one operation's batch loaders.
type Loaders struct {
	*Catalog
	Vehicle *dataloadgen.Loader[int64, *models.Vehicle]

	dealerVehicles *dataloadgen.Loader[dealerPageKey, []*models.Vehicle]
	dealerCounts   *dataloadgen.Loader[dealerCountKey, int]
	history        *dataloadgen.Loader[historyKey, []*models.VehicleEvent]
	// pages and filters map the canonical keys above back to the queries
	// they stand for, so one batch can serve several distinct queries.
	pages   sync.Map // string → models.VehicleQuery
	filters sync.Map // string → *models.VehicleFilter

	db bun.IDB
}

type dealerPageKey struct {
	dealerID int64
	page     string
}

type historyKey struct {
	vehicleID int64
	after     int64
	limit     int
}

type dealerCountKey struct {
	dealerID int64
	filter   string
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
// too; pass a shared one to share its cache.
func New(db bun.IDB, wait time.Duration, catalog *Catalog) *Loaders {
	if catalog == nil {
		catalog = NewCatalog(db, wait)
	}
	opt := dataloadgen.WithWait(wait)
	l := &Loaders{
		Catalog: catalog,
		db:      db,
		Vehicle: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*models.Vehicle, []error) {
			rows, err := models.VehiclesByID(ctx, db, ids)
			return inKeyOrder(ids, rows, err, func(v *models.Vehicle) int64 { return v.ID }, "vehicle")
		}, opt),
		history: dataloadgen.NewLoader(fetchHistory(db), opt),
	}
	l.dealerVehicles = dataloadgen.NewLoader(func(ctx context.Context, keys []dealerPageKey) ([][]*models.Vehicle, []error) {
		return l.fetchDealerVehicles(ctx, db, keys)
	}, opt)
	l.dealerCounts = dataloadgen.NewLoader(func(ctx context.Context, keys []dealerCountKey) ([]int, []error) {
		return l.fetchDealerCounts(ctx, db, keys)
	}, opt)
	return l
}

// DealerVehicles loads one page of a dealer's vehicles. Pages of many dealers
// requested together with the same query are fetched in one statement.
func (l *Loaders) DealerVehicles(ctx context.Context, dealerID int64, q models.VehicleQuery) ([]*models.Vehicle, error) {
	key, err := canonical(q)
	if err != nil {
		return nil, err
	}
	l.pages.LoadOrStore(key, q)
	return l.dealerVehicles.Load(ctx, dealerPageKey{dealerID: dealerID, page: key})
}

// History loads up to limit events of a vehicle after a sequence, oldest
// first; histories of many vehicles asked for together cost one statement.
func (l *Loaders) History(ctx context.Context, vehicleID, after int64, limit int) ([]*models.VehicleEvent, error) {
	return l.history.Load(ctx, historyKey{vehicleID: vehicleID, after: after, limit: limit})
}

func fetchHistory(db bun.IDB) func(context.Context, []historyKey) ([][]*models.VehicleEvent, []error) {
	return func(ctx context.Context, keys []historyKey) ([][]*models.VehicleEvent, []error) {
		out := make([][]*models.VehicleEvent, len(keys))
		errs := make([]error, len(keys))
		for _, idx := range groupBy(keys, func(k historyKey) string { return strconv.FormatInt(k.after, 10) + "/" + strconv.Itoa(k.limit) }) {
			first := keys[idx[0]]
			ids := make([]int64, len(idx))
			for i, at := range idx {
				ids[i] = keys[at].vehicleID
			}
			events, err := models.EventsOfVehicles(ctx, db, ids, first.after, first.limit)
			for _, at := range idx {
				out[at], errs[at] = events[keys[at].vehicleID], err
				if out[at] == nil {
					out[at] = []*models.VehicleEvent{}
				}
			}
		}
		return out, errs
	}
}

// DealerVehicleCount loads how many of a dealer's vehicles match f, batched
// across dealers like DealerVehicles.
func (l *Loaders) DealerVehicleCount(ctx context.Context, dealerID int64, f *models.VehicleFilter) (int, error) {
	key, err := canonical(f)
	if err != nil {
		return 0, err
	}
	l.filters.LoadOrStore(key, f)
	return l.dealerCounts.Load(ctx, dealerCountKey{dealerID: dealerID, filter: key})
}

func (l *Loaders) fetchDealerVehicles(ctx context.Context, db bun.IDB, keys []dealerPageKey) ([][]*models.Vehicle, []error) {
	out := make([][]*models.Vehicle, len(keys))
	errs := make([]error, len(keys))
	for page, idx := range groupBy(keys, func(k dealerPageKey) string { return k.page }) {
		q, _ := l.pages.Load(page)
		ids := make([]int64, len(idx))
		for i, at := range idx {
			ids[i] = keys[at].dealerID
		}
		byDealer, err := models.ListVehiclesOfDealers(ctx, db, ids, q.(models.VehicleQuery))
		for _, at := range idx {
			out[at], errs[at] = byDealer[keys[at].dealerID], err
			if out[at] == nil {
				out[at] = []*models.Vehicle{}
			}
		}
	}
	return out, errs
}

func (l *Loaders) fetchDealerCounts(ctx context.Context, db bun.IDB, keys []dealerCountKey) ([]int, []error) {
	out := make([]int, len(keys))
	errs := make([]error, len(keys))
	for filter, idx := range groupBy(keys, func(k dealerCountKey) string { return k.filter }) {
		f, _ := l.filters.Load(filter)
		ids := make([]int64, len(idx))
		for i, at := range idx {
			ids[i] = keys[at].dealerID
		}
		counts, err := models.CountVehiclesOfDealers(ctx, db, ids, f.(*models.VehicleFilter))
		for _, at := range idx {
			out[at], errs[at] = counts[keys[at].dealerID], err
		}
	}
	return out, errs
}

// canonical is a stable text form of a query, equal for equal queries.
func canonical(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// groupBy returns, for each distinct group of keys, the positions of its keys.
func groupBy[K any](keys []K, group func(K) string) map[string][]int {
	groups := make(map[string][]int)
	for i, k := range keys {
		g := group(k)
		groups[g] = append(groups[g], i)
	}
	return groups
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
