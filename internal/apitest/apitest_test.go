package apitest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fatalRecorder is a testing.TB whose Fatalf records instead of stopping.
type fatalRecorder struct {
	testing.TB
	failed string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
}

func TestEventuallyWaitsForTheCondition(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	go func() {
		for range 3 {
			n.Add(1)
		}
	}()
	f := &fatalRecorder{TB: t}
	Eventually(f, func() bool { return n.Load() == 3 }, time.Minute, "three")
	if f.failed != "" {
		t.Fatalf("failed: %s", f.failed)
	}
}

func TestEventuallyFailsWhenTheConditionNeverHolds(t *testing.T) {
	t.Parallel()
	f := &fatalRecorder{TB: t}
	Eventually(f, func() bool { return false }, 30*time.Millisecond, "the %s", "impossible")
	if f.failed != "not within 30ms: the impossible" {
		t.Fatalf("failed with %q", f.failed)
	}
}

func TestPollStopsWithItsContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Poll(ctx, func() bool { return false }) {
		t.Fatal("Poll reported success for a condition that never held")
	}
	if !Poll(ctx, func() bool { return true }) {
		t.Fatal("Poll did not check the condition before its context")
	}
}

func TestLogBufferTakesConcurrentWrites(t *testing.T) {
	t.Parallel()
	var b LogBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("x"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := len(b.String()); n != 800 {
		t.Fatalf("%d bytes, want 800", n)
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		contentType string
		body        string
		hasData     bool
		code        string
	}{
		{"data", "application/json", `{"data":{"a":1}}`, true, ""},
		{"null data and an error", "application/graphql-response+json", `{"data":null,"errors":[{"message":"m","extensions":{"code":"C"}}]}`, true, "C"},
		{"an error without data", "application/json", `{"errors":[{"message":"m","extensions":{"code":"D"}}]}`, false, "D"},
		{"not JSON", "text/plain", `hello`, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {tc.contentType}}
			r := Decode(t, 200, h, []byte(tc.body))
			if r.Raw != tc.body || r.Status != 200 || r.HasData != tc.hasData || r.Code() != tc.code {
				t.Fatalf("%+v", r)
			}
		})
	}
	f := &fatalRecorder{TB: t}
	DecodeJSON(f, 200, http.Header{"Content-Type": {"text/plain"}}, []byte("hello"))
	if f.failed == "" {
		t.Fatal("DecodeJSON took a body that is not JSON")
	}
}

func TestRemoteSendsOverTheNetwork(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/graphql" || r.Header.Get("Authorization") != "Bearer x" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"errors":[{"message":"bad request","extensions":{"code":"BAD_REQUEST"}}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":{"me":{"role":"ADMIN"}}}`))
	}))
	t.Cleanup(srv.Close)
	var out struct{ Me struct{ Role string } }
	Remote(t, srv.URL).QueryAs("Bearer x", &out, `{ me { role } }`, nil)
	if out.Me.Role != "ADMIN" {
		t.Fatalf("%+v", out)
	}
	if r := Remote(t, srv.URL).Post(`{ me { role } }`, nil); r.Status != http.StatusBadRequest || r.Code() != "BAD_REQUEST" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}
