package plan

import (
	"context"
	"github.com/jackc/pgx/v5"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/carlot/carlot/models"
	"github.com/vektah/gqlparser/v2/ast"
)

// A nested level is read for all the parents of a page at once and left
// here for each parent's field to take.
type nestedKey struct {
	field    *ast.Field // the Dealer.vehicles field in the document
	dealerID int64
}

type nestedPage struct {
	rows    []*models.Vehicle
	count   int
	counted bool
}

// Dealers resolves Query.dealers: up to n dealers by name, then id, after
// the given position, and whether there are more. Each vehicles connection
// selected on them is read as one statement for all of them (and its
// totalCount, when selected, as one more).
func (p *Planner) Dealers(ctx context.Context, after *models.DealerPosition, n int) ([]*models.Dealer, bool, error) {
	record(ctx)
	sql, args := p.statement(statementKey{kind: kindDealers, after: after != nil}, func(b *builder) {
		b.write("SELECT d.id, ", dealerColumns, " FROM dealers d")
		if after != nil {
			b.cond("(d.name, d.id) > (", b.arg(after.Name), "::text, ", b.arg(after.ID), "::bigint)")
		}
		b.write(" ORDER BY d.name, d.id LIMIT ", b.arg(n+1))
	})
	rows, err := p.query(ctx, sql, args)
	if err != nil {
		return nil, false, err
	}
	dealers, err := scanDealers(rows, n+1)
	if err != nil {
		return nil, false, err
	}
	more := len(dealers) > n
	if more {
		dealers = dealers[:n]
	}
	oc, sel := fieldSelection(ctx)
	return dealers, more, p.planDealerLevels(ctx, oc, dealers, dealerConnectionVehicles(oc, sel))
}

// CountDealers counts every dealer (DealerConnection.totalCount).
func (p *Planner) CountDealers(ctx context.Context) (int, error) {
	sql, args := p.statement(statementKey{kind: kindDealerCount}, func(b *builder) {
		b.write("SELECT count(*) FROM dealers")
	})
	return p.count(ctx, sql, args)
}

func (p *Planner) count(ctx context.Context, sql string, args []any) (int, error) {
	return scanCount(p.query(ctx, sql, args))
}

