package models

import (
	"context"
	"errors"
	"testing"
)

func TestPasswordHasherChecksPasswords(t *testing.T) {
	t.Parallel()
	hash, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	h := NewPasswordHasher(PasswordHashMemory)
	for _, tc := range []struct {
		password string
		want     bool
	}{{"correct horse", true}, {"wrong horse", false}} {
		t.Run(tc.password, func(t *testing.T) {
			got, err := h.Check(t.Context(), hash, tc.password)
			if err != nil || got != tc.want {
				t.Errorf("Check(%q) = %v, %v; want %v", tc.password, got, err, tc.want)
			}
		})
	}
	if ok, err := h.Check(t.Context(), "not-a-hash", "x"); ok || err != nil {
		t.Errorf("malformed hash: %v, %v", ok, err)
	}
}

func TestPasswordWaiterWhoseContextEndsGivesUp(t *testing.T) {
	t.Parallel()
	hash, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	h := NewPasswordHasher(PasswordHashMemory)
	// Another login's hash holds the whole budget.
	if err := h.slots.Acquire(t.Context(), h.budgetKiB); err != nil {
		t.Fatal(err)
	}
	defer h.slots.Release(h.budgetKiB)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := h.Check(ctx, hash, "correct horse")
		done <- err
	}()
	cancel()
	err = <-done
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeRateLimited {
		t.Fatalf("waiter whose context ended: %v, want a RATE_LIMITED error", err)
	}
	if h.Peak() != 0 {
		t.Errorf("the waiter hashed anyway")
	}
}
