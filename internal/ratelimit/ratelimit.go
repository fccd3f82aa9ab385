// Package ratelimit counts requests per key (a client address, a user id)
// and says when a key has used up its allowance.
//
// It implements the generic cell rate algorithm (GCRA): a key may make Limit
// requests per Period, all at once if it likes, and then one more each
// Period/Limit. The whole state of a key is one timestamp, so a limiter for
// many thousands of clients stays small, and the answer does not depend on
// where a fixed window happens to start (a fixed or sliding window lets a
// client through twice the limit across a window boundary, and makes tests
// flaky near one).
package ratelimit

import (
	"sync"
	"time"
)

// Limiter allows each key Limit requests per Period. It is safe for
// concurrent use. The zero value is not usable; call New.
type Limiter struct {
	limit    int
	interval time.Duration // Period / Limit: the cost of one request
	period   time.Duration // how far ahead of now a key may book
	now      func() time.Time

	mu        sync.Mutex
	tat       map[string]time.Time // theoretical arrival time of each key's next request
	lastSweep time.Time
}

// New returns a Limiter allowing limit requests per period for each key.
// now is the clock (nil: time.Now), replaceable in tests.
func New(limit int, period time.Duration, now func() time.Time) *Limiter {
	if limit < 1 {
		limit = 1
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{
		limit:    limit,
		interval: period / time.Duration(limit),
		period:   period,
		now:      now,
		tat:      make(map[string]time.Time),
	}
}

// Limit returns the number of requests allowed per period.
func (l *Limiter) Limit() int { return l.limit }

// Allow records a request for key and reports whether it is within the
// limit. When it is not, retryAfter says how long until the key may make its
// next request; a refused request is not counted.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)

	tat, seen := l.tat[key]
	if !seen || tat.Before(now) {
		tat = now
	}
	next := tat.Add(l.interval)
	if over := next.Sub(now) - l.period; over > 0 {
		return false, over
	}
	l.tat[key] = next
	return true, 0
}

// sweep forgets keys whose allowance is whole again (their theoretical
// arrival time has passed), so idle clients cost no memory. It runs at most
// once a period and is linear in the number of keys, which keeps the
// amortised cost per request constant.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.period {
		return
	}
	l.lastSweep = now
	for k, tat := range l.tat {
		if !tat.After(now) {
			delete(l.tat, k)
		}
	}
}

// Len returns the number of keys currently remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tat)
}
