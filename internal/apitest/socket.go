package apitest

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/gqlws"
)

// WaitBound bounds each wait that Wait's contexts guard: generous, since the
// tests check that something happens, not how fast.
const WaitBound = 20 * time.Second

// Wait returns a context that ends WaitBound from now, or with the test.
func Wait(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), WaitBound)
	t.Cleanup(cancel)
	return ctx
}

// Serve runs the handler on a real HTTP server (websockets need one) for the
// rest of the test and returns its base URL.
func (a *API) Serve() string {
	a.T.Helper()
	srv := httptest.NewServer(a.Handler)
	a.T.Cleanup(srv.Close)
	return srv.URL
}

// SocketURL serves the handler (see Serve) and returns its GraphQL
// websocket URL.
func (a *API) SocketURL() string {
	a.T.Helper()
	return "ws" + strings.TrimPrefix(a.Serve(), "http") + "/graphql"
}

// Dial opens a graphql-ws connection to url, failing the test if it cannot,
// and closes it when the test ends.
func Dial(t testing.TB, url string, opts gqlws.Options) *gqlws.Conn {
	t.Helper()
	c, err := gqlws.Dial(Wait(t), url, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(c.CloseNow)
	return c
}
