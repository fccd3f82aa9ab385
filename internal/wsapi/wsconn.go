package wsapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
)

// coderAdapter is gqlgen's coder/websocket adapter
// (transport.CoderWebsocketImplementation), the same in every respect but
// one: it writes gqlgen's protocol messages without encoding their payload
// again. gqlgen hands the adapter a message whose payload it has already
// encoded with encoding/json (the event's response); json.Marshal would
// scan that payload once more, validating and compacting it, for every
// subscriber an event goes to. writeMessage writes the same bytes.
type coderAdapter struct {
	options coderws.AcceptOptions
}

var _ transport.WebsocketImplementation = coderAdapter{}

func (a coderAdapter) Accept(w http.ResponseWriter, r *http.Request, options transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	for key, values := range options.ResponseHeader {
		for _, value := range values {
			w.Header().Add(key, value)
		}
	}
	accept := a.options
	accept.Subprotocols = slices.Clone(accept.Subprotocols)
	for _, p := range options.Subprotocols {
		if !slices.Contains(accept.Subprotocols, p) {
			accept.Subprotocols = append(accept.Subprotocols, p)
		}
	}
	conn, err := coderws.Accept(w, r, &accept)
	if err != nil {
		return nil, err
	}
	c := &coderConn{conn: conn}
	if dw, ok := w.(*detachingWriter); ok && dw.conn != nil {
		c.buffered, c.awaitKernel = dw.reader, readableWaiter(dw.conn)
	}
	return c, nil
}

// coderConn is one connection; its methods behave as gqlgen's adapter's.
type coderConn struct {
	conn *coderws.Conn
	// buffered is the buffered reader coder/websocket reads the
	// connection through, and awaitKernel waits until the kernel has
	// bytes for it (see awaitReadable); both nil when unknown.
	buffered    *bufio.Reader
	awaitKernel func()

	mu            sync.Mutex
	readDeadline  *time.Timer
	closeStarted  bool
	closeFinished chan struct{}
}

var (
	_ transport.WebsocketConn          = (*coderConn)(nil)
	_ transport.WebsocketReadLimiter   = (*coderConn)(nil)
	_ transport.WebsocketReadDeadliner = (*coderConn)(nil)
)

// awaitReadable returns once the client has sent something (or the
// connection failed), reading nothing: at once when bytes are buffered
// already, else when the kernel has some. An idle socket's read loop waits
// here, with little of its stack in use, rather than deep in the library's
// read, so its stack shrinks to half. Once a close handshake has started,
// the handshake reads the connection on a goroutine of its own, and this
// returns at once: the buffered reader is the handshake's then.
func (c *coderConn) awaitReadable() {
	c.mu.Lock()
	skip := c.awaitKernel == nil || c.closeStarted || c.buffered.Buffered() > 0
	c.mu.Unlock()
	if !skip {
		c.awaitKernel() // reads no buffer, only asks the kernel
	}
}

func (c *coderConn) NextReader() (int, io.Reader, error) {
	kind, data, err := c.conn.Read(context.Background())
	if err != nil {
		switch coderws.CloseStatus(err) {
		case coderws.StatusNormalClosure, coderws.StatusNoStatusRcvd:
			return int(kind), nil, transport.ErrWebsocketClosed
		}
		return int(kind), nil, err
	}
	return int(kind), bytes.NewReader(data), nil
}

func (c *coderConn) WriteJSON(v any) error {
	data, err := encodeMessage(v)
	if err != nil {
		return err
	}
	return c.conn.Write(context.Background(), coderws.MessageText, data)
}

// WriteClose starts the close handshake in the background: coder/websocket
// waits up to 5 s for the peer's close frame, and gqlgen's teardown must
// not wait on a slow or absent peer.
func (c *coderConn) WriteClose(code int, reason string) error {
	c.stopReadDeadline()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeStarted {
		return nil
	}
	c.closeStarted = true
	c.closeFinished = make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		_ = c.conn.Close(coderws.StatusCode(code), reason)
	}(c.closeFinished)
	return nil
}

// Close drops the connection, unless a close handshake is under way: that
// closes it when it ends.
func (c *coderConn) Close() error {
	c.stopReadDeadline()
	c.mu.Lock()
	started := c.closeStarted
	c.mu.Unlock()
	if started {
		return nil
	}
	return c.conn.CloseNow()
}

func (c *coderConn) Subprotocol() string { return c.conn.Subprotocol() }

func (c *coderConn) SetReadLimit(limit int64) { c.conn.SetReadLimit(limit) }

