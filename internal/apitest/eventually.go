package apitest

import (
	"fmt"
	"testing"
	"time"
)

// PollInterval is how often Eventually checks its condition.
const PollInterval = 10 * time.Millisecond

// Eventually polls cond until it holds, and fails the test (saying what,
// formatted with args) if it does not within timeout. It must be called from
// the test's own goroutine. The timeout is a bound for a stuck test, not a
// measurement: pick one generous enough for a loaded machine.
func Eventually(t testing.TB, cond func() bool, timeout time.Duration, what string, args ...any) {
	t.Helper()
	if !Poll(cond, timeout) {
		t.Fatalf("not within %v: %s", timeout, fmt.Sprintf(what, args...))
	}
}

// Poll polls cond until it holds or timeout passes, and reports whether it
// held. For tests that must clean up before failing, or fail from another
// goroutine than the test's.
func Poll(cond func() bool, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
	return true
}
