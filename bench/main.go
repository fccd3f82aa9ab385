// Command bench measures Carlot under load and checks the numbers against
// the performance budget.
//
//	go run ./bench [flags]
//
// It prepares a scratch database (a throwaway embedded PostgreSQL cluster,
// or a database of its own in the server at DATABASE_URL), seeds it, starts
// Carlot in process behind a real http.Server on 127.0.0.1, and drives
// closed-loop load over HTTP for each named operation. A direct baseline (one
// hand-written SQL statement and encoding/json on the same connection pool)
// shows what the GraphQL layer costs. Subscribers connect from a child
// process (this same binary), so the server's memory per subscription is
// measured without the clients' own. It prints a Markdown table with the
// budget and writes every number as JSON.
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
	"strings"
	"syscall"
	"time"
)

// allOps is every operation in the order a default run measures them.
var allOps = []string{"lookup", "page", "page10", "page100", "dealers", "search", "write", "subs"}

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
	driver      string
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
	fs.StringVar(&s.cpuProfile, "cpuprofile", "", "write a CPU profile of each operation's measured window (for subscribers: the changes' fan-out) to this path, the operation's name inserted before the extension (cpu.pprof → cpu.lookup.pprof, cpu.subs10000.pprof)")
	fs.StringVar(&s.memProfile, "memprofile", "", "write a heap profile of the server with each subscriber run connected and idle to this path, named like --cpuprofile's (mem.pprof → mem.subs10000.pprof)")
	fs.BoolVar(&s.gzip, "gzip", false, "let clients accept gzip (the server then compresses every JSON response)")
	fs.StringVar(&s.driver, "driver", "pgdriver", "database/sql driver under bun for the server and the direct baseline: pgdriver (bun's own, what Carlot ships) or pgx (jackc/pgx's stdlib; live events then poll, as pgdriver's LISTEN is unavailable)")
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
	case s.driver != "pgdriver" && s.driver != "pgx":
		return nil, errors.New("--driver must be pgdriver or pgx")
	case s.mode != "load" && s.mode != "scale":
		return nil, errors.New("--mode must be load or scale")
	case s.scaleRuns < 1:
		return nil, errors.New("--scale-runs must be at least 1")
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

	progress("preparing a scratch database with %d vehicles", s.vehicles)
	env, err := prepare(ctx, s, getenv, progress)
	if err != nil {
		return err
	}
	defer env.close(progress)
	rep.Seed = env.seed
	rep.Machine.PostgreSQL = env.pgVersion
	progress("seeded %d vehicles in %.2fs; Carlot listens on %s", s.vehicles, env.seed.Seconds, env.graphqlURL)

	if err := measureHTTP(ctx, env, s, rep, progress); err != nil {
		return err
	}
	if slices.Contains(s.ops, "subs") {
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
