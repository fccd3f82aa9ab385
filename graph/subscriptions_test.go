package graph_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/gqlws"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/internal/wsapi"
)

type liveEvent struct {
	Sequence  string
	Kind      string
	VehicleID string
	Snapshot  struct {
		PriceCents int
		Status     string
		Dealer     struct{ ID string }
		Make       struct{ Name string }
	}
	Vehicle *struct{ PriceCents int }
	Actor   *struct{ Email string }
}

const eventsSubscription = `subscription($filter: VehicleFilter, $after: String) {
	vehicleEvents(filter: $filter, after: $after) {
		sequence kind vehicleId vehicle { priceCents } actor { email }
		snapshot { priceCents status dealer { id } make { name } } } }`

// nextEvent reads the next vehicleEvents payload.
func nextEvent(t *testing.T, c *gqlws.Conn) liveEvent {
	t.Helper()
	m, err := c.Next(apitest.Wait(t))
	if err != nil {
		t.Fatalf("waiting for an event: %v", err)
	}
	if m.Type != "next" {
		t.Fatalf("got %s %s, want next", m.Type, m.Payload)
	}
	var p struct {
		Data   struct{ VehicleEvents liveEvent }
		Errors []apitest.Error
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		t.Fatalf("bad event payload %s", m.Payload)
	}
	return p.Data.VehicleEvents
}

func seq(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("sequence %q: %v", s, err)
	}
	return n
}

// A change made through one replica reaches a subscriber on another.
func TestEventsReachSubscribersOnEveryReplica(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	b := newAPIWith(t, a.URL, nil)
	p := a.accounts()
	staff := b.login(p.staffA)

	sub := apitest.Dial(t, a.SocketURL(), gqlws.Options{})
	if err := sub.Subscribe(apitest.Wait(t), "1", eventsSubscription, nil); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, a)

	var created struct{ CreateVehicle struct{ ID string } }
	r := b.PostAs(staff, createMutation, map[string]any{"input": b.newVehicleInput(p.dealerA, validVIN("2HGFC2F50LH000001"))})
	if err := json.Unmarshal(r.Data, &created); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}
	if r := b.PostAs(staff, updateMutation, map[string]any{"id": created.CreateVehicle.ID, "input": map[string]any{"priceCents": 1777700}}); len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}

	first, second := nextEvent(t, sub), nextEvent(t, sub)
	if first.Kind != "CREATED" || second.Kind != "UPDATED" || first.VehicleID != created.CreateVehicle.ID || second.VehicleID != first.VehicleID {
		t.Fatalf("events %+v then %+v", first, second)
	}
	if second.Snapshot.PriceCents != 1777700 || second.Vehicle == nil || second.Vehicle.PriceCents != 1777700 || second.Snapshot.Make.Name == "" {
		t.Fatalf("the update's event lacks the updated fields: %+v", second)
	}
	if seq(t, second.Sequence) <= seq(t, first.Sequence) {
		t.Fatalf("sequences not increasing: %s then %s", first.Sequence, second.Sequence)
	}
	if first.Actor != nil {
		t.Fatalf("an anonymous subscriber saw who made the change: %+v", first.Actor)
	}
}

// waitSubscribed waits until a's broker has a subscriber, so that writes made
// next are live events for it (not ones it would have to replay).
func waitSubscribed(t *testing.T, a *api) {
	t.Helper()
	apitest.Eventually(t, func() bool { return a.http.LiveSubscribers() > 0 }, 10*time.Second, "the subscription became active")
}

