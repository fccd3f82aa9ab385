package wsapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/carlot/carlot/internal/httpapi"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// remoteKey keys a test request by its remote address's host (the HTTP
// layer keys it by the client address it worked out).
func remoteKey(r *http.Request) string {
	host, _, _ := strings.Cut(r.RemoteAddr, ":")
	return host
}

// upgradeRequest is a websocket upgrade request from addr.
func upgradeRequest(addr string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Protocol", "graphql-transport-ws")
	req.RemoteAddr = addr + ":1234"
	return req
}

func TestWebsocketCapPerIP(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	c := newWebsocketCap(2, m)
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	h := c.middleware(remoteKey, httpapi.TooManyRequests, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release // a websocket transport returns when the socket closes
	}))

	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), upgradeRequest("192.0.2.1")) })
		<-entered
	}
	if n := c.Open("192.0.2.1"); n != 2 {
		t.Fatalf("open = %d", n)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, upgradeRequest("192.0.2.1"))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "RATE_LIMITED") {
		t.Fatalf("third socket from one address: %d %s", rec.Code, rec.Body)
	}
	wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), upgradeRequest("192.0.2.2")) })
	<-entered // another address is not affected

	plain := httptest.NewRequest(http.MethodGet, "/graphql?query=%7B__typename%7D", nil)
	plain.RemoteAddr = "192.0.2.1:1234"
	wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), plain) })
	<-entered // ordinary requests are not counted

	close(release)
	wg.Wait()
	if n := c.Open("192.0.2.1"); n != 0 {
		t.Fatalf("after closing, open = %d", n)
	}
	rec = httptest.NewRecorder()
	go func() { <-entered }()
	h.ServeHTTP(rec, upgradeRequest("192.0.2.1"))
	if rec.Code == http.StatusTooManyRequests {
		t.Fatal("refused after the sockets closed")
	}
	if got := testutil.ToFloat64(m.RateLimitedCounter("websocket")); got != 1 {
		t.Fatalf("refusals counted: %v", got)
	}
}
