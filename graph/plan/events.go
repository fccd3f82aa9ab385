package plan

import (
	"context"
	"encoding/json"
	"slices"
	"sync"

	"github.com/carlot/carlot/models"
	"github.com/vikstrous/dataloadgen"
)

// PrepareEvents reads, once for every subscriber, what rendering a batch of
// events may need: each vehicle's current state with its make, model and
// dealer (one statement), and the make, model and dealer of every snapshot
// and previous state (one more). The live broker calls it before it offers
// the events; they are only read afterwards.
func (p *Planner) PrepareEvents(ctx context.Context, events []*models.VehicleEvent) error {
	return p.prepareEvents(ctx, events, eventNeeds{current: true, rel: relAll})
}

func (p *Planner) prepareEvents(ctx context.Context, events []*models.VehicleEvent, need eventNeeds) error {
	if len(events) == 0 {
		return nil
	}
	if need.current {
		ids := make([]int64, 0, len(events))
		for _, e := range events {
			if !slices.Contains(ids, e.VehicleID) {
				ids = append(ids, e.VehicleID)
			}
		}
		s := vehicleShape{columns: allColumns, rel: need.rel}
		sql, args := p.statement(statementKey{kind: kindByIDs, columns: s.columns, rel: s.rel}, func(b *builder) {
			b.write("SELECT ", b.selectList(s), " FROM vehicles v", b.joins(s))
			b.cond("v.id = ANY(", b.arg(ids), "::bigint[])")
		})
		rows, err := p.query(ctx, sql, args)
		if err != nil {
			return err
		}
		current, err := scanVehicles(rows, s, len(ids))
		if err != nil {
			return err
		}
		byID := make(map[int64]*models.Vehicle, len(current))
		for _, v := range current {
			byID[v.ID] = v
		}
		for _, e := range events {
			e.Current, e.CurrentKnown = byID[e.VehicleID], true
		}
	}
	if need.rel == 0 {
		return nil
	}
	var modelIDs, dealerIDs []int64
	each := func(f func(*models.Vehicle)) {
		for _, e := range events {
			f(e.Snapshot)
			if e.Previous != nil {
				f(e.Previous)
			}
		}
	}
	each(func(v *models.Vehicle) {
		if !slices.Contains(modelIDs, v.ModelID) {
			modelIDs = append(modelIDs, v.ModelID)
		}
		if !slices.Contains(dealerIDs, v.DealerID) {
			dealerIDs = append(dealerIDs, v.DealerID)
		}
	})
	mds, ds, err := p.relations(ctx, modelIDs, dealerIDs)
	if err != nil {
		return err
	}
	each(func(v *models.Vehicle) {
		if md := mds[v.ModelID]; md != nil {
			v.Model, v.Make = md, md.Make
		}
		v.Dealer = ds[v.DealerID]
	})
	return nil
}

// EventVehicle resolves VehicleEvent.vehicle: the vehicle as it is now
// (nil once deleted), as read for the event's batch.
func (p *Planner) EventVehicle(ctx context.Context, e *models.VehicleEvent) (*models.Vehicle, error) {
	if !e.CurrentKnown {
		if err := p.prepareEvents(ctx, []*models.VehicleEvent{e}, eventNeeds{current: true, rel: relAll}); err != nil {
			return nil, err
		}
	}
	return p.Related(ctx, e.Current)
}

// EventSnapshot resolves VehicleEvent.snapshot.
func (p *Planner) EventSnapshot(ctx context.Context, e *models.VehicleEvent) (*models.Vehicle, error) {
	return p.Related(ctx, e.Snapshot)
}

// EventPrevious resolves VehicleEvent.previous.
func (p *Planner) EventPrevious(ctx context.Context, e *models.VehicleEvent) (*models.Vehicle, error) {
	return p.Related(ctx, e.Previous)
}

// History resolves Vehicle.history: up to limit of the vehicle's events
// after a sequence, oldest first.
//
// siblings, when not empty, are the vehicles of the page the vehicle was
// listed in (page identifies that page within the operation): the first of
// them to ask reads every sibling's history in one statement, and one each
// for the current vehicles and the relations the events' fields select; the
// others find theirs read. That batch does not depend on timing. A vehicle
// not listed in a page (a lookup) reads its own history; one whose page is
// unknown joins a short-lived batch of whatever histories are asked for
// alongside it.
func (p *Planner) History(ctx context.Context, page any, siblings []int64, vehicleID, after int64, limit int) ([]*models.VehicleEvent, error) {
	record(ctx)
	oc, sel := fieldSelection(ctx)
	key := historyKey{vehicleID: vehicleID, after: after, limit: limit, need: historyNeeds(oc, sel)}
	op := operationFrom(ctx)
	if op == nil || page == nil || !slices.Contains(siblings, vehicleID) {
		if op == nil {
			return p.readHistories(ctx, []historyKey{key})
		}
		op.mu.Lock()
		if op.history == nil {
			op.history = p.newHistoryLoader()
		}
		l := op.history
		op.mu.Unlock()
		return l.Load(ctx, key)
	}
	batchKey := historyBatchKey{page: page, after: after, limit: limit, need: key.need}
	op.mu.Lock()
	if op.histories == nil {
		op.histories = make(map[historyBatchKey]*historyBatch)
	}
	b := op.histories[batchKey]
	if b == nil {
		b = &historyBatch{}
		op.histories[batchKey] = b
	}
	op.mu.Unlock()
	b.once.Do(func() {
		keys := make([]historyKey, len(siblings))
		for i, id := range siblings {
			keys[i] = historyKey{vehicleID: id, after: after, limit: limit, need: key.need}
		}
		var lists [][]*models.VehicleEvent
		lists, b.err = p.fetchAll(ctx, keys)
		b.byVehicle = make(map[int64][]*models.VehicleEvent, len(siblings))
		for i, id := range siblings {
			if lists != nil {
				b.byVehicle[id] = lists[i]
			}
		}
	})
	if b.err != nil {
		return nil, b.err
	}
	return b.byVehicle[vehicleID], nil
}

