package graph

import (
	"context"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/models"
	"github.com/vikstrous/dataloadgen"
)

// node resolves Query.node: any global ID to its object, or nil when it
// names nothing.
func (r *Resolver) node(ctx context.Context, id string) (Node, error) {
	typ, n, err := relay.ParseNodeID(id)
	if err != nil {
		return nil, badID("id")
	}
	l := loaders.For(ctx)
	switch typ {
	case models.TypeVehicle:
		v, err := r.Plan.Vehicle(ctx, n)
		if v == nil || err != nil {
			return nil, err
		}
		return v, nil
	case models.TypeDealer:
		return optional(l.Dealer.Load(ctx, n))
	case models.TypeMake:
		return optional(l.Make.Load(ctx, n))
	case models.TypeModel:
		return optional(l.Model.Load(ctx, n))
	case models.TypeVehiclePhoto:
		p, err := models.PhotoByID(ctx, r.DB, n)
		if p == nil || err != nil {
			return nil, err
		}
		return p, nil
	case models.TypeUser:
		u, err := visibleUser(ctx, n)
		if u == nil || err != nil {
			return nil, err
		}
		return u, nil
	}
	return nil, nil
}

// lookup resolves a typed by-ID query field: a malformed ID is bad input, a
// well-formed ID of another type or of nothing gives nil.
func lookup[T any](ctx context.Context, loader *dataloadgen.Loader[int64, *T], id, typ string) (*T, error) {
	t, n, err := relay.ParseNodeID(id)
	if err != nil {
		return nil, badID("id")
	}
	if t != typ {
		return nil, nil
	}
	v, err := loader.Load(ctx, n)
	if errNotFound(err) {
		return nil, nil
	}
	return v, err
}

// optional turns a loader's not-found into a nil Node (and keeps the typed
// nil pointer from becoming a non-nil interface).
func optional[T Node](v T, err error) (Node, error) {
	if errNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

func badID(field string) error {
	var inv models.Invalid
	inv.Add(field, "is not a valid ID")
	return inv.Err()
}
