package ratelimit

import (
	"sync"
	"testing"
	"time"
)

// clock is a manual clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestBurstThenSteadyRate(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 59, 999e6, time.UTC)} // just before a minute boundary
	l := New(3, time.Minute, c.now)

	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d of 3 refused", i+1)
		}
	}
	ok, retry := l.Allow("a")
	if ok {
		t.Fatal("request 4 of 3 allowed")
	}
	if retry != 20*time.Second {
		t.Fatalf("retry after %v, want 20s (one request per 60s/3)", retry)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key is limited by the first one")
	}

	c.advance(19 * time.Second) // crossing the minute boundary changes nothing
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("allowed before the retry time")
	}
	c.advance(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("refused at the retry time")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("a second request slipped through after one slot freed")
	}

	c.advance(time.Minute)
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("after a quiet minute, request %d of 3 refused", i+1)
		}
	}
}

func TestIdleKeysAreForgotten(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(0, 0)}
	l := New(10, time.Minute, c.now)
	for _, k := range []string{"a", "b", "c"} {
		l.Allow(k)
	}
	if l.Len() != 3 {
		t.Fatalf("len = %d", l.Len())
	}
	c.advance(2 * time.Minute)
	l.Allow("d")
	if l.Len() != 1 {
		t.Fatalf("idle keys kept: len = %d, want 1", l.Len())
	}
}

func TestConcurrentUseCountsEveryRequest(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(0, 0)}
	l := New(100, time.Hour, c.now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if ok, _ := l.Allow("k"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 100 {
		t.Fatalf("allowed %d of 400 concurrent requests, want exactly 100", allowed)
	}
}
