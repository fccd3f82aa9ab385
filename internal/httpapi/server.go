package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/carlot/carlot/internal/config"
)

// serverGrace is how much longer than REQUEST_TIMEOUT the server waits for
// a request's body and response: the deadline inside the handler answers
// first, with a proper GraphQL error.
const serverGrace = 5 * time.Second

// NewServer returns the http.Server for h with Carlot's connection limits:
// request headers must arrive within READ_HEADER_TIMEOUT and fit in
// MAX_HEADER_BYTES, so a client that sends half a request and stalls holds a
// connection (a goroutine, no thread) for seconds, not forever; the body must
// be read and the response written within REQUEST_TIMEOUT plus a grace;
// idle keep-alive connections are closed after two minutes. Websocket
// connections clear these deadlines for themselves (internal/wsapi's cap).
func NewServer(cfg *config.Config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.RequestTimeout + serverGrace,
		WriteTimeout:      cfg.RequestTimeout + serverGrace,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