// historyBatchKey names the histories of one page's vehicles read with one
// set of arguments and one selection.
type historyBatchKey struct {
	page  any
	after int64
	limit int
	need  eventNeeds
}

// historyBatch is the histories of a page's vehicles, read once.
type historyBatch struct {
	once      sync.Once
	byVehicle map[int64][]*models.VehicleEvent
	err       error
}

// readHistories reads the histories of keys at once.
func (p *Planner) readHistories(ctx context.Context, keys []historyKey) ([]*models.VehicleEvent, error) {
	lists, err := p.fetchAll(ctx, keys)
	if err != nil {
		return nil, err
	}
	return lists[0], nil
}

// fetchAll is fetchHistory with one error for the whole batch.
func (p *Planner) fetchAll(ctx context.Context, keys []historyKey) ([][]*models.VehicleEvent, error) {
	lists, errs := p.fetchHistory(ctx, keys)
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return lists, nil
}

type historyKey struct {
	vehicleID, after int64
	limit            int
	need             eventNeeds
}

type historyLoader = dataloadgen.Loader[historyKey, []*models.VehicleEvent]

func (p *Planner) newHistoryLoader() *historyLoader {
	return dataloadgen.NewLoader(p.fetchHistory, dataloadgen.WithWait(p.opts.BatchWait))
}

func (p *Planner) fetchHistory(ctx context.Context, keys []historyKey) ([][]*models.VehicleEvent, []error) {
	out := make([][]*models.VehicleEvent, len(keys))
	errs := make([]error, len(keys))
	fail := func(err error) ([][]*models.VehicleEvent, []error) {
		for i := range errs {
			errs[i] = err
		}
		return nil, errs
	}
	type page struct {
		after int64
		limit int
	}
	groups := make(map[page][]int)
	var need eventNeeds
	for i, k := range keys {
		pg := page{k.after, k.limit}
		groups[pg] = append(groups[pg], i)
		need = need.union(k.need)
	}
	var all []*models.VehicleEvent
	for pg, at := range groups {
		ids := make([]int64, len(at))
		for i, k := range at {
			ids[i] = keys[k].vehicleID
		}
		byVehicle, err := p.events(ctx, ids, pg.after, pg.limit)
		if err != nil {
			return fail(err)
		}
		for _, k := range at {
			out[k] = byVehicle[keys[k].vehicleID]
			if out[k] == nil {
				out[k] = []*models.VehicleEvent{}
			}
			all = append(all, out[k]...)
		}
	}
	if err := p.prepareEvents(ctx, all, need); err != nil {
		return fail(err)
	}
	return out, errs
}

// events reads each vehicle's events after a sequence, oldest first, at
// most limit per vehicle, in one statement.
func (p *Planner) events(ctx context.Context, vehicleIDs []int64, after int64, limit int) (map[int64][]*models.VehicleEvent, error) {
	sql, args := p.statement(statementKey{kind: kindEvents}, func(b *builder) {
		b.write("SELECT ev.sequence, ev.kind, ev.vehicle_id, ev.snapshot, ev.previous, ev.actor_id, ev.at",
			" FROM unnest(", b.arg(vehicleIDs), "::bigint[]) AS want(id) CROSS JOIN LATERAL (",
			"SELECT * FROM vehicle_events ev WHERE ev.vehicle_id = want.id AND ev.sequence > ", b.arg(after),
			" ORDER BY ev.sequence LIMIT ", b.arg(limit), ") ev ORDER BY ev.vehicle_id, ev.sequence")
	})
	rows, err := p.query(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64][]*models.VehicleEvent, len(vehicleIDs))
	var kind string
	var snapshot, previous []byte
	for rows.Next() {
		e := new(models.VehicleEvent)
		if err := rows.Scan(&e.Sequence, &kind, &e.VehicleID, &snapshot, &previous, &e.ActorID, &e.At); err != nil {
			return nil, err
		}
		e.Kind, e.At = models.EventKind(kind), e.At.UTC()
		e.Snapshot = new(models.Vehicle)
		if err := json.Unmarshal(snapshot, e.Snapshot); err != nil {
			return nil, err
		}
		if previous != nil {
			e.Previous = new(models.Vehicle)
			if err := json.Unmarshal(previous, e.Previous); err != nil {
				return nil, err
			}
		}
		out[e.VehicleID] = append(out[e.VehicleID], e)
	}
	return out, rows.Err()
}
