// Command bench measures Carlot under load and checks the numbers against
// the performance budget.
//
//	go run ./bench [flags]
//
// It prepares a scratch database (a throwaway embedded PostgreSQL cluster,
// or a database of its own in the server at DATABASE_URL), seeds it, builds
// Carlot's server and the ceiling (bench/ceiling: net/http, pgxpool, one
// JOIN, encoding/json), and runs each as a child process in turn, one at a
// time, while wrk (or, without it, this process) drives closed-loop load
// over HTTP for each named operation. Around each measured window it reads
// the server's CPU time and PostgreSQL's from /proc, the statements
// PostgreSQL ran from pg_stat_statements, and the server's own counters from
// its /metrics. Subscribers connect from a child process (this same binary)
// to Carlot running in this process, so the server's memory per subscription
// is measured with the Go runtime's counters and without the clients' own.
// It prints Markdown tables with the budget and writes every number as JSON.
//
// Nothing here runs under `go test ./...` except a smoke test that sends a
// few requests per operation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// allOps is every operation in the order a default run measures them.
var allOps = []string{"lookup", "page", "pagecount", "page10", "page100", "dealers", "search", "write", "subs"}

// settings are the command-line flags.
type settings struct {
	vehicles    int
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	ops         []string
	subscribers int
	out         string
	cpuProfile  string
	memProfile  string
	gzip        bool
	load        string // "wrk" or "go", once resolved
	mode        string // "load", or "scale" (see scale.go)
	scaleRuns   int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv(clientRoleEnv) != "" {
		// The child process that holds the subscribers (see subs.go).
		if err := runSubscriberClients(ctx, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench subscriber clients:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line.
func parseFlags(args []string, stderr io.Writer) (*settings, error) {
	s := &settings{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ops string
	fs.IntVar(&s.vehicles, "vehicles", 100_000, "vehicles to seed")
	fs.IntVar(&s.concurrency, "concurrency", 32, "closed-loop clients per operation")
	fs.DurationVar(&s.duration, "duration", 10*time.Second, "measured time per operation")
	fs.DurationVar(&s.warmup, "warmup", 2*time.Second, "unmeasured warm-up per operation")
	fs.StringVar(&ops, "ops", strings.Join(allOps, ","), "comma list of operations: "+strings.Join(allOps, ", "))
	fs.IntVar(&s.subscribers, "subscribers", 10_000, "concurrent vehicleEvents subscribers for the subs operation")
	fs.StringVar(&s.out, "out", "", "JSON result file (default bench/results/<timestamp>.json)")
	fs.StringVar(&s.cpuProfile, "cpuprofile", "", "write a CPU profile of each subscriber run's changes' fan-out to this path, the run's name inserted before the extension (cpu.pprof → cpu.subs10000.pprof)")
	fs.StringVar(&s.memProfile, "memprofile", "", "write a heap profile of the server with each subscriber run connected and idle to this path, named like --cpuprofile's (mem.pprof → mem.subs10000.pprof)")
	fs.BoolVar(&s.gzip, "gzip", false, "let the Go load generator accept gzip (the server then compresses every JSON response; wrk never asks for it)")
	fs.StringVar(&s.load, "load", "auto", "load generator: wrk (external, "+strconv.Itoa(wrkThreads)+" threads), go (this process, closed loop), or auto (wrk when installed)")
	fs.StringVar(&s.mode, "mode", "load", "load: closed-loop load per operation; scale: one client timing each storefront query (see bench/scale.go)")
	fs.IntVar(&s.scaleRuns, "scale-runs", 30, "measured runs of each query in scale mode")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, op := range strings.Split(ops, ",") {
		op = strings.TrimSpace(op)
		if op == "" {
			continue
		}
		if !slices.Contains(allOps, op) {
			return nil, fmt.Errorf("unknown operation %q (want %s)", op, strings.Join(allOps, ", "))
		}
		s.ops = append(s.ops, op)
	}
	switch {
	case len(s.ops) == 0:
		return nil, errors.New("--ops names no operation")
	case s.vehicles < 1:
		return nil, errors.New("--vehicles must be at least 1")
	case s.concurrency < 1:
		return nil, errors.New("--concurrency must be at least 1")
	case s.duration <= 0 || s.warmup < 0:
		return nil, errors.New("--duration must be positive and --warmup not negative")
	case s.subscribers < 1:
		return nil, errors.New("--subscribers must be at least 1")
	case s.mode != "load" && s.mode != "scale":
		return nil, errors.New("--mode must be load or scale")
	case s.scaleRuns < 1:
		return nil, errors.New("--scale-runs must be at least 1")
	}
	switch s.load {
	case "wrk", "go":
	case "auto":
		s.load = "go"
		if wrkPath() != "" {
			s.load = "wrk"
		}
	default:
		return nil, errors.New("--load must be wrk, go or auto")
	}
	if s.load == "wrk" && wrkPath() == "" {
		return nil, errors.New("--load wrk: wrk is not installed (Debian, Ubuntu: apt-get install wrk; macOS: brew install wrk)")
	}
	if s.out == "" {
		s.out = filepath.Join("bench", "results", time.Now().UTC().Format("20060102T150405Z")+".json")
	}
	return s, nil
}

// run is the whole benchmark: prepare, measure, report.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if s.mode == "scale" {
		return runScale(ctx, s, args, getenv, stdout, stderr)
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	rep := newReport(s, args)

	if s.load == "go" && len(httpOps(s)) > 0 {
		progress("wrk is not installed (Debian, Ubuntu: apt-get install wrk; macOS: brew install wrk): the load comes from this process, " +
			"a Go client nearly as costly per request as the servers it measures, so req/s are lower than with wrk")
	}
	progress("building the server and the ceiling; preparing a scratch database with %d vehicles", s.vehicles)
	env, err := prepare(ctx, s, getenv, stderr, progress)
	if err != nil {
		return err
	}
	defer env.close(progress)
	rep.Seed = env.seed
	rep.Machine.PostgreSQL = env.pgVersion
	progress("seeded %d vehicles in %.2fs; statements counted by %s; PostgreSQL CPU %s", s.vehicles, env.seed.Seconds,
		map[bool]string{true: "pg_stat_statements", false: "the servers' /metrics"}[env.statStatements],
		map[bool]string{true: "read from /proc", false: "unavailable (the server is not on this machine)"}[env.postmaster != 0])

	if err := measureHTTP(ctx, env, s, rep, progress); err != nil {
		return err
	}
	if slices.Contains(s.ops, "subs") {
		if err := env.startInProcess(); err != nil {
			return err
		}
		if err := measureSubscriptions(ctx, env, s, rep, progress); err != nil {
			return err
		}
	}
	rep.finish()
	if err := rep.write(s.out); err != nil {
		return err
	}
	rep.markdown(stdout)
	fmt.Fprintf(stdout, "\nJSON: %s\n", s.out)
	return nil
}
