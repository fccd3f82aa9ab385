package wsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/carlot/carlot/internal/auth"
	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/live"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/ratelimit"
	"github.com/carlot/carlot/models"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Close codes of the graphql-transport-ws protocol that gqlgen's transport
// does not send by itself (it uses 1002 for every protocol fault).
const (
	closeBadMessage    = 4400
	closeUnauthorized  = 4401
	closeForbidden     = 4403
	closeInitTimeout   = 4408
	closeDuplicateID   = 4409
	closeTooManyInits  = 4429
	maxCloseReason     = 123 // bytes, the most a close frame holds
	graphqlTransportWS = "graphql-transport-ws"
	initTimeoutReason  = "connection initialisation timeout" // gqlgen's wording
)

// Options is what the websocket transport needs from the process.
type Options struct {
	Config  *config.Config
	Tokens  *auth.Tokens
	Log     *slog.Logger
	Metrics *metrics.Registry
	// PerIP and PerUser are the rate limits of HTTP requests, which a
	// socket's operations draw from too; nil: no limit.
	PerIP, PerUser *ratelimit.Limiter
	// ClientKey is the rate-limit key of a request's client address (the
	// HTTP layer knows it).
	ClientKey func(*http.Request) string
	// TooManyRequests answers an upgrade refused by the per-address cap (the
	// HTTP layer's 429, with Retry-After).
	TooManyRequests func(w http.ResponseWriter, r *http.Request, retry time.Duration, message string)
	// Operations prepares the context a socket's operations run in, once
	// the socket is initialised: the GraphQL layer marks them as a
	// socket's. Nil: nothing.
	Operations func(context.Context) context.Context
}

// Server is the websocket side of /graphql: the open sockets, their limits
// and the gqlgen transport that serves them. It starts no goroutine of its
// own; each socket's runs on the goroutine Detach gives it.
type Server struct {
	opts    Options
	sockets *sockets
	cap     *websocketCap
}

// New returns the websocket server; Close it at shutdown.
func New(o Options) *Server {
	if o.ClientKey == nil {
		o.ClientKey = func(*http.Request) string { return "unknown" }
	}
	return &Server{
		opts: o,
		sockets: newSockets(&socketLimits{
			perIP: o.PerIP, perUser: o.PerUser, maxActive: o.Config.WSMaxSubscriptions, metrics: o.Metrics,
		}),
		cap: newWebsocketCap(o.Config.MaxWSConnsPerIP, o.Metrics),
	}
}

// Upgrades is the middleware of upgrade requests to /graphql: the cap on
// websockets per client address, then the socket's state, which the
// transport finds in the request's context. Other requests pass.
func (s *Server) Upgrades(next http.Handler) http.Handler {
	return s.cap.middleware(s.opts.ClientKey, s.opts.TooManyRequests, s.sockets.track(s.opts.ClientKey, next))
}

// Detach serves upgrade requests on a goroutine of their own (see
// serveDetached); it wraps the GraphQL handler itself.
func (s *Server) Detach(next http.Handler) http.Handler { return serveDetached(s.opts.Log, next) }

// Close closes every websocket with 1001 (going away). Call it before
// http.Server's Shutdown, which does not wait for hijacked connections.
func (s *Server) Close() { s.sockets.abortAll(live.ErrShutdown) }

// OpenFrom returns how many websockets the client key holds.
func (s *Server) OpenFrom(key string) int { return s.cap.Open(key) }

// sockets tracks every open websocket, so shutdown can close each with 1001
// and a subscription can close its own with a code that tells the client
// what to do next.
type sockets struct {
	limits *socketLimits

	mu  sync.Mutex
	all map[*socket]struct{}
}

func newSockets(limits *socketLimits) *sockets {
	return &sockets{limits: limits, all: make(map[*socket]struct{})}
}

// socketLimits is what every operation a socket starts is checked against,
// before it is parsed: the rate limits of HTTP requests (an operation costs
// what one request does, from the same per-address and per-user budgets),
// then the cap on the operations one socket runs at once. An operation
// refused gets an error message with RATE_LIMITED; the socket stays open.
//
// The cap counts every operation that has not ended, queries and mutations
// too, since each holds a goroutine until it does; an operation ends when
// the server sends its complete or error message. RATE_LIMITED, not
// QUERY_TOO_COMPLEX, because nothing is wrong with the document: the same
// subscribe succeeds once the socket has completed others.
type socketLimits struct {
	perIP, perUser *ratelimit.Limiter // nil: no limit
	maxActive      int                // 0: no cap
	metrics        *metrics.Registry
}

