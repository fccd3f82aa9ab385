package plan

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/carlot/carlot/models"
)

// Distance. A vehicle is where its dealer is, and dealers are few: a page
// filtered by distance first finds the dealers inside the circle (the GiST
// index on their position, models.NearDealersSQL), then takes from each of
// them at most a page of its vehicles, in the page's order, through the
// per-dealer indexes ((dealer_id, created_at, id), (dealer_id,
// price_cents, id), (dealer_id, id)), and keeps the first page of those.
// The work is a page per dealer in the circle, whatever the number of
// vehicles. Ordered by distance, a dealer's vehicles are all equally far:
// its share of the page is its vehicles in id order.
//
// To counts, statistics and facets, a circle is a set of dealers
// (nearFilter): the rollups, which have a row per dealer, answer them
// exactly when the rest of the filter allows, as for a single dealer.

// hasNear tells whether f filters by distance.
func hasNear(f *models.VehicleFilter) bool { return f != nil && f.Near != nil }

// withoutNear returns f without its distance condition, for the vehicles
// of dealers already known to be in the circle.
func withoutNear(f *models.VehicleFilter) *models.VehicleFilter {
	c := *f
	c.Near = nil
	return &c
}

// nearDealers writes the select of the dealers within n (id, and dist in
// kilometres).
func (b *builder) nearDealers(n *models.GeoRadius) string {
	lat, lon, m := b.arg(n.Latitude), b.arg(n.Longitude), b.arg(n.RadiusKm*1000)
	if !b.build {
		return ""
	}
	return models.NearDealersSQL(lat+"::float8", lon+"::float8", m+"::float8")
}

// nearFilter writes f's distance condition, if any, on the column
// dealerID (of vehicles or of a rollup): the dealers in the circle are
// found once, as an array of ids, and their rows on the dealer indexes.
func (b *builder) nearFilter(f *models.VehicleFilter, dealerID string) {
	if f.Near == nil {
		return
	}
	b.cond(dealerID, " = ANY(ARRAY(SELECT n.id FROM (")
	b.write(b.nearDealers(f.Near), ") n))")
}

// nearBounds writes the keyset bounds of q inside one dealer's part of a
// page filtered by distance, the dealer's distance being dist.
func (b *builder) nearBounds(q *models.VehicleQuery, dist string) {
	if q.Order.Field != models.OrderByDistance {
		b.bounds(q)
		return
	}
	desc := q.Order.Direction == models.Descending
	if q.After != nil {
		b.cond("(", dist, ", v.id) ", compareOp(!desc), " (", b.arg(q.After.Key), "::float8, ", b.arg(q.After.ID), ")")
	}
	if q.Before != nil {
		b.cond("(", dist, ", v.id) ", compareOp(desc), " (", b.arg(q.Before.Key), "::float8, ", b.arg(q.Before.ID), ")")
	}
}

// dealerOrderBy is the order of one dealer's vehicles within a page
// filtered by distance.
func (b *builder) dealerOrderBy(q *models.VehicleQuery) string {
	if q.Order.Field != models.OrderByDistance {
		return b.orderBy(q)
	}
	if !b.build {
		return ""
	}
	return "v.id " + direction(q)
}

// nearOrderBy is the order of a page filtered by distance, the distance
// being the column dist.
func (b *builder) nearOrderBy(q *models.VehicleQuery, dist string) string {
	if q.Order.Field != models.OrderByDistance {
		return b.orderBy(q)
	}
	if !b.build {
		return ""
	}
	dir := direction(q)
	return dist + " " + dir + ", v.id " + dir
}

// direction is the SQL direction q's rows are read in (reversed for the
// last rows of a range).
func direction(q *models.VehicleQuery) string {
	if (q.Order.Direction == models.Descending) != q.FromEnd {
		return "DESC"
	}
	return "ASC"
}

// nearVehicles reads page q of a Query.vehicles field filtered by
// distance, in one statement, each vehicle with its distance.
func (p *Planner) nearVehicles(ctx context.Context, oc *graphql.OperationContext, q models.VehicleQuery, s vehicleShape) ([]*models.Vehicle, error) {
	s.distance = true
	rest := withoutNear(q.Filter)
	fk, words := filterKey(rest)
	key := statementKey{kind: kindPage, columns: s.columns, rel: s.rel, filter: fk, words: words, near: true,
		order: q.Order, fromEnd: q.FromEnd, after: q.After != nil, before: q.Before != nil}
	sql, args := p.statement(key, func(b *builder) {
		b.write("SELECT ", b.selectList(s), " FROM (SELECT v.*, nd.dist FROM (", b.nearDealers(q.Filter.Near), ") nd",
			" CROSS JOIN LATERAL (SELECT ", b.columnList(s), " FROM vehicles v")
		b.cond("v.dealer_id = nd.id")
		b.filter(rest)
		b.nearBounds(&q, "nd.dist")
		b.write(" ORDER BY ", b.dealerOrderBy(&q), " LIMIT ", b.arg(q.Limit), ") v",
			" ORDER BY ", b.nearOrderBy(&q, "nd.dist"), " LIMIT ", b.arg(q.Limit), ") v",
			b.joins(s), " ORDER BY ", b.nearOrderBy(&q, "v.dist"))
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

// nearDealerPages is dealerPages for a filter by distance: the dealers not
// in the circle have no vehicles, the others' vehicles carry their
// distance.
func (p *Planner) nearDealerPages(ctx context.Context, dealerIDs []int64, q models.VehicleQuery, s vehicleShape) (map[int64][]*models.Vehicle, error) {
	s.distance = true
	rest := withoutNear(q.Filter)
	fk, words := filterKey(rest)
	key := statementKey{kind: kindDealerPages, columns: s.columns, rel: s.rel, filter: fk, words: words, near: true,
		order: q.Order, fromEnd: q.FromEnd, after: q.After != nil, before: q.Before != nil}
	sql, args := p.statement(key, func(b *builder) {
		b.write("SELECT ", b.selectList(s), " FROM unnest(", b.arg(dealerIDs), "::bigint[]) WITH ORDINALITY AS want(id, ord)",
			" JOIN (", b.nearDealers(q.Filter.Near), ") nd ON nd.id = want.id",
			" CROSS JOIN LATERAL (SELECT ", b.columnList(s), ", nd.dist FROM vehicles v")
		b.cond("v.dealer_id = want.id")
		b.filter(rest)
		b.nearBounds(&q, "nd.dist")
		b.write(" ORDER BY ", b.dealerOrderBy(&q), " LIMIT ", b.arg(q.Limit), ") v", b.joins(s),
			" ORDER BY want.ord, ", b.nearOrderBy(&q, "v.dist"))
	})
	rows, err := p.queryFiltered(ctx, q.Filter, sql, args)
	if err != nil {
		return nil, err
	}
	vs, err := scanVehicles(rows, s, q.Limit*len(dealerIDs))
	if err != nil {
		return nil, err
	}
	byDealer := make(map[int64][]*models.Vehicle, len(dealerIDs))
	for _, v := range vs {
		byDealer[v.DealerID] = append(byDealer[v.DealerID], v)
	}
	if q.FromEnd {
		for _, rows := range byDealer {
			slices.Reverse(rows)
		}
	}
	return byDealer, nil
}
