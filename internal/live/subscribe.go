package live

import (
	"context"
	"errors"
	"sync"

	"github.com/carlot/carlot/models"
)

var (
	// ErrTooSlow ends a subscription that fell more than the buffer behind.
	ErrTooSlow = errors.New("subscriber fell too far behind; resubscribe with after set to the last sequence received")
	// ErrShutdown ends subscriptions when the server stops.
	ErrShutdown = errors.New("server shutting down")
	// ErrUnavailable ends a subscription whose events could not be read (the
	// database is unreachable): the client retries and resumes with after.
	ErrUnavailable = errors.New("events unavailable; resubscribe with after set to the last sequence received")
)

// Aborter ends the connection a subscription runs on because of err, in the
// way that tells the client what to do next (a websocket closes with a code
// the client reconnects on). It reports whether it did: a transport aborts
// only for the errors it knows how to tell its client about.
type Aborter func(err error) bool

type aborterKey struct{}

// WithAborter lets subscriptions under ctx abort their connection.
func WithAborter(ctx context.Context, a Aborter) context.Context {
	return context.WithValue(ctx, aborterKey{}, a)
}

// Abort ends the connection of the subscription under ctx because of err
// (ErrTooSlow, ErrShutdown or ErrUnavailable) and reports whether it did:
// outside a transport that aborts, or for an error the transport does not
// tell its client about, it does nothing.
//
// A subscription that ends because of the server must abort its connection
// before it ends its stream: a stream that just ends is sent as "complete",
// which a client takes for a normal end and never retries, while the
// transport sends nothing more once the connection is closing.
func Abort(ctx context.Context, err error) bool {
	a, ok := ctx.Value(aborterKey{}).(Aborter)
	return ok && a(err)
}

// subscriber is one subscription's place in the fan-out.
//
// An idle subscriber costs no goroutine: the broker queues the events that
// match and, when there are some and no feeder is running, starts one that
// hands them to out (which the GraphQL executor reads) and returns once the
// queue is empty. Whoever stops the subscriber while no feeder runs closes
// out; otherwise the feeder does, on its way out.
type subscriber struct {
	match func(*models.VehicleEvent, models.CatalogNames) bool
	limit int
	out   chan *models.VehicleEvent
	// ctx is the subscription's, kept to read what the feeder needs from
	// it (the database reads of a replay, the aborter at the end).
	ctx context.Context

	mu      sync.Mutex
	pending []*models.VehicleEvent
	feeding bool // a feeder goroutine runs
	stopped bool
	err     error
	done    chan struct{} // closed when stopped

	sent int64 // the last sequence handed over or skipped; the feeder's own
}

// offer queues the matching events without ever blocking the broker; a
// subscriber with more than its limit queued is stopped. It returns how many
// it queued.
func (s *subscriber) offer(events []*models.VehicleEvent, names models.CatalogNames) int {
	n := 0
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return 0
	}
	for _, e := range events {
		if s.match(e, names) {
			s.pending = append(s.pending, e)
			n++
		}
	}
	over := len(s.pending) > s.limit
	if over {
		s.pending = nil // let the memory go; the client resumes from its last sequence
	}
	start := !over && n > 0 && !s.feeding
	if start && len(s.pending) == 1 && s.pending[0].Sequence > s.sent {
		// The usual case: one event for a subscription whose reader waits
		// on the channel. Hand it over now rather than from a feeder
		// goroutine: a fan-out to ten thousand would start ten thousand.
		// (No feeder runs, so s.sent is this goroutine's to update.)
		select {
		case s.out <- s.pending[0]:
			s.sent = s.pending[0].Sequence
			s.pending, start = nil, false
		default: // the reader is busy: the feeder waits for it
		}
	}
	s.feeding = s.feeding || start
	s.mu.Unlock()
	if over {
		s.stop(ErrTooSlow)
	}
	if start {
		go s.feed(nil)
	}
	return n
}

// feed runs replay, when given, then hands the queued events over until
// none are left or the subscriber stops.
func (s *subscriber) feed(replay func(send func(*models.VehicleEvent) bool) bool) {
	if replay != nil {
		replay(s.send) // a failed replay has stopped the subscriber
	}
	for {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			s.finish()
			return
		}
		events := s.pending
		s.pending = nil
		if len(events) == 0 {
			s.feeding = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		for _, e := range events {
			if !s.send(e) {
				break // stopped: the next turn finishes
			}
		}
	}
}

