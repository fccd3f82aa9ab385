package graph

import (
	"context"
	"time"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/models"
)

// Node is anything with a global ID; node(id:) returns one.
type Node interface {
	Key() models.Key
}

// PageInfo tells a client whether there is more to page through.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// VehicleConnection is one page of vehicles. Edges and totalCount are worked
// out only when a client selects them.
type VehicleConnection struct {
	Nodes    []*models.Vehicle
	PageInfo *PageInfo
	order    models.VehicleOrderField
	// orderName names the ordering in the cursors (cursorOrder).
	orderName string
	count     func(context.Context) (int, error)
}

// VehicleEdge is a vehicle and its cursor.
type VehicleEdge struct {
	Cursor string
	Node   *models.Vehicle
}

// Edges pairs each vehicle of the page with its cursor.
func (c *VehicleConnection) Edges() []*VehicleEdge {
	edges := make([]*VehicleEdge, len(c.Nodes))
	for i, v := range c.Nodes {
		edges[i] = &VehicleEdge{Cursor: vehicleCursor(c.order, c.orderName, v), Node: v}
	}
	return edges
}

// TotalCount counts every vehicle matching the connection's filter.
func (c *VehicleConnection) TotalCount(ctx context.Context) (int, error) {
	return c.count(ctx)
}

// DealerConnection is one page of dealers.
type DealerConnection struct {
	Nodes    []*models.Dealer
	PageInfo *PageInfo
	count    func(context.Context) (int, error)
}

// DealerEdge is a dealer and its cursor.
type DealerEdge struct {
	Cursor string
	Node   *models.Dealer
}

// Edges pairs each dealer of the page with its cursor.
func (c *DealerConnection) Edges() []*DealerEdge {
	edges := make([]*DealerEdge, len(c.Nodes))
	for i, d := range c.Nodes {
		edges[i] = &DealerEdge{Cursor: dealerCursor(d), Node: d}
	}
	return edges
}

// TotalCount counts every dealer.
func (c *DealerConnection) TotalCount(ctx context.Context) (int, error) {
	return c.count(ctx)
}

func vehicleCursor(order models.VehicleOrderField, orderName string, v *models.Vehicle) string {
	return relay.Cursor{Order: orderName, Key: order.Key(v), ID: v.ID}.String()
}

const dealerOrderName = "name"

func dealerCursor(d *models.Dealer) string {
	return relay.Cursor{Order: dealerOrderName, Key: d.Name, ID: d.ID}.String()
}

// VehicleEventConnection is one page of a vehicle's history.
type VehicleEventConnection struct {
	Edges    []*VehicleEventEdge
	PageInfo *PageInfo
}

// VehicleEventEdge is an event and its cursor (its sequence).
type VehicleEventEdge struct {
	Cursor string
	Node   *models.VehicleEvent
}

// AuthPayload is what login and refreshToken return.
type AuthPayload struct {
	AccessToken  string
	RefreshToken string
	ExpiresAt    time.Time
	User         *models.User
}
