package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"
)

// newClient returns the keep-alive HTTP client every load worker shares.
func newClient(s *settings) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        4 * s.concurrency,
			MaxIdleConnsPerHost: 2 * s.concurrency,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  !s.gzip,
		},
	}
}

// post sends a JSON POST and reads the whole answer into into (reused
// across requests to keep the load generator's own allocations down).
func post(ctx context.Context, client *http.Client, url, auth string, body []byte, into *bytes.Buffer) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if into == nil {
		into = new(bytes.Buffer)
	}
	into.Reset()
	_, err = into.ReadFrom(resp.Body)
	return resp.StatusCode, into.Bytes(), err
}

// outcome is how a request ended.
type outcome int

const (
	succeeded  outcome = iota
	conflicted         // a CONFLICT answer: completed, counted apart
	failed
)

var (
	errorsKey   = []byte(`"errors"`)
	conflictKey = []byte(`"CONFLICT"`)
)

// classify reads an answer without decoding it.
func classify(status int, body []byte, err error) outcome {
	switch {
	case err != nil || status != http.StatusOK:
		return failed
	case !bytes.Contains(body, errorsKey):
		return succeeded
	case bytes.Contains(body, conflictKey):
		return conflicted
	default:
		return failed
	}
}

// loadRun is one closed-loop run of an operation.
type loadRun struct {
	latencies            []time.Duration
	ok, conflicts, fails int64
	elapsed              time.Duration
	firstError           string
}

// drive runs op from concurrency workers, each sending its next request as
// soon as the previous one is answered, until d has passed.
func drive(ctx context.Context, client *http.Client, op *operation, concurrency int, d time.Duration) *loadRun {
	auth := ""
	if op.token != "" {
		auth = "Bearer " + op.token
	}
	var (
		mu  sync.Mutex
		out = &loadRun{}
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(w)))
			var (
				body      []byte
				answer    bytes.Buffer
				mine      = make([]time.Duration, 0, 1<<14)
				counts    [3]int64
				firstFail string
			)
			for ctx.Err() == nil && time.Now().Before(deadline) {
				body = op.body(r, body[:0])
				t0 := time.Now()
				status, raw, err := post(ctx, client, op.url, auth, body, &answer)
				mine = append(mine, time.Since(t0))
				o := classify(status, raw, err)
				counts[o]++
				switch {
				case o == failed && firstFail == "":
					firstFail = fmt.Sprintf("%d %v %.300s", status, err, raw)
				case o == succeeded && op.answered != nil:
					op.answered(raw)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			out.latencies = append(out.latencies, mine...)
			out.ok += counts[succeeded]
			out.conflicts += counts[conflicted]
			out.fails += counts[failed]
			if out.firstError == "" {
				out.firstError = firstFail
			}
		}()
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	return out
}

// measureHTTP measures every HTTP operation named in s.ops, each GraphQL
// one with a baseline followed by that baseline.
func measureHTTP(ctx context.Context, env *environment, s *settings, rep *report, progress func(string, ...any)) error {
	client := newClient(s)
	defer client.CloseIdleConnections()
	ops, err := operations(ctx, env, client)
	if err != nil {
		return err
	}
	for _, name := range s.ops {
		op, ok := ops[name]
		if !ok {
			continue // not an HTTP operation
		}
		names := []string{name}
		if op.baseline != "" {
			names = append(names, op.baseline)
		}
		for _, n := range names {
			res, err := measureOperation(ctx, env, client, ops[n], s)
			if err != nil {
				return err
			}
			progress("%-13s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %.2f statements/req", n, res.RPS, res.Latency.P50, res.Latency.P99, res.StatementsPerRequest)
			rep.Ops = append(rep.Ops, res)
		}
	}
	return ctx.Err()
}

