package plan

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/carlot/carlot/models"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/vektah/gqlparser/v2/ast"
)

// fieldSelection returns the operation and the selection of the field
// being resolved.
func fieldSelection(ctx context.Context) (*graphql.OperationContext, ast.SelectionSet) {
	return graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx).Field.Selections
}

// selectedShape is the shape of the vehicle the field being resolved
// returns.
func selectedShape(ctx context.Context) (*graphql.OperationContext, vehicleShape) {
	oc, sel := fieldSelection(ctx)
	return oc, shapeOf(oc, vehicleFields(oc, sel))
}

// Vehicle resolves a field returning the vehicle with id (Query.vehicle,
// Query.node): one statement, its relations joined. Nil when there is none.
func (p *Planner) Vehicle(ctx context.Context, id int64) (*models.Vehicle, error) {
	record(ctx)
	oc, s := selectedShape(ctx)
	sql, args := p.statement(statementKey{kind: kindByID, columns: s.columns, rel: s.rel}, func(b *builder) {
		b.write("SELECT ", b.selectList(s), " FROM vehicles v", b.joins(s))
		b.cond("v.id = ", b.arg(id))
	})
	return p.one(ctx, oc, s, sql, args)
}

// VehicleByVIN resolves Query.vehicleByVin for a normalized VIN.
func (p *Planner) VehicleByVIN(ctx context.Context, vin string) (*models.Vehicle, error) {
	record(ctx)
	oc, s := selectedShape(ctx)
	sql, args := p.statement(statementKey{kind: kindByVIN, columns: s.columns, rel: s.rel}, func(b *builder) {
		b.write("SELECT ", b.selectList(s), " FROM vehicles v", b.joins(s))
		b.cond("v.vin = ", b.arg(vin))
	})
	return p.one(ctx, oc, s, sql, args)
}