// socket is one websocket connection's state.
type socket struct {
	protocol string
	conn     transport.WebsocketConn
	limits   *socketLimits
	client   string // the client address's rate-limit key

	mu     sync.Mutex
	code   int // the close code to use, when set
	reason string
	initOK bool
	user   string // the authenticated user's rate-limit key, if any
	// active holds the ids of the operations running: usually one, at most
	// WS_MAX_SUBSCRIPTIONS_PER_SOCKET (100 by default), so a slice, which
	// for one id takes a tenth of a map's memory.
	active []string
	// end ends the socket's context (serveDetached's), which gqlgen's
	// transport answers by closing the connection.
	end    context.CancelFunc
	expiry *time.Timer
}

type socketKey struct{}

// track marks upgrade requests so the transport can find their socket state.
func (ss *sockets) track(clientKey func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			next.ServeHTTP(w, r)
			return
		}
		s := &socket{limits: ss.limits, client: clientKey(r)}
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
	end, conn := s.end, s.conn
	if !s.initOK {
		end = nil // gqlgen watches the context only once initialised
	}
	s.mu.Unlock()
	switch {
	case end != nil:
		end()
	case conn != nil: // not initialised yet: close directly
		_ = conn.WriteClose(code, reason)
	}
}

func socketFrom(ctx context.Context) *socket {
	s, _ := ctx.Value(socketKey{}).(*socket)
	return s
}

// operationStart is the type of the message that starts an operation in the
// socket's protocol.
func (s *socket) operationStart() string {
	if s.protocol == graphqlTransportWS {
		return "subscribe"
	}
	return "start" // legacy graphql-ws
}

// running reports whether operation id has started and not ended.
func (s *socket) running(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.active, id)
}

// admit counts operation id against the socket's limits and records it as
// running; if a limit refuses it, admit returns the error to answer it with.
func (s *socket) admit(id string) *gqlerror.Error {
	l := s.limits
	if l == nil {
		l = &socketLimits{}
	}
	s.mu.Lock()
	user := s.user
	s.mu.Unlock()
	if l.perIP != nil {
		if ok, retry := l.perIP.Allow(s.client); !ok {
			l.metrics.RateLimited("ip")
			return rateLimited(retry, fmt.Sprintf("too many requests from this address (limit %d a minute)", l.perIP.Limit()))
		}
	}
	if l.perUser != nil && user != "" {
		if ok, retry := l.perUser.Allow(user); !ok {
			l.metrics.RateLimited("user")
			return rateLimited(retry, fmt.Sprintf("too many requests for this user (limit %d a minute)", l.perUser.Limit()))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.maxActive > 0 && len(s.active) >= l.maxActive {
		l.metrics.RateLimited("subscriptions")
		return rateLimited(0, fmt.Sprintf("too many operations on this socket (limit %d at once): complete one first", l.maxActive))
	}
	s.active = append(s.active, id)
	return nil
}

// ended records that operation id has ended.
func (s *socket) ended(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.Index(s.active, id); i >= 0 {
		s.active = slices.Delete(s.active, i, i+1)
	}
}

// rateLimited is the error an operation refused by a limit gets;
// retryAfter, when known, says in how many seconds it may be tried again
// (what HTTP's Retry-After header says).
func rateLimited(retry time.Duration, message string) *gqlerror.Error {
	ext := map[string]any{"code": string(models.CodeRateLimited)}
	if retry > 0 {
		ext["retryAfter"] = max(int(math.Ceil(retry.Seconds())), 1)
	}
	return &gqlerror.Error{Message: message, Extensions: ext}
}

// Transport serves graphql-transport-ws (the graphql-ws library's
// protocol) and the legacy graphql-ws protocol on /graphql; it is the
// gqlgen transport the GraphQL server is given.
func (srv *Server) Transport() transport.Websocket {
	d := srv.opts
	// The cors middleware has refused upgrades from origins it does not
	// allow, comparing scheme, host and port (the websocket library would
	// compare hosts only).
	accept := coderws.AcceptOptions{InsecureSkipVerify: true}
	limit := int64(d.Config.WSMaxMessageBytes)
	return transport.Websocket{
		// Keep-alives ("ka" on graphql-ws; on graphql-transport-ws a ping,
		// and a client that never pongs is dropped) come from the adapter,
		// on a timer: gqlgen's transport would keep a goroutine per socket
		// for them.
		Implementation:   socketAdapter{inner: coderAdapter{options: accept}, keepAlive: d.Config.WSPingInterval},
		InitTimeout:      d.Config.WSInitTimeout,
		PayloadReadLimit: &limit,
		InitFunc: func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			s := socketFrom(ctx)
			actor, expires, err := d.Tokens.Authenticate(payload.Authorization())
			if err != nil || s == nil {
				return transport.WithWebsocketCloseCode(ctx, closeForbidden), nil, auth.ErrInvalidToken
			}
			s.mu.Lock()
			s.initOK = true
			if actor != nil {
				s.user = strconv.FormatInt(actor.UserID, 10) // the key limitByUser uses
				s.expiry = time.AfterFunc(time.Until(expires), func() {
					s.abort(errTokenExpired)
				})
			}
			s.mu.Unlock()
			if actor != nil {
				ctx = models.WithActor(ctx, actor)
			}
			ctx = live.WithAborter(ctx, s.abort)
			if d.Operations != nil {
				ctx = d.Operations(ctx)
			}
			return ctx, nil, nil
		},
		ErrorFunc: func(ctx context.Context, err error) {
			d.Log.DebugContext(ctx, "websocket", "err", err)
		},
	}
}

// socketAdapter wraps gqlgen's coder/websocket adapter to close with the
// codes the graphql-transport-ws protocol defines, and sends keep-alives
// every keepAlive (none when 0).
type socketAdapter struct {
	inner     transport.WebsocketImplementation
	keepAlive time.Duration
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
		return wrapped, nil
	}
	wrapped.startKeepAlive(a.keepAlive)
	return wrapped, nil
}

