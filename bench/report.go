package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is everything a run measured; it is written as JSON.
type report struct {
	Started  time.Time `json:"started"`
	Command  string    `json:"command"`
	Machine  machine   `json:"machine"`
	Settings struct {
		Vehicles    int      `json:"vehicles"`
		Concurrency int      `json:"concurrency"`
		Duration    string   `json:"duration"`
		Warmup      string   `json:"warmup"`
		Ops         []string `json:"ops"`
		Subscribers int      `json:"subscribers"`
		Gzip        bool     `json:"gzip"`
		Database    string   `json:"database"`
		// Load is the load generator: wrk, or go (this process).
		Load string `json:"load"`
	} `json:"settings"`
	Seed seedResult  `json:"seed"`
	Ops  []*opResult `json:"operations"`
	// PageSizeScaling is p50 of first: 100 over p50 of first: 10.
	PageSizeScaling *float64      `json:"page_size_scaling,omitempty"`
	Subscriptions   []*subsResult `json:"subscriptions,omitempty"`
	Budgets         []budget      `json:"budgets"`
}

// machine describes where the numbers come from.
type machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	MemoryGiB  int    `json:"memory_gib"`
	Go         string `json:"go"`
	OS         string `json:"os"`
	PostgreSQL string `json:"postgresql"`
}

// opResult is one operation's measurement.
type opResult struct {
	Name string `json:"name"`
	// Generator is the load generator: wrk, or go (the bench process).
	Generator   string  `json:"generator"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	// Requests counts every completed request, conflicts and errors included.
	Requests int64 `json:"requests"`
	// Served is how many the server counted (its /metrics): the requests
	// completed plus those in flight when the generator stopped. The
	// server's and PostgreSQL's figures per request are over Served.
	Served     int64   `json:"served"`
	Conflicts  int64   `json:"conflicts"`
	Errors     int64   `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	RPS        float64 `json:"rps"`
	Latency    latency `json:"latency"`
	P99OverP50 float64 `json:"p99_over_p50"`
	// StatementsPerRequest is every statement PostgreSQL ran in the scratch
	// database during the window (BEGIN and COMMIT included) over the
	// requests completed, from pg_stat_statements; where that is not
	// loaded, the server's own count (ServerStatementsPerRequest).
	StatementsPerRequest *float64 `json:"statements_per_request"`
	StatementsSource     string   `json:"statements_source,omitempty"`
	// Statements are the most frequent of them (normalised by
	// pg_stat_statements), with how many times each ran per request.
	Statements []statementShare `json:"statements,omitempty"`
	// ServerStatementsPerRequest is the server's own count, from its
	// carlot_graphql_request_sql_statements histogram (_sum ÷ _count).
	ServerStatementsPerRequest *float64 `json:"server_statements_per_request"`
	StatementBudget            *int     `json:"statement_budget,omitempty"`
	// AllocsPerRequest and BytesPerRequest are the server process's
	// (go_memstats_mallocs_total and go_memstats_alloc_bytes_total of its
	// /metrics) over the requests completed.
	AllocsPerRequest float64 `json:"allocs_per_request"`
	BytesPerRequest  float64 `json:"bytes_per_request"`
	GCCycles         uint32  `json:"gc_cycles"`
	// ServerCPUms is the server process's user + system CPU time
	// (/proc/<pid>/stat) per request; PostgresCPUms the cluster's (the
	// postmaster and every process it started, see postgresCPU), null when
	// PostgreSQL does not run on this machine; GeneratorCPUms the load
	// generator's; MachineCPUms all cores' busy time, everything included.
	ServerCPUms    float64  `json:"server_cpu_ms_per_request"`
	PostgresCPUms  *float64 `json:"postgres_cpu_ms_per_request"`
	GeneratorCPUms float64  `json:"generator_cpu_ms_per_request"`
	MachineCPUms   float64  `json:"machine_cpu_ms_per_request"`
	DB             *dbWaits `json:"db"`
	// RatioToCeiling is req/s over the ceiling's; PostgresCPURatioToCeiling
	// PostgreSQL CPU per request over the ceiling's.
	RatioToCeiling            *float64 `json:"rps_ratio_to_ceiling,omitempty"`
	PostgresCPURatioToCeiling *float64 `json:"postgres_cpu_ratio_to_ceiling,omitempty"`

	ceiling string
}

// statementShare is one statement and how often a request ran it.
type statementShare struct {
	Query      string  `json:"query"`
	PerRequest float64 `json:"per_request"`
}

