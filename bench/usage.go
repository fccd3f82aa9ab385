package main

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/carlot/carlot/internal/database"
)

// Where the time goes, without a profiler: CPU time of this process and of
// the whole machine, and what PostgreSQL's busy backends are waiting on.

// processCPU returns this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
	return time.Duration(busy) * 10 * time.Millisecond // USER_HZ is 100 on Linux
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
