package wsapi

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
)

// A websocket lives for minutes or hours. Served on the goroutine that
// accepted it, it would hold all that time the stack of every middleware
// above it, the HTTP connection's state and the connection's 4 KiB read and
// write buffers. serveDetached moves a socket to a goroutine of its own as
// soon as it is upgraded, with buffers sized for websocket frames; the
// request's goroutine returns, and everything only the request needed goes
// with it. Middleware whose work ends with the socket rather than the
// request (the per-address count, the list shutdown closes) hands that work
// to atSocketEnd.

// The read and write buffers of a detached websocket. Client messages
// (subscribe, ping, pong) are small and read through the buffer in pieces
// if not; an event usually fits the write buffer, and a larger message is
// written past it.
const (
	socketReadBuffer  = 256
	socketWriteBuffer = 1024
)

// socketLife is when an upgrade request's socket ends: when its handler
// returns, unless serveDetached moved the socket on.
type socketLife struct {
	mu       sync.Mutex
	detached bool // the request returned; the socket lives on
	ended    bool
	atEnd    []func()
}

type socketLifeKey struct{}

// withSocketLife gives an upgrade request a socketLife, unless it has one.
func withSocketLife(r *http.Request) (*http.Request, *socketLife) {
	if l, ok := r.Context().Value(socketLifeKey{}).(*socketLife); ok {
		return r, l
	}
	l := &socketLife{}
	return r.WithContext(context.WithValue(r.Context(), socketLifeKey{}, l)), l
}

// atSocketEnd runs f when the socket of ctx's request ends: now if it has
// ended or was never detached, else when it closes.
func atSocketEnd(ctx context.Context, f func()) {
	if l, ok := ctx.Value(socketLifeKey{}).(*socketLife); ok {
		l.mu.Lock()
		if l.detached && !l.ended {
			l.atEnd = append(l.atEnd, f)
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
	}
	f()
}

func (l *socketLife) detach() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.detached = !l.ended
}

func (l *socketLife) end() {
	l.mu.Lock()
	l.ended = true
	atEnd := l.atEnd
	l.atEnd = nil
	l.mu.Unlock()
	for _, f := range atEnd { // registered as the middleware unwound: innermost first, as deferred calls run
		f()
	}
}

// serveDetached runs next for websocket upgrades on a goroutine of its own,
// and returns once the connection is hijacked (or next answered without
// upgrading). Other requests pass through.
func serveDetached(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebsocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		r, life := withSocketLife(r)
		// The request's context ends when this handler returns; the socket's
		// keeps its values and ends when the socket's handler returns, which
		// it does once the socket is closed, however it closed. Everything
		// the socket started (its operations and their goroutines) derives
		// from it, and ends with it.
		ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
		if s := socketFrom(ctx); s != nil {
			s.mu.Lock()
			s.end = cancel
			s.mu.Unlock()
		}
		socket := r.WithContext(ctx)
		// What follows the upgrade is the socket's, never a body; and
		// the body reader may hold the response (http.MaxBytesReader does).
		socket.Body = http.NoBody
		// The socket keeps its request for as long as it is open; of the
		// headers only the upgrade's are read after this point.
		socket.Header = upgradeHeaders(r.Header)
		dw := &detachingWriter{ResponseWriter: w, hijacked: make(chan struct{})}
		done := make(chan struct{})
		var panicked any                // a panic before the upgrade, raised again on the request's goroutine
		go func(socket *http.Request) { // an argument, not captured: the request is let go once upgraded
			defer close(done)
			defer life.end()
			defer cancel()
			defer func() {
				p := recover()
				if p == nil {
					return
				}
				select {
				case <-dw.hijacked:
					log.ErrorContext(ctx, "panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				default:
					panicked = p // not upgraded: the request's middleware answers it
				}
			}()
			next.ServeHTTP(dw, socket)
		}(socket)
		select {
		case <-dw.hijacked:
			life.detach()
		case <-done:
			if panicked != nil {
				panic(panicked)
			}
		}
	})
}

// upgradeHeaders returns the headers of h that the websocket handshake
// reads: Connection, Upgrade, Origin and Sec-WebSocket-*.
func upgradeHeaders(h http.Header) http.Header {
	upgrade := func(k string) bool {
		return k == "Connection" || k == "Upgrade" || k == "Origin" || strings.HasPrefix(k, "Sec-Websocket-")
	}
	n := 0
	for k := range h {
		if upgrade(k) {
			n++
		}
	}
	kept := make(http.Header, n)
	for k, v := range h {
		if upgrade(k) {
			kept[k] = v
		}
	}
	return kept
}

// detachingWriter hands the hijacked connection over with small buffers and
// tells serveDetached it may return.
type detachingWriter struct {
	http.ResponseWriter
	hijacked chan struct{}
	header   http.Header // the response's, still read after the hijack
	// conn and reader are the hijacked connection and the buffered reader
	// handed over with it.
	conn   net.Conn
	reader *bufio.Reader
}

func (d *detachingWriter) Header() http.Header {
	if d.ResponseWriter == nil {
		return d.header
	}
	return d.ResponseWriter.Header()
}

func (d *detachingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(d.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	// Bytes the client sent right behind its upgrade request are already
	// in the HTTP server's buffer: carry them over into the new one.
	early, _ := brw.Reader.Peek(brw.Reader.Buffered())
	r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), max(socketReadBuffer, len(early)))
	if _, err := r.Peek(len(early)); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	// Let go of the response, and through it of the HTTP connection's
	// state and buffers: the socket may hold on to this writer. Of the
	// response's headers only the chosen subprotocol is read afterwards.
	d.header = http.Header{"Sec-Websocket-Protocol": d.ResponseWriter.Header().Values("Sec-Websocket-Protocol")}
	d.ResponseWriter = nil
	d.conn, d.reader = conn, r
	close(d.hijacked)
	return conn, bufio.NewReadWriter(r, bufio.NewWriterSize(conn, socketWriteBuffer)), nil
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (d *detachingWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
