package graph

import (
	"context"

	"github.com/carlot/carlot/internal/live"
	"github.com/carlot/carlot/models"
)

// vehicleEvents resolves Subscription.vehicleEvents.
func (r *Resolver) vehicleEvents(ctx context.Context, filter *VehicleFilter, after *string) (<-chan *models.VehicleEvent, error) {
	var inv models.Invalid
	f := vehicleFilter(filter, &inv)
	if f != nil && f.Near != nil {
		// An event carries no dealer position to measure.
		inv.Add("filter.near", "is not supported by subscriptions")
	}
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
	exists, err := r.Plan.Exists(ctx, vehicleID)
	if err != nil {
		if !live.Abort(ctx, live.ErrUnavailable) {
			return nil, err
		}
		// The database failed, which says nothing of the vehicle: the socket
		// closes with a code the client retries on, and nothing else is sent.
		out := make(chan *models.Vehicle)
		close(out)
		return out, nil
	}
	if !exists {
		return nil, models.Errorf(models.CodeNotFound, "vehicle not found")
	}
	out := make(chan *models.Vehicle)
	go func() {
		defer close(out)
		for e := range events {
			if e.Kind == models.EventDeleted {
				return
			}
			// Prepared with the event: the planner reads nothing here.
			v, err := r.Plan.Related(ctx, e.Snapshot)
			if err != nil {
				// The database is gone. "complete" would say the vehicle was
				// deleted: the socket closes with a code the client retries on.
				live.Abort(ctx, live.ErrUnavailable)
				return
			}
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
