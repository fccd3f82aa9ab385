package graph_test

import (
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/gqlws"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
)

// Subscriptions that would render an event identically share one execution
// of it; a different actor or different variables never share one.
func TestSubscriptionsShareIdenticalRenderings(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	admin := a.login(p.admin)
	url := a.SocketURL()
	id, _ := a.vehicleOf(p.dealerA)

	type subscriber struct {
		conn      *gqlws.Conn
		seesActor bool
	}
	var subs []subscriber
	subscribe := func(token string, vars map[string]any, seesActor bool) {
		opts := gqlws.Options{}
		if token != "" {
			opts.Init = map[string]any{"Authorization": token}
		}
		c := apitest.Dial(t, url, opts)
		if err := c.Subscribe(apitest.Wait(t), "1", eventsSubscription, vars); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, subscriber{c, seesActor})
	}
	sameDealer := map[string]any{"filter": map[string]any{"dealerId": relay.NodeID("Dealer", p.dealerA)}}
	subscribe("", nil, false) // three anonymous subscribers, same document and variables: one execution
	subscribe("", nil, false)
	subscribe("", nil, false)
	subscribe("", sameDealer, false) // other variables: one more
	subscribe(admin, nil, true)      // an admin sees who acted: one more, shared by both admins
	subscribe(admin, nil, true)
	apitest.Eventually(t, func() bool { return a.http.LiveSubscribers() == len(subs) }, 10*time.Second, "the subscriptions became active")

	before := a.Counter("carlot_graphql_subscription_executions_total")
	if r := a.PostAs(admin, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 4242}}); len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}
	for i, s := range subs {
		e := nextEvent(t, s.conn)
		if e.Snapshot.PriceCents != 4242 || e.Vehicle == nil || e.Vehicle.PriceCents != 4242 || e.Snapshot.Make.Name == "" {
			t.Errorf("subscriber %d got %+v", i, e)
		}
		if seen := e.Actor != nil && e.Actor.Email == p.admin.Email; seen != s.seesActor {
			t.Errorf("subscriber %d sees the actor: %v, want %v (%+v)", i, seen, s.seesActor, e.Actor)
		}
	}
	if executed := a.Counter("carlot_graphql_subscription_executions_total") - before; executed != 3 {
		t.Fatalf("the event was executed %v times for 6 subscribers, want 3 (one per distinct actor and variables)", executed)
	}

	// Hanging up ends every subscription on the server too.
	for _, s := range subs {
		s.conn.CloseNow()
	}
	apitest.Eventually(t, func() bool { return a.http.LiveSubscribers() == 0 }, 10*time.Second, "no subscription is fed after its client hung up")
}