// SetReadDeadline drops the connection at t unless set again first; the
// zero time clears it.
func (c *coderConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	if c.readDeadline != nil {
		c.readDeadline.Stop()
		c.readDeadline = nil
	}
	closeNow := false
	if !t.IsZero() {
		if d := time.Until(t); d > 0 {
			c.readDeadline = time.AfterFunc(d, func() { _ = c.conn.CloseNow() })
		} else {
			closeNow = true
		}
	}
	c.mu.Unlock()
	if closeNow {
		return c.conn.CloseNow()
	}
	return nil
}

func (c *coderConn) stopReadDeadline() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readDeadline != nil {
		c.readDeadline.Stop()
		c.readDeadline = nil
	}
}

// A protocol message's shape, read once per type by reflection: gqlgen's
// messages (one struct per protocol, unexported) have string fields and a
// json.RawMessage payload, each with a JSON name and maybe omitempty.
type messageShape struct {
	fields []messageField // in declaration order, as encoding/json writes them
	id     int            // the index of the ID field, -1 when none
	kind   int            // the index of the Type field, -1 when none
}

type messageField struct {
	index     int
	name      string // the JSON name, already quoted: "payload":
	omitEmpty bool
	raw       bool // json.RawMessage rather than a string
}

var (
	messageShapes sync.Map // reflect.Type → *messageShape, or nil for a type writeMessage cannot encode
	rawMessage    = reflect.TypeFor[json.RawMessage]()
)

// shapeOf returns how to write a value of type t, or nil.
func shapeOf(t reflect.Type) *messageShape {
	if s, ok := messageShapes.Load(t); ok {
		return s.(*messageShape)
	}
	s := &messageShape{id: -1, kind: -1}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, ok := f.Tag.Lookup("json")
		name, opts, _ := strings.Cut(tag, ",")
		if !ok || name == "" || name == "-" || (opts != "" && opts != "omitempty") || !safeJSONString(name) {
			s = nil // a shape encoding/json handles in ways not copied here
			break
		}
		mf := messageField{index: i, name: `"` + name + `":`, omitEmpty: opts == "omitempty"}
		switch {
		case f.Type == rawMessage:
			mf.raw = true
		case f.Type.Kind() == reflect.String:
		default:
			s = nil
		}
		if s == nil {
			break
		}
		switch f.Name {
		case "ID":
			s.id = len(s.fields)
		case "Type":
			s.kind = len(s.fields)
		}
		s.fields = append(s.fields, mf)
	}
	actual, _ := messageShapes.LoadOrStore(t, s)
	return actual.(*messageShape)
}

// encodeMessage is json.Marshal(v), byte for byte, for gqlgen's protocol
// messages, whose payloads come already encoded by json.Marshal (so
// compact, and escaped for HTML) and are written as they are. Anything
// else goes to json.Marshal.
func encodeMessage(v any) ([]byte, error) {
	m := reflect.ValueOf(v)
	if m.Kind() != reflect.Pointer || m.IsNil() || m.Elem().Kind() != reflect.Struct {
		return json.Marshal(v)
	}
	m = m.Elem()
	shape := shapeOf(m.Type())
	if shape == nil {
		return json.Marshal(v)
	}
	size := 2
	for _, f := range shape.fields {
		size += len(f.name) + 1 + m.Field(f.index).Len() + 2
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	first := true
	for _, f := range shape.fields {
		fv := m.Field(f.index)
		if f.omitEmpty && fv.Len() == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.name...)
		switch {
		case f.raw && fv.Len() == 0: // a nil RawMessage: null, as encoding/json writes it
			b = append(b, "null"...)
		case f.raw:
			b = append(b, fv.Bytes()...)
		case safeJSONString(fv.String()):
			b = append(b, '"')
			b = append(b, fv.String()...)
			b = append(b, '"')
		default:
			s, err := json.Marshal(fv.String())
			if err != nil {
				return nil, err
			}
			b = append(b, s...)
		}
	}
	return append(b, '}'), nil
}

// safeJSONString reports whether s is written between quotes as it is by
// encoding/json: printable ASCII with nothing it escapes.
func safeJSONString(s string) bool {
	for i := range len(s) {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// messageIDAndType returns the ID and Type of one of gqlgen's protocol
// messages.
func messageIDAndType(v any) (id, kind string, ok bool) {
	m := reflect.ValueOf(v)
	if m.Kind() != reflect.Pointer || m.IsNil() || m.Elem().Kind() != reflect.Struct {
		return "", "", false
	}
	m = m.Elem()
	shape := shapeOf(m.Type())
	if shape == nil || shape.id < 0 || shape.kind < 0 {
		return "", "", false
	}
	return m.Field(shape.fields[shape.id].index).String(), m.Field(shape.fields[shape.kind].index).String(), true
}
