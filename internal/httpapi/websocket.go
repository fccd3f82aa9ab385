package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/carlot/carlot/internal/auth"
	"github.com/carlot/carlot/internal/live"
	"github.com/carlot/carlot/models"
	coderws "github.com/coder/websocket"
)

// Close codes of the graphql-transport-ws protocol that gqlgen's transport
// does not send by itself (it uses 1002 for every protocol fault).
const (
	closeBadMessage    = 4400
	closeUnauthorized  = 4401
	closeForbidden     = 4403
	closeInitTimeout   = 4408
	closeTooManyInits  = 4429
	graphqlTransportWS = "graphql-transport-ws"
	initTimeoutReason  = "connection initialisation timeout" // gqlgen's wording
)

// sockets tracks every open websocket, so shutdown can close each with 1001
// and a subscription can close its own with a code that tells the client
// what to do next.
type sockets struct {
	mu  sync.Mutex
	all map[*socket]struct{}
}

// socket is one websocket connection's state.
type socket struct {
	protocol string
	conn     transport.WebsocketConn

	mu     sync.Mutex
	code   int // the close code to use, when set
	reason string
	initOK bool
	cancel context.CancelFunc
	expiry *time.Timer
}

type socketKey struct{}

// track marks upgrade requests so the transport can find their socket state.
func (ss *sockets) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			next.ServeHTTP(w, r)
			return
		}
		s := &socket{}
		ss.mu.Lock()
		ss.all[s] = struct{}{}
		ss.mu.Unlock()
		r, _ = withSocketLife(r)
		defer atSocketEnd(r.Context(), func() {
			ss.mu.Lock()
			delete(ss.all, s)
			ss.mu.Unlock()
			s.mu.Lock()
			if s.expiry != nil {
				s.expiry.Stop()
			}
			s.mu.Unlock()
		})
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), socketKey{}, s)))
	})
}

// closeAll closes every socket with code (1001 at shutdown).
func (ss *sockets) closeAll(code int, reason string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for s := range ss.all {
		s.closeWith(code, reason)
	}
}

// closeWith ends the connection with code: gqlgen closes a connection whose
// context ends, and the adapter below substitutes the code.
func (s *socket) closeWith(code int, reason string) {
	s.mu.Lock()
	if s.code == 0 {
		s.code, s.reason = code, reason
	}
	cancel, conn := s.cancel, s.conn
	s.mu.Unlock()
	switch {
	case cancel != nil:
		cancel()
	case conn != nil: // not initialised yet: close directly
		_ = conn.WriteClose(code, reason)
	}
}

func socketFrom(ctx context.Context) *socket {
	s, _ := ctx.Value(socketKey{}).(*socket)
	return s
}

// websocketTransport serves graphql-transport-ws (the graphql-ws library's
// protocol) and the legacy graphql-ws protocol on /graphql.
func websocketTransport(d Deps, broker *live.Broker) transport.Websocket {
	accept := coderws.AcceptOptions{}
	if origins := d.Config.CORSAllowedOrigins; len(origins) == 1 && origins[0] == "*" {
		accept.InsecureSkipVerify = true // any origin, as CORS allows in development
	} else {
		for _, o := range origins {
			if u, err := url.Parse(o); err == nil && u.Host != "" {
				accept.OriginPatterns = append(accept.OriginPatterns, u.Host)
			}
		}
	}
	limit := int64(d.Config.WSMaxMessageBytes)
	return transport.Websocket{
		Implementation:        socketAdapter{inner: transport.CoderWebsocketImplementation{AcceptOptions: accept}},
		InitTimeout:           d.Config.WSInitTimeout,
		KeepAlivePingInterval: d.Config.WSPingInterval, // graphql-ws "ka"
		PingPongInterval:      d.Config.WSPingInterval, // graphql-transport-ws ping; a client that never pongs is dropped
		PayloadReadLimit:      &limit,
		InitFunc: func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			s := socketFrom(ctx)
			actor, expires, err := d.tokens.Authenticate(payload.Authorization())
			if err != nil || s == nil {
				return transport.WithWebsocketCloseCode(ctx, closeForbidden), nil, auth.ErrInvalidToken
			}
			ctx, cancel := context.WithCancel(ctx)
			s.mu.Lock()
			s.initOK, s.cancel = true, cancel
			if actor != nil {
				s.expiry = time.AfterFunc(time.Until(expires), func() {
					s.closeWith(live.CloseTokenExpired, "access token expired: refresh it and reconnect")
				})
			}
			s.mu.Unlock()
			if actor != nil {
				ctx = models.WithActor(ctx, actor)
			}
			ctx = live.WithSocketCloser(ctx, s.closeWith)
			return context.WithValue(ctx, socketOperationsKey{}, broker), nil, nil
		},
		ErrorFunc: func(ctx context.Context, err error) {
			d.Log.DebugContext(ctx, "websocket", "err", err)
		},
	}
}

