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
)

// Close codes for websocket clients.
const (
	// CloseGoingAway: the server is shutting down; reconnect to another replica.
	CloseGoingAway = 1001
	// CloseTooSlow: the client fell behind; reconnect and resubscribe with after.
	CloseTooSlow = 4290
	// CloseTokenExpired: the access token expired; refresh it and reconnect.
	CloseTokenExpired = 4401
)

// SocketCloser closes the websocket a subscription runs on with a code.
type SocketCloser func(code int, reason string)

type socketCloserKey struct{}

// WithSocketCloser lets subscriptions under ctx close their websocket.
func WithSocketCloser(ctx context.Context, c SocketCloser) context.Context {
	return context.WithValue(ctx, socketCloserKey{}, c)
}

func closeSocket(ctx context.Context, err error) {
	c, ok := ctx.Value(socketCloserKey{}).(SocketCloser)
	if !ok {
		return
	}
	switch {
	case errors.Is(err, ErrTooSlow):
		c(CloseTooSlow, "too slow: resubscribe with after")
	case errors.Is(err, ErrShutdown):
		c(CloseGoingAway, "server shutting down")
	}
}

// subscriber is one subscription's place in the fan-out.
type subscriber struct {
	match func(*models.VehicleEvent, models.CatalogNames) bool
	limit int

	mu      sync.Mutex
	pending []*models.VehicleEvent
	wake    chan struct{} // has a value when pending has events

	once sync.Once
	done chan struct{}
	err  error
}

// offer queues the matching events without ever blocking the broker; a
// subscriber with more than its limit queued is stopped. It returns how many
// it queued.
func (s *subscriber) offer(events []*models.VehicleEvent, names models.CatalogNames) int {
	n := 0
	s.mu.Lock()
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
	s.mu.Unlock()
	switch {
	case over:
		s.stop(ErrTooSlow)
	case n > 0:
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return n
}

// take returns and clears the queued events.
func (s *subscriber) take() []*models.VehicleEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	events := s.pending
	s.pending = nil
	return events
}

func (s *subscriber) stop(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
	})
}

// Subscribe streams the events that match, in sequence order. With after, it
// first replays every matching event after that sequence from the table,
// then continues live, with no gap and no duplicate at the seam. The channel
// closes when ctx ends or the subscriber falls too far behind (then the
// websocket is closed with CloseTooSlow so the client resumes).
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
			return nil, err
		}
	}
	s := &subscriber{match: match, limit: b.opts.Buffer, wake: make(chan struct{}, 1), done: make(chan struct{})}
	b.mu.Lock()
	seam := b.last // events up to here come from the table, later ones live
	b.subs[s] = struct{}{}
	b.mu.Unlock()

	out := make(chan *models.VehicleEvent)
	go func() {
		defer close(out)
		defer func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
		}()
		sent := max(seam, now)
		if after != nil {
			sent = *after
		}
		send := func(e *models.VehicleEvent) bool {
			if e.Sequence <= sent {
				return true // replayed already, or before the client's resume point
			}
			select {
			case out <- e:
				sent = e.Sequence
				return true
			case <-ctx.Done():
				return false
			case <-s.done:
				return false
			}
		}
		if after != nil && *after < seam && !b.replay(ctx, *after, seam, s, send) {
			closeSocket(ctx, s.err)
			return
		}
		for {
			select {
			case <-s.wake:
				for _, e := range s.take() {
					if !send(e) {
						closeSocket(ctx, s.err)
						return
					}
				}
			case <-s.done:
				closeSocket(ctx, s.err)
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// replay sends the matching events in (after, seam] from the table.
func (b *Broker) replay(ctx context.Context, after, seam int64, s *subscriber, send func(*models.VehicleEvent) bool) bool {
	names := b.names(ctx)
	for after < seam {
		events, err := models.EventsAfter(ctx, b.db, after, b.opts.BatchSize)
		if err != nil {
			b.log.WarnContext(ctx, "live events: replay failed", "err", err)
			return false
		}
		if len(events) == 0 {
			return true
		}
		if err := b.prepare(ctx, events); err != nil {
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