// scanCount reads the one number a count statement answers.
func scanCount(rows pgx.Rows, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

// DealerVehicles resolves Dealer.vehicles: the page q of the dealer's
// vehicles, as planned for all the dealers of the page above when there was
// one, else read now. count counts the dealer's vehicles matching q's
// filter, likewise.
func (p *Planner) DealerVehicles(ctx context.Context, dealerID int64, q models.VehicleQuery) (rows []*models.Vehicle, count func(context.Context) (int, error), err error) {
	record(ctx)
	field := graphql.GetFieldContext(ctx).Field.Field
	key := nestedKey{field: field, dealerID: dealerID}
	op := operationFrom(ctx)
	count = func(ctx context.Context) (int, error) {
		if op != nil {
			op.mu.Lock()
			page := op.nested[key]
			op.mu.Unlock()
			if page != nil && page.counted {
				return page.count, nil
			}
		}
		counts, err := p.dealerCounts(ctx, []int64{dealerID}, q.Filter)
		return counts[dealerID], err
	}
	if op != nil {
		op.mu.Lock()
		page := op.nested[key]
		op.mu.Unlock()
		if page != nil {
			return page.rows, count, nil
		}
	}
	// Read now: the page and its count share one resolution of the search.
	if q.Filter, err = p.ResolveSearch(ctx, q.Filter); err != nil {
		return nil, nil, err
	}
	oc, sel := fieldSelection(ctx)
	s, _ := connectionShape(oc, sel)
	byDealer, err := p.dealerPages(ctx, []int64{dealerID}, q, s)
	if err != nil {
		return nil, nil, err
	}
	rows = byDealer[dealerID]
	if rows == nil {
		rows = []*models.Vehicle{}
	}
	if err := p.planDealers(ctx, oc, rows, s); err != nil {
		return nil, nil, err
	}
	return rows, count, nil
}

// planDealers plans the vehicles connections selected under the dealer of
// vehicles just read with shape s.
func (p *Planner) planDealers(ctx context.Context, oc *graphql.OperationContext, vs []*models.Vehicle, s vehicleShape) error {
	if len(s.dealerVehicles) == 0 || len(vs) == 0 {
		return nil
	}
	var dealers []*models.Dealer
	for _, v := range vs {
		if v.Dealer != nil && !slices.Contains(dealers, v.Dealer) {
			dealers = append(dealers, v.Dealer)
		}
	}
	return p.planDealerLevels(ctx, oc, dealers, s.dealerVehicles)
}

// planDealerLevels reads each of fields (Dealer.vehicles connections) for
// every one of dealers in one statement, plus one for its totalCount when
// selected, and leaves the pages for the fields' resolvers. Without
// operation state (a subscription's events) each field reads on its own.
func (p *Planner) planDealerLevels(ctx context.Context, oc *graphql.OperationContext, dealers []*models.Dealer, fields []graphql.CollectedField) error {
	op := operationFrom(ctx)
	if op == nil || len(dealers) == 0 || len(fields) == 0 || p.opts.NestedQuery == nil {
		return nil
	}
	ids := make([]int64, 0, len(dealers))
	for _, d := range dealers {
		if !slices.Contains(ids, d.ID) {
			ids = append(ids, d.ID)
		}
	}
	for _, f := range fields {
		q, ok := p.opts.NestedQuery(f.ArgumentMap(oc.Variables))
		if !ok {
			continue // the field's resolver reports the bad arguments
		}
		var err error
		if q.Filter, err = p.ResolveSearch(ctx, q.Filter); err != nil {
			return err
		}
		s, withCount := connectionShape(oc, f.Selections)
		byDealer, err := p.dealerPages(ctx, ids, q, s)
		if err != nil {
			return err
		}
		var counts map[int64]int
		if withCount {
			if counts, err = p.dealerCounts(ctx, ids, q.Filter); err != nil {
				return err
			}
		}
		var all []*models.Vehicle
		op.mu.Lock()
		if op.nested == nil {
			op.nested = make(map[nestedKey]*nestedPage)
		}
		for _, id := range ids {
			rows := byDealer[id]
			if rows == nil {
				rows = []*models.Vehicle{}
			}
			all = append(all, rows...)
			op.nested[nestedKey{field: f.Field, dealerID: id}] = &nestedPage{rows: rows, count: counts[id], counted: withCount}
		}
		op.mu.Unlock()
		if err := p.planDealers(ctx, oc, all, s); err != nil {
			return err
		}
	}
	return nil
}

// dealerPages reads page q of each dealer's vehicles in one statement
// (a LATERAL join over the dealers), grouped by dealer, in q.Order.
func (p *Planner) dealerPages(ctx context.Context, dealerIDs []int64, q models.VehicleQuery, s vehicleShape) (map[int64][]*models.Vehicle, error) {
	s = s.withColumn(q.Order.Field.Column())
	var err error
	if q.Filter, err = p.ResolveSearch(ctx, q.Filter); err != nil {
		return nil, err
	}
	if hasNear(q.Filter) {
		return p.nearDealerPages(ctx, dealerIDs, q, s)
	}
	fk, words := filterKey(q.Filter)
	key := statementKey{kind: kindDealerPages, columns: s.columns, rel: s.rel, filter: fk, words: words,
		order: q.Order, fromEnd: q.FromEnd, after: q.After != nil, before: q.Before != nil}
	sql, args := p.statement(key, func(b *builder) {
		b.write("SELECT ", b.selectList(s), " FROM unnest(", b.arg(dealerIDs), "::bigint[]) WITH ORDINALITY AS want(id, ord)",
			" CROSS JOIN LATERAL (SELECT ", b.columnList(s), " FROM vehicles v")
		b.cond("v.dealer_id = want.id")
		b.filter(q.Filter)
		b.bounds(&q)
		b.write(" ORDER BY ", b.orderBy(&q), " LIMIT ", b.arg(q.Limit), ") v", b.joins(s), " ORDER BY want.ord, ", b.orderBy(&q))
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

// dealerCounts counts each dealer's vehicles matching f, in one statement:
// from the vehicle rollup when it or its totals answer f exactly (the color
// rollup has no dealers), else on the vehicles' indexes.
func (p *Planner) dealerCounts(ctx context.Context, dealerIDs []int64, f *models.VehicleFilter) (map[int64]int, error) {
	f, err := p.ResolveSearch(ctx, f)
	if err != nil {
		return nil, err
	}
	fk, words := filterKey(f)
	rollup := rollupOf(f)
	switch rollup {
	case rollupTotals:
		rollup = rollupVehicles // the same groups, per dealer
	case rollupColors:
		rollup = rollupNone
	}
	sql, args := p.statement(statementKey{kind: kindDealerCounts, filter: fk, words: words, rollup: rollup, near: hasNear(f)}, func(b *builder) {
		if rollup == rollupNone {
			b.write("SELECT v.dealer_id, count(*) FROM vehicles v")
			b.cond("v.dealer_id = ANY(", b.arg(dealerIDs), "::bigint[])")
			b.filter(f)
			b.write(" GROUP BY v.dealer_id")
			return
		}
		b.write("SELECT r.dealer_id, sum(r.vehicles)::bigint FROM vehicle_rollup r")
		b.cond("r.dealer_id = ANY(", b.arg(dealerIDs), "::bigint[])")
		b.rollupFilter(f, rollup)
		b.write(" GROUP BY r.dealer_id HAVING sum(r.vehicles) > 0")
	})
	rows, err := p.queryFiltered(ctx, f, sql, args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := make(map[int64]int, len(dealerIDs))
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		counts[id] = n
	}
	return counts, rows.Err()
}
