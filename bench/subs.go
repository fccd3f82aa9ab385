package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/carlot/carlot/internal/gqlws"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/models"
)

// Subscription load. The subscribers live in a child process (this binary
// again, with clientRoleEnv set): with N client and N server sockets in one
// process, the server's memory per subscription could not be told apart
// from the clients', and one process would need 2N file descriptors. The
// parent measures its own heap and RSS before and after the child
// connects, so the growth is the server's alone; the child reports what its
// clients cost as a cross-check. Then the child makes one change and times
// its delivery to every subscriber against the moment the mutation's HTTP
// answer arrived, all on its own clock.

// clientRoleEnv marks the child process.
const clientRoleEnv = "CARLOT_BENCH_SUBSCRIBER_CLIENTS"

// dialParallelism bounds how many websocket handshakes are in flight at once.
const dialParallelism = 64

// subscriptionQuery is what every subscriber asks for: each change with the
// vehicle as it is now and its catalog relations (read once per event for
// everyone, through the broker's shared catalog).
const subscriptionQuery = `subscription Watch { vehicleEvents { sequence kind vehicleId vehicle { ` + vehicleFields + ` version } } }`

// changesPerRun is how many changes each subscriber run makes, one after
// the other: the first finds the catalog rows of its vehicle cold (unless an
// earlier change loaded them within the shared catalog's lifetime), the
// second finds them warm, so its statement count shows what every event
// costs whatever the cache holds.
const changesPerRun = 2

// clientJob is what the parent sends the child, as one JSON line.
type clientJob struct {
	URL         string   `json:"url"`
	Subscribers int      `json:"subscribers"`
	Mutations   []string `json:"mutations"` // request bodies, one per change
	Auth        string   `json:"auth"`
	RequestID   string   `json:"request_id"`
}

// clientReport is what the child answers, one JSON line per step: first
// the connection, then each change's delivery.
type clientReport struct {
	Connected      int     `json:"connected"`
	Failed         int     `json:"failed"`
	FirstError     string  `json:"first_error,omitempty"`
	ConnectSeconds float64 `json:"connect_seconds"`
	// The clients' own memory (heap and stacks in use growth, after GC) per connection.
	ClientBytesPerConn float64 `json:"client_bytes_per_conn"`

	Delivered     int     `json:"delivered"`
	MutationMs    float64 `json:"mutation_ms"`
	MutationError string  `json:"mutation_error,omitempty"`
	Latency       latency `json:"latency"`
	EarliestMs    float64 `json:"earliest_ms"` // may be negative: delivered before the HTTP answer arrived
}

// subsResult is one subscriber run.
type subsResult struct {
	Subscribers    int     `json:"subscribers"`
	Connected      int     `json:"connected"`
	Failed         int     `json:"failed"`
	FirstError     string  `json:"first_error,omitempty"`
	ConnectSeconds float64 `json:"connect_seconds"`
	// Server memory per idle subscription: growth of the Go heap in use,
	// of goroutine stacks, and of the resident set, divided by the number
	// connected, after GC.
	HeapKiBPerSub   float64 `json:"heap_kib_per_sub"`
	StackKiBPerSub  float64 `json:"stack_kib_per_sub"`
	GoKiBPerSub     float64 `json:"go_kib_per_sub"` // heap + stacks
	RSSKiBPerSub    float64 `json:"rss_kib_per_sub"`
	ClientKiBPerSub float64 `json:"client_kib_per_sub"` // the child's, for comparison
	// GoroutinesPerSub is the server's goroutine count growth per subscription.
	GoroutinesPerSub float64         `json:"goroutines_per_sub"`
	Changes          []*changeResult `json:"changes"`
}

// changeResult is one change's fan-out.
type changeResult struct {
	Delivered int `json:"delivered"`
	// Latency is from the mutation's HTTP answer to each subscriber's read.
	Latency    latency `json:"latency"`
	EarliestMs float64 `json:"earliest_ms"`
	// Statements run by the broker and the subscriptions for the change,
	// and by the mutation itself.
	Statements         int64   `json:"statements"`
	MutationStatements int64   `json:"mutation_statements"`
	MutationMs         float64 `json:"mutation_ms"`
}

