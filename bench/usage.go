package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/carlot/carlot/internal/database"
	"github.com/uptrace/bun"
)

// Where the time goes, without a profiler: CPU time of the server's process,
// of PostgreSQL's and of the whole machine, the statements PostgreSQL ran,
// and what its busy backends are waiting on.

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// processCPU returns this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStat is what /proc/<pid>/stat says about a process's CPU time.
type procStat struct {
	ppid int
	// cpu is the process's own user + system time; children is that of
	// its children it has waited for (cutime + cstime).
	cpu, children time.Duration
}

// readProcStat reads /proc/<pid>/stat.
func readProcStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	// pid (comm) state ppid … utime stime cutime cstime …: comm may hold
	// spaces and parentheses, so count fields after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return procStat{}, false
	}
	n := func(k int) int64 { v, _ := strconv.ParseInt(f[k], 10, 64); return v }
	return procStat{
		ppid:     int(n(1)),
		cpu:      time.Duration(n(11)+n(12)) * clockTick,
		children: time.Duration(n(13)+n(14)) * clockTick,
	}, true
}

// pidCPU returns a process's user and system CPU time so far (0 if gone).
func pidCPU(pid int) time.Duration {
	st, _ := readProcStat(pid)
	return st.cpu
}

// postgresCPU returns the CPU time of a whole PostgreSQL cluster so far: the
// postmaster's, every process whose parent it is (client backends,
// background workers, checkpointer, …), and the children it has already
// reaped (so a backend that exits between two readings still counts once).
func postgresCPU(postmaster int) time.Duration {
	pm, ok := readProcStat(postmaster)
	if !ok {
		return 0
	}
	total := pm.cpu + pm.children
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == postmaster {
			continue
		}
		if st, ok := readProcStat(pid); ok && st.ppid == postmaster {
			total += st.cpu
		}
	}
	return total
}

// findPostmaster returns the PID of the postmaster that serves db, if it
// runs on this machine (its backend is then a "postgres" process here whose
// parent is also one), else 0.
func findPostmaster(ctx context.Context, db *bun.DB) int {
	var backend int
	if db.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &backend) != nil {
		return 0
	}
	isPostgres := func(pid int) bool {
		comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		return err == nil && strings.TrimSpace(string(comm)) == "postgres"
	}
	st, ok := readProcStat(backend)
	if !ok || !isPostgres(backend) || !isPostgres(st.ppid) {
		return 0
	}
	return st.ppid
}

// statementCalls is one normalised statement and how often it ran.
type statementCalls struct {
	Query string `json:"query"`
	Calls int64  `json:"calls"`
}

// resetStatements clears pg_stat_statements (for every database: the
// scratch one is the only one under load).
func resetStatements(ctx context.Context, db *bun.DB) error {
	_, err := db.ExecContext(ctx, "SELECT pg_stat_statements_reset()")
	return err
}

// statementsRun returns the statements PostgreSQL has run in the scratch
// database since resetStatements, most frequent first, leaving out the
// bench's own reads of the statistics views (the sampler's and this one).
func statementsRun(ctx context.Context, db *bun.DB) ([]statementCalls, error) {
	var out []statementCalls
	err := db.NewRaw(`SELECT regexp_replace(query, '\s+', ' ', 'g') AS query, sum(calls)::bigint AS calls
		FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND query NOT LIKE '%pg_stat_%'
		GROUP BY 1 ORDER BY 2 DESC, 1`).Scan(ctx, &out)
	return out, err
}

// metricsSample is the counters read from a server's GET /metrics.
type metricsSample map[string]float64

// scrapeMetrics reads the unlabelled samples of Prometheus' text format
// from url.
func scrapeMetrics(ctx context.Context, url string) (metricsSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	out := metricsSample{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// machineBusy returns the CPU time all cores have spent not idle, from
// /proc/stat (0 where there is none).
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, f := range fields[1:9] {
		n, _ := strconv.ParseInt(f, 10, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return time.Duration(busy) * clockTick
}

// dbWaits summarises pg_stat_activity samples of the scratch database's
// active backends: how many on average, and the commonest wait events
// ("CPU" when a backend waits on nothing, i.e. runs or is runnable).
type dbWaits struct {
	Samples        int         `json:"samples"`
	ActiveBackends float64     `json:"active_backends"`
	Top            []waitShare `json:"top"`
}

type waitShare struct {
	Event string  `json:"event"`
	Share float64 `json:"share"`
}

// sampleWaits samples pg_stat_activity every 50ms on a connection of its
// own (outside the statement count) until the returned function is called.
func sampleWaits(ctx context.Context, env *environment) (stop func() *dbWaits) {
	db, err := database.Open(env.databaseURL, database.Options{MaxOpenConns: 1, ApplicationName: "carlot-bench-sampler"})
	if err != nil {
		return func() *dbWaits { return nil }
	}
	ctx, cancel := context.WithCancel(ctx)
	var (
		wg     sync.WaitGroup
		counts = map[string]int{}
		out    = &dbWaits{}
		total  int
	)
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var rows []struct {
				Event string `bun:"event"`
				N     int    `bun:"n"`
			}
			err := db.NewRaw(`SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS event, count(*) AS n
				FROM pg_stat_activity
				WHERE datname = current_database() AND state = 'active' AND backend_type = 'client backend'
					AND pid <> pg_backend_pid() AND application_name <> 'carlot-bench-sampler'
				GROUP BY 1`).Scan(ctx, &rows)
			if err == nil {
				out.Samples++
				for _, r := range rows {
					counts[r.Event] += r.N
					total += r.N
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return func() *dbWaits {
		cancel()
		wg.Wait()
		_ = db.Close()
		if out.Samples == 0 {
			return nil
		}
		out.ActiveBackends = float64(total) / float64(out.Samples)
		for e, n := range counts {
			out.Top = append(out.Top, waitShare{Event: e, Share: float64(n) / float64(total)})
		}
		slices.SortFunc(out.Top, func(a, b waitShare) int {
			if a.Share > b.Share {
				return -1
			}
			if a.Share < b.Share {
				return 1
			}
			return strings.Compare(a.Event, b.Event)
		})
		out.Top = out.Top[:min(len(out.Top), 4)]
		return out
	}
}
