// Package gqlws is a small GraphQL-over-WebSocket client speaking the
// graphql-transport-ws protocol (and enough of the legacy graphql-ws one to
// connect). Carlot's tests and load harness use it; it holds thousands of
// subscriptions in one process.
package gqlws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/coder/websocket"
)

// The subprotocols.
const (
	TransportWS = "graphql-transport-ws"
	LegacyWS    = "graphql-ws"
)

// Message is one protocol message.
type Message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Conn is an initialised connection.
type Conn struct {
	ws *websocket.Conn
	mu sync.Mutex // serialises writes
}

// Options configure Dial.
type Options struct {
	// Subprotocol defaults to TransportWS.
	Subprotocol string
	// Init is the connection_init payload, e.g. {"Authorization": "Bearer …"}.
	Init map[string]any
	// Header is sent with the upgrade request (Origin, for instance).
	Header http.Header
	// SkipInit connects without sending connection_init.
	SkipInit bool
}

// Dial connects to url (ws:// or http://) and, unless opts.SkipInit, sends
// connection_init and waits for connection_ack.
func Dial(ctx context.Context, url string, opts Options) (*Conn, error) {
	if opts.Subprotocol == "" {
		opts.Subprotocol = TransportWS
	}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{opts.Subprotocol}, HTTPHeader: opts.Header})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(16 << 20)
	c := &Conn{ws: ws}
	if opts.SkipInit {
		return c, nil
	}
	init := Message{Type: "connection_init"}
	if opts.Init != nil {
		init.Payload, _ = json.Marshal(opts.Init)
	}
	if err := c.Send(ctx, init); err != nil {
		return nil, err
	}
	for {
		m, err := c.Read(ctx)
		if err != nil {
			return nil, err
		}
		switch m.Type {
		case "connection_ack":
			return c, nil
		case "ka", "ping", "pong":
		default:
			c.Close()
			return nil, fmt.Errorf("gqlws: expected connection_ack, got %s %s", m.Type, m.Payload)
		}
	}
}

// Send writes a message.
func (c *Conn) Send(ctx context.Context, m Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// SendRaw writes raw text, for protocol tests.
func (c *Conn) SendRaw(ctx context.Context, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.Write(ctx, websocket.MessageText, []byte(text))
}

// Subscribe starts operation id.
func (c *Conn) Subscribe(ctx context.Context, id, query string, variables map[string]any) error {
	payload, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		return err
	}
	return c.Send(ctx, Message{ID: id, Type: "subscribe", Payload: payload})
}

// Read returns the next message, answering the server's pings.
func (c *Conn) Read(ctx context.Context) (Message, error) {
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return Message{}, err
		}
		var m Message
		if err := json.Unmarshal(b, &m); err != nil {
			return Message{}, fmt.Errorf("gqlws: bad message %q: %w", b, err)
		}
		if m.Type == "ping" {
			if err := c.Send(ctx, Message{Type: "pong"}); err != nil {
				return Message{}, err
			}
			continue
		}
		return m, nil
	}
}

// Next returns the data of the next "next" message for any operation,
// skipping keep-alives; an "error" or "complete" message is returned as is.
func (c *Conn) Next(ctx context.Context) (Message, error) {
	for {
		m, err := c.Read(ctx)
		if err != nil || (m.Type != "ka" && m.Type != "pong") {
			return m, err
		}
	}
}

// Close closes the connection normally.
func (c *Conn) Close() { _ = c.ws.Close(websocket.StatusNormalClosure, "") }

// CloseNow drops the connection without a close handshake.
func (c *Conn) CloseNow() { _ = c.ws.CloseNow() }

// CloseCode returns the close code in a read error, or -1.
func CloseCode(err error) int {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return int(ce.Code)
	}
	return -1
}
