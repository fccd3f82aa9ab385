package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func gqlRequest(remoteAddr string, headers ...string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = remoteAddr
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

func TestRateLimitPerIP(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Empty, map[string]string{"RATE_LIMIT_PER_IP": "3", "TRUSTED_PROXIES": "10.0.0.0/8"})
	for i := range 3 {
		if r := a.Send(gqlRequest("192.0.2.1:1000")); r.Status != http.StatusOK {
			t.Fatalf("request %d of 3: %d %s", i+1, r.Status, r.Raw)
		}
	}
	r := a.Send(gqlRequest("192.0.2.1:2000")) // another port, the same client
	if r.Status != http.StatusTooManyRequests || r.Code() != "RATE_LIMITED" || r.HasData {
		t.Fatalf("request 4 of 3: %d %s", r.Status, r.Raw)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
	if r.Header.Get(RequestIDHeader) == "" {
		t.Fatal("429 without X-Request-ID")
	}
	if r := a.Send(gqlRequest("192.0.2.2:1000")); r.Status != http.StatusOK {
		t.Fatalf("another address is limited too: %d", r.Status)
	}
	// A client cannot escape by claiming another address...
	if r := a.Send(gqlRequest("192.0.2.1:1000", "X-Forwarded-For", "203.0.113.9")); r.Status != http.StatusTooManyRequests {
		t.Fatalf("X-Forwarded-For from an untrusted peer was believed: %d", r.Status)
	}
	// ...but a trusted proxy's X-Forwarded-For names the client.
	for i := range 3 {
		if r := a.Send(gqlRequest("10.1.2.3:1000", "X-Forwarded-For", "192.0.2.1, 198.51.100.7")); r.Status != http.StatusOK {
			t.Fatalf("proxied request %d: %d", i+1, r.Status)
		}
	}
	if r := a.Send(gqlRequest("10.1.2.3:1000", "X-Forwarded-For", "198.51.100.7")); r.Status != http.StatusTooManyRequests {
		t.Fatalf("the proxied client was not limited: %d", r.Status)
	}
	if r := a.Send(httptest.NewRequest(http.MethodGet, "/healthz", nil)); r.Status != http.StatusOK {
		t.Fatalf("probes are rate limited: %d", r.Status)
	}
	if got := testutil.ToFloat64(a.Metrics.RateLimitedCounter("ip")); got != 3 {
		t.Fatalf("carlot_rate_limited_total{limit=\"ip\"} = %v, want 3", got)
	}
}

func TestRateLimitPerUser(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Empty, map[string]string{"RATE_LIMIT_PER_USER": "2", "RATE_LIMIT_PER_IP": "1000"})
	alice, bob := apitest.Bearer(t, 7, models.RoleViewer), apitest.Bearer(t, 8, models.RoleViewer)
	for i, addr := range []string{"192.0.2.1:1", "192.0.2.2:1"} { // the user's allowance follows them across addresses
		if r := a.Send(gqlRequest(addr, "Authorization", alice)); r.Status != http.StatusOK {
			t.Fatalf("alice's request %d: %d %s", i+1, r.Status, r.Raw)
		}
	}
	r := a.Send(gqlRequest("192.0.2.3:1", "Authorization", alice))
	if r.Status != http.StatusTooManyRequests || r.Code() != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("alice's third request: %d %s", r.Status, r.Raw)
	}
	if r := a.Send(gqlRequest("192.0.2.3:1", "Authorization", bob)); r.Status != http.StatusOK {
		t.Fatalf("bob is limited by alice: %d", r.Status)
	}
	for range 3 {
		if r := a.Send(gqlRequest("192.0.2.3:1")); r.Status != http.StatusOK {
			t.Fatalf("anonymous requests hit the user limit: %d", r.Status)
		}
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy", "192.0.2.1:5", nil, "192.0.2.1"},
		{"untrusted peer's header is ignored", "192.0.2.1:5", []string{"203.0.113.1"}, "192.0.2.1"},
		{"trusted peer", "10.0.0.1:5", []string{"203.0.113.1"}, "203.0.113.1"},
		{"spoofed left-most value is ignored", "10.0.0.1:5", []string{"1.1.1.1, 203.0.113.1"}, "203.0.113.1"},
		{"chain of trusted proxies", "10.0.0.1:5", []string{"203.0.113.1, 10.0.0.7, 10.0.0.8"}, "203.0.113.1"},
		{"several headers", "10.0.0.1:5", []string{"1.1.1.1", "203.0.113.1, 10.0.0.8"}, "203.0.113.1"},
		{"only proxies", "10.0.0.1:5", []string{"10.0.0.9"}, "10.0.0.9"},
		{"garbage stops at the last good hop", "10.0.0.1:5", []string{"203.0.113.1, nonsense, 10.0.0.8"}, "10.0.0.8"},
		{"no header", "10.0.0.1:5", nil, "10.0.0.1"},
		{"IPv6", "[fd00::1]:5", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"IPv4-mapped", "[::ffff:192.0.2.1]:5", nil, "192.0.2.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(req, trusted).String(); got != tc.want {
				t.Fatalf("clientIP = %s, want %s", got, tc.want)
			}
		})
	}
	if got := limitKey("2001:db8:1:2:3:4:5:6"); got != "2001:db8:1:2::/64" {
		t.Fatalf("IPv6 key = %s", got)
	}
	if got := limitKey("192.0.2.1"); got != "192.0.2.1" {
		t.Fatalf("IPv4 key = %s", got)
	}
}

// upgradeRequest is a websocket upgrade request from addr that has been
// through clientAddress.
func upgradeRequest(addr string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Protocol", "graphql-transport-ws")
	info := &requestInfo{clientIP: addr}
	return req.WithContext(context.WithValue(req.Context(), requestInfoKey{}, info))
}

func TestWebsocketCapThroughTheHandler(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Empty, map[string]string{"MAX_WS_CONNS_PER_IP": "0"})
	_ = a // 0 disables the cap: nothing to refuse
	b := newTestAPI(t, testdb.Empty, map[string]string{"MAX_WS_CONNS_PER_IP": "1"})
	srv := httptest.NewServer(b.Handler)
	t.Cleanup(srv.Close)
	// One real socket held open, then a second upgrade from the same address is refused.
	conn := apitest.DialRaw(t, srv.URL)
	defer conn.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/graphql", nil)
	for k, v := range upgradeRequest("").Header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get(RequestIDHeader) == "" {
		t.Fatalf("second socket: %d", resp.StatusCode)
	}
	if got := testutil.ToFloat64(b.Metrics.WebsocketGauge()); got != 1 {
		t.Fatalf("carlot_websocket_connections = %v, want 1", got)
	}
}
