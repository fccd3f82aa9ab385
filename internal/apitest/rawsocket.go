package apitest

import (
	"context"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// RawSocket is a graphql-transport-ws client connection that sends and
// reads the protocol's messages as they are, for tests of the protocol
// itself (keep-alives, for one), where gqlws would answer for the test.
type RawSocket struct {
	t    testing.TB
	Conn *coderws.Conn
}

// DialRaw opens a graphql-transport-ws connection to the server at base
// (http://…) and completes connection_init.
func DialRaw(t testing.TB, base string) *RawSocket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &coderws.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	s := &RawSocket{t: t, Conn: conn}
	s.Send(map[string]any{"type": "connection_init", "payload": map[string]any{}})
	if msg := s.Read(); msg["type"] != "connection_ack" {
		t.Fatalf("after connection_init: %v", msg)
	}
	return s
}

// Send writes msg as JSON.
func (s *RawSocket) Send(msg any) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, s.Conn, msg); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

// Read reads the next message.
func (s *RawSocket) Read() map[string]any {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var msg map[string]any
	if err := wsjson.Read(ctx, s.Conn, &msg); err != nil {
		s.t.Fatalf("read: %v", err)
	}
	return msg
}

// Close closes the connection normally.
func (s *RawSocket) Close() { _ = s.Conn.Close(coderws.StatusNormalClosure, "") }