// send hands e over unless it was already (a replay overlapping the live
// events, or an event before the client's resume point).
func (s *subscriber) send(e *models.VehicleEvent) bool {
	if e.Sequence <= s.sent {
		return true
	}
	select {
	case s.out <- e:
		s.sent = e.Sequence
		return true
	case <-s.done:
		return false
	}
}

func (s *subscriber) stop(err error) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped, s.err = true, err
	close(s.done)
	feeding := s.feeding
	s.mu.Unlock()
	if !feeding {
		s.finish()
	}
}

// finish aborts the connection, to tell the client what to do when the
// broker ended the subscription, then ends the stream.
func (s *subscriber) finish() {
	Abort(s.ctx, s.err)
	close(s.out)
}

func (s *subscriber) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// Subscribe streams the events that match, in sequence order. With after, it
// first replays every matching event after that sequence from the table,
// then continues live, with no gap and no duplicate at the seam. The channel
// closes when ctx ends, when the subscriber falls too far behind (then the
// connection is aborted with ErrTooSlow so the client resumes) and when the
// events cannot be read, at the start or during the replay (then it is
// aborted with ErrUnavailable, for the same reason).
func (b *Broker) Subscribe(ctx context.Context, after *int64, match func(*models.VehicleEvent, models.CatalogNames) bool) (<-chan *models.VehicleEvent, error) {
	select {
	case <-b.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Without after, "from now" means after the newest committed event, not
	// after whatever this replica has read so far (it may trail by a poll).
	var now int64
	if after == nil {
		var err error
		if now, err = models.LastEventSequence(ctx, b.db); err != nil {
			b.log.WarnContext(ctx, "live events: subscribe failed", "err", err)
			return unavailable(ctx, err)
		}
	}
	s := &subscriber{
		match: match, limit: b.opts.Buffer, ctx: ctx,
		out: make(chan *models.VehicleEvent), done: make(chan struct{}),
	}
	b.mu.Lock()
	seam := b.last // events up to here come from the table, later ones live
	s.sent = max(seam, now)
	if after != nil {
		s.sent = *after
	}
	replay := after != nil && *after < seam
	s.feeding = replay
	b.subs[s] = struct{}{}
	b.mu.Unlock()

	context.AfterFunc(ctx, func() {
		s.stop(ctx.Err())
		b.mu.Lock()
		delete(b.subs, s)
		b.mu.Unlock()
	})
	if replay {
		go s.feed(func(send func(*models.VehicleEvent) bool) bool {
			if !b.replay(ctx, *after, seam, s, send) {
				// The stream ends (if it was not stopped already), and the
				// connection aborted so that the client retries, unless the
				// client itself went away.
				err := ErrUnavailable
				if ctx.Err() != nil {
					err = ctx.Err()
				}
				s.stop(err)
				return false
			}
			return true
		})
	}
	return s.out, nil
}

// unavailable answers a subscription that cannot start because the events
// cannot be read: where the connection aborts with ErrUnavailable, the
// stream ends unsent (an error answer would be followed by
// "complete", which ends the subscription for good in graphql-ws).
func unavailable(ctx context.Context, err error) (<-chan *models.VehicleEvent, error) {
	if ctx.Err() != nil || !Abort(ctx, ErrUnavailable) {
		return nil, err
	}
	out := make(chan *models.VehicleEvent)
	close(out)
	return out, nil
}

// replay sends the matching events in (after, seam] from the table.
func (b *Broker) replay(ctx context.Context, after, seam int64, s *subscriber, send func(*models.VehicleEvent) bool) bool {
	for after < seam {
		events, err := models.EventsAfter(ctx, b.db, after, b.opts.BatchSize)
		if err != nil {
			b.log.WarnContext(ctx, "live events: replay failed", "err", err)
			return false
		}
		if len(events) == 0 {
			return true
		}
		names, err := b.prepare(ctx, events)
		if err != nil {
			b.log.WarnContext(ctx, "live events: replay failed", "err", err)
			return false
		}
		for _, e := range events {
			if e.Sequence > seam {
				return true
			}
			if s.match(e, names) && !send(e) {
				return false
			}
			after = e.Sequence
		}
	}
	return true
}
