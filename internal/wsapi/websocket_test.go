package wsapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/apitest/server"
	"github.com/carlot/carlot/internal/gqlws"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
	"github.com/coder/websocket/wsjson"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const eventsSubscription = `subscription { vehicleEvents { sequence } }`

func liveSubscribers(a *apitest.API) int { return server.App(a).LiveSubscribers() }

// socketError is an error message's payload.
type socketError []struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// result reads messages until operation id ends, and returns the error
// message's code ("" when it completed without one).
func result(t *testing.T, c *gqlws.Conn, id string) string {
	t.Helper()
	ctx := apitest.Wait(t)
	for {
		m, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for operation %s: %v", id, err)
		}
		if m.ID != id {
			continue
		}
		switch m.Type {
		case "complete":
			return ""
		case "error":
			var errs socketError
			if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) == 0 {
				t.Fatalf("error payload %s", m.Payload)
			}
			code, _ := errs[0].Extensions["code"].(string)
			return code
		}
	}
}

// closeCode reads until the server closes the socket and returns its code.
func closeCode(t *testing.T, c *gqlws.Conn) int {
	t.Helper()
	ctx := apitest.Wait(t) // for the whole wait: keep-alives arrive meanwhile
	for {
		m, err := c.Read(ctx)
		if err != nil {
			return gqlws.CloseCode(err)
		}
		if m.Type == "pong" {
			t.Fatal("the socket answered a ping instead of closing")
		}
	}
}

// graphql-transport-ws: "If there is already an active subscriber for an
// operation matching the provided ID [...] the server must close the socket
// immediately with the event 4409: Subscriber for <unique-operation-id>
// already exists." And nothing the socket started survives it.
func TestDuplicateOperationIDClosesTheSocket(t *testing.T) {
	t.Parallel()
	a := server.New(t, testdb.Empty, map[string]string{"RATE_LIMIT_PER_IP": "0", "WS_MAX_SUBSCRIPTIONS_PER_SOCKET": "0"})
	url := a.SocketURL()

	for _, protocol := range []string{gqlws.TransportWS, gqlws.LegacyWS} {
		t.Run(protocol, func(t *testing.T) {
			c := apitest.Dial(t, url, gqlws.Options{Subprotocol: protocol})
			start := "subscribe"
			if protocol == gqlws.LegacyWS {
				start = "start"
			}
			payload, _ := json.Marshal(map[string]any{"query": eventsSubscription})
			for range 1000 {
				if c.Send(apitest.Wait(t), gqlws.Message{ID: "same", Type: start, Payload: payload}) != nil {
					break // closed
				}
			}
			if protocol == gqlws.TransportWS {
				_ = c.Send(apitest.Wait(t), gqlws.Message{Type: "ping"}) // answered only if the socket is still open
			}
			if code := closeCode(t, c); code != 4409 {
				t.Fatalf("close code %d, want 4409", code)
			}
			apitest.Eventually(t, func() bool {
				return liveSubscribers(a) == 0 && testutil.ToFloat64(a.Metrics.SubscriptionGauge()) == 0
			}, 20*time.Second, "every subscription of the closed socket ended")
		})
	}
	t.Run("a long id is shortened in the close reason", func(t *testing.T) {
		c := apitest.Dial(t, url, gqlws.Options{})
		id := strings.Repeat("é", 100)
		for range 2 {
			_ = c.Subscribe(apitest.Wait(t), id, eventsSubscription, nil)
		}
		ctx := apitest.Wait(t)
		_, err := c.Read(ctx)
		for err == nil {
			_, err = c.Read(ctx)
		}
		if code := gqlws.CloseCode(err); code != 4409 || !strings.Contains(err.Error(), "Subscriber for éé") {
			t.Fatalf("closed with %v, want 4409", err)
		}
	})
	t.Run("an id may be reused once its operation ended", func(t *testing.T) {
		c := apitest.Dial(t, url, gqlws.Options{})
		for range 3 {
			if err := c.Subscribe(apitest.Wait(t), "q", `{ __typename }`, nil); err != nil {
				t.Fatal(err)
			}
			if code := result(t, c, "q"); code != "" {
				t.Fatalf("query: %s", code)
			}
		}
		if err := c.Subscribe(apitest.Wait(t), "s", eventsSubscription, nil); err != nil {
			t.Fatal(err)
		}
		apitest.Eventually(t, func() bool { return liveSubscribers(a) == 1 }, 20*time.Second, "the subscription started")
		_ = c.Send(apitest.Wait(t), gqlws.Message{ID: "s", Type: "complete"})
		if code := result(t, c, "s"); code != "" {
			t.Fatalf("complete: %s", code)
		}
		if err := c.Subscribe(apitest.Wait(t), "s", eventsSubscription, nil); err != nil {
			t.Fatal(err)
		}
		apitest.Eventually(t, func() bool { return liveSubscribers(a) == 1 }, 20*time.Second, "the subscription started again")
		c.CloseNow() // no close handshake: the connection just drops
		apitest.Eventually(t, func() bool { return liveSubscribers(a) == 0 }, 20*time.Second, "the dropped socket's subscription ended")
	})
}

