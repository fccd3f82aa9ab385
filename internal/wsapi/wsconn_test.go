package wsapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"testing"
)

// protocolMessage has the shape of gqlgen's websocket protocol messages.
type protocolMessage struct {
	Payload json.RawMessage `json:"payload,omitempty"`
	ID      string          `json:"id,omitempty"`
	Type    messageKind     `json:"type"`
	noOp    bool
}

type messageKind string

func (k messageKind) MarshalText() ([]byte, error) { return []byte(string(k)), nil }

// A protocol message is written exactly as json.Marshal writes it.
func TestEncodeMessageIsJSONMarshal(t *testing.T) {
	payload, _ := json.Marshal(map[string]any{"data": map[string]any{"vehicleEvents": map[string]any{"vin": "<1HGCM82633A004352> & co", "sequence": 12}}})
	for _, v := range []any{
		&protocolMessage{ID: "1", Type: "next", Payload: payload},
		&protocolMessage{ID: "", Type: "connection_ack"},
		&protocolMessage{Type: "ping", Payload: json.RawMessage{}},
		&protocolMessage{ID: `quote " back \ <tag> & é` + "\n\u2028", Type: "complete"},
		&protocolMessage{ID: "op-7", Type: "error", Payload: json.RawMessage(`[{"message":"x"}]`)},
		protocolMessage{ID: "by value", Type: "next", Payload: payload},
		struct {
			Type string `json:"type"`
		}{"ka"},
		operationError{ID: "2", Type: "error"},
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeMessage(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("encodeMessage(%+v)\n got %s\nwant %s", v, got, want)
		}
	}
	if id, kind, ok := messageIDAndType(&protocolMessage{ID: "9", Type: "complete"}); !ok || id != "9" || kind != "complete" {
		t.Errorf("messageIDAndType: %q %q %v", id, kind, ok)
	}
}

// The waiter returns once the peer sent something, which is then still
// there to read, and when the peer hangs up.
func TestReadableWaiter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	wait := readableWaiter(server)
	if wait == nil {
		t.Skip("no way to wait on this platform")
	}

	returned := make(chan struct{})
	go func() {
		wait()
		close(returned)
	}()
	if _, err := client.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	<-returned
	br := bufio.NewReader(server)
	if b, err := br.Peek(5); err != nil || string(b) != "hello" {
		t.Fatalf("after the wait: %q, %v", b, err)
	}

	returned = make(chan struct{})
	go func() {
		wait()
		close(returned)
	}()
	_ = client.Close()
	<-returned
}
