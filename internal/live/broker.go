// Package live fans committed vehicle events out to subscribers.
//
// Each replica holds one LISTEN connection, not one per subscriber. A NOTIFY
// (sent by a trigger when an event commits, carrying only its sequence)
// wakes the broker, which reads every event after the last one it saw from
// the event table (the truth) and hands them to matching subscribers in
// process. Sequences are handed out in commit order, so "every event after
// S" never skips one. The broker also reads on a timer, so a notification
// lost while the listening connection was down (a database restart) delays
// events by at most one poll interval and loses none.
package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// Channel is the PostgreSQL notification channel the event trigger uses.
const Channel = "vehicle_events"

// Options tunes a Broker; zero values take the defaults.
type Options struct {
	// PollInterval is how often the broker reads without being woken (1s).
	PollInterval time.Duration
	// Buffer is how many events a subscriber may have queued before it is
	// cut off and told to resume (256).
	Buffer int
	// BatchSize is how many events one read fetches (500, at most Buffer/2).
	BatchSize int
	// CatalogTTL is how long subscribers share one set of catalog loaders (30s).
	CatalogTTL time.Duration
	// LoaderWait is the loaders' batching window.
	LoaderWait time.Duration
	// Delivered, when set, is told how many events were handed to subscribers.
	Delivered func(n int)
}

// Broker is one replica's fan-out of committed events.
type Broker struct {
	db   *bun.DB
	log  *slog.Logger
	opts Options

	ready chan struct{}
	mu    sync.Mutex
	last  int64 // every event up to last has been offered to every subscriber
	subs  map[*subscriber]struct{}

	catalog     atomic.Pointer[loaders.Catalog]
	catalogMade atomic.Int64 // unix nanoseconds
}

// New returns a broker; call Run to start it.
func New(db *bun.DB, log *slog.Logger, opts Options) *Broker {
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 256
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	// One batch must never overflow a subscriber that keeps up: it drains
	// between batches, each of which costs a database round trip.
	opts.BatchSize = max(1, min(opts.BatchSize, opts.Buffer/2))
	if opts.CatalogTTL <= 0 {
		opts.CatalogTTL = 30 * time.Second
	}
	if opts.LoaderWait <= 0 {
		opts.LoaderWait = loaders.DefaultWait
	}
	return &Broker{db: db, log: log, opts: opts, ready: make(chan struct{}), subs: make(map[*subscriber]struct{})}
}

// Catalog returns the catalog loaders subscribers share, renewed every
// CatalogTTL so that nothing stays cached for long.
func (b *Broker) Catalog() *loaders.Catalog {
	now := time.Now().UnixNano()
	if c := b.catalog.Load(); c != nil && now-b.catalogMade.Load() < int64(b.opts.CatalogTTL) {
		return c
	}
	c := loaders.NewCatalog(b.db, b.opts.LoaderWait)
	b.catalog.Store(c)
	b.catalogMade.Store(now)
	return c
}

