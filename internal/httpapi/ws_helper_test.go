package httpapi

import (
	"context"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// testSocket is a graphql-transport-ws client connection.
type testSocket struct {
	t    *testing.T
	conn *coderws.Conn
}

// dialWebsocket opens a graphql-transport-ws connection to the server at
// base (http://…) and completes connection_init.
func dialWebsocket(t *testing.T, base string) *testSocket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &coderws.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	s := &testSocket{t: t, conn: conn}
	s.send(map[string]any{"type": "connection_init", "payload": map[string]any{}})
	if msg := s.read(); msg["type"] != "connection_ack" {
		t.Fatalf("after connection_init: %v", msg)
	}
	return s
}

func (s *testSocket) send(msg any) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, s.conn, msg); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

func (s *testSocket) read() map[string]any {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var msg map[string]any
	if err := wsjson.Read(ctx, s.conn, &msg); err != nil {
		s.t.Fatalf("read: %v", err)
	}
	return msg
}

func (s *testSocket) close() { _ = s.conn.Close(coderws.StatusNormalClosure, "") }
