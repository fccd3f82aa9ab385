package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"

	"github.com/carlot/carlot/internal/live"
	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/models"
)

// vehicleEvents resolves Subscription.vehicleEvents.
func (r *Resolver) vehicleEvents(ctx context.Context, filter *VehicleFilter, after *string) (<-chan *models.VehicleEvent, error) {
	var inv models.Invalid
	f := vehicleFilter(filter, &inv)
	var from *int64
	if after != nil {
		n, ok := models.ParseSequence(*after)
		if !ok {
			inv.Add("after", "is not an event sequence")
		}
		from = &n
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	return r.Live.Subscribe(ctx, from, func(e *models.VehicleEvent, names models.CatalogNames) bool {
		return e.Matches(f, names)
	})
}

// vehicleUpdated resolves Subscription.vehicleUpdated: the vehicle after each
// change, until it is deleted.
func (r *Resolver) vehicleUpdated(ctx context.Context, id string) (<-chan *models.Vehicle, error) {
	vehicleID, err := vehicleIDArg(id)
	if err != nil {
		return nil, err
	}
	events, err := r.Live.Subscribe(ctx, nil, func(e *models.VehicleEvent, _ models.CatalogNames) bool {
		return e.VehicleID == vehicleID
	})
	if err != nil {
		return nil, err
	}
	// Subscribed first, then checked: a vehicle deleted in between is reported, not waited on forever.
	if _, err := loaders.For(ctx).Vehicle.Load(ctx, vehicleID); err != nil {
		var known *models.Error
		if errors.As(err, &known) || !live.CloseSocket(ctx, live.ErrUnavailable) {
			return nil, err
		}
		// The database failed, which says nothing of the vehicle: the socket
		// closes with a code the client retries on, and nothing else is sent.
		out := make(chan *models.Vehicle)
		close(out)
		return out, nil
	}
	rel := vehicleRelations(graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx).Field.Selections)
	out := make(chan *models.Vehicle)
	go func() {
		defer close(out)
		for e := range events {
			if e.Kind == models.EventDeleted {
				return
			}
			related, err := loaders.For(ctx).Relate(ctx, []*models.Vehicle{e.Snapshot}, rel)
			if err != nil {
				// The database is gone. "complete" would say the vehicle was
				// deleted: the socket closes with a code the client retries on.
				live.CloseSocket(ctx, live.ErrUnavailable)
				return
			}
			select {
			case out <- related[0]:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