// budget is one line of the performance budget and how the run did.
type budget struct {
	Name     string `json:"name"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Pass     bool   `json:"pass"`
}

func newReport(s *settings, args []string) *report {
	r := &report{Started: time.Now().UTC(), Command: strings.TrimSpace("go run ./bench " + strings.Join(args, " "))}
	r.Settings.Vehicles, r.Settings.Concurrency, r.Settings.Subscribers = s.vehicles, s.concurrency, s.subscribers
	r.Settings.Duration, r.Settings.Warmup, r.Settings.Ops, r.Settings.Gzip = s.duration.String(), s.warmup.String(), s.ops, s.gzip
	r.Settings.Load = s.load
	r.Settings.Database = "embedded PostgreSQL (fsync off)"
	if os.Getenv("DATABASE_URL") != "" {
		r.Settings.Database = "DATABASE_URL"
	}
	r.Machine = machine{
		CPU: cpuModel(), Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), MemoryGiB: memoryGiB(),
		Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
	}
	return r
}

// op returns the result named name, or nil.
func (r *report) op(name string) *opResult {
	for _, o := range r.Ops {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// finish works out the ratios and checks the budget.
func (r *report) finish() {
	add := func(name, target, measured string, pass bool) {
		r.Budgets = append(r.Budgets, budget{Name: name, Target: target, Measured: measured, Pass: pass})
	}
	add("seed 100k vehicles", "≤ 5 s", fmt.Sprintf("%.2f s (%d vehicles)", r.Seed.Seconds, r.Seed.Vehicles), r.Seed.Seconds <= 5)
	// The targets against the ceiling: throughput, and PostgreSQL's work.
	minRatio := map[string]float64{"lookup": 0.50, "page": 0.35}
	for _, o := range r.Ops {
		c := r.op(o.ceiling)
		if c == nil || c.RPS <= 0 {
			continue
		}
		ratio := o.RPS / c.RPS
		o.RatioToCeiling = &ratio
		target := minRatio[o.Name]
		add(o.Name+" req/s ÷ ceiling", fmt.Sprintf("≥ %.2f", target), fmt.Sprintf("%.2f", ratio), ratio >= target)
		switch {
		case o.PostgresCPUms != nil && c.PostgresCPUms != nil && *c.PostgresCPUms > 0:
			pg := *o.PostgresCPUms / *c.PostgresCPUms
			o.PostgresCPURatioToCeiling = &pg
			if o.Name == "lookup" {
				add("lookup PostgreSQL CPU ÷ ceiling's", "≤ 2", fmt.Sprintf("%.2f (%.3f ÷ %.3f ms)", pg, *o.PostgresCPUms, *c.PostgresCPUms), pg <= 2)
			}
		case o.Name == "lookup":
			// The kernel counts CPU time in ticks: a run too short for the
			// ceiling's backends to use one leaves nothing to divide by.
			add("lookup PostgreSQL CPU ÷ ceiling's", "≤ 2", "not measured (the ceiling's PostgreSQL CPU read 0: run longer)", false)
		}
	}
	for _, o := range r.Ops {
		if strings.HasPrefix(o.Name, "ceiling-") {
			continue
		}
		add(o.Name+" p99 ÷ p50", "≤ 3", fmt.Sprintf("%.2f", o.P99OverP50), o.P99OverP50 <= 3)
	}
	for _, o := range r.Ops {
		if o.StatementBudget != nil && o.StatementsPerRequest != nil {
			add(o.Name+" statements/request", fmt.Sprintf("≤ %d", *o.StatementBudget),
				fmt.Sprintf("%.2f (%s)", *o.StatementsPerRequest, o.StatementsSource), *o.StatementsPerRequest <= float64(*o.StatementBudget)+0.01)
		}
	}
	var sizes []string
	var counts []float64
	for _, name := range []string{"page10", "page", "page100"} {
		if o := r.op(name); o != nil && o.StatementsPerRequest != nil {
			sizes = append(sizes, name)
			// To a tenth: the requests in flight at either end of a run blur the hundredths.
			counts = append(counts, math.Round(*o.StatementsPerRequest*10)/10)
		}
	}
	if len(counts) > 1 {
		add("statements constant in page size", strings.Join(sizes, " = "), fmt.Sprint(counts),
			slices.Min(counts) == slices.Max(counts))
	}
	if small, big := r.op("page10"), r.op("page100"); small != nil && big != nil && small.Latency.P50 > 0 {
		scaling := big.Latency.P50 / small.Latency.P50
		r.PageSizeScaling = &scaling
		add("page-size scaling p50(first:100) ÷ p50(first:10)", "≤ 8", fmt.Sprintf("%.2f", scaling), scaling <= 8)
	}
	if len(r.Subscriptions) > 0 {
		big := r.Subscriptions[len(r.Subscriptions)-1]
		first := big.Changes[0]
		add(fmt.Sprintf("idle subscription memory (server Go heap+stacks, %d subs)", big.Connected), "≤ 40 KiB",
			fmt.Sprintf("%.1f KiB (RSS %.1f KiB)", big.GoKiBPerSub, big.RSSKiBPerSub), big.GoKiBPerSub <= 40)
		add(fmt.Sprintf("fan-out p99 commit → delivery (%d subs)", big.Connected), "≤ 250 ms to 10,000",
			fmt.Sprintf("%.1f ms (%d/%d delivered)", first.Latency.P99, first.Delivered, big.Connected),
			first.Latency.P99 <= 250 && first.Delivered == big.Connected && big.Connected >= 10_000)
		if len(r.Subscriptions) > 1 {
			small := r.Subscriptions[0]
			counts := func(s *subsResult) string {
				var out []string
				for _, c := range s.Changes {
					out = append(out, fmt.Sprint(c.Statements))
				}
				return strings.Join(out, ", ")
			}
			warm := func(s *subsResult) int64 { return s.Changes[len(s.Changes)-1].Statements }
			add("statements per change event independent of subscribers", "equal (warm catalog)",
				fmt.Sprintf("%s at %d subs; %s at %d subs", counts(small), small.Connected, counts(big), big.Connected),
				warm(small) == warm(big))
		}
	}
}

// write saves the report as indented JSON, creating the directory.
func (r *report) write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// markdown prints the tables the README quotes.
func (r *report) markdown(w io.Writer) {
	fmt.Fprintf(w, "Carlot bench, %s: %s, %d cores, %d GiB, %s, PostgreSQL %s (%s)\n",
		r.Started.Format("2006-01-02"), r.Machine.CPU, r.Machine.Cores, r.Machine.MemoryGiB, r.Machine.Go, r.Machine.PostgreSQL, r.Settings.Database)
	fmt.Fprintf(w, "`%s`: %d vehicles, %d connections, %s per operation after %s warm-up, load from %s\n\n",
		r.Command, r.Settings.Vehicles, r.Settings.Concurrency, r.Settings.Duration, r.Settings.Warmup, r.Settings.Load)
	if len(r.Ops) > 0 {
		fmt.Fprintln(w, "| operation | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | p99/p50 | ÷ ceiling | statements/req | server CPU ms/req | PostgreSQL CPU ms/req | server allocs/req |")
		fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
		for _, o := range r.Ops {
			ratio, pg := "", "n/a"
			if o.RatioToCeiling != nil {
				ratio = fmt.Sprintf("%.2f", *o.RatioToCeiling)
			}
			if o.PostgresCPUms != nil {
				pg = fmt.Sprintf("%.3f", *o.PostgresCPUms)
				if o.PostgresCPURatioToCeiling != nil {
					pg += fmt.Sprintf(" (%.1f×)", *o.PostgresCPURatioToCeiling)
				}
			}
			name := o.Name
			if o.Conflicts > 0 || o.Errors > 0 {
				name += fmt.Sprintf(" (%d conflicts, %d errors)", o.Conflicts, o.Errors)
			}
			fmt.Fprintf(w, "| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s | %.3f | %s | %.0f |\n", name, o.RPS,
				o.Latency.P50, o.Latency.P90, o.Latency.P99, o.Latency.P999, o.P99OverP50, ratio,
				formatStatements(o.StatementsPerRequest), o.ServerCPUms, pg, o.AllocsPerRequest)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| operation | load generator | generator CPU ms/req | machine CPU ms/req | PostgreSQL backends active | what they wait on (share of samples) |")
		fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | --- |")
		for _, o := range r.Ops {
			var waits []string
			active := 0.0
			if o.DB != nil {
				active = o.DB.ActiveBackends
				for _, e := range o.DB.Top {
					waits = append(waits, fmt.Sprintf("%s %.0f%%", e.Event, 100*e.Share))
				}
			}
			fmt.Fprintf(w, "| %s | %s | %.3f | %.3f | %.1f | %s |\n", o.Name, o.Generator, o.GeneratorCPUms, o.MachineCPUms, active, strings.Join(waits, ", "))
		}
		fmt.Fprintln(w)
	}
	if len(r.Subscriptions) > 0 {
		fmt.Fprintln(w, "| subscribers | connect s | server KiB/sub: heap + stacks | server RSS KiB/sub | server goroutines/sub | client KiB/sub | change | delivered | p50 ms | p90 ms | p99 ms | max ms | statements |")
		fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
		for _, s := range r.Subscriptions {
			for i, c := range s.Changes {
				lead := "| | | | | | "
				if i == 0 {
					lead = fmt.Sprintf("| %d | %.1f | %.1f + %.1f = %.1f | %.1f | %.1f | %.1f ", s.Connected, s.ConnectSeconds,
						s.HeapKiBPerSub, s.StackKiBPerSub, s.GoKiBPerSub, s.RSSKiBPerSub, s.GoroutinesPerSub, s.ClientKiBPerSub)
				}
				fmt.Fprintf(w, "%s| %d | %d | %.1f | %.1f | %.1f | %.1f | %d |\n", lead, i+1, c.Delivered,
					c.Latency.P50, c.Latency.P90, c.Latency.P99, c.Latency.Max, c.Statements)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "| budget | target | measured | ok |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	for _, b := range r.Budgets {
		ok := "✅"
		if !b.Pass {
			ok = "❌"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", b.Name, b.Target, b.Measured, ok)
	}
}

// cpuModel reads the processor's name from /proc/cpuinfo.
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// memoryGiB reads the machine's memory from /proc/meminfo.
func memoryGiB() int {
	b, _ := os.ReadFile("/proc/meminfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kib int
			fmt.Sscan(strings.TrimSpace(rest), &kib)
			return int(math.Round(float64(kib) / (1 << 20)))
		}
	}
	return 0
}