type socketConn struct {
	transport.WebsocketConn
	s         *socket
	closeOnce sync.Once
	inits     int

	// The keep-alive timer, and on graphql-transport-ws whether a pong came
	// since the last ping.
	kaMu      sync.Mutex
	kaTimer   *time.Timer
	kaStopped bool
	ponged    bool
}

// Keep-alive messages, as gqlgen's transport writes them.
var (
	pingMessage = struct {
		Type string `json:"type"`
	}{"ping"}
	keepAliveMessage = struct {
		Type string `json:"type"`
	}{"ka"}
)

// startKeepAlive sends a keep-alive every interval, as gqlgen's transport
// does from a goroutine of its own: on graphql-transport-ws a ping, with a
// read deadline two intervals away that each ping pushes back only if a
// pong came since the one before (a pong clears it: gqlgen's read loop
// does that); on graphql-ws "ka".
func (c *socketConn) startKeepAlive(interval time.Duration) {
	if interval <= 0 {
		return
	}
	ping := c.s.protocol == graphqlTransportWS
	if ping {
		_ = c.SetReadDeadline(time.Now().Add(2 * interval))
	}
	c.kaMu.Lock()
	defer c.kaMu.Unlock()
	c.kaTimer = time.AfterFunc(interval, func() {
		msg := keepAliveMessage
		if ping {
			msg = pingMessage
		}
		if c.WebsocketConn.WriteJSON(msg) != nil {
			return // closing: the read loop ends the socket
		}
		c.kaMu.Lock()
		defer c.kaMu.Unlock()
		if ping {
			if c.ponged {
				_ = c.SetReadDeadline(time.Now().Add(2 * interval))
			}
			c.ponged = false
		}
		if !c.kaStopped {
			c.kaTimer.Reset(interval)
		}
	})
}

// stopKeepAlive stops the keep-alives for good.
func (c *socketConn) stopKeepAlive() {
	c.kaMu.Lock()
	defer c.kaMu.Unlock()
	c.kaStopped = true
	if c.kaTimer != nil {
		c.kaTimer.Stop()
	}
}

var errClosedByServer = errors.New("websocket closed by the server")

// NextReader passes gqlgen the client's next message, once it has checked
// what gqlgen's transport does not:
//
//   - on graphql-transport-ws, one connection_init, nothing before it, and
//     only well-formed messages of known types;
//   - on both protocols, that an operation's id is not one already running
//     (else the socket closes with 4409, as graphql-transport-ws says: gqlgen
//     would start the operation anyway and lose hold of the first one), and
//     that the socket's limits admit the operation (else it is answered with
//     an error message here and gqlgen never sees it).
func (c *socketConn) NextReader() (int, io.Reader, error) {
	for {
		// Wait for the client's next message here, with little of the
		// stack in use, rather than deep in the websocket library's read:
		// an idle socket's goroutine then keeps a stack half the size.
		if cc, ok := c.WebsocketConn.(*coderConn); ok {
			cc.awaitReadable()
		}
		kind, r, err := c.WebsocketConn.NextReader()
		if err != nil {
			return kind, r, err
		}
		if kind, r, pass, err := c.check(kind, r); pass {
			return kind, r, err
		}
	}
}

