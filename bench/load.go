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
	"unicode/utf8"
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

// loadResult is one run of a load generator, whichever it was.
type loadResult struct {
	requests, conflicts, fails int64
	elapsed                    time.Duration
	latency                    latency
	firstError                 string
	// generatorCPU is the load generator's CPU time over the run.
	generatorCPU time.Duration
}

// generate runs op's load for d from the generator s.load names.
func generate(ctx context.Context, s *settings, client *http.Client, op *operation, d time.Duration) (*loadResult, error) {
	if s.load == "go" {
		cpu := processCPU()
		r := drive(ctx, client, op, s.concurrency, d)
		return &loadResult{
			requests: r.ok + r.conflicts + r.fails, conflicts: r.conflicts, fails: r.fails, elapsed: r.elapsed,
			latency: summarize(r.latencies), firstError: r.firstError, generatorCPU: processCPU() - cpu,
		}, nil
	}
	var bodies [][]byte
	if op.bodies != nil {
		var err error
		if bodies, err = op.bodies(ctx, wrkBodies*10); err != nil {
			return nil, err
		}
	} else {
		r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		for range wrkBodies {
			bodies = append(bodies, op.body(r, nil))
		}
	}
	dir, err := os.MkdirTemp("", "carlot-bench-wrk-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	auth := ""
	if op.token != "" {
		auth = "Bearer " + op.token
	}
	return runWrk(ctx, dir, op.url, auth, bodies, s.concurrency, d)
}

// wrkBodies is how many request bodies wrk sends in turn (random targets);
// writes get ten times as many, each vehicle once.
const wrkBodies = 10_000

// httpOps lists the HTTP operations of s.ops.
func httpOps(s *settings) []string {
	var out []string
	for _, name := range s.ops {
		if name != "subs" {
			out = append(out, name)
		}
	}
	return out
}

// measureHTTP measures every HTTP operation named in s.ops against Carlot
// running as a child process, then stops it and measures the ceiling's
// lookup and page (those of them named) against the ceiling, also a child.
// Only one server runs while one is measured. Each ceiling operation is
// reported right after the operation it is the ceiling of.
func measureHTTP(ctx context.Context, env *environment, s *settings, rep *report, progress func(string, ...any)) error {
	names := httpOps(s)
	if len(names) == 0 {
		return nil
	}
	client := newClient(s)
	defer client.CloseIdleConnections()
	catalog, err := sampleCatalog(ctx, env)
	if err != nil {
		return err
	}
	var (
		results []*opResult
		ops     map[string]*operation
	)
	measureAll := func(target *child, names []string) error {
		for _, name := range names {
			res, err := measureOperation(ctx, env, s, client, target, ops[name])
			if err != nil {
				return err
			}
			pg := "n/a"
			if res.PostgresCPUms != nil {
				pg = fmt.Sprintf("%.3f", *res.PostgresCPUms)
			}
			progress("%-14s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  server %.3f ms/req  PostgreSQL %s ms/req  %s statements/req",
				name, res.RPS, res.Latency.P50, res.Latency.P99, res.ServerCPUms, pg, formatStatements(res.StatementsPerRequest))
			results = append(results, res)
		}
		return ctx.Err()
	}

	progress("measuring Carlot (a child process, production mode) with load from %s", s.load)
	carlot, err := env.startCarlot(ctx)
	if err != nil {
		return err
	}
	ops, err = operations(ctx, env, catalog, client, carlot.graphqlURL()) // logs in to Carlot for the writes
	if err == nil {
		err = measureAll(carlot, names)
	}
	carlot.stop()
	if err != nil {
		return err
	}
	var ceilings []string
	for _, name := range names {
		if ops[name].ceiling != "" {
			ceilings = append(ceilings, ops[name].ceiling)
		}
	}
	if len(ceilings) > 0 {
		progress("measuring the ceiling (a child process: net/http, pgxpool, one JOIN, encoding/json)")
		ceiling, err := env.startCeiling(ctx)
		if err != nil {
			return err
		}
		for _, name := range ceilings {
			ops[name].url = ceiling.graphqlURL()
		}
		err = measureAll(ceiling, ceilings)
		ceiling.stop()
		if err != nil {
			return err
		}
	}
	// Each ceiling row after the row it is the ceiling of.
	for _, r := range results {
		if strings.HasPrefix(r.Name, "ceiling-") {
			continue
		}
		rep.Ops = append(rep.Ops, r)
		for _, c := range results {
			if c.Name == "ceiling-"+r.Name {
				rep.Ops = append(rep.Ops, c)
			}
		}
	}
	return nil
}

// measureOperation checks one answer, warms up, then measures op against
// target, reading the target's and PostgreSQL's counters around the run.
func measureOperation(ctx context.Context, env *environment, s *settings, client *http.Client, target *child, op *operation) (*opResult, error) {
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
	if op.answered != nil {
		op.answered(raw)
	}
	if s.warmup > 0 {
		if _, err := generate(ctx, s, client, op, s.warmup); err != nil {
			return nil, err
		}
	}

	before, err := readCounters(ctx, env, target, false)
	if err != nil {
		return nil, err
	}
	stopSampling := sampleWaits(ctx, env)
	r, err := generate(ctx, s, client, op, s.duration)
	waits := stopSampling()
	if err != nil {
		return nil, err
	}
	after, err := readCounters(ctx, env, target, true)
	if err != nil {
		return nil, err
	}

	n := r.requests
	if n == 0 {
		return nil, fmt.Errorf("%s: no request completed", op.name)
	}
	// The server's figures are divided by the requests it counted itself
	// (its /metrics), which include the few in flight when the generator
	// stopped (executed, not counted by the generator); without that
	// count, by the requests the generator completed.
	delta := func(name string) float64 { return after.metrics[name] - before.metrics[name] }
	served := delta("carlot_graphql_request_sql_statements_count")
	if served <= 0 {
		served = float64(n)
	}
	perServed := func(d time.Duration) float64 { return ms(d) / served }
	perReq := func(d time.Duration) float64 { return ms(d) / float64(n) }
	res := &opResult{
		Name: op.name, Generator: s.load, Concurrency: s.concurrency, Seconds: r.elapsed.Seconds(),
		Requests: n, Served: int64(served), Conflicts: r.conflicts, Errors: r.fails, FirstError: r.firstError,
		RPS:              float64(n) / r.elapsed.Seconds(),
		Latency:          r.latency,
		ServerCPUms:      perServed(after.server - before.server),
		GeneratorCPUms:   perReq(r.generatorCPU),
		MachineCPUms:     perReq(after.machine - before.machine),
		AllocsPerRequest: delta("go_memstats_mallocs_total") / served,
		BytesPerRequest:  delta("go_memstats_alloc_bytes_total") / served,
		GCCycles:         uint32(delta("go_gc_duration_seconds_count")),
		DB:               waits,
		ceiling:          op.ceiling,
	}
	if env.postmaster != 0 {
		v := perServed(after.postgres - before.postgres)
		res.PostgresCPUms = &v
	}
	if counted := delta("carlot_graphql_request_sql_statements_count"); counted > 0 {
		v := delta("carlot_graphql_request_sql_statements_sum") / counted
		res.ServerStatementsPerRequest = &v
	}
	if env.statStatements {
		var total int64
		for i, st := range after.statements {
			total += st.Calls
			if i < 8 {
				res.Statements = append(res.Statements, statementShare{
					Query: truncate(st.Query, 200), PerRequest: float64(st.Calls) / served})
			}
		}
		v := float64(total) / served
		res.StatementsPerRequest, res.StatementsSource = &v, "pg_stat_statements"
	} else if res.ServerStatementsPerRequest != nil {
		res.StatementsPerRequest, res.StatementsSource = res.ServerStatementsPerRequest, "server /metrics"
	}
	if op.statements >= 0 {
		budget := op.statements
		res.StatementBudget = &budget
	}
	if res.Latency.P50 > 0 {
		res.P99OverP50 = res.Latency.P99 / res.Latency.P50
	}
	return res, nil
}

// counters are what measureOperation reads before and after a run.
type counters struct {
	server, postgres, machine time.Duration
	statements                []statementCalls // after a run only
	metrics                   metricsSample
}

// readCounters reads the target's /metrics, pg_stat_statements and the CPU
// times; the CPU times last before a run and first after it, so that
// reading the counters costs nothing inside the window.
func readCounters(ctx context.Context, env *environment, target *child, after bool) (*counters, error) {
	c := &counters{}
	cpu := func() {
		c.server, c.machine = pidCPU(target.pid()), machineBusy()
		if env.postmaster != 0 {
			c.postgres = postgresCPU(env.postmaster)
		}
	}
	if after {
		cpu()
	}
	var err error
	if c.metrics, err = scrapeMetrics(ctx, target.metricsURL()); err != nil {
		return nil, err
	}
	switch {
	case env.statStatements && after:
		c.statements, err = statementsRun(ctx, env.db)
	case env.statStatements:
		err = resetStatements(ctx, env.db)
	}
	if err != nil {
		return nil, err
	}
	if !after {
		cpu()
	}
	return c, nil
}

// truncate shortens s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// formatStatements prints a statements-per-request figure, or n/a.
func formatStatements(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", *v)
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