// socketOperationsKey marks operations that run on a websocket; its value is
// the broker whose shared catalog they use.
type socketOperationsKey struct{}

// socketAdapter wraps gqlgen's coder/websocket adapter to close with the
// codes the graphql-transport-ws protocol defines.
type socketAdapter struct {
	inner transport.WebsocketImplementation
}

func (a socketAdapter) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := a.inner.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	s := socketFrom(r.Context())
	if s == nil {
		s = &socket{}
	}
	wrapped := &socketConn{WebsocketConn: conn, s: s}
	s.mu.Lock()
	s.protocol, s.conn = conn.Subprotocol(), wrapped
	code := s.code
	s.mu.Unlock()
	if code != 0 { // shut down while upgrading
		_ = wrapped.WriteClose(code, s.reason)
	}
	return wrapped, nil
}

type socketConn struct {
	transport.WebsocketConn
	s         *socket
	closeOnce sync.Once
	inits     int
}

var errClosedByServer = errors.New("websocket closed by the server")

// NextReader enforces what gqlgen's transport lets through on
// graphql-transport-ws: one connection_init, nothing before it, and only
// well-formed messages of known types.
func (c *socketConn) NextReader() (int, io.Reader, error) {
	kind, r, err := c.WebsocketConn.NextReader()
	if err != nil || c.s.protocol != graphqlTransportWS {
		return kind, r, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return kind, nil, err
	}
	var msg struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(data, &msg) != nil {
		return c.refuse(closeBadMessage, "invalid message")
	}
	c.s.mu.Lock()
	initOK := c.s.initOK
	c.s.mu.Unlock()
	switch msg.Type {
	case "connection_init":
		if c.inits++; c.inits > 1 {
			return c.refuse(closeTooManyInits, "too many initialisation requests")
		}
	case "subscribe":
		if !initOK {
			return c.refuse(closeUnauthorized, "unauthorized")
		}
		data = liftDocumentID(data)
	case "complete", "ping", "pong":
	default:
		return c.refuse(closeBadMessage, "invalid message type")
	}
	return kind, bytes.NewReader(data), nil
}

func (c *socketConn) refuse(code int, reason string) (int, io.Reader, error) {
	_ = c.WriteClose(code, reason)
	return 0, nil, errClosedByServer
}

// WriteClose sends the first close frame only, with the code the server
// chose (shutdown, token expiry, too slow) or the protocol's code for what
// gqlgen reports as a generic protocol error.
func (c *socketConn) WriteClose(code int, reason string) error {
	c.s.mu.Lock()
	if c.s.code != 0 {
		code, reason = c.s.code, c.s.reason
	} else if c.s.protocol == graphqlTransportWS {
		switch {
		case reason == initTimeoutReason:
			code = closeInitTimeout
		case code == transport.WebsocketCloseProtocolError:
			code = closeBadMessage
		}
	}
	c.s.code, c.s.reason = code, reason
	c.s.mu.Unlock()
	var err error
	c.closeOnce.Do(func() { err = c.WebsocketConn.WriteClose(code, reason) })
	return err
}

// SetReadLimit and SetReadDeadline pass through to the wrapped connection.
func (c *socketConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *socketConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
