package loaders

import (
	"cmp"
	"context"
	"errors"
	"sync"

	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
	"github.com/vikstrous/dataloadgen"
)

// Relations says which of a vehicle's related objects a client selected.
type Relations struct {
	Make, Model, Dealer bool
}

// Any reports whether any relation is selected.
func (r Relations) Any() bool { return r.Make || r.Model || r.Dealer }

// primed remembers which ids a loader already holds, so prefetching twice
// (a page, then each nested connection of it) fetches nothing twice.
type primed struct {
	mu  sync.Mutex
	ids map[int64]bool
}

// missing marks ids as primed and returns those that were not.
func (p *primed) missing(ids []int64) []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ids == nil {
		p.ids = make(map[int64]bool)
	}
	var out []int64
	for _, id := range ids {
		if !p.ids[id] {
			p.ids[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Prefetch loads the selected models (each with its make) and dealers of
// vehicles with one statement each and primes the loaders with them, so
// that Relate finds them cached. Without it, Relate still batches through
// the loaders, but the statement count would depend on which callers arrive
// within the loaders' wait window, and each would wait for it.
func (l *Catalog) Prefetch(ctx context.Context, vehicles []*models.Vehicle, rel Relations) error {
	if len(vehicles) == 0 || !rel.Any() {
		return nil
	}
	if rel.Make || rel.Model {
		// A vehicle's make is its model's make (a foreign key says so), and models are read with their makes.
		if err := prime(ctx, l.db, l.Model, &l.primedModels, distinct(vehicles, modelID),
			models.ModelsByID, func(m *models.Model) int64 { return m.ID }); err != nil {
			return err
		}
	}
	if rel.Dealer {
		if err := prime(ctx, l.db, l.Dealer, &l.primedDealers, distinct(vehicles, dealerID),
			models.DealersByID, func(d *models.Dealer) int64 { return d.ID }); err != nil {
			return err
		}
	}
	return nil
}

// Relate returns copies of vehicles with the selected make, model and dealer
// filled in from the loaders: cached when prefetched, else fetched in one
// batch with whatever else asks within the wait window. Copies, because one
// vehicle can reach several fields at once (an event fanned out to many
// subscriptions, a row listed under two aliases) and each fills its own.
func (l *Catalog) Relate(ctx context.Context, vehicles []*models.Vehicle, rel Relations) ([]*models.Vehicle, error) {
	if len(vehicles) == 0 || !rel.Any() {
		return vehicles, nil
	}
	// Ask for both before waiting on either, so they share one wait.
	var modelsOf func() ([]*models.Model, error)
	var dealersOf func() ([]*models.Dealer, error)
	modelIDs, dealerIDs := each(vehicles, modelID), each(vehicles, dealerID)
	if rel.Make || rel.Model {
		modelsOf = l.Model.LoadAllThunk(ctx, modelIDs)
	}
	if rel.Dealer {
		dealersOf = l.Dealer.LoadAllThunk(ctx, dealerIDs)
	}
	var mds []*models.Model
	var ds []*models.Dealer
	var err error
	if modelsOf != nil {
		if mds, err = modelsOf(); err != nil {
			return nil, forget(l.Model, modelIDs, err)
		}
	}
	if dealersOf != nil {
		if ds, err = dealersOf(); err != nil {
			return nil, forget(l.Dealer, dealerIDs, err)
		}
	}
	copies := make([]models.Vehicle, len(vehicles))
	out := make([]*models.Vehicle, len(vehicles))
	for i, v := range vehicles {
		c := &copies[i]
		*c = *v
		if rel.Model {
			c.Model = mds[i]
		}
		if rel.Make {
			c.Make = mds[i].Make
		}
		if rel.Dealer {
			c.Dealer = ds[i]
		}
		out[i] = c
	}
	return out, nil
}

func modelID(v *models.Vehicle) int64  { return v.ModelID }
func dealerID(v *models.Vehicle) int64 { return v.DealerID }

// each returns every vehicle's id of a kind, in order.
func each(vehicles []*models.Vehicle, of func(*models.Vehicle) int64) []int64 {
	out := make([]int64, len(vehicles))
	for i, v := range vehicles {
		out[i] = of(v)
	}
	return out
}

// distinct returns the vehicles' ids of a kind, each once.
func distinct(vehicles []*models.Vehicle, of func(*models.Vehicle) int64) []int64 {
	seen := make(map[int64]bool, len(vehicles))
	var out []int64
	for _, v := range vehicles {
		if id := of(v); !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// forget drops the keys a load failed for from the loader's cache, so that
// a failure (the database down for a moment) is not served again to every
// later caller, and returns the first of the errors.
func forget[V any](loader *dataloadgen.Loader[int64, V], keys []int64, err error) error {
	var errs dataloadgen.ErrorSlice
	if !errors.As(err, &errs) {
		return err
	}
	var first error
	for i, e := range errs {
		if e != nil {
			loader.Clear(keys[i])
			first = cmp.Or(first, e)
		}
	}
	return cmp.Or(first, err)
}

func prime[T any](ctx context.Context, db bun.IDB, loader *dataloadgen.Loader[int64, *T], seen *primed, ids []int64,
	fetch func(context.Context, bun.IDB, []int64) ([]*T, error), id func(*T) int64) error {
	ids = seen.missing(ids)
	if len(ids) == 0 {
		return nil
	}
	rows, err := fetch(ctx, db, ids)
	if err != nil {
		return err
	}
	for _, r := range rows {
		loader.Prime(id(r), r)
	}
	return nil
}

// PrefetchDealerVehicles loads page q of every dealer's vehicles in one
// statement and primes DealerVehicles with it, and returns all the vehicles
// so their relations can be prefetched in turn.
func (l *Loaders) PrefetchDealerVehicles(ctx context.Context, dealerIDs []int64, q models.VehicleQuery) ([]*models.Vehicle, error) {
	key, err := canonical(q)
	if err != nil || len(dealerIDs) == 0 {
		return nil, err
	}
	l.pages.LoadOrStore(key, q)
	byDealer, err := models.ListVehiclesOfDealers(ctx, l.db, dealerIDs, q)
	if err != nil {
		return nil, err
	}
	var all []*models.Vehicle
	for _, id := range dealerIDs {
		vs := byDealer[id]
		if vs == nil {
			vs = []*models.Vehicle{}
		}
		l.dealerVehicles.Prime(dealerPageKey{dealerID: id, page: key}, vs)
		all = append(all, vs...)
	}
	return all, nil
}

// PrefetchDealerVehicleCounts counts every dealer's vehicles matching f in
// one statement and primes DealerVehicleCount with the counts.
func (l *Loaders) PrefetchDealerVehicleCounts(ctx context.Context, dealerIDs []int64, f *models.VehicleFilter) error {
	key, err := canonical(f)
	if err != nil || len(dealerIDs) == 0 {
		return err
	}
	l.filters.LoadOrStore(key, f)
	counts, err := models.CountVehiclesOfDealers(ctx, l.db, dealerIDs, f)
	if err != nil {
		return err
	}
	for _, id := range dealerIDs {
		l.dealerCounts.Prime(dealerCountKey{dealerID: id, filter: key}, counts[id])
	}
	return nil
}

// PrefetchMakes loads the given makes in one statement and primes the loader.
func (l *Catalog) PrefetchMakes(ctx context.Context, ids []int64) error {
	return prime(ctx, l.db, l.Make, &l.primedMakes, ids, models.MakesByID, func(m *models.Make) int64 { return m.ID })
}
