package live_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/live"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var admin = &models.Actor{UserID: 1, Role: models.RoleAdmin}

func startBroker(t *testing.T, opts live.Options) (*live.Broker, func(n int)) {
	t.Helper()
	db := testdb.New(t, testdb.Seeded)
	b := live.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	var id int64
	if err := db.NewSelect().Model((*models.Vehicle)(nil)).Column("id").Limit(1).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	change := func(n int) {
		for i := range n {
			price := int64(1000 + i)
			if _, err := models.UpdateVehicle(ctx, db, admin, id, models.VehiclePatch{PriceCents: &price}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b, change
}

func all(*models.VehicleEvent, models.CatalogNames) bool { return true }

// A subscriber that stops reading is cut off, told to resume, and does not
// hold up the others.
func TestSlowSubscriberIsCutOffAndOthersKeepGoing(t *testing.T) {
	t.Parallel()
	b, change := startBroker(t, live.Options{Buffer: 4, PollInterval: 50 * time.Millisecond})
	closed := make(chan error, 1)
	slowCtx := live.WithAborter(context.Background(), func(err error) bool { closed <- err; return true })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	slow, err := b.Subscribe(slowCtx, nil, all) // never read
	if err != nil {
		t.Fatal(err)
	}
	fast, err := b.Subscribe(ctx, nil, all)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int64, 100)
	go func() {
		for e := range fast {
			got <- e.Sequence
		}
	}()

	// One change at a time, each read by the fast subscriber before the
	// next: it never falls behind, whatever the scheduling, while the slow
	// one falls further behind with every change.
	var last int64
	for i := range 10 {
		change(1)
		select {
		case s := <-got:
			if s <= last {
				t.Fatalf("event %d: sequence %d after %d", i, s, last)
			}
			last = s
		case <-ctx.Done():
			t.Fatalf("the fast subscriber got only %d of 10 events", i)
		}
	}
	select {
	case err := <-closed:
		if !errors.Is(err, live.ErrTooSlow) {
			t.Fatalf("slow subscriber aborted with %v, want %v", err, live.ErrTooSlow)
		}
	case <-ctx.Done():
		t.Fatal("the slow subscriber was never cut off")
	}
	for range slow { // drains what was handed over before the cut, then ends
	}
	if n := b.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers left, want the fast one", n)
	}
}

// Replay after a sequence then live, with nothing twice at the seam.
func TestReplayThenLiveWithoutDuplicates(t *testing.T) {
	t.Parallel()
	b, change := startBroker(t, live.Options{PollInterval: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	change(4)                                        // sequences 1..4 exist before the subscription (replayed, or live if the broker had not read them yet)
	events, err := b.Subscribe(ctx, new(int64), all) // after 0: everything
	if err != nil {
		t.Fatal(err)
	}
	change(3)
	var seqs []int64
	for len(seqs) < 7 {
		select {
		case e := <-events:
			seqs = append(seqs, e.Sequence)
		case <-ctx.Done():
			t.Fatalf("got %v, want 7 events", seqs)
		}
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("sequences %v, want 1..7 in order", seqs)
		}
	}
}

// A notification wakes the broker: with a poll interval longer than the
// test, an event still arrives.
func TestNotificationWakesTheBroker(t *testing.T) {
	t.Parallel()
	b, change := startBroker(t, live.Options{PollInterval: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events, err := b.Subscribe(ctx, nil, all)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the first may be read right after LISTEN, the second only on a notification
		change(1)
		select {
		case <-events:
		case <-ctx.Done():
			t.Fatalf("event %d never arrived", i+1)
		}
	}
}
