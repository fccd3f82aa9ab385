package graph

import (
	"context"
	"errors"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/models"
)

// Page sizes: what clients get without asking, and the most they may ask for.
// The query cost (limits.go) counts pages by them too.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// pageArgs are a connection field's Relay arguments.
type pageArgs struct {
	first, last   *int
	after, before *string
}

// size validates first/last and returns the page size and whether the page is
// taken from the end of the range (last).
func (a pageArgs) size(inv *models.Invalid) (n int, fromEnd bool) {
	n = defaultPageSize
	if a.first != nil && a.last != nil {
		inv.Add("last", "cannot be combined with first; page forward with first/after or backward with last/before")
	}
	check := func(field string, v *int) {
		if v == nil {
			return
		}
		if *v < 0 || *v > maxPageSize {
			inv.Add(field, "must be between 0 and %d", maxPageSize)
			return
		}
		n = *v
	}
	check("first", a.first)
	check("last", a.last)
	return n, a.last != nil && a.first == nil
}

// vehicleQuery validates a vehicle connection's arguments and turns them into
// a query for one more row than the page holds (the extra row tells whether
// there is another page).
func vehicleQuery(a pageArgs, filter *VehicleFilter, orderBy *models.VehicleOrder) (models.VehicleQuery, int, error) {
	var inv models.Invalid
	n, fromEnd := a.size(&inv)
	q := models.VehicleQuery{
		Filter:  vehicleFilter(filter, &inv),
		Order:   models.DefaultVehicleOrder,
		Limit:   n + 1,
		FromEnd: fromEnd,
	}
	if orderBy != nil {
		q.Order = *orderBy
	}
	if q.Order.Field == models.OrderByDistance && (q.Filter == nil || q.Filter.Near == nil) {
		inv.Add("orderBy.field", "DISTANCE needs filter.near, the point to measure from")
	}
	order := cursorOrder(q)
	q.After = vehiclePosition("after", a.after, q.Order.Field, order, &inv)
	q.Before = vehiclePosition("before", a.before, q.Order.Field, order, &inv)
	return q, n, inv.Err()
}

// cursorOrder names the ordering of q's cursors, so that a cursor from one
// ordering is refused by another. Distance is measured from the filter's
// point: its cursors name the point too, and a cursor from a search around
// another point is refused (one from another radius around the same point
// stays right: the order is the same, the radius only ends it sooner).
func cursorOrder(q models.VehicleQuery) string {
	name := q.Order.Field.CursorName()
	if q.Order.Field == models.OrderByDistance && q.Filter != nil && q.Filter.Near != nil {
		name += "@" + q.Filter.Near.Point()
	}
	return name
}

func vehiclePosition(field string, cursor *string, order models.VehicleOrderField, orderName string, inv *models.Invalid) *models.VehiclePosition {
	if cursor == nil {
		return nil
	}
	c, err := relay.ParseCursor(*cursor)
	if err != nil {
		inv.Add(field, "is not a valid cursor")
		return nil
	}
	if c.Order != orderName {
		inv.Add(field, "is a cursor of another ordering; use cursors from a page with the same orderBy (and, by DISTANCE, the same filter.near point)")
		return nil
	}
	pos, err := order.ParseKey(c.Key, c.ID)
	if err != nil {
		inv.Add(field, "is not a valid cursor")
		return nil
	}
	return pos
}

// vehicleConnection trims the extra row fetched by a vehicleQuery and works
// out the page info.
func vehicleConnection(rows []*models.Vehicle, n int, q models.VehicleQuery, count func(context.Context) (int, error)) *VehicleConnection {
	more := len(rows) > n
	if more {
		if q.FromEnd {
			rows = rows[len(rows)-n:]
		} else {
			rows = rows[:n]
		}
	}
	info := &PageInfo{HasNextPage: more, HasPreviousPage: q.After != nil}
	if q.FromEnd {
		info.HasNextPage, info.HasPreviousPage = q.Before != nil, more
	}
	if len(rows) > 0 {
		order := cursorOrder(q)
		start, end := vehicleCursor(q.Order.Field, order, rows[0]), vehicleCursor(q.Order.Field, order, rows[len(rows)-1])
		info.StartCursor, info.EndCursor = &start, &end
	}
	return &VehicleConnection{Nodes: rows, PageInfo: info, order: q.Order.Field, orderName: cursorOrder(q), count: count}
}

// vehicles resolves Query.vehicles.
func (r *Resolver) vehicles(ctx context.Context, a pageArgs, filter *VehicleFilter, orderBy *models.VehicleOrder) (*VehicleConnection, error) {
	q, n, err := vehicleQuery(a, filter, orderBy)
	if err != nil {
		return nil, err
	}
	// The page and its totalCount share one resolution of the search words.
	if q.Filter, err = r.Plan.ResolveSearch(ctx, q.Filter); err != nil {
		return nil, err
	}
	rows, err := r.Plan.Vehicles(ctx, q)
	if err != nil {
		return nil, err
	}
	return vehicleConnection(rows, n, q, func(ctx context.Context) (int, error) {
		return r.Plan.CountVehicles(ctx, q.Filter)
	}), nil
}

// dealerVehicles resolves Dealer.vehicles: under a page of dealers, the
// planner has read every dealer's page in one statement already.
func (r *Resolver) dealerVehicles(ctx context.Context, d *models.Dealer, a pageArgs, filter *VehicleFilter, orderBy *models.VehicleOrder) (*VehicleConnection, error) {
	q, n, err := vehicleQuery(a, filter, orderBy)
	if err != nil {
		return nil, err
	}
	rows, count, err := r.Plan.DealerVehicles(ctx, d.ID, q)
	if err != nil {
		return nil, err
	}
	return vehicleConnection(rows, n, q, count), nil
}

// dealers resolves Query.dealers: by name, then id.
func (r *Resolver) dealers(ctx context.Context, a pageArgs) (*DealerConnection, error) {
	var inv models.Invalid
	n, _ := a.size(&inv)
	var after *models.DealerPosition
	if a.after != nil {
		c, err := relay.ParseCursor(*a.after)
		if err != nil || c.Order != dealerOrderName {
			inv.Add("after", "is not a valid cursor")
		} else {
			after = &models.DealerPosition{Name: c.Key, ID: c.ID}
		}
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	rows, more, err := r.Plan.Dealers(ctx, after, n)
	if err != nil {
		return nil, err
	}
	info := &PageInfo{HasNextPage: more, HasPreviousPage: after != nil}
	if len(rows) > 0 {
		start, end := dealerCursor(rows[0]), dealerCursor(rows[len(rows)-1])
		info.StartCursor, info.EndCursor = &start, &end
	}
	return &DealerConnection{Nodes: rows, PageInfo: info, count: func(ctx context.Context) (int, error) {
		return r.Plan.CountDealers(ctx)
	}}, nil
}

// errNotFound reports whether err is a loader's not-found answer.
func errNotFound(err error) bool {
	var e *models.Error
	return errors.As(err, &e) && e.Code == models.CodeNotFound
}