func TestSocketOperationCap(t *testing.T) {
	t.Parallel()
	a := server.New(t, testdb.Empty, map[string]string{"RATE_LIMIT_PER_IP": "0", "WS_MAX_SUBSCRIPTIONS_PER_SOCKET": "2"})
	c := apitest.Dial(t, a.SocketURL(), gqlws.Options{})
	for _, id := range []string{"a", "b"} {
		if err := c.Subscribe(apitest.Wait(t), id, eventsSubscription, nil); err != nil {
			t.Fatal(err)
		}
	}
	apitest.Eventually(t, func() bool { return liveSubscribers(a) == 2 }, 20*time.Second, "two subscriptions started")

	for _, id := range []string{"c", "d"} {
		if err := c.Subscribe(apitest.Wait(t), id, eventsSubscription, nil); err != nil {
			t.Fatal(err)
		}
		if code := result(t, c, id); code != string(models.CodeRateLimited) {
			t.Fatalf("subscription %s past the cap: %q, want RATE_LIMITED", id, code)
		}
	}
	if got := testutil.ToFloat64(a.Metrics.RateLimitedCounter("subscriptions")); got != 2 {
		t.Fatalf(`carlot_rate_limited_total{limit="subscriptions"} = %v, want 2`, got)
	}

	// Completing one makes room for another; the socket stayed open throughout.
	_ = c.Send(apitest.Wait(t), gqlws.Message{ID: "a", Type: "complete"})
	if code := result(t, c, "a"); code != "" {
		t.Fatalf("complete: %s", code)
	}
	if err := c.Subscribe(apitest.Wait(t), "c", eventsSubscription, nil); err != nil {
		t.Fatal(err)
	}
	apitest.Eventually(t, func() bool { return liveSubscribers(a) == 2 }, 20*time.Second, "the third subscription started")
	if got := testutil.ToFloat64(a.Metrics.RateLimitedCounter("subscriptions")); got != 2 {
		t.Fatalf("the subscription in the freed place was refused (%v refusals)", got)
	}
}

func TestSocketOperationsAreRateLimited(t *testing.T) {
	t.Parallel()
	// run sends operations over c until one is refused, and returns how many ran.
	run := func(t *testing.T, c *gqlws.Conn, query string, vars map[string]any) int {
		t.Helper()
		for i := range 10 {
			id := fmt.Sprint(i)
			if err := c.Subscribe(apitest.Wait(t), id, query, vars); err != nil {
				t.Fatal(err)
			}
			switch code := result(t, c, id); code {
			case string(models.CodeRateLimited):
				return i
			case "":
			default:
				t.Fatalf("operation %d: %s", i, code)
			}
		}
		t.Fatal("10 operations ran and none was limited")
		return 0
	}
	// stillOpen checks that a refused operation left the socket open.
	stillOpen := func(t *testing.T, c *gqlws.Conn) {
		t.Helper()
		if err := c.Send(apitest.Wait(t), gqlws.Message{Type: "ping"}); err != nil {
			t.Fatal(err)
		}
		if m, err := c.Read(apitest.Wait(t)); err != nil || m.Type != "pong" {
			t.Fatalf("after a refusal: %v %s", err, m.Type)
		}
	}

	t.Run("per address, the upgrade request counting as one", func(t *testing.T) {
		a := server.New(t, testdb.Empty, map[string]string{"RATE_LIMIT_PER_IP": "4"})
		c := apitest.Dial(t, a.SocketURL(), gqlws.Options{})
		if n := run(t, c, `{ __typename }`, nil); n != 3 {
			t.Fatalf("%d queries ran, want 3", n)
		}
		stillOpen(t, c)
		if got := testutil.ToFloat64(a.Metrics.RateLimitedCounter("ip")); got != 1 {
			t.Fatalf(`carlot_rate_limited_total{limit="ip"} = %v, want 1`, got)
		}
	})
	t.Run("login over a socket is throttled", func(t *testing.T) {
		a := server.New(t, testdb.Empty, map[string]string{"RATE_LIMIT_PER_IP": "3"})
		c := apitest.Dial(t, a.SocketURL(), gqlws.Options{})
		login := `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`
		if n := run(t, c, login, map[string]any{"e": "nobody@example.com", "p": "guess"}); n != 2 {
			t.Fatalf("%d login attempts ran, want 2", n)
		}
		stillOpen(t, c)
	})
	t.Run("per user, sharing the budget of the user's HTTP requests", func(t *testing.T) {
		a := server.New(t, testdb.Empty, map[string]string{"RATE_LIMIT_PER_USER": "3", "RATE_LIMIT_PER_IP": "1000"})
		alice := apitest.Bearer(t, 7, models.RoleViewer)
		if r := a.PostAs(alice, `{ __typename }`, nil); r.Status != http.StatusOK {
			t.Fatalf("over HTTP: %d %s", r.Status, r.Raw)
		}
		c := apitest.Dial(t, a.SocketURL(), gqlws.Options{Init: map[string]any{"Authorization": alice}})
		if n := run(t, c, `{ __typename }`, nil); n != 2 {
			t.Fatalf("%d queries ran, want 2", n)
		}
		stillOpen(t, c)
		if got := testutil.ToFloat64(a.Metrics.RateLimitedCounter("user")); got != 1 {
			t.Fatalf(`carlot_rate_limited_total{limit="user"} = %v, want 1`, got)
		}
		anonymous := apitest.Dial(t, a.SocketURL(), gqlws.Options{})
		if err := anonymous.Subscribe(apitest.Wait(t), "q", `{ __typename }`, nil); err != nil {
			t.Fatal(err)
		}
		if code := result(t, anonymous, "q"); code != "" {
			t.Fatalf("an anonymous socket hit the user's limit: %s", code)
		}
	})
}

