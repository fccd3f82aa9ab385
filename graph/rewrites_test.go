package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/carlot/carlot/graph"
	"github.com/carlot/carlot/graph/plan"
	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/live"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The executor is gqlgen's, changed by graph/internal/gqlgen in five places
// (lists, subscription marshallers, deferred groups, plain fields, object
// writing), whose helpers copy part of gqlgen's behaviour. Under any
// resolver root but *graph.Resolver each helper does exactly what gqlgen's
// own call does, so these tests run the same operations through both and
// compare the answers byte for byte. Errors are compared as a set: where
// gqlgen resolves list elements concurrently, their order is not fixed.

// gqlgenRoot is Carlot's resolver under another root type: the executor
// then behaves as gqlgen generated it.
type gqlgenRoot struct{ *graph.Resolver }

type executors struct {
	db             *bun.DB
	resolver       *graph.Resolver
	broker         *live.Broker
	carlot, gqlgen *executor.Executor
}

// newExecutors builds both executors over one resolver and a fresh seeded
// database; fields, when set, runs around every field (and turns the plain
// field shortcut off, as a server with field middleware must).
func newExecutors(t *testing.T, fields graphql.FieldMiddleware) *executors {
	t.Helper()
	db := testdb.New(t, testdb.Seeded)
	log := slog.New(slog.DiscardHandler)
	planner := graph.NewPlanner(database.Pool(db), 0)
	broker := live.New(db, log, live.Options{Prepare: planner.PrepareEvents, PollInterval: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		broker.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-stopped })
	r := &graph.Resolver{
		DB: db, Plan: planner, Log: log, Live: broker,
		Renderings:  graph.NewRenderings(64, time.Minute),
		PlainFields: fields == nil,
	}
	build := func(root graph.ResolverRoot) *executor.Executor {
		e := executor.New(graph.NewExecutableSchema(graph.Config{Resolvers: root}))
		e.Use(extension.Introspection{})
		e.SetErrorPresenter(graph.ErrorPresenter(log))
		e.SetRecoverFunc(graph.Recover(log))
		e.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			ctx = loaders.WithLazy(ctx, func() *loaders.Loaders { return loaders.New(db, 0, nil) })
			if graphql.GetOperationContext(ctx).Operation.Operation != ast.Subscription {
				ctx = plan.WithOperation(ctx)
			}
			return next(ctx)
		})
		if fields != nil {
			e.AroundFields(fields)
		}
		return e
	}
	return &executors{db: db, resolver: r, broker: broker, carlot: build(r), gqlgen: build(gqlgenRoot{r})}
}

// start dispatches an operation and returns its response handler.
func start(t *testing.T, ctx context.Context, e *executor.Executor, query string, vars map[string]any) func() string {
	t.Helper()
	ctx = graphql.StartOperationTrace(ctx)
	rc, errs := e.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: vars})
	if errs != nil {
		t.Fatalf("%s: %v", query, errs)
	}
	next, ctx := e.DispatchOperation(ctx, rc)
	return func() string {
		r := next(ctx)
		if r == nil {
			return ""
		}
		slices.SortFunc(r.Errors, func(a, b *gqlerror.Error) int {
			return strings.Compare(a.Error()+a.Path.String(), b.Error()+b.Path.String())
		})
		// The data as the executor wrote it (json.Marshal would compact
		// it), then the rest of the response.
		data := r.Data
		r.Data = nil
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(data) + " " + string(b)
	}
}

// answer runs a query or mutation to its end: its response, then each
// deferred one. Those come in no fixed order when several run at once (and
// the last says so): they are sorted, without hasNext.
func answer(t *testing.T, ctx context.Context, e *executor.Executor, query string, vars map[string]any) []string {
	t.Helper()
	next := start(t, ctx, e, query, vars)
	out := []string{next()}
	for more := strings.Contains(out[0], `"hasNext":true`); more; {
		r := next()
		if r == "" {
			t.Fatalf("%s: the answer ended before a payload said it was the last", query)
		}
		more = strings.Contains(r, `"hasNext":true`)
		r = strings.Replace(strings.Replace(r, `,"hasNext":true`, "", 1), `,"hasNext":false`, "", 1)
		out = append(out, r)
	}
	slices.Sort(out[1:])
	return out
}