// measureOperation checks one answer, warms up, then measures op.
func measureOperation(ctx context.Context, env *environment, client *http.Client, op *operation, s *settings) (*opResult, error) {
	auth := ""
	if op.token != "" {
		auth = "Bearer " + op.token
	}
	status, raw, err := post(ctx, client, op.url, auth, op.body(rand.New(rand.NewPCG(1, 2)), nil), nil)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("HTTP %d", status)
	}
	if err == nil && op.check != nil {
		err = op.check(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: the sample request failed: %v\n%.500s", op.name, err, raw)
	}
	if s.warmup > 0 {
		drive(ctx, client, op, s.concurrency, s.warmup)
	}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	statements := env.tally.all.Load()
	stopProfile, err := startProfile(s.cpuProfile, op.name)
	if err != nil {
		return nil, err
	}
	stopSampling := sampleWaits(ctx, env)
	cpu, busy := processCPU(), machineBusy()
	r := drive(ctx, client, op, s.concurrency, s.duration)
	cpu, busy = processCPU()-cpu, machineBusy()-busy
	waits := stopSampling()
	stopProfile()
	statements = env.tally.all.Load() - statements
	runtime.ReadMemStats(&after)

	n := r.ok + r.conflicts + r.fails
	if n == 0 {
		return nil, fmt.Errorf("%s: no request completed", op.name)
	}
	res := &opResult{
		Name: op.name, Concurrency: s.concurrency, Seconds: r.elapsed.Seconds(),
		Requests: n, Conflicts: r.conflicts, Errors: r.fails, FirstError: r.firstError,
		RPS:                  float64(n) / r.elapsed.Seconds(),
		Latency:              summarize(r.latencies),
		StatementsPerRequest: float64(statements) / float64(n),
		AllocsPerRequest:     float64(after.Mallocs-before.Mallocs) / float64(n),
		BytesPerRequest:      float64(after.TotalAlloc-before.TotalAlloc) / float64(n),
		GCCycles:             after.NumGC - before.NumGC,
		ProcessCPUms:         ms(cpu) / float64(n),
		MachineCPUms:         ms(busy) / float64(n),
		DB:                   waits,
		baseline:             op.baseline,
	}
	if op.relations >= 0 {
		budget := 1 + op.relations
		res.StatementBudget = &budget
	}
	if res.Latency.P50 > 0 {
		res.P99OverP50 = res.Latency.P99 / res.Latency.P50
	}
	return res, nil
}

// profilePath inserts what before path's extension.
func profilePath(path, what string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + what + ext
}

// startProfile starts a CPU profile for op when path is set.
func startProfile(path, op string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(profilePath(path, op))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// writeHeapProfile writes a heap profile (after GC) when path is set.
func writeHeapProfile(path, what string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(profilePath(path, what))
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.WriteHeapProfile(f)
}

// latency is a distribution summary in milliseconds.
type latency struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p99_9_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// summarize sorts ds and reads its percentiles (nearest rank).
func summarize(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		i := int(p*float64(len(ds))+0.5) - 1
		return ms(ds[min(max(i, 0), len(ds)-1)])
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return latency{P50: at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999), Max: ms(ds[len(ds)-1]), Mean: ms(sum / time.Duration(len(ds)))}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// expectPath checks that an answer has no errors and a non-null value at
// data.path.
func expectPath(path ...string) func([]byte) error {
	return func(body []byte) error {
		v, err := dataOf(body)
		if err != nil {
			return err
		}
		for _, p := range path {
			m, _ := v.(map[string]any)
			if v = m[p]; v == nil {
				return fmt.Errorf("no data.%s", strings.Join(path, "."))
			}
		}
		return nil
	}
}

// expectNodes checks that data.field.nodes has 1 to n entries (a small
// seed may give a dealer fewer than a page).
func expectNodes(field string, n int) func([]byte) error {
	return func(body []byte) error {
		v, err := dataOf(body)
		if err != nil {
			return err
		}
		m, _ := v.(map[string]any)
		conn, _ := m[field].(map[string]any)
		if nodes, _ := conn["nodes"].([]any); len(nodes) == 0 || len(nodes) > n {
			return fmt.Errorf("data.%s.nodes has %d entries, want 1 to %d", field, len(nodes), n)
		}
		return nil
	}
}

func dataOf(body []byte) (any, error) {
	var out struct {
		Data   any `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	if len(out.Errors) > 0 {
		return nil, fmt.Errorf("error: %s", out.Errors[0].Message)
	}
	return out.Data, nil
}
