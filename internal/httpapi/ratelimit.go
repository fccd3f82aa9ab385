package httpapi

import (
	"bufio"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/ratelimit"
	"github.com/carlot/carlot/models"
)

// rateWindow is the period the RATE_LIMIT_* variables count requests in.
const rateWindow = time.Minute

// wsRetryAfter is what a client refused a websocket is told to wait.
const wsRetryAfter = 10 * time.Second

// limitByIP refuses a client address's requests beyond its allowance with
// 429, Retry-After and a RATE_LIMITED error. A nil limiter lets everything
// through (RATE_LIMIT_PER_IP=0).
func limitByIP(l *ratelimit.Limiter, m *metrics.Registry) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if l == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := "unknown"
			if info := infoFrom(r.Context()); info != nil && info.clientIP != "" {
				key = limitKey(info.clientIP)
			}
			if ok, retry := l.Allow(key); !ok {
				m.RateLimited("ip")
				tooManyRequests(w, r, retry, fmt.Sprintf("too many requests from this address (limit %d a minute)", l.Limit()))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// limitByUser refuses an authenticated user's requests beyond their
// allowance, wherever they come from. Anonymous requests pass (the address
// limit covers them). It must run after the authentication middleware, so it
// wraps the GraphQL handler itself.
func limitByUser(l *ratelimit.Limiter, m *metrics.Registry) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if l == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if actor := models.ActorFrom(r.Context()); actor != nil {
				if ok, retry := l.Allow(strconv.FormatInt(actor.UserID, 10)); !ok {
					m.RateLimited("user")
					tooManyRequests(w, r, retry, fmt.Sprintf("too many requests for this user (limit %d a minute)", l.Limit()))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func tooManyRequests(w http.ResponseWriter, r *http.Request, retry time.Duration, message string) {
	seconds := int(math.Ceil(retry.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(seconds, 1)))
	writeError(w, r, http.StatusTooManyRequests, models.CodeRateLimited, message)
}

// writeError answers a request refused by a middleware with a GraphQL error
// body, and records the outcome for the log and metrics.
func writeError(w http.ResponseWriter, r *http.Request, status int, code models.Code, message string) {
	writeRequestError(w, r, mediaJSON, &requestError{status: status, code: code, message: message})
}

// isWebsocketUpgrade reports whether r asks to switch to a websocket.
func isWebsocketUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") { // a list of tokens, as the websocket library reads it
		for token := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(token), "websocket") {
				return true
			}
		}
	}
	return false
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

// Middleware applies the cap to upgrade requests; other requests pass.
func (c *websocketCap) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebsocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		key := "unknown"
		if info := infoFrom(r.Context()); info != nil && info.clientIP != "" {
			key = limitKey(info.clientIP)
		}
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