// A client that missed events resumes with after and gets exactly those.
func TestResumeReplaysExactlyTheMissedEvents(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staff := a.login(p.staffA)
	url := a.SocketURL()
	id, version := a.vehicleOf(p.dealerA)

	sub := apitest.Dial(t, url, gqlws.Options{})
	if err := sub.Subscribe(apitest.Wait(t), "1", eventsSubscription, nil); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, a)
	if r := a.PostAs(staff, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 100}, "v": version}); len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}
	last := nextEvent(t, sub).Sequence
	sub.CloseNow()

	// While the client is away: five updates and a delete of this vehicle,
	// and a change to another dealer's car it does not filter out.
	for i := range 5 {
		if r := a.PostAs(staff, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 200 + i}}); len(r.Errors) > 0 {
			t.Fatalf("%s", r.Raw)
		}
	}
	if r := a.PostAs(staff, deleteMutation, map[string]any{"id": id}); len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}

	again := apitest.Dial(t, url, gqlws.Options{})
	if err := again.Subscribe(apitest.Wait(t), "1", eventsSubscription, map[string]any{"after": last}); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	prev := seq(t, last)
	for range 6 {
		e := nextEvent(t, again)
		if s := seq(t, e.Sequence); s <= prev {
			t.Fatalf("sequence %d after %d", s, prev)
		} else {
			prev = s
		}
		kinds = append(kinds, e.Kind)
	}
	if want := []string{"UPDATED", "UPDATED", "UPDATED", "UPDATED", "UPDATED", "DELETED"}; !slices.Equal(kinds, want) {
		t.Fatalf("replayed %v, want %v", kinds, want)
	}

	// And it is live afterwards: the next change arrives, nothing twice.
	other, _ := a.vehicleOf(p.dealerA)
	if r := a.PostAs(staff, updateMutation, map[string]any{"id": other, "input": map[string]any{"priceCents": 999}}); len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}
	if e := nextEvent(t, again); seq(t, e.Sequence) != prev+1 || e.VehicleID != other {
		t.Fatalf("after the replay got %+v, want sequence %d for %s", e, prev+1, other)
	}
}

// Refused and rolled-back writes emit nothing.
func TestRolledBackWritesEmitNoEvent(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staffA, staffB := a.login(p.staffA), a.login(p.staffB)
	id, version := a.vehicleOf(p.dealerA)
	sub := apitest.Dial(t, a.SocketURL(), gqlws.Options{})
	if err := sub.Subscribe(apitest.Wait(t), "1", eventsSubscription, nil); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, a)

	var dupVIN string
	a.SQL(&dupVIN, "SELECT vin FROM vehicles ORDER BY id LIMIT 1")
	for _, r := range []apitest.Response{
		a.PostAs(staffA, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 1}, "v": version + 3}),
		a.PostAs(staffB, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 1}}),
		a.PostAs(staffA, createMutation, map[string]any{"input": a.newVehicleInput(p.dealerA, dupVIN)}),
	} {
		if len(r.Errors) == 0 {
			t.Fatalf("the write was meant to fail: %s", r.Raw)
		}
	}
	if r := a.PostAs(staffA, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 4242}, "v": version}); len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}
	if e := nextEvent(t, sub); e.VehicleID != id || e.Snapshot.PriceCents != 4242 {
		t.Fatalf("first event is %+v, want the one committed update", e)
	}
}

// The filter applies to the vehicle before or after the change.
func TestEventFilter(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	admin := a.login(p.admin)
	inA, _ := a.vehicleOf(p.dealerA)
	inB, _ := a.vehicleOf(p.dealerB)
	if r := a.PostAs(admin, updateMutation, map[string]any{"id": inA, "input": map[string]any{"status": "AVAILABLE"}}); len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}
	sub := apitest.Dial(t, a.SocketURL(), gqlws.Options{})
	filter := map[string]any{"dealerId": relay.NodeID("Dealer", p.dealerA), "status": []string{"AVAILABLE"}}
	if err := sub.Subscribe(apitest.Wait(t), "1", eventsSubscription, map[string]any{"filter": filter}); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, a)
	for _, change := range []map[string]any{
		{"id": inB, "input": map[string]any{"priceCents": 5}},       // another dealer: filtered out
		{"id": inA, "input": map[string]any{"status": "SOLD"}},      // leaves the filter: delivered
		{"id": inA, "input": map[string]any{"priceCents": 6}},       // sold before and after: filtered out
		{"id": inA, "input": map[string]any{"status": "AVAILABLE"}}, // back: delivered
	} {
		if r := a.PostAs(admin, updateMutation, change); len(r.Errors) > 0 {
			t.Fatalf("%s", r.Raw)
		}
	}
	for _, want := range []string{"SOLD", "AVAILABLE"} {
		if e := nextEvent(t, sub); e.VehicleID != inA || e.Snapshot.Status != want {
			t.Fatalf("got %+v, want %s of %s", e, want, inA)
		}
	}
	// Nothing else is queued: the next event is a fresh one.
	if r := a.PostAs(admin, updateMutation, map[string]any{"id": inA, "input": map[string]any{"priceCents": 7}}); len(r.Errors) > 0 {
		t.Fatalf("%s", r.Raw)
	}
	if e := nextEvent(t, sub); e.Snapshot.PriceCents != 7 {
		t.Fatalf("an event the filter should have dropped arrived: %+v", e)
	}
}

