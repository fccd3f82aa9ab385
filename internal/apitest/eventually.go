package apitest

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// PollInterval is how often Eventually and Poll check their condition.
const PollInterval = 10 * time.Millisecond

// Eventually polls cond until it holds, and fails the test (saying what,
// formatted with args) if it does not within timeout. It must be called from
// the test's own goroutine. The timeout is a bound for a stuck test, not a
// measurement: pick one generous enough for a loaded machine.
func Eventually(t testing.TB, cond func() bool, timeout time.Duration, what string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if !Poll(ctx, cond) && !cond() {
		t.Fatalf("not within %v: %s", timeout, fmt.Sprintf(what, args...))
	}
}

// Poll checks cond every PollInterval until it holds (true) or ctx ends
// (false). For tests whose bound is a context they already have, or that
// must do more than fail when the condition never comes.
func Poll(ctx context.Context, cond func() bool) bool {
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}
