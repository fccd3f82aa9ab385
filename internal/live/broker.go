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
	"time"

	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/models"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
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
	// Prepare, when set, is given each batch of events read, once for every
	// subscriber, before they are offered: the read planner fills in there
	// what rendering them needs (each vehicle's current state, the make,
	// model and dealer of every vehicle in them).
	Prepare func(ctx context.Context, events []*models.VehicleEvent) error
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
	return &Broker{db: db, log: log, opts: opts, ready: make(chan struct{}), subs: make(map[*subscriber]struct{})}
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

	pool := database.Pool(b.db)
	if pool == nil {
		// LISTEN needs the pgx pool that database.Open makes; on another
		// one, the poll alone still delivers everything, only later.
		b.log.WarnContext(ctx, "live events: the pool cannot LISTEN; polling only", "interval", b.opts.PollInterval)
		for sleep(ctx, b.opts.PollInterval) {
			b.read(ctx)
		}
		b.stopAll()
		return
	}
	for ctx.Err() == nil {
		// A connection of its own, outside the pool: it is held for as
		// long as the replica runs and would otherwise take a request's place.
		conn, err := listen(ctx, pool.Config().ConnConfig)
		if err != nil {
			if ctx.Err() == nil {
				b.log.WarnContext(ctx, "live events: LISTEN failed; polling until it works", "err", err)
			}
			sleep(ctx, b.opts.PollInterval)
			b.read(ctx) // what the outage hid
			continue
		}
		b.read(ctx) // what came before LISTEN took effect
		b.receive(ctx, conn)
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		_ = conn.Close(closeCtx)
		cancel()
	}
	b.stopAll()
}

// listen opens a connection and listens on Channel.
func listen(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

// receive reads after every notification, and every PollInterval without
// one, until ctx ends or the connection breaks.
func (b *Broker) receive(ctx context.Context, conn *pgx.Conn) {
	for ctx.Err() == nil {
		wait, cancel := context.WithTimeout(ctx, b.opts.PollInterval)
		_, err := conn.WaitForNotification(wait)
		cancel()
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
			// Listen again on a new connection; read what the outage hid.
			b.log.DebugContext(ctx, "live events: listener interrupted", "err", err)
			sleep(ctx, b.opts.PollInterval/4)
			b.read(ctx)
			return
		}
		b.read(ctx)
	}
}

// read fans out every event not yet offered, logging a failure (the next
// read retries).
func (b *Broker) read(ctx context.Context) {
	if err := b.catchUp(ctx); err != nil && ctx.Err() == nil {
		b.log.WarnContext(ctx, "live events: reading events failed; will retry", "err", err)
	}
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
		names, err := b.prepare(ctx, events)
		if err != nil {
			return err
		}
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

// prepare has what delivering events will need read once for every
// subscriber (see Options.Prepare), and returns the make and model names
// that filters with search words match against.
func (b *Broker) prepare(ctx context.Context, events []*models.VehicleEvent) (models.CatalogNames, error) {
	if b.opts.Prepare != nil {
		if err := b.opts.Prepare(ctx, events); err != nil {
			return nil, err
		}
	}
	return eventNames(ctx, b.db, events)
}

// eventNames returns the make and model names of the events' vehicles: from
// their models when prepared, else read in one statement.
func eventNames(ctx context.Context, db bun.IDB, events []*models.VehicleEvent) (models.CatalogNames, error) {
	type names struct{ make, model string }
	byModel := make(map[int64]names)
	var missing []int64
	note := func(v *models.Vehicle) {
		if v == nil {
			return
		}
		if _, ok := byModel[v.ModelID]; ok {
			return
		}
		if v.Model != nil && v.Model.Make != nil {
			byModel[v.ModelID] = names{v.Model.Make.Name, v.Model.Name}
			return
		}
		byModel[v.ModelID] = names{}
		missing = append(missing, v.ModelID)
	}
	for _, e := range events {
		note(e.Snapshot)
		note(e.Previous)
	}
	if len(missing) > 0 {
		rows, err := models.ModelsByID(ctx, db, missing)
		if err != nil {
			return nil, err
		}
		for _, m := range rows {
			if m.Make != nil {
				byModel[m.ID] = names{m.Make.Name, m.Name}
			}
		}
	}
	return func(_, modelID int64) (string, string) {
		// A vehicle's make is its model's make.
		n := byModel[modelID]
		return n.make, n.model
	}, nil
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
