package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/carlot/carlot/internal/logging"
	"github.com/carlot/carlot/models"
	"github.com/go-chi/chi/v5/middleware"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-ID"

// requestID takes the caller's X-Request-ID when it is a sane token (so a
// request can be traced through a proxy) and makes one otherwise; it is
// returned on every response and added to every log line.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(logging.WithRequestID(r.Context(), id)))
	})
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestInfo collects what the access log line and the metrics report
// about a request from deeper layers (the client address, the GraphQL
// operation name and outcome, SQL statements run).
type requestInfo struct {
	operation string
	// metricsOperation names the operation of a valid document (so it may
	// become a metrics label); nil when the request failed before that.
	metricsOperation *string
	// outcome is "ok" or the extensions.code of the response's first error.
	outcome    string
	clientIP   string
	statements *atomic.Int64
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// accessLog writes one line per request: method, path, status, size,
// duration, operation name and SQL statement count.
func accessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			info := &requestInfo{}
			ctx := context.WithValue(r.Context(), requestInfoKey{}, info)
			ctx, statements := models.WithStatementCount(ctx)
			info.statements = statements
			if !log.Enabled(ctx, slog.LevelInfo) {
				// LOG_LEVEL=warn and above: no line to write, so no status
				// or size to record.
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r.WithContext(ctx))
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
				if ww.Status() < 500 {
					return // probes every few seconds would drown the log
				}
			}
			log.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", ww.Status()),
				slog.Int("bytes", ww.BytesWritten()),
				slog.Duration("duration", time.Since(start)),
				slog.String("operation", info.operation),
				slog.String("outcome", info.outcome),
				slog.Int64("sql", statements.Load()),
				slog.String("client_ip", info.clientIP),
			)
		})
	}
}

// recoverer turns a panic outside the GraphQL executor into a logged 500.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.ErrorContext(r.Context(), "panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					writeJSON(w, http.StatusInternalServerError, map[string]any{
						"errors": []map[string]any{{"message": "internal server error", "extensions": map[string]string{"code": string(models.CodeInternal)}}},
					})
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody refuses bodies larger than max: at once when the length is
// declared, and as soon as a streamed body passes it. A request for which
// upload returns a limit (a multipart photo upload) may be that large.
func limitBody(max int64, upload func(*http.Request) int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			max := max
			if upload != nil {
				if n := upload(r); n > 0 {
					max = n
				}
			}
			if r.ContentLength > max {
				// Connection: close, so the server need not read the body it refuses.
				w.Header().Set("Connection", "close")
				writeError(w, r, http.StatusRequestEntityTooLarge, models.CodeBadUserInput, fmt.Sprintf("the request body is larger than %d bytes", max))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}

// cors answers browsers from the allowed origins ("*" allows any), which
// match a request's Origin exactly: scheme, host and port, letting them send
// the headers named in headers. A request from any other origin gets no CORS
// headers, so the browser keeps the response from the page, and its
// preflight is refused with 403. So is its websocket upgrade, since browsers
// apply no CORS to websockets.
func cors(allowed, headers []string) func(http.Handler) http.Handler {
	allowHeaders := strings.Join(headers, ", ")
	any := len(allowed) == 1 && allowed[0] == "*"
	set := make(map[string]bool, len(allowed))
	for _, o := range allowed {
		set[strings.TrimRight(o, "/")] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
			if origin != "" {
				w.Header().Add("Vary", "Origin")
			}
			if origin != "" && !any && !set[origin] {
				if preflight {
					w.WriteHeader(http.StatusForbidden)
					return
				}
				if isWebsocketUpgrade(r) && !sameOrigin(r, origin) {
					writeError(w, r, http.StatusForbidden, models.CodeForbidden, "websockets from this origin are not allowed")
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			if origin != "" {
				h := w.Header()
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Headers", allowHeaders)
				h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				h.Set("Access-Control-Expose-Headers", RequestIDHeader+", Retry-After")
				h.Set("Access-Control-Max-Age", "600")
				if preflight {
					w.WriteHeader(http.StatusNoContent)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// sameOrigin reports whether origin is the server's own, as the request
// reached it (a page Carlot served, such as GraphiQL, opening a websocket
// back to it): browsers send Origin on every websocket, same-origin or not.
func sameOrigin(r *http.Request, origin string) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return origin == scheme+"://"+r.Host
}
