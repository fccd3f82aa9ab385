package wsapi

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carlot/carlot/internal/metrics"
	"golang.org/x/net/http/httpguts"
)

// wsRetryAfter is what a client refused a websocket is told to wait.
const wsRetryAfter = 10 * time.Second

// isWebsocketUpgrade reports whether r asks to switch to a websocket.
func isWebsocketUpgrade(r *http.Request) bool {
	// A list of tokens, as the websocket library reads it.
	return httpguts.HeaderValuesContainsToken(r.Header.Values("Upgrade"), "websocket")
}

// websocketCap counts the websocket connections open from each client
// address (upgrade requests to /graphql) and refuses one past max with 429.
// For connections it lets through it clears the read and write deadlines
// the HTTP server set for an ordinary request (they would otherwise cut a
// long-lived socket off after REQUEST_TIMEOUT), and records in the metrics
// each connection that really was upgraded, for as long as it stays open.
type websocketCap struct {
	max     int // 0: no cap
	metrics *metrics.Registry

	mu   sync.Mutex
	open map[string]int
}

func newWebsocketCap(max int, m *metrics.Registry) *websocketCap {
	return &websocketCap{max: max, metrics: m, open: map[string]int{}}
}

// middleware applies the cap to upgrade requests, keyed by clientKey and
// refused with tooManyRequests; other requests pass.
func (c *websocketCap) middleware(clientKey func(*http.Request) string, tooManyRequests func(http.ResponseWriter, *http.Request, time.Duration, string), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebsocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		key := clientKey(r)
		if !c.acquire(key) {
			c.metrics.RateLimited("websocket")
			tooManyRequests(w, r, wsRetryAfter, fmt.Sprintf("too many websocket connections from this address (limit %d)", c.max))
			return
		}
		r, _ = withSocketLife(r)
		hw := &hijackWatcher{ResponseWriter: w, metrics: c.metrics, opened: new(atomic.Bool)}
		opened := hw.opened // not hw, which holds the response until the socket ends
		defer atSocketEnd(r.Context(), func() {
			c.release(key)
			if opened.Load() {
				c.metrics.WebsocketClosed()
			}
		})

		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		next.ServeHTTP(hw, r)
	})
}

// Open returns how many websocket connections the key holds.
func (c *websocketCap) Open(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open[key]
}

func (c *websocketCap) acquire(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.max > 0 && c.open[key] >= c.max {
		return false
	}
	c.open[key]++
	return true
}

func (c *websocketCap) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[key]--; c.open[key] <= 0 {
		delete(c.open, key)
	}
}

// hijackWatcher notes when the websocket library takes the connection over.
type hijackWatcher struct {
	http.ResponseWriter
	metrics *metrics.Registry
	opened  *atomic.Bool // set on the socket's goroutine, read where it ends
}

// Hijack hands the connection over and counts it as an open websocket.
func (h *hijackWatcher) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil && h.opened.CompareAndSwap(false, true) {
		h.metrics.WebsocketOpened()
	}
	return conn, rw, err
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (h *hijackWatcher) Unwrap() http.ResponseWriter { return h.ResponseWriter }