func TestVehicleUpdatedStreamsUntilDeleted(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staff := a.login(p.staffA)
	id, _ := a.vehicleOf(p.dealerA)
	other, _ := a.vehicleOf(p.dealerB)
	sub := apitest.Dial(t, a.SocketURL(), gqlws.Options{})
	if err := sub.Subscribe(apitest.Wait(t), "v", `subscription($id: ID!) { vehicleUpdated(id: $id) { id priceCents version } }`, map[string]any{"id": id}); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, a)
	a.PostAs(a.login(p.admin), updateMutation, map[string]any{"id": other, "input": map[string]any{"priceCents": 1}})
	for _, price := range []int{111, 222} {
		if r := a.PostAs(staff, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": price}}); len(r.Errors) > 0 {
			t.Fatalf("%s", r.Raw)
		}
		m, err := sub.Next(apitest.Wait(t))
		if err != nil || m.Type != "next" || !strings.Contains(string(m.Payload), fmt.Sprintf(`"priceCents":%d`, price)) || !strings.Contains(string(m.Payload), id) {
			t.Fatalf("got %v %s %s", err, m.Type, m.Payload)
		}
	}
	a.PostAs(staff, deleteMutation, map[string]any{"id": id})
	if m, err := sub.Next(apitest.Wait(t)); err != nil || m.Type != "complete" {
		t.Fatalf("after the delete got %v %s %s, want complete", err, m.Type, m.Payload)
	}

	gone := apitest.Dial(t, a.SocketURL(), gqlws.Options{})
	gone.Subscribe(apitest.Wait(t), "x", `subscription($id: ID!) { vehicleUpdated(id: $id) { id } }`, map[string]any{"id": id})
	if m, err := gone.Next(apitest.Wait(t)); err != nil || (m.Type != "error" && !strings.Contains(string(m.Payload), "NOT_FOUND")) {
		t.Fatalf("subscribing to a deleted vehicle: %v %s %s", err, m.Type, m.Payload)
	}
}

func TestSocketAuthentication(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	url := a.SocketURL()

	t.Run("a valid token lets the subscriber see who acted", func(t *testing.T) {
		admin := a.login(p.admin)
		sub := apitest.Dial(t, url, gqlws.Options{Init: map[string]any{"Authorization": admin}})
		sub.Subscribe(apitest.Wait(t), "1", eventsSubscription, nil)
		id, _ := a.vehicleOf(p.dealerA)
		waitSubscribed(t, a)
		a.PostAs(admin, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 31}})
		if e := nextEvent(t, sub); e.Actor == nil || e.Actor.Email != p.admin.Email {
			t.Fatalf("admin subscriber: %+v", e)
		}
	})
	t.Run("a bad token is refused at init", func(t *testing.T) {
		_, err := gqlws.Dial(apitest.Wait(t), url, gqlws.Options{Init: map[string]any{"Authorization": "Bearer forged.token.here"}})
		if code := gqlws.CloseCode(err); code != 4403 {
			t.Fatalf("close code %d (%v), want 4403", code, err)
		}
	})
	t.Run("the socket closes when the token expires", func(t *testing.T) {
		short := newAPIWith(t, a.URL, map[string]string{"ACCESS_TOKEN_TTL": "2s"})
		token := short.login(p.viewer)
		sub := apitest.Dial(t, short.SocketURL(), gqlws.Options{Init: map[string]any{"Authorization": token}})
		sub.Subscribe(apitest.Wait(t), "1", eventsSubscription, nil)
		_, err := sub.Next(apitest.Wait(t))
		if code := gqlws.CloseCode(err); code != wsapi.CloseTokenExpired {
			t.Fatalf("close code %d (%v), want %d", code, err, wsapi.CloseTokenExpired)
		}
	})
}