// measureSubscriptions measures 10 subscribers (for the statement count
// to compare with) and then s.subscribers.
func measureSubscriptions(ctx context.Context, env *environment, s *settings, rep *report, progress func(string, ...any)) error {
	// The server's end of every subscriber's socket, plus the pool.
	if err := raiseOpenFileLimit(s.subscribers + 200); err != nil {
		return err
	}
	client := newClient(s)
	defer client.CloseIdleConnections()
	token, err := login(ctx, client, env.graphqlURL, seed.AdminEmail, env.password)
	if err != nil {
		return err
	}
	sizes := []int{s.subscribers}
	if s.subscribers > 10 {
		sizes = []int{10, s.subscribers}
	}
	for _, n := range sizes {
		res, err := measureSubscribers(ctx, env, s, n, token, progress)
		if err != nil {
			return fmt.Errorf("%d subscribers: %w", n, err)
		}
		first := res.Changes[0]
		progress("%d subscribers: %.1f KiB/sub (Go heap+stacks), delivery p50 %.1f ms p99 %.1f ms, statements per change %d then %d",
			res.Connected, res.GoKiBPerSub, first.Latency.P50, first.Latency.P99, first.Statements, res.Changes[len(res.Changes)-1].Statements)
		rep.Subscriptions = append(rep.Subscriptions, res)
	}
	return nil
}

// measureSubscribers runs one child with n subscribers.
func measureSubscribers(ctx context.Context, env *environment, s *settings, n int, token string, progress func(string, ...any)) (*subsResult, error) {
	var target struct {
		ID      int64 `bun:"id"`
		Version int64 `bun:"version"`
	}
	if err := env.db.NewRaw("SELECT id, version FROM vehicles ORDER BY random() LIMIT 1").Scan(ctx, &target); err != nil {
		return nil, err
	}
	job := clientJob{URL: env.graphqlURL, Subscribers: n, Auth: "Bearer " + token, RequestID: "bench-change-" + randomHex(6)}
	for i := range changesPerRun {
		body, _ := json.Marshal(map[string]any{
			"query": writeQuery,
			"variables": map[string]any{
				"id": relay.NodeID(models.TypeVehicle, target.ID), "price": 1_234_500 + i, "version": target.Version + int64(i),
			},
		})
		job.Mutations = append(job.Mutations, string(body))
	}

	before := memoryNow()
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), clientRoleEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		_ = stdin.Close()
		_ = cmd.Wait()
		waitFor(ctx, time.Minute, func() bool { return env.api.LiveSubscribers() == 0 })
	}()
	replies := bufio.NewScanner(stdout)
	replies.Buffer(nil, 1<<20)
	send := func(v any) error {
		b, _ := json.Marshal(v)
		_, err := stdin.Write(append(b, '\n'))
		return err
	}
	var connected clientReport
	if err := send(job); err != nil {
		return nil, err
	}
	progress("connecting %d subscribers from a child process", n)
	if err := readReply(replies, &connected); err != nil {
		return nil, err
	}
	if connected.Connected == 0 {
		return nil, fmt.Errorf("no subscriber connected: %s", connected.FirstError)
	}
	if !waitFor(ctx, time.Minute, func() bool { return env.api.LiveSubscribers() >= connected.Connected }) {
		return nil, fmt.Errorf("the server feeds %d subscriptions, want %d", env.api.LiveSubscribers(), connected.Connected)
	}
	time.Sleep(2 * time.Second) // idle: let the handshakes' garbage and buffers settle
	after := memoryNow()
	profile := fmt.Sprintf("subs%d", n)
	if err := writeHeapProfile(s.memProfile, profile); err != nil {
		return nil, err
	}
	per := func(grow uint64) float64 { return float64(grow) / 1024 / float64(connected.Connected) }
	res := &subsResult{
		Subscribers: n, Connected: connected.Connected, Failed: connected.Failed, FirstError: connected.FirstError,
		ConnectSeconds:   connected.ConnectSeconds,
		HeapKiBPerSub:    per(sub(after.heap, before.heap)),
		StackKiBPerSub:   per(sub(after.stacks, before.stacks)),
		GoKiBPerSub:      per(sub(after.heap+after.stacks, before.heap+before.stacks)),
		RSSKiBPerSub:     per(sub(after.rss, before.rss)),
		ClientKiBPerSub:  connected.ClientBytesPerConn / 1024,
		GoroutinesPerSub: float64(int64(after.goroutines)-int64(before.goroutines)) / float64(connected.Connected),
	}

	stopProfile, err := startProfile(s.cpuProfile, profile)
	if err != nil {
		return nil, err
	}
	defer stopProfile()
	env.tally.exclude.Store(&job.RequestID)
	defer env.tally.exclude.Store(nil)
	for range changesPerRun {
		all, mutation := env.tally.all.Load(), env.tally.excluded.Load()
		if err := send("go"); err != nil {
			return nil, err
		}
		var delivered clientReport
		if err := readReply(replies, &delivered); err != nil {
			return nil, err
		}
		if delivered.MutationError != "" {
			return nil, fmt.Errorf("the change failed: %s", delivered.MutationError)
		}
		time.Sleep(200 * time.Millisecond) // statements still finishing
		all, mutation = env.tally.all.Load()-all, env.tally.excluded.Load()-mutation
		res.Changes = append(res.Changes, &changeResult{
			Delivered: delivered.Delivered, Latency: delivered.Latency, EarliestMs: delivered.EarliestMs,
			Statements: all - mutation, MutationStatements: mutation, MutationMs: delivered.MutationMs,
		})
	}
	return res, nil
}

