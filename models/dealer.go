package models

import (
	"context"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Dealer is a dealership with vehicles on its lot.
type Dealer struct {
	bun.BaseModel `bun:"table:dealers,alias:d"`

	ID   int64  `bun:"id,pk,autoincrement"`
	Name string `bun:"name,notnull"`
	City string `bun:"city,notnull"`
	// Latitude and Longitude locate the dealer's lot (WGS 84 degrees); both
	// are set or neither.
	Latitude   *float64  `bun:"latitude"`
	Longitude  *float64  `bun:"longitude"`
	PostalCode *string   `bun:"postal_code"`
	Phone      *string   `bun:"phone"`
	Website    *string   `bun:"website"`
	CreatedAt  time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// Key names the dealer.
func (d *Dealer) Key() Key { return Key{TypeDealer, d.ID} }

// DealerPosition is a place in the dealers' name ordering.
type DealerPosition struct {
	Name string
	ID   int64
}

// DealersByID returns the dealers with the given ids, in no particular order.
func DealersByID(ctx context.Context, db bun.IDB, ids []int64) ([]*Dealer, error) {
	var dealers []*Dealer
	err := db.NewSelect().Model(&dealers).Where("d.id = ANY(?)", pgdialect.Array(ids)).Scan(ctx)
	return dealers, err
}