// Websocket origins are compared as CORS compares them: scheme, host and port.
func TestSocketOrigins(t *testing.T) {
	t.Parallel()
	a := server.New(t, testdb.Empty, map[string]string{"CORS_ALLOWED_ORIGINS": "https://shop.example,http://localhost:3000"})
	url := a.SocketURL()
	self := "http://" + strings.TrimPrefix(url, "ws://")
	self = self[:strings.Index(self[len("http://"):], "/")+len("http://")]
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{self, true}, // a page the server itself served (GraphiQL)
		{"https://" + strings.TrimPrefix(self, "http://"), false},
		{"https://shop.example", true},
		{"http://localhost:3000", true},
		{"", true}, // not a browser
		{"http://shop.example", false},
		{"https://shop.example:8443", false},
		{"wss://shop.example", false},
		{"https://evil.example", false},
		{"http://localhost:3001", false},
		{"null", false},
	} {
		t.Run(tc.origin, func(t *testing.T) {
			header := http.Header{}
			if tc.origin != "" {
				header.Set("Origin", tc.origin)
			}
			c, err := gqlws.Dial(apitest.Wait(t), url, gqlws.Options{Header: header})
			switch {
			case tc.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tc.ok && err == nil:
				c.CloseNow()
				t.Fatal("accepted")
			case !tc.ok && !strings.Contains(err.Error(), "403"):
				t.Fatalf("refused with %v, want 403", err)
			case tc.ok:
				c.Close()
			}
		})
	}
}

// Keep-alives: on graphql-transport-ws the server pings every
// WS_PING_INTERVAL, keeps a client that answers, and drops one that never
// does once two intervals pass; on graphql-ws it sends "ka".
func TestKeepAlives(t *testing.T) {
	t.Parallel()
	a := server.New(t, testdb.Empty, map[string]string{"RATE_LIMIT_PER_IP": "0", "WS_PING_INTERVAL": "100ms"})
	base := a.Serve()

	t.Run("a client that answers pings stays", func(t *testing.T) {
		s := apitest.DialRaw(t, base)
		defer s.Close()
		for pings := 0; pings < 5; {
			switch msg := s.Read(); msg["type"] {
			case "ping":
				pings++
				s.Send(map[string]any{"type": "pong"})
			default:
				t.Fatalf("unexpected message %v", msg)
			}
		}
		s.Send(map[string]any{"type": "ping"})
		for {
			if msg := s.Read(); msg["type"] == "pong" {
				break
			}
		}
	})
	t.Run("a client that never answers is dropped", func(t *testing.T) {
		s := apitest.DialRaw(t, base)
		defer s.Close()
		pings := 0
		for {
			var msg map[string]any
			if err := wsjson.Read(apitest.Wait(t), s.Conn, &msg); err != nil {
				break // dropped
			}
			if msg["type"] != "ping" {
				t.Fatalf("unexpected message %v", msg)
			}
			pings++
		}
		if pings == 0 {
			t.Error("dropped before the first ping")
		}
	})
	t.Run("graphql-ws gets ka", func(t *testing.T) {
		c := apitest.Dial(t, a.SocketURL(), gqlws.Options{Subprotocol: gqlws.LegacyWS})
		for ka := 0; ka < 3; {
			m, err := c.Read(apitest.Wait(t))
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != "ka" {
				t.Fatalf("unexpected message %+v", m)
			}
			ka++
		}
	})
}
