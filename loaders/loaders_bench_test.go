package loaders_test

import (
	"context"
	"flag"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
)

// TestMain starts a database only when benchmarks run: this package has no
// tests, and `go test ./...` should not pay for a cluster it never uses.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	os.Exit(testdb.Main(m))
}

// counting counts the statements run on a pool.
type counting struct{ n *atomic.Int64 }

func (c counting) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (c counting) AfterQuery(context.Context, *bun.QueryEvent)                        { c.n.Add(1) }

func seeded(b *testing.B) (*bun.DB, *atomic.Int64, []*models.Vehicle) {
	db := testdb.New(b, testdb.Seeded)
	n := new(atomic.Int64)
	db.AddQueryHook(counting{n})
	var vehicles []*models.Vehicle
	if err := db.NewSelect().Model(&vehicles).OrderExpr("v.id").Limit(50).Scan(b.Context()); err != nil {
		b.Fatal(err)
	}
	return db, n, vehicles
}

// BenchmarkVehicleLoaderBatch is 50 concurrent resolvers each asking one
// loader for a different vehicle, as a list's fields do: one statement per
// operation, and the loader's wait (DefaultWait) in the latency.
func BenchmarkVehicleLoaderBatch(b *testing.B) {
	db, statements, vehicles := seeded(b)
	ctx := b.Context()
	b.ReportAllocs()
	statements.Store(0)
	for b.Loop() {
		l := loaders.New(db, loaders.DefaultWait, nil)
		var wg sync.WaitGroup
		for _, v := range vehicles {
			wg.Go(func() {
				if _, err := l.Vehicle.Load(ctx, v.ID); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(statements.Load())/float64(b.N), "statements/op")
}

// BenchmarkPrefetchPage is what the look-ahead does for a page of 50
// vehicles selecting make, model and dealer: two statements (models come
// with their makes), then Relate fills every vehicle in from the primed
// cache without waiting.
func BenchmarkPrefetchPage(b *testing.B) {
	db, statements, vehicles := seeded(b)
	ctx := b.Context()
	rel := loaders.Relations{Make: true, Model: true, Dealer: true}
	b.ReportAllocs()
	statements.Store(0)
	for b.Loop() {
		l := loaders.New(db, loaders.DefaultWait, nil)
		if err := l.Prefetch(ctx, vehicles, rel); err != nil {
			b.Fatal(err)
		}
		related, err := l.Relate(ctx, vehicles, rel)
		if err != nil {
			b.Fatal(err)
		}
		if v := related[len(related)-1]; v.Make == nil || v.Model == nil || v.Dealer == nil {
			b.Fatal("a vehicle was not filled in")
		}
	}
	b.ReportMetric(float64(statements.Load())/float64(b.N), "statements/op")
}