func TestSocketProtocol(t *testing.T) {
	t.Parallel()
	a := newAPIWith(t, testdb.URL(t, testdb.Seeded), map[string]string{"WS_INIT_TIMEOUT": "300ms"})
	url := a.SocketURL()
	closed := func(t *testing.T, c *gqlws.Conn) int {
		t.Helper()
		for {
			_, err := c.Read(apitest.Wait(t))
			if err != nil {
				return gqlws.CloseCode(err)
			}
		}
	}

	t.Run("no connection_init in time is 4408", func(t *testing.T) {
		c := apitest.Dial(t, url, gqlws.Options{SkipInit: true})
		if code := closed(t, c); code != 4408 {
			t.Fatalf("close code %d", code)
		}
	})
	t.Run("a second connection_init is 4429", func(t *testing.T) {
		c := apitest.Dial(t, url, gqlws.Options{})
		c.SendRaw(apitest.Wait(t), `{"type":"connection_init"}`)
		if code := closed(t, c); code != 4429 {
			t.Fatalf("close code %d", code)
		}
	})
	t.Run("subscribe before init is 4401", func(t *testing.T) {
		c := apitest.Dial(t, url, gqlws.Options{SkipInit: true})
		c.Subscribe(apitest.Wait(t), "1", eventsSubscription, nil)
		if code := closed(t, c); code != 4401 {
			t.Fatalf("close code %d", code)
		}
	})
	t.Run("a malformed message is 4400", func(t *testing.T) {
		c := apitest.Dial(t, url, gqlws.Options{})
		c.SendRaw(apitest.Wait(t), `{not json`)
		if code := closed(t, c); code != 4400 {
			t.Fatalf("close code %d", code)
		}
	})
	t.Run("the legacy graphql-ws subprotocol is acknowledged", func(t *testing.T) {
		apitest.Dial(t, url, gqlws.Options{Subprotocol: gqlws.LegacyWS})
	})
	t.Run("queries work over the socket", func(t *testing.T) {
		c := apitest.Dial(t, url, gqlws.Options{})
		c.Subscribe(apitest.Wait(t), "q", `{ vehicles(first: 2) { nodes { vin make { name } } } }`, nil)
		if m, err := c.Next(apitest.Wait(t)); err != nil || m.Type != "next" || !strings.Contains(string(m.Payload), "vin") {
			t.Fatalf("%v %s %s", err, m.Type, m.Payload)
		}
	})
	t.Run("an unknown origin is refused in production-like settings", func(t *testing.T) {
		strict := newAPIWith(t, a.URL, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com"})
		surl := strict.SocketURL()
		if _, err := gqlws.Dial(apitest.Wait(t), surl, gqlws.Options{Header: http.Header{"Origin": {"https://evil.example"}}}); err == nil {
			t.Fatal("a socket from an unknown origin was accepted")
		}
		apitest.Dial(t, surl, gqlws.Options{Header: http.Header{"Origin": {"https://app.example.com"}}})
	})
	t.Run("shutdown closes sockets with 1001", func(t *testing.T) {
		other := newAPIWith(t, a.URL, nil)
		c := apitest.Dial(t, other.SocketURL(), gqlws.Options{})
		c.Subscribe(apitest.Wait(t), "1", eventsSubscription, nil)
		waitSubscribed(t, other)
		go other.http.Close()
		if code := closed(t, c); code != 1001 {
			t.Fatalf("close code %d", code)
		}
	})
}

// The listener survives its connection being killed (a database restart
// looks the same to it) and misses nothing written meanwhile.
func TestListenerSurvivesLosingItsConnection(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	staff := a.login(p.staffA)
	id, _ := a.vehicleOf(p.dealerA)
	sub := apitest.Dial(t, a.SocketURL(), gqlws.Options{})
	sub.Subscribe(apitest.Wait(t), "1", eventsSubscription, nil)
	waitSubscribed(t, a)

	var killed int
	a.SQL(&killed, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
	if killed == 0 {
		t.Fatal("no backend to terminate: the test proves nothing")
	}
	var prices []int
	for i := range 3 {
		price := 7000 + i
		prices = append(prices, price)
		// The pool itself may hand out a dead connection once; retry like a client would.
		for try := 0; ; try++ {
			r := a.PostAs(staff, updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": price}})
			if len(r.Errors) == 0 {
				break
			}
			if try > 5 {
				t.Fatalf("%s", r.Raw)
			}
		}
	}
	for _, want := range prices {
		if e := nextEvent(t, sub); e.Snapshot.PriceCents != want {
			t.Fatalf("got %+v, want price %d", e, want)
		}
	}
}