func readReply(s *bufio.Scanner, into *clientReport) error {
	if !s.Scan() {
		if err := s.Err(); err != nil {
			return err
		}
		return errors.New("the subscriber process exited early (see its output above)")
	}
	return json.Unmarshal(s.Bytes(), into)
}

// waitFor polls cond every 20ms until it holds or limit passes.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if ctx.Err() != nil || time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// memory is this process's memory in use after a full collection, and its
// goroutines.
type memory struct{ heap, stacks, rss, goroutines uint64 }

func memoryNow() memory {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memory{heap: m.HeapInuse, stacks: m.StackInuse, rss: residentBytes(), goroutines: uint64(runtime.NumGoroutine())}
}

// residentBytes reads VmRSS from /proc/self/status (0 where there is none).
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kib * 1024
		}
	}
	return 0
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// raiseOpenFileLimit lifts the soft RLIMIT_NOFILE to the hard limit and
// reports whether want descriptors fit.
func raiseOpenFileLimit(want int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if uint64(want) > lim.Cur {
		return fmt.Errorf("%d connections need more open files than RLIMIT_NOFILE allows (%d); raise the hard limit (ulimit -Hn)", want, lim.Cur)
	}
	return nil
}

// runSubscriberClients is the child process: it reads a clientJob, connects
// the subscribers, reports, and then for each "go" line makes the next
// change and reports its delivery. It hangs up when its input ends.
func runSubscriberClients(ctx context.Context, in io.Reader, out io.Writer) error {
	lines := bufio.NewScanner(in)
	lines.Buffer(nil, 1<<20)
	var job clientJob
	if !lines.Scan() {
		return errors.New("no job on standard input")
	}
	if err := json.Unmarshal(lines.Bytes(), &job); err != nil {
		return err
	}
	reply := func(r *clientReport) error {
		b, _ := json.Marshal(r)
		_, err := out.Write(append(b, '\n'))
		return err
	}
	if err := raiseOpenFileLimit(job.Subscribers + 100); err != nil {
		return err
	}

	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	var (
		base  = time.Now()
		conns = make([]*gqlws.Conn, job.Subscribers)
		// arrivals[k][i] is when subscriber i read event k, in nanoseconds
		// after base (0: not yet); delivered[k] counts those that did.
		arrivals  = make([][]atomic.Int64, len(job.Mutations))
		delivered = make([]atomic.Int64, len(job.Mutations))
		failed    atomic.Int64
		firstErr  atomic.Pointer[string]
		next      atomic.Int64
		wg        sync.WaitGroup
	)
	for k := range arrivals {
		arrivals[k] = make([]atomic.Int64, job.Subscribers)
	}
	// Each connection's reader notes when each event arrives, and keeps
	// reading (answering pings) until the end.
	read := func(i int, c *gqlws.Conn) {
		for k := 0; ; {
			m, err := c.Next(readCtx)
			if err != nil {
				return
			}
			if m.Type == "next" && k < len(arrivals) {
				arrivals[k][i].Store(int64(time.Since(base)))
				delivered[k].Add(1)
				k++
			}
		}
	}
	before := clientMemory()
	start := time.Now()
	for range min(dialParallelism, job.Subscribers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < job.Subscribers; i = int(next.Add(1) - 1) {
				c, err := subscribe(ctx, job.URL)
				if err != nil {
					failed.Add(1)
					msg := err.Error()
					firstErr.CompareAndSwap(nil, &msg)
					continue
				}
				conns[i] = c
				go read(i, c)
			}
		}()
	}
	wg.Wait()
	connected := job.Subscribers - int(failed.Load())
	report := &clientReport{Connected: connected, Failed: int(failed.Load()), ConnectSeconds: time.Since(start).Seconds()}
	if p := firstErr.Load(); p != nil {
		report.FirstError = *p
	}
	if connected > 0 {
		report.ClientBytesPerConn = float64(sub(clientMemory(), before)) / float64(connected)
	}
	if err := reply(report); err != nil {
		return err
	}

	for k, mutation := range job.Mutations {
		if !lines.Scan() {
			return lines.Err()
		}
		report := &clientReport{}
		sent, answered, err := change(ctx, job, mutation, base)
		report.MutationMs = ms(answered - sent)
		if err != nil {
			report.MutationError = err.Error()
		} else {
			waitFor(ctx, 30*time.Second, func() bool { return delivered[k].Load() >= int64(connected) })
			var latencies []time.Duration
			for i := range arrivals[k] {
				if at := arrivals[k][i].Load(); at != 0 {
					latencies = append(latencies, time.Duration(at)-answered)
				}
			}
			report.Delivered = len(latencies)
			report.Latency = summarize(latencies)
			if len(latencies) > 0 {
				report.EarliestMs = ms(latencies[0])
			}
		}
		if err := reply(report); err != nil {
			return err
		}
	}

	// End of input: hang up.
	for lines.Scan() {
	}
	stopReading()
	for _, c := range conns {
		if c != nil {
			c.CloseNow()
		}
	}
	return nil
}

// subscribe opens one connection and starts the subscription on it.
func subscribe(ctx context.Context, url string) (*gqlws.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := gqlws.Dial(ctx, url, gqlws.Options{})
	if err != nil {
		return nil, err
	}
	if err := c.Subscribe(ctx, "1", subscriptionQuery, nil); err != nil {
		c.CloseNow()
		return nil, err
	}
	return c, nil
}

// change posts one mutation as job's user, under job's request id, and
// returns when it was sent and when its answer had been read (the commit
// as the client sees it), after base.
func change(ctx context.Context, job clientJob, body string, base time.Time) (sent, answered time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.URL, strings.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", job.Auth)
	req.Header.Set("X-Request-ID", job.RequestID)
	var answer bytes.Buffer
	status := 0
	sent = time.Since(base)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		status = resp.StatusCode
		_, err = answer.ReadFrom(resp.Body)
		resp.Body.Close()
	}
	answered = time.Since(base)
	if classify(status, answer.Bytes(), err) != succeeded {
		return sent, answered, fmt.Errorf("HTTP %d %v %.300s", status, err, answer.String())
	}
	return sent, answered, nil
}

func clientMemory() uint64 {
	m := memoryNow()
	return m.heap + m.stacks
}
