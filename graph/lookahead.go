package graph

import (
	"context"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/models"
	"github.com/vektah/gqlparser/v2/ast"
)

// Look-ahead: before returning vehicles (or dealers), a resolver reads the
// client's selection and fetches what the children will ask for in one
// statement per kind, so the count of statements depends on the shape of
// the query, never on the number of rows. A vehicle's make, model and dealer
// are then plain fields, filled in before the vehicle is returned: no
// resolver, goroutine or loader call per row.

// relatePage fills in the relations selected on the vehicles of the
// connection field being resolved.
func relatePage(ctx context.Context, rows []*models.Vehicle) ([]*models.Vehicle, error) {
	oc := graphql.GetOperationContext(ctx)
	rel := connectionRelations(oc, graphql.GetFieldContext(ctx).Field.Selections)
	l := loaders.For(ctx)
	if err := l.Prefetch(ctx, rows, rel); err != nil {
		return nil, err
	}
	return l.Relate(ctx, rows, rel)
}

// relateRoot fills in the relations selected on the vehicle returned by the
// root field being resolved, reading them at once.
func relateRoot(ctx context.Context, v *models.Vehicle) (*models.Vehicle, error) {
	if v == nil {
		return nil, nil
	}
	oc := graphql.GetOperationContext(ctx)
	rel := vehicleRelations(oc, graphql.GetFieldContext(ctx).Field.Selections)
	rows := []*models.Vehicle{v}
	l := loaders.For(ctx)
	if err := l.Prefetch(ctx, rows, rel); err != nil {
		return nil, err
	}
	rows, err := l.Relate(ctx, rows, rel)
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// relateNested fills in the relations selected on the vehicle of a field
// that is resolved once per element of a list (an event's vehicle, say),
// through the loaders, so the elements share one batch.
func relateNested(ctx context.Context, v *models.Vehicle) (*models.Vehicle, error) {
	if v == nil {
		return nil, nil
	}
	oc := graphql.GetOperationContext(ctx)
	rows, err := loaders.For(ctx).Relate(ctx, []*models.Vehicle{v}, vehicleRelations(oc, graphql.GetFieldContext(ctx).Field.Selections))
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// vehicleColumns maps each Vehicle field that reads a column of its own to
// that column.
var vehicleColumns = map[string]string{
	"vin": "vin", "year": "year", "color": "color", "mileageKm": "mileage_km", "priceCents": "price_cents",
	"fuel": "fuel", "status": "status", "version": "version", "createdAt": "created_at", "updatedAt": "updated_at",
}

// vehicleKeyFields are the Vehicle fields that need only the keys every
// read includes (id, and the make, model and dealer ids).
var vehicleKeyFields = map[string]bool{
	"__typename": true, "id": true, "make": true, "model": true, "dealer": true, "history": true,
}

// connectionColumns returns the vehicle columns the nodes { … } and
// edges { node { … } } of a VehicleConnection select, or nil (every column)
// when a selected field is in neither table above: a field added to the
// schema costs a wider read until it is listed, never a wrong answer.
func connectionColumns(oc *graphql.OperationContext, sel ast.SelectionSet) []string {
	cols := []string{}
	for _, f := range nodeFields(oc, sel, "VehicleConnection", "VehicleEdge", "Vehicle") {
		if col, ok := vehicleColumns[f.Name]; ok {
			cols = append(cols, col)
		} else if !vehicleKeyFields[f.Name] {
			return nil
		}
	}
	return cols
}

// connectionRelations reads which relations the vehicles of a
// VehicleConnection selection ask for.
func connectionRelations(oc *graphql.OperationContext, sel ast.SelectionSet) loaders.Relations {
	return relationsOf(oc, nodeFields(oc, sel, "VehicleConnection", "VehicleEdge", "Vehicle"))
}

// vehicleRelations reads which relations a Vehicle selection asks for.
func vehicleRelations(oc *graphql.OperationContext, sel ast.SelectionSet) loaders.Relations {
	return relationsOf(oc, graphql.CollectFields(oc, sel, []string{"Vehicle", "Node"}))
}

// relationsOf reads which of make, model (and model { make }) and dealer
// the fields of a vehicle are.
func relationsOf(oc *graphql.OperationContext, fields []graphql.CollectedField) loaders.Relations {
	var rel loaders.Relations
	for _, f := range fields {
		switch f.Name {
		case "make":
			rel.Make = true
		case "model":
			rel.Model = true
			for _, m := range graphql.CollectFields(oc, f.Selections, []string{"Model", "Node"}) {
				if m.Name == "make" {
					rel.Make = true
				}
			}
		case "dealer":
			rel.Dealer = true
		}
	}
	return rel
}

// nodeFields collects the fields selected on the nodes of a connection of
// type connection, under nodes { … } and edges { node { … } }.
func nodeFields(oc *graphql.OperationContext, sel ast.SelectionSet, connection, edge, node string) []graphql.CollectedField {
	var out []graphql.CollectedField
	nodeTypes := []string{node, "Node"}
	for _, f := range graphql.CollectFields(oc, sel, []string{connection}) {
		switch f.Name {
		case "nodes":
			out = append(out, graphql.CollectFields(oc, f.Selections, nodeTypes)...)
		case "edges":
			for _, e := range graphql.CollectFields(oc, f.Selections, []string{edge}) {
				if e.Name == "node" {
					out = append(out, graphql.CollectFields(oc, e.Selections, nodeTypes)...)
				}
			}
		}
	}
	return out
}

// prefetchDealerVehicles serves every `vehicles` connection selected on a
// page of dealers: one statement per connection for all dealers (plus one for
// its totalCount when selected) and the relations of the vehicles found.
func prefetchDealerVehicles(ctx context.Context, dealers []*models.Dealer) error {
	if len(dealers) == 0 {
		return nil
	}
	ids := make([]int64, len(dealers))
	for i, d := range dealers {
		ids[i] = d.ID
	}
	oc := graphql.GetOperationContext(ctx)
	l := loaders.For(ctx)
	for _, f := range nodeFields(oc, graphql.GetFieldContext(ctx).Field.Selections, "DealerConnection", "DealerEdge", "Dealer") {
		if f.Name != "vehicles" {
			continue
		}
		args, ok := dealerVehiclesArgs(f.ArgumentMap(oc.Variables))
		if !ok {
			continue // the field's own resolver reports the bad arguments
		}
		q, _, err := vehicleQuery(pageArgs{first: args.First, after: args.After}, args.Filter, args.OrderBy)
		if err != nil {
			continue
		}
		rows, err := l.PrefetchDealerVehicles(ctx, ids, q)
		if err != nil {
			return err
		}
		if err := l.Prefetch(ctx, rows, connectionRelations(oc, f.Selections)); err != nil {
			return err
		}
		for _, c := range graphql.CollectFields(oc, f.Selections, []string{"VehicleConnection"}) {
			if c.Name == "totalCount" {
				if err := l.PrefetchDealerVehicleCounts(ctx, ids, q.Filter); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

type dealerVehiclesArguments struct {
	First   *int                 `json:"first"`
	After   *string              `json:"after"`
	Filter  *VehicleFilter       `json:"filter"`
	OrderBy *models.VehicleOrder `json:"orderBy"`
}

// dealerVehiclesArgs decodes Dealer.vehicles' arguments, already coerced by
// validation, through their JSON form.
func dealerVehiclesArgs(m map[string]any) (dealerVehiclesArguments, bool) {
	var args dealerVehiclesArguments
	b, err := json.Marshal(m)
	if err != nil {
		return args, false
	}
	return args, json.Unmarshal(b, &args) == nil
}
