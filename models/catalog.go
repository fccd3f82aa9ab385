package models

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Make is a vehicle manufacturer, such as Toyota.
type Make struct {
	bun.BaseModel `bun:"table:makes,alias:mk"`

	ID   int64  `bun:"id,pk,autoincrement"`
	Name string `bun:"name,notnull"`
}

// Key names the make.
func (m *Make) Key() Key { return Key{TypeMake, m.ID} }

// Model is a model of a make, such as the Toyota Corolla.
type Model struct {
	bun.BaseModel `bun:"table:models,alias:md"`

	ID     int64  `bun:"id,pk,autoincrement"`
	MakeID int64  `bun:"make_id,notnull"`
	Name   string `bun:"name,notnull"`
	// Make is read with the model, always: a model is never shown without
	// knowing whose it is, and the join costs less than a second statement.
	Make *Make `bun:"rel:belongs-to,join:make_id=id"`
}

// Key names the model.
func (m *Model) Key() Key { return Key{TypeModel, m.ID} }

// Key names one object of the domain: its type name and its row id. The
// API turns a Key into the opaque global ID clients see (graph does, with
// internal/relay); models never encodes or parses one.
type Key struct {
	Type string
	ID   int64
}

// The type names of keys, and so inside global IDs.
const (
	TypeMake    = "Make"
	TypeModel   = "Model"
	TypeDealer  = "Dealer"
	TypeVehicle = "Vehicle"
)

// AllMakes returns every make ordered by name.
func AllMakes(ctx context.Context, db bun.IDB) ([]*Make, error) {
	var makes []*Make
	err := db.NewSelect().Model(&makes).OrderExpr("mk.name, mk.id").Scan(ctx)
	return makes, err
}

// MakesByID returns the makes with the given ids, in no particular order.
func MakesByID(ctx context.Context, db bun.IDB, ids []int64) ([]*Make, error) {
	var makes []*Make
	err := db.NewSelect().Model(&makes).Where("mk.id = ANY(?)", pgdialect.Array(ids)).Scan(ctx)
	return makes, err
}

// ModelsByID returns the models with the given ids, in no particular order.
func ModelsByID(ctx context.Context, db bun.IDB, ids []int64) ([]*Model, error) {
	var models []*Model
	err := db.NewSelect().Model(&models).Relation("Make").Where("md.id = ANY(?)", pgdialect.Array(ids)).Scan(ctx)
	return models, err
}

// ModelsByMakeID returns the models of the given makes, ordered by name.
func ModelsByMakeID(ctx context.Context, db bun.IDB, makeIDs []int64) ([]*Model, error) {
	var models []*Model
	err := db.NewSelect().Model(&models).Relation("Make").
		Where("md.make_id = ANY(?)", pgdialect.Array(makeIDs)).
		OrderExpr("md.name, md.id").
		Scan(ctx)
	return models, err
}