// check is NextReader's look at one message: whether to pass it on (or
// the error that ends the socket), or to read the next one (the operation
// it starts was refused with an error message).
func (c *socketConn) check(kind int, r io.Reader) (int, io.Reader, bool, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return kind, nil, true, err
	}
	var msg struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	valid := json.Unmarshal(data, &msg) == nil
	c.s.mu.Lock()
	initOK := c.s.initOK
	c.s.mu.Unlock()
	if valid && msg.Type == "pong" {
		c.kaMu.Lock()
		c.ponged = true
		c.kaMu.Unlock()
	}
	if c.s.protocol == graphqlTransportWS {
		if code, reason := c.protocolFault(valid, msg.Type, initOK); code != 0 {
			kind, r, err := c.refuse(code, reason)
			return kind, r, true, err
		}
		if msg.Type == "subscribe" {
			data = liftDocumentID(data)
		}
	}
	// Before connection_init, gqlgen refuses every other message itself.
	if !valid || !initOK || msg.Type != c.s.operationStart() {
		return kind, bytes.NewReader(data), true, nil
	}
	if c.s.running(msg.ID) {
		kind, r, err := c.refuse(closeDuplicateID, duplicateReason(msg.ID))
		return kind, r, true, err
	}
	refusal := c.s.admit(msg.ID)
	if refusal == nil {
		return kind, bytes.NewReader(data), true, nil
	}
	if err := c.WebsocketConn.WriteJSON(operationError{ID: msg.ID, Type: "error", Payload: gqlerror.List{refusal}}); err != nil {
		return kind, nil, true, err
	}
	return 0, nil, false, nil
}

// duplicateReason is the close reason graphql-transport-ws gives 4409, the
// id shortened to fit the 123 bytes a close reason may hold.
func duplicateReason(id string) string {
	const room = maxCloseReason - len("Subscriber for  already exists")
	if len(id) > room {
		id = strings.ToValidUTF8(id[:room-len("…")], "") + "…"
	}
	return "Subscriber for " + id + " already exists"
}

// protocolFault returns the close code and reason for a graphql-transport-ws
// message the protocol does not allow, or 0.
func (c *socketConn) protocolFault(valid bool, kind string, initOK bool) (int, string) {
	switch {
	case !valid:
		return closeBadMessage, "invalid message"
	case kind == "connection_init":
		if c.inits++; c.inits > 1 {
			return closeTooManyInits, "too many initialisation requests"
		}
	case kind == "subscribe":
		if !initOK {
			return closeUnauthorized, "unauthorized"
		}
	case kind == "complete", kind == "ping", kind == "pong":
	default:
		return closeBadMessage, "invalid message type"
	}
	return 0, ""
}

// operationError is the error message of both protocols, as gqlgen sends
// it: the payload is a list of GraphQL errors.
type operationError struct {
	ID      string        `json:"id"`
	Type    string        `json:"type"`
	Payload gqlerror.List `json:"payload"`
}

// WriteJSON sends a message gqlgen composed, first noting the end of the
// operation it ends, so the client may reuse the id as soon as it reads it.
func (c *socketConn) WriteJSON(v any) error {
	if id, ok := endedOperation(v); ok {
		c.s.ended(id)
	}
	return c.WebsocketConn.WriteJSON(v)
}

// endedOperation returns the id of the operation a message from gqlgen ends:
// its complete or error message, in either protocol.
func endedOperation(v any) (string, bool) {
	id, kind, ok := messageIDAndType(v)
	if ok && (kind == "complete" || kind == "error") {
		return id, true
	}
	return "", false
}

func (c *socketConn) refuse(code int, reason string) (int, io.Reader, error) {
	_ = c.WriteClose(code, reason)
	return 0, nil, errClosedByServer
}

// WriteClose sends the first close frame only, with the code the server
// chose (shutdown, token expiry, too slow) or the protocol's code for what
// gqlgen reports as a generic protocol error.
func (c *socketConn) WriteClose(code int, reason string) error {
	c.stopKeepAlive()
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

// Close stops the keep-alives and closes the connection.
func (c *socketConn) Close() error {
	c.stopKeepAlive()
	return c.WebsocketConn.Close()
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