func (p *Planner) one(ctx context.Context, oc *graphql.OperationContext, s vehicleShape, sql string, args []any) (*models.Vehicle, error) {
	rows, err := p.query(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	vs, err := scanVehicles(rows, s, 1)
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	if err := p.planDealers(ctx, oc, vs, s); err != nil {
		return nil, err
	}
	return vs[0], nil
}

// Vehicles resolves a VehicleConnection root field (Query.vehicles): the
// page q, its relations joined, in q.Order, in one statement.
func (p *Planner) Vehicles(ctx context.Context, q models.VehicleQuery) ([]*models.Vehicle, error) {
	record(ctx)
	oc, sel := fieldSelection(ctx)
	s, _ := connectionShape(oc, sel)
	s = s.withColumn(q.Order.Field.Column()) // for the cursors
	var err error
	if q.Filter, err = p.ResolveSearch(ctx, q.Filter); err != nil {
		return nil, err
	}
	if hasNear(q.Filter) {
		return p.nearVehicles(ctx, oc, q, s)
	}
	fk, words := filterKey(q.Filter)
	key := statementKey{kind: kindPage, columns: s.columns, rel: s.rel, filter: fk, words: words,
		order: q.Order, fromEnd: q.FromEnd, after: q.After != nil, before: q.Before != nil}
	sql, args := p.statement(key, func(b *builder) {
		// The page is cut first and joined after, so the joins touch only
		// its rows.
		if s.rel != 0 {
			b.write("SELECT ", b.selectList(s), " FROM (SELECT ", b.columnList(s), " FROM vehicles v")
		} else {
			b.write("SELECT ", b.selectList(s), " FROM vehicles v")
		}
		b.filter(q.Filter)
		b.bounds(&q)
		b.write(" ORDER BY ", b.orderBy(&q), " LIMIT ", b.arg(q.Limit))
		if s.rel != 0 {
			b.write(") v", b.joins(s), " ORDER BY ", b.orderBy(&q))
		}
	})
	rows, err := p.queryFiltered(ctx, q.Filter, sql, args)
	if err != nil {
		return nil, err
	}
	vs, err := scanVehicles(rows, s, q.Limit)
	if err != nil {
		return nil, err
	}
	if q.FromEnd {
		slices.Reverse(vs)
	}
	if err := p.planDealers(ctx, oc, vs, s); err != nil {
		return nil, err
	}
	return vs, nil
}

// CountVehicles counts the vehicles matching f (a connection's totalCount,
// read only when selected): from a vehicle rollup when one answers f
// exactly, else on the vehicles' indexes.
func (p *Planner) CountVehicles(ctx context.Context, f *models.VehicleFilter) (int, error) {
	f, err := p.ResolveSearch(ctx, f)
	if err != nil {
		return 0, err
	}
	fk, words := filterKey(f)
	rollup := rollupOf(f)
	sql, args := p.statement(statementKey{kind: kindCount, filter: fk, words: words, rollup: rollup, near: hasNear(f)}, func(b *builder) {
		if rollup == rollupNone {
			b.write("SELECT count(*) FROM vehicles v")
			b.filter(f)
			return
		}
		b.write("SELECT coalesce(sum(r.vehicles), 0)::bigint FROM ", rollupTable(rollup), " r")
		b.rollupFilter(f, rollup)
	})
	rows, err := p.queryFiltered(ctx, f, sql, args)
	return scanCount(rows, err)
}

// relate returns vehicles (read elsewhere: by a write, or from an event)
// with the relations rel names, reading those they lack in one statement.
// Vehicles that lack some are copied, never changed: they may be shared.
func (p *Planner) relate(ctx context.Context, vs []*models.Vehicle, rel uint8) ([]*models.Vehicle, error) {
	missing := func(v *models.Vehicle) bool {
		return v != nil && (rel&relMake != 0 && v.Make == nil || rel&relModel != 0 && v.Model == nil || rel&relDealer != 0 && v.Dealer == nil)
	}
	if !slices.ContainsFunc(vs, missing) {
		return vs, nil
	}
	var modelIDs, dealerIDs []int64
	for _, v := range vs {
		if !missing(v) {
			continue
		}
		if rel&(relMake|relModel) != 0 && !slices.Contains(modelIDs, v.ModelID) {
			modelIDs = append(modelIDs, v.ModelID)
		}
		if rel&relDealer != 0 && !slices.Contains(dealerIDs, v.DealerID) {
			dealerIDs = append(dealerIDs, v.DealerID)
		}
	}
	mds, ds, err := p.relations(ctx, modelIDs, dealerIDs)
	if err != nil {
		return nil, err
	}
	out := make([]*models.Vehicle, len(vs))
	for i, v := range vs {
		if !missing(v) {
			out[i] = v
			continue
		}
		c := *v
		if md := mds[v.ModelID]; md != nil {
			if rel&relModel != 0 && c.Model == nil {
				c.Model = md
			}
			if rel&relMake != 0 && c.Make == nil {
				c.Make = md.Make
			}
		}
		if d := ds[v.DealerID]; d != nil && rel&relDealer != 0 && c.Dealer == nil {
			c.Dealer = d
		}
		out[i] = &c
	}
	return out, nil
}

// relations reads models (with their makes) and dealers by id, in one
// statement.
func (p *Planner) relations(ctx context.Context, modelIDs, dealerIDs []int64) (map[int64]*models.Model, map[int64]*models.Dealer, error) {
	mds := make(map[int64]*models.Model, len(modelIDs))
	ds := make(map[int64]*models.Dealer, len(dealerIDs))
	if len(modelIDs) == 0 && len(dealerIDs) == 0 {
		return mds, ds, nil
	}
	sql, args := p.statement(statementKey{kind: kindRelations}, func(b *builder) {
		b.write("SELECT false, md.id, md.name, mk.id, mk.name, NULL::text, NULL::timestamptz,",
			" NULL::float8, NULL::float8, NULL::text, NULL::text, NULL::text",
			" FROM models md JOIN makes mk ON mk.id = md.make_id WHERE md.id = ANY(", b.arg(modelIDs), "::bigint[])",
			" UNION ALL SELECT true, d.id, d.name, NULL::bigint, NULL::text, d.city, d.created_at,",
			" d.latitude, d.longitude, d.postal_code, d.phone, d.website",
			" FROM dealers d WHERE d.id = ANY(", b.arg(dealerIDs), "::bigint[])")
	})
	rows, err := p.query(ctx, sql, args)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	makes := make(map[int64]*models.Make)
	for rows.Next() {
		var isDealer bool
		var id int64
		var name string
		var makeID pgtype.Int8
		var makeName, city pgtype.Text
		var created pgtype.Timestamptz
		var d models.Dealer
		if err := rows.Scan(&isDealer, &id, &name, &makeID, &makeName, &city, &created,
			&d.Latitude, &d.Longitude, &d.PostalCode, &d.Phone, &d.Website); err != nil {
			return nil, nil, err
		}
		if isDealer {
			d.ID, d.Name, d.City, d.CreatedAt = id, name, city.String, created.Time.UTC()
			ds[id] = &d
			continue
		}
		mk := makes[makeID.Int64]
		if mk == nil {
			mk = &models.Make{ID: makeID.Int64, Name: makeName.String}
			makes[mk.ID] = mk
		}
		mds[id] = &models.Model{ID: id, MakeID: mk.ID, Name: name, Make: mk}
	}
	return mds, ds, rows.Err()
}

// Related resolves a field returning a vehicle already in hand (a
// mutation's payload, a vehicleUpdated event): it fills in the relations
// the field selects, reading those missing in one statement.
func (p *Planner) Related(ctx context.Context, v *models.Vehicle) (*models.Vehicle, error) {
	record(ctx)
	if v == nil {
		return nil, nil
	}
	oc, s := selectedShape(ctx)
	vs, err := p.relate(ctx, []*models.Vehicle{v}, s.rel)
	if err != nil {
		return nil, err
	}
	if err := p.planDealers(ctx, oc, vs, s); err != nil {
		return nil, err
	}
	return vs[0], nil
}

// Exists tells whether vehicle id exists, for a field about to return it
// (Subscription.vehicleUpdated), in one statement.
func (p *Planner) Exists(ctx context.Context, id int64) (bool, error) {
	record(ctx)
	sql, args := p.statement(statementKey{kind: kindByID}, func(b *builder) {
		b.write("SELECT ", b.selectList(vehicleShape{}), " FROM vehicles v")
		b.cond("v.id = ", b.arg(id))
	})
	rows, err := p.query(ctx, sql, args)
	if err != nil {
		return false, err
	}
	vs, err := scanVehicles(rows, vehicleShape{}, 1)
	return len(vs) > 0, err
}
