package media

import (
	"context"
	"errors"
	"io"
	"runtime"

	"golang.org/x/sync/semaphore"
)

// ErrBusy is returned by Gate.Process when its context ends while the
// upload waits for a slot.
var ErrBusy = errors.New("media: too many images are being processed at once")

// Gate bounds how many uploads are processed at once. Decoding holds an
// image's pixels (up to Limits.MaxPixels of them, hundreds of MB) and a
// core until it ends, so uploads beyond the gate's slots wait their turn,
// first come, first served, for as long as their context allows.
type Gate struct {
	slots *semaphore.Weighted
}

// NewGate returns a Gate letting n uploads be processed at once; n < 1
// means one per usable CPU (GOMAXPROCS).
func NewGate(n int) *Gate {
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	return &Gate{slots: semaphore.NewWeighted(int64(n))}
}

// Process is Process once a slot is free. If ctx ends first it returns
// ErrBusy without reading r.
func (g *Gate) Process(ctx context.Context, r io.Reader, lim Limits) (*Processed, error) {
	if err := g.slots.Acquire(ctx, 1); err != nil {
		return nil, ErrBusy
	}
	defer g.slots.Release(1)
	return Process(r, lim)
}
