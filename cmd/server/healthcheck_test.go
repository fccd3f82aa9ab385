package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	var status atomic.Int32 // the handler runs on the server's goroutines
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte(`{"status":"x"}`))
	}))
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	probe := func() (string, error) {
		var out bytes.Buffer
		err := run(t.Context(), []string{"server", "healthcheck"}, envOf(map[string]string{"PORT": port}), nil, &out, &out)
		return out.String(), err
	}
	if out, err := probe(); err != nil || !strings.HasPrefix(out, "ready") {
		t.Fatalf("ready server: %q %v", out, err)
	}
	status.Store(http.StatusServiceUnavailable)
	if _, err := probe(); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("unready server: %v", err)
	}
	srv.Close()
	if _, err := probe(); err == nil {
		t.Fatal("no server: the check passed")
	}
}
