package loaders

import (
	"context"
	"sync"

	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
	"github.com/vikstrous/dataloadgen"
)

// primed remembers which ids a loader already holds, so prefetching twice
// fetches nothing twice.
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

// PrefetchMakes loads the given makes in one statement and primes the loader.
func (l *Catalog) PrefetchMakes(ctx context.Context, ids []int64) error {
	return prime(ctx, l.db, l.Make, &l.primedMakes, ids, models.MakesByID, func(m *models.Make) int64 { return m.ID })
}
