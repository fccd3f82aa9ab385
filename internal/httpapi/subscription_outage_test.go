package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/gqlws"
	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/internal/wsapi"
)

// A subscription that cannot read its events while PostgreSQL is down ends
// with a close code the graphql-ws client reconnects on, never with
// "complete" (which a client takes for a normal end and never retries), and
// the resubscription after the outage gets every event.
func TestSubscriptionsDuringADatabaseOutageAskTheClientToRetry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a PostgreSQL cluster of its own")
	}
	t.Parallel()
	const password = "outage-test-password"
	o := startOutageCluster(t, seed.Options{Vehicles: 3, Password: password})
	a := newTestAPIOn(t, o.db, apitest.Config(t, nil))
	url := a.SocketURL()

	var login struct{ Login struct{ AccessToken string } }
	r := a.MustQuery(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`,
		map[string]any{"e": seed.AdminEmail, "p": password})
	mustDecode(t, r.Data, &login)
	var page struct {
		Vehicles struct{ Nodes []struct{ ID string } }
	}
	mustDecode(t, a.MustQuery(`{ vehicles(first: 1) { nodes { id } } }`, nil).Data, &page)
	vehicleID := page.Vehicles.Nodes[0].ID
	for _, price := range []int{101, 102} {
		if r := a.Post(`mutation($id: ID!, $p: Int!) { updateVehicle(id: $id, input: { priceCents: $p }) { id } }`,
			map[string]any{"id": vehicleID, "p": price}, "Authorization", "Bearer "+login.Login.AccessToken); len(r.Errors) > 0 {
			t.Fatalf("update: %s", r.Raw)
		}
	}
	const events = `subscription($after: String) { vehicleEvents(after: $after) { sequence } }`
	fromStart := map[string]any{"after": "0"}

	// Both events read once, so this replica's live position is past them
	// and a resume from 0 has to replay them from the table.
	sub := apitest.Dial(t, url, gqlws.Options{})
	if err := sub.Subscribe(apitest.Wait(t), "1", events, fromStart); err != nil {
		t.Fatal(err)
	}
	if got := outageSequences(t, sub, 2); got[0] != "1" || got[1] != "2" {
		t.Fatalf("before the outage: %v", got)
	}
	sub.Close()

	o.stop()
	for _, c := range []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"a resume that must replay", events, fromStart},
		{"a subscription from now", events, nil},
		{"a vehicle's updates", `subscription($id: ID!) { vehicleUpdated(id: $id) { priceCents } }`, map[string]any{"id": vehicleID}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sub := apitest.Dial(t, url, gqlws.Options{})
			if err := sub.Subscribe(apitest.Wait(t), "1", c.query, c.vars); err != nil {
				t.Fatal(err)
			}
			m, err := sub.Read(apitest.Wait(t))
			if err == nil {
				t.Fatalf("got %s %s, want the socket closed with %d", m.Type, m.Payload, wsapi.CloseTryAgainLater)
			}
			if code := gqlws.CloseCode(err); code != wsapi.CloseTryAgainLater {
				t.Fatalf("close code %d (%v), want %d", code, err, wsapi.CloseTryAgainLater)
			}
		})
	}

	o.restart()
	// What the client does next: reconnect (until the pool has dialled
	// the database again) and resume from its last sequence.
	apitest.Eventually(t, func() bool {
		sub := apitest.Dial(t, url, gqlws.Options{})
		if err := sub.Subscribe(apitest.Wait(t), "1", events, fromStart); err != nil {
			t.Fatal(err)
		}
		m, err := sub.Read(apitest.Wait(t))
		if err != nil {
			if code := gqlws.CloseCode(err); code != wsapi.CloseTryAgainLater {
				t.Fatalf("close code %d (%v) while the database comes back", code, err)
			}
			return false
		}
		if m.Type != "next" || !strings.Contains(string(m.Payload), `"sequence":"1"`) {
			t.Fatalf("after the outage: %s %s", m.Type, m.Payload)
		}
		if got := outageSequences(t, sub, 1); got[0] != "2" {
			t.Fatalf("after the outage, then %v", got)
		}
		return true
	}, 30*time.Second, "subscriptions recovered after the database's return")
}

// outageSequences reads n vehicleEvents and returns their sequences.
func outageSequences(t *testing.T, c *gqlws.Conn, n int) []string {
	t.Helper()
	var got []string
	for range n {
		m, err := c.Next(apitest.Wait(t))
		if err != nil || m.Type != "next" {
			t.Fatalf("waiting for an event: %v %s %s", err, m.Type, m.Payload)
		}
		var p struct {
			Data struct{ VehicleEvents struct{ Sequence string } }
		}
		mustDecode(t, m.Payload, &p)
		got = append(got, p.Data.VehicleEvents.Sequence)
	}
	return got
}

func mustDecode(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}
