package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/ratelimit"
	"github.com/carlot/carlot/models"
)

// rateWindow is the period the RATE_LIMIT_* variables count requests in.
const rateWindow = time.Minute

// limitByIP refuses a client address's requests beyond its allowance with
// 429, Retry-After and a RATE_LIMITED error. A nil limiter lets everything
// through (RATE_LIMIT_PER_IP=0).
func limitByIP(l *ratelimit.Limiter, m *metrics.Registry) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if l == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ok, retry := l.Allow(ClientKey(r)); !ok {
				m.RateLimited("ip")
				TooManyRequests(w, r, retry, fmt.Sprintf("too many requests from this address (limit %d a minute)", l.Limit()))
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
					TooManyRequests(w, r, retry, fmt.Sprintf("too many requests for this user (limit %d a minute)", l.Limit()))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TooManyRequests answers a request refused by a rate limit: 429, with
// Retry-After and a RATE_LIMITED error (the websocket transport's per-address
// cap answers with it too).
func TooManyRequests(w http.ResponseWriter, r *http.Request, retry time.Duration, message string) {
	seconds := int(math.Ceil(retry.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(seconds, 1)))
	writeError(w, r, http.StatusTooManyRequests, models.CodeRateLimited, message)
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
