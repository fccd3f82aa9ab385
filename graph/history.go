package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/models"
)

const historyOrderName = "history"

// history resolves Vehicle.history: a page of the vehicle's events, oldest
// first, for staff of its dealer and admins.
func (r *Resolver) history(ctx context.Context, v *models.Vehicle, first *int, after *string) (*VehicleEventConnection, error) {
	if err := models.CanManageDealerVehicles(models.ActorFrom(ctx), v.DealerID); err != nil {
		return nil, err
	}
	var inv models.Invalid
	n, _ := pageArgs{first: first}.size(&inv)
	var from int64
	if after != nil {
		c, err := relay.ParseCursor(*after)
		if err != nil || c.Order != historyOrderName {
			inv.Add("after", "is not a valid cursor")
		} else {
			from = c.ID
		}
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	page, siblings := listedIn(ctx)
	events, err := r.Plan.History(ctx, page, siblings, v.ID, from, n+1)
	if err != nil {
		return nil, err
	}
	more := len(events) > n
	if more {
		events = events[:n]
	}
	conn := &VehicleEventConnection{
		Edges:    make([]*VehicleEventEdge, len(events)),
		PageInfo: &PageInfo{HasNextPage: more, HasPreviousPage: after != nil},
	}
	for i, e := range events {
		conn.Edges[i] = &VehicleEventEdge{Cursor: relay.Cursor{Order: historyOrderName, ID: e.Sequence}.String(), Node: e}
	}
	if len(events) > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &conn.Edges[0].Cursor, &conn.Edges[len(events)-1].Cursor
	}
	return conn, nil
}

// listedIn returns the page of vehicles the field being resolved is under
// (the nearest enclosing VehicleConnection) and the ids of its vehicles whose
// history the actor may read, or nil when it is under none: a page's
// histories are then read together, whatever the timing of their fields.
func listedIn(ctx context.Context) (any, []int64) {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		conn, ok := fc.Result.(*VehicleConnection)
		if !ok || conn == nil {
			continue
		}
		actor := models.ActorFrom(ctx)
		ids := make([]int64, 0, len(conn.Nodes))
		for _, v := range conn.Nodes {
			if models.CanManageDealerVehicles(actor, v.DealerID) == nil {
				ids = append(ids, v.ID)
			}
		}
		return conn, ids
	}
	return nil, nil
}

// eventActor resolves VehicleEvent.actor, which only those who may see the
// vehicle's history see (events also stream to anonymous subscribers).
func eventActor(ctx context.Context, e *models.VehicleEvent) (*models.User, error) {
	if e.ActorID == nil || models.CanManageDealerVehicles(models.ActorFrom(ctx), e.Snapshot.DealerID) != nil {
		return nil, nil
	}
	u, err := loaders.For(ctx).User.Load(ctx, *e.ActorID)
	if errNotFound(err) {
		return nil, nil
	}
	return u, err
}
