package wsapi

import (
	"errors"

	"github.com/carlot/carlot/internal/live"
)

// Close codes for a websocket the server ends. Each one is a code the
// graphql-ws client reconnects on (it gives up for good on 4400, 4401, 4406,
// 4409, 4429, 4500 and most 1xxx codes), so a client with retryAttempts
// resumes by itself.
const (
	// CloseGoingAway: the server is shutting down; reconnect to another replica.
	CloseGoingAway = 1001
	// CloseTryAgainLater: the events could not be read (the database is
	// unreachable); reconnect and resubscribe with after.
	CloseTryAgainLater = 1013
	// CloseTooSlow: the client fell behind; reconnect and resubscribe with after.
	CloseTooSlow = 4290
	// CloseTokenExpired: the access token expired; reconnect with a fresh one.
	// It is 4403 Forbidden, what a connection_init with an expired token
	// gets, rather than 4401 Unauthorized, which graphql-ws treats as fatal.
	CloseTokenExpired = 4403
)

// errTokenExpired ends a socket whose access token expired while it was open.
var errTokenExpired = errors.New("access token expired")

// closeCodes is the one table of why the server ends a socket and what the
// close frame tells the client: the errors live ends a subscription with,
// and the socket's own.
var closeCodes = []struct {
	err    error
	code   int
	reason string
}{
	{live.ErrTooSlow, CloseTooSlow, "too slow: resubscribe with after"},
	{live.ErrShutdown, CloseGoingAway, "server shutting down"},
	{live.ErrUnavailable, CloseTryAgainLater, "events unavailable: try again later"},
	{errTokenExpired, CloseTokenExpired, "access token expired: refresh it and reconnect"},
}

// closeFor returns the close code and reason for err; ok is false for an
// error that does not end a socket.
func closeFor(err error) (code int, reason string, ok bool) {
	for _, c := range closeCodes {
		if errors.Is(err, c.err) {
			return c.code, c.reason, true
		}
	}
	return 0, "", false
}

// abort closes the socket with the code for err, and reports whether err
// has one; it is the socket's live.Aborter.
func (s *socket) abort(err error) bool {
	code, reason, ok := closeFor(err)
	if ok {
		s.closeWith(code, reason)
	}
	return ok
}

// abortAll closes every socket with the code for err.
func (ss *sockets) abortAll(err error) {
	if code, reason, ok := closeFor(err); ok {
		ss.closeAll(code, reason)
	}
}