// Run listens and fans out until ctx ends. It keeps going through database
// outages, reconnecting by itself.
func (b *Broker) Run(ctx context.Context) {
	for {
		last, err := models.LastEventSequence(ctx, b.db)
		if err == nil {
			b.mu.Lock()
			b.last = last
			b.mu.Unlock()
			break
		}
		b.log.WarnContext(ctx, "live events: database unavailable; retrying", "err", err)
		if !sleep(ctx, b.opts.PollInterval) {
			return
		}
	}
	close(b.ready)

	if _, ok := b.db.Driver().(pgdriver.Driver); !ok {
		// LISTEN needs bun's own driver; on another one, the poll alone
		// still delivers everything, only later.
		b.log.WarnContext(ctx, "live events: the pool's driver cannot LISTEN; polling only", "interval", b.opts.PollInterval)
		for sleep(ctx, b.opts.PollInterval) {
			if err := b.catchUp(ctx); err != nil && ctx.Err() == nil {
				b.log.WarnContext(ctx, "live events: reading events failed; will retry", "err", err)
			}
		}
		b.stopAll()
		return
	}
	ln := pgdriver.NewListener(b.db)
	// ReceiveTimeout does not watch ctx; closing the listener wakes it.
	stopListening := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stopListening()
	defer ln.Close()
	listening := false
	for ctx.Err() == nil {
		if !listening {
			if err := ln.Listen(ctx, Channel); err != nil {
				b.log.WarnContext(ctx, "live events: LISTEN failed; polling until it works", "err", err)
			} else {
				listening = true
			}
		}
		if listening {
			_, _, err := ln.ReceiveTimeout(ctx, b.opts.PollInterval)
			if err != nil && ctx.Err() == nil && !isTimeout(err) {
				// The listener reconnects on its own; read what the outage hid.
				b.log.DebugContext(ctx, "live events: listener interrupted", "err", err)
				sleep(ctx, b.opts.PollInterval/4)
			}
		} else {
			sleep(ctx, b.opts.PollInterval)
		}
		if err := b.catchUp(ctx); err != nil && ctx.Err() == nil {
			b.log.WarnContext(ctx, "live events: reading events failed; will retry", "err", err)
		}
	}
	b.stopAll()
}

// stopAll ends every subscription because the server is stopping.
func (b *Broker) stopAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.stop(ErrShutdown)
		delete(b.subs, s)
	}
}

// catchUp reads every event after the last one fanned out and offers them to
// the subscribers, in order.
func (b *Broker) catchUp(ctx context.Context) error {
	for {
		b.mu.Lock()
		after := b.last
		b.mu.Unlock()
		events, err := models.EventsAfter(ctx, b.db, after, b.opts.BatchSize)
		if err != nil || len(events) == 0 {
			return err
		}
		if err := b.prepare(ctx, events); err != nil {
			return err
		}
		names := b.names(ctx)
		delivered := 0
		b.mu.Lock()
		for s := range b.subs {
			delivered += s.offer(events, names)
			if s.isStopped() { // cut off for falling behind
				delete(b.subs, s)
			}
		}
		b.last = events[len(events)-1].Sequence
		b.mu.Unlock()
		if b.opts.Delivered != nil && delivered > 0 {
			b.opts.Delivered(delivered)
		}
		if len(events) < b.opts.BatchSize {
			return nil
		}
	}
}

// prepare reads, once for every subscriber, what delivering events will
// need: each vehicle's current state and the catalog rows of the snapshots.
func (b *Broker) prepare(ctx context.Context, events []*models.VehicleEvent) error {
	return prepareEvents(ctx, b.db, b.Catalog(), events)
}

func prepareEvents(ctx context.Context, db bun.IDB, catalog *loaders.Catalog, events []*models.VehicleEvent) error {
	ids := make([]int64, 0, len(events))
	vehicles := make([]*models.Vehicle, 0, 2*len(events))
	for _, e := range events {
		ids = append(ids, e.VehicleID)
		vehicles = append(vehicles, e.Snapshot)
		if e.Previous != nil {
			vehicles = append(vehicles, e.Previous)
		}
	}
	current, err := models.VehiclesByID(ctx, db, ids)
	if err != nil {
		return err
	}
	byID := make(map[int64]*models.Vehicle, len(current))
	for _, v := range current {
		byID[v.ID] = v
	}
	for _, e := range events {
		e.Current, e.CurrentKnown = byID[e.VehicleID], true
	}
	return catalog.Prefetch(ctx, append(vehicles, current...), loaders.Relations{Make: true, Model: true, Dealer: true})
}

// names looks make and model names up in the shared catalog (prefetched by
// prepare, so this waits for nothing).
func (b *Broker) names(ctx context.Context) models.CatalogNames {
	c := b.Catalog()
	return func(_, modelID int64) (string, string) {
		// The model is read with its make, which is also the vehicle's make.
		if m, err := c.Model.Load(ctx, modelID); err == nil {
			return m.Make.Name, m.Name
		}
		return "", ""
	}
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Subscribers returns how many subscriptions the broker is feeding.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
