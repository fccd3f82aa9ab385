package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	"github.com/99designs/gqlgen/graphql"
	"github.com/carlot/carlot/models"
	"github.com/vektah/gqlparser/v2/ast"
)

// An event fanned out to ten thousand subscriptions would be executed ten
// thousand times, almost always to the same bytes. Renderings lets the
// subscriptions that would render an event identically share one execution:
// the first to get there executes it, the others wait for its bytes.
//
// Two subscriptions render an event identically when they run the same
// document with the same variables for the same actor: those are all a
// rendering depends on (what an actor may see is decided from the actor,
// and everything else comes from the event, prepared by the planner once
// for every subscriber, and the database). So that
// is the key, with the event. A rendering that raised an error is not
// shared; each subscription then executes the event itself.

// Renderings holds the renderings of the events being fanned out. A
// rendering is shared for a short while only: long enough for every
// delivery of one fan-out, never so long that a later subscription gets
// bytes made before something else the document reaches had changed (a
// snapshot's dealer { vehicles { totalCount } }, say).
type Renderings struct {
	mu      sync.Mutex
	maxAge  time.Duration
	now     func() time.Time
	entries map[renderingKey]*rendering
	ring    []renderingKey // the keys in the order they came, oldest at head
	head, n int

	executed atomic.Int64
}

type renderingKey struct {
	event eventID // which event
	// operation is who asked for what: actor, operation name, variables,
	// document; interned, so that every subscription running the same
	// operation holds one copy of it.
	operation unique.Handle[string]
}

// eventID names what a subscription delivers: an event by its sequence and
// the version its vehicle has now (0 and gone when it is deleted), or a
// vehicle by its id and version.
type eventID struct {
	vehicle bool // a vehicle rather than an event
	id      int64
	version int
	gone    bool
}

type rendering struct {
	at    time.Time
	done  chan struct{}
	bytes []byte // nil when it cannot be shared
}

// NewRenderings keeps up to size renderings, each shared for maxAge.
func NewRenderings(size int, maxAge time.Duration) *Renderings {
	return &Renderings{
		maxAge: maxAge, now: time.Now,
		entries: make(map[renderingKey]*rendering, size), ring: make([]renderingKey, size),
	}
}

// Executed returns how many times an event was executed for a subscription
// (each of the other deliveries reused one of those).
func (r *Renderings) Executed() int64 { return r.executed.Load() }

// claim returns the rendering for key, and whether the caller must produce it.
func (r *Renderings) claim(key renderingKey) (*rendering, bool) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	// Drop the renderings too old to share (they came in time order).
	for r.n > 0 && now.Sub(r.entries[r.ring[r.head]].at) >= r.maxAge {
		r.dropOldest()
	}
	if rd, ok := r.entries[key]; ok {
		return rd, false
	}
	if r.n == len(r.ring) {
		r.dropOldest()
	}
	r.ring[(r.head+r.n)%len(r.ring)] = key
	r.n++
	rd := &rendering{at: now, done: make(chan struct{})}
	r.entries[key] = rd
	return rd, true
}

func (r *Renderings) dropOldest() {
	delete(r.entries, r.ring[r.head])
	r.ring[r.head] = renderingKey{}
	r.head = (r.head + 1) % len(r.ring)
	r.n--
}

// shareRendering wraps the marshaller of a subscription field's events (the
// executor is generated to call it when the subscription starts, with the
// field's context; see graph/internal/gqlgen). Events it cannot key, and
// every event when the resolver has no Renderings, are executed as usual.
func shareRendering[T any](ctx context.Context, root ResolverRoot, marshal func(context.Context, ast.SelectionSet, T) graphql.Marshaler) func(context.Context, ast.SelectionSet, T) graphql.Marshaler {
	var renderings *Renderings
	if r, ok := root.(*Resolver); ok {
		renderings = r.Renderings
	}
	if renderings == nil {
		return marshal
	}
	// Neither the actor nor the operation changes while a subscription
	// runs, so the operation's half of the key is worked out now, when the
	// subscription starts, rather than in the fan-out of its first event,
	// where ten thousand subscriptions would each work it out at once.
	operation := unique.Make(operationKey(ctx))
	return func(ctx context.Context, sel ast.SelectionSet, v T) graphql.Marshaler {
		event, ok := eventKey(v)
		if !ok {
			return marshal(ctx, sel, v)
		}
		rd, mine := renderings.claim(renderingKey{event: event, operation: operation})
		if !mine {
			select {
			case <-rd.done:
			case <-ctx.Done():
				return graphql.Null
			}
			if rd.bytes != nil {
				return rawJSON(rd.bytes)
			}
			return marshal(ctx, sel, v)
		}
		defer close(rd.done)
		renderings.executed.Add(1)
		errorsBefore := len(graphql.GetErrors(ctx))
		var b bytes.Buffer
		marshal(ctx, sel, v).MarshalGQL(&b)
		if len(graphql.GetErrors(ctx)) == errorsBefore {
			rd.bytes = b.Bytes()
		}
		return rawJSON(b.Bytes())
	}
}

// eventKey names what a subscription delivers.
func eventKey(v any) (eventID, bool) {
	switch v := v.(type) {
	case *models.VehicleEvent:
		// The event's vehicle is the vehicle as it is now: shared only when
		// the broker read it for everyone, and keyed by its version.
		if v == nil || !v.CurrentKnown {
			return eventID{}, false
		}
		if v.Current == nil {
			return eventID{id: v.Sequence, gone: true}, true
		}
		return eventID{id: v.Sequence, version: v.Current.Version}, true
	case *models.Vehicle:
		if v == nil {
			return eventID{}, false
		}
		return eventID{vehicle: true, id: v.ID, version: v.Version}, true
	}
	return eventID{}, false
}

// operationKey names who runs which operation, with which variables.
func operationKey(ctx context.Context) string {
	var b strings.Builder
	if a := models.ActorFrom(ctx); a != nil {
		b.WriteString(strconv.FormatInt(a.UserID, 10))
		b.WriteByte(' ')
		b.WriteString(string(a.Role))
		if a.DealerID != nil {
			b.WriteByte(' ')
			b.WriteString(strconv.FormatInt(*a.DealerID, 10))
		}
	}
	oc := graphql.GetOperationContext(ctx)
	b.WriteByte(0)
	b.WriteString(oc.OperationName)
	b.WriteByte(0)
	vars, _ := json.Marshal(oc.Variables) // map keys sorted: equal variables, equal text
	b.Write(vars)
	b.WriteByte(0)
	b.WriteString(oc.RawQuery)
	return b.String()
}

// rawJSON writes already rendered JSON.
type rawJSON []byte

func (r rawJSON) MarshalGQL(w io.Writer) { _, _ = w.Write(r) }