func (x *executors) compare(t *testing.T, ctx context.Context, query string, vars map[string]any) []string {
	t.Helper()
	got := answer(t, ctx, x.carlot, query, vars)
	want := answer(t, ctx, x.gqlgen, query, vars)
	if !slices.Equal(got, want) {
		t.Errorf("%s\nthe executor answers\n\t%s\ngqlgen answers\n\t%s", query, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	return got
}

func (x *executors) admin(t *testing.T) *models.Actor {
	t.Helper()
	var id int64
	if err := x.db.NewRaw("SELECT id FROM users WHERE email = ?", testdb.AdminEmail).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	return &models.Actor{UserID: id, Role: models.RoleAdmin}
}

func (x *executors) vehicleIDs(t *testing.T) []int64 {
	t.Helper()
	var ids []int64
	if err := x.db.NewRaw("SELECT id FROM vehicles ORDER BY id LIMIT 3").Scan(t.Context(), &ids); err != nil {
		t.Fatal(err)
	}
	return ids
}

const relations = `vin priceCents color year fuel status model { name make { name } } dealer { name city latitude }`

// Queries answer the same through both executors: values, lists in and
// under lists, repeated aliases, fragments, @skip and @include, @defer,
// introspection, and errors with the nulls they propagate.
func TestRewrittenExecutorAnswersAsGqlgen(t *testing.T) {
	t.Parallel()
	x := newExecutors(t, nil)
	ids := x.vehicleIDs(t)
	vehicle := map[string]any{"id": relay.NodeID(models.TypeVehicle, ids[0])}
	anonymous, admin := t.Context(), models.WithActor(t.Context(), x.admin(t))
	for _, id := range ids { // histories to read
		color := "Teal"
		if _, err := models.UpdateVehicle(admin, x.db, x.admin(t), id, models.VehiclePatch{Color: &color}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		query string
		vars  map[string]any
	}{
		{"a lookup", anonymous, `query($id: ID!) { vehicle(id: $id) { id __typename ` + relations + ` } }`, vehicle},
		{"a page", anonymous, `{ vehicles(first: 30, orderBy: {field: PRICE, direction: ASC}) { nodes { ` + relations + ` } edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`, nil},
		{"repeated aliases and fragments", anonymous, `{ vehicles(first: 5) { nodes { a: vin a: vin b: priceCents ...v ... on Vehicle { model { name } } } } } fragment v on Vehicle { vin b: priceCents }`, nil},
		{"skip and include", anonymous, `query($no: Boolean!) { vehicles(first: 5) { nodes { vin color @skip(if: true) priceCents @include(if: $no) dealer @include(if: true) { name } } } }`, map[string]any{"no": false}},
		{"lists under lists", anonymous, `{ makes { name models { name make { name } } } }`, nil},
		{"connections under a list", anonymous, `{ dealers(first: 5) { totalCount edges { node { name vehicles(first: 3) { totalCount nodes { vin model { name } } } } } } }`, nil},
		{"lists of counts", anonymous, `{ vehicleStats { count byStatus { status count } byMake { count make { name } } } }`, nil},
		{"a list of problems", anonymous, `{ decodeVin(vin: "1hgcm82633a00435!") { vin valid problems { code message } } }`, nil},
		{"a node", anonymous, `query($id: ID!) { node(id: $id) { id ... on Vehicle { vin dealer { name } } } }`, vehicle},
		{"histories", admin, `{ vehicles(first: 5) { nodes { vin history(first: 2) { edges { cursor node { kind vehicleId snapshot { vin } actor { email } } } pageInfo { hasNextPage } } } } }`, nil},
		{"an error in every element, propagated up to the data", anonymous, `{ vehicles(first: 5) { nodes { vin history { edges { cursor } } } } }`, nil},
		{"an argument error", anonymous, `{ vehicles(first: 1000) { nodes { vin } } }`, nil},
		// gqlgen defers only the fields it resolves concurrently.
		{"an object deferred", anonymous, `query($id: ID!) { vehicle(id: $id) { vin dealer { name ... @defer(label: "more") { vehicles(first: 3) { totalCount nodes { vin } } } } } }`, vehicle},
		{"deferred in every element", admin, `{ vehicles(first: 4) { nodes { vin ... @defer(label: "history") { history(first: 2) { edges { node { kind snapshot { vin } } } } } } } }`, nil},
		{"deferred twice in every element", anonymous, `{ dealers(first: 3) { nodes { name ... @defer(label: "a") { vehicles(first: 2) { nodes { vin } } } ... @defer(label: "b") { count: vehicles(first: 1) { totalCount } } } } }`, nil},
		{"introspection", anonymous, `{ __type(name: "Vehicle") { name kind fields { name args { name } type { kind name ofType { kind name ofType { kind name } } } } interfaces { name } } }`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := x.compare(t, tc.ctx, tc.query, tc.vars)
			if len(got[0]) < 30 {
				t.Errorf("%s: a short answer, %s, checks little", tc.query, got[0])
			}
		})
	}
}

// With field middleware that fails or panics in some elements of a list,
// both executors report the same errors and null the same values: a
// nullable field alone, a non-null one up to the nearest nullable parent.
func TestRewrittenExecutorPropagatesErrorsAsGqlgen(t *testing.T) {
	t.Parallel()
	// Fields aliased fail… or panic… fail or panic in odd elements of a list.
	x := newExecutors(t, func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		odd := false
		for p := fc; p != nil; p = p.Parent {
			if p.Index != nil {
				odd = *p.Index%2 == 1
				break
			}
		}
		switch alias := fc.Field.Alias; {
		case odd && strings.HasPrefix(alias, "fail"):
			return nil, errors.New("failed: " + alias)
		case odd && strings.HasPrefix(alias, "panic"):
			panic("panicked: " + alias)
		}
		return next(ctx)
	})
	for _, tc := range []struct{ name, query string }{
		{"a nullable field", `{ vehicles(first: 6) { nodes { vin failColor: color dealer { name failLatitude: latitude } } } }`},
		{"a non-null field", `{ vehicles(first: 6) { nodes { vin failVin: vin } } }`},
		{"a non-null field under a relation", `{ vehicles(first: 6) { nodes { vin model { failName: name } } } }`},
		{"a panic", `{ vehicles(first: 6) { nodes { vin panicColor: color model { panicName: name } } } }`},
		{"in a list under a list", `{ makes { name models { failName: name } } }`},
		{"in edges", `{ vehicles(first: 6) { edges { failCursor: cursor node { vin } } } }`},
		{"deferred", `{ dealers(first: 3) { nodes { name ... @defer { vehicles(first: 4) { nodes { vin failColor: color model { failName: name } } } } } } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := x.compare(t, t.Context(), tc.query, nil)
			if !strings.Contains(strings.Join(got, ""), `"errors"`) {
				t.Errorf("%s: no error reported, which checks little: %s", tc.query, got)
			}
		})
	}
}

// Subscriptions deliver the same bytes through both executors, whether an
// event was executed for the subscription or its rendering shared with
// another one's.
func TestRewrittenSubscriptionsAnswerAsGqlgen(t *testing.T) {
	t.Parallel()
	x := newExecutors(t, nil)
	admin := x.admin(t)
	id := x.vehicleIDs(t)[0]
	const events = `subscription { vehicleEvents { sequence kind vehicleId vehicle { ` + relations + ` } snapshot { ` + relations + ` } previous { priceCents } actor { email } } }`
	const updated = `subscription($id: ID!) { vehicleUpdated(id: $id) { ` + relations + ` version } }`
	vars := map[string]any{"id": relay.NodeID(models.TypeVehicle, id)}
	ctx := models.WithActor(t.Context(), admin)
	type sub struct {
		name string
		next func() string
	}
	var subs []sub
	for _, e := range []struct {
		name string
		e    *executor.Executor
	}{{"executor", x.carlot}, {"executor, shared", x.carlot}, {"gqlgen", x.gqlgen}} {
		subs = append(subs,
			sub{e.name + ": vehicleEvents", start(t, ctx, e.e, events, nil)},
			sub{e.name + ": vehicleUpdated", start(t, ctx, e.e, updated, vars)})
	}
	apitest.Eventually(t, func() bool { return x.broker.Subscribers() == len(subs) }, 10*time.Second, "every subscription is fed")

	executed := x.resolver.Renderings.Executed()
	for i, price := range []int64{4242, 4343} {
		if _, err := models.UpdateVehicle(ctx, x.db, admin, id, models.VehiclePatch{PriceCents: &price}, nil); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, s := range subs {
			got[s.name] = s.next()
		}
		for _, field := range []string{"vehicleEvents", "vehicleUpdated"} {
			want := got["gqlgen: "+field]
			if !strings.Contains(want, fmt.Sprint(price)) {
				t.Fatalf("change %d: gqlgen delivered %s", i, want)
			}
			for _, name := range []string{"executor: " + field, "executor, shared: " + field} {
				if got[name] != want {
					t.Errorf("change %d, %s: delivered\n\t%s\ngqlgen delivered\n\t%s", i, name, got[name], want)
				}
			}
		}
	}
	// One execution per change for each field, the other subscription
	// sharing it: the shared bytes were compared above.
	if n := x.resolver.Renderings.Executed() - executed; n != 4 {
		t.Errorf("the executor executed 2 changes %d times for 2 pairs of identical subscriptions, want 4", n)
	}
}
