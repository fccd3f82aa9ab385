package media_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"testing"

	"github.com/carlot/carlot/internal/media"
)

// heldReader hands out its bytes only once released, telling when it is
// first read.
type heldReader struct {
	r        io.Reader
	reading  chan struct{}
	released chan struct{}
	started  bool
}

func (h *heldReader) Read(p []byte) (int, error) {
	if !h.started {
		h.started = true
		close(h.reading)
		<-h.released
	}
	return h.r.Read(p)
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// A gate lets as many uploads be processed at once as it has slots; one
// whose context ends while it waits gives up with ErrBusy, its upload
// unread, and once a slot is free the next upload is processed.
func TestGateBoundsProcessing(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, photo(40, 30)); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	g := media.NewGate(1)

	held := &heldReader{r: bytes.NewReader(data), reading: make(chan struct{}), released: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := g.Process(context.Background(), held, media.Limits{})
		done <- err
	}()
	<-held.reading // the first upload holds the only slot

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	waiting := &countingReader{r: bytes.NewReader(data)}
	if _, err := g.Process(ctx, waiting, media.Limits{}); !errors.Is(err, media.ErrBusy) {
		t.Fatalf("an upload whose context ended while waiting: %v", err)
	}
	if waiting.n != 0 {
		t.Fatalf("%d bytes of the waiting upload were read", waiting.n)
	}

	close(held.released)
	if err := <-done; err != nil {
		t.Fatalf("the first upload: %v", err)
	}
	p, err := g.Process(context.Background(), bytes.NewReader(data), media.Limits{})
	if err != nil || p.Image.Width != 40 {
		t.Fatalf("after the slot was freed: %+v, %v", p, err)
	}
}
