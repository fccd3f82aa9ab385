package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The external load generator: wrk (https://github.com/wg/wrk; Debian and
// Ubuntu: apt-get install wrk), C with an event loop per thread, much
// cheaper per request than the Go servers it measures. It posts request
// bodies that the bench writes to a file, one per line; each wrk thread
// takes every threads-th line, formats those requests once, and sends them
// round-robin. Every answer is checked: not 200, or a body with "errors",
// is a failure; one with "CONFLICT" a conflict (the write operation).

// wrkThreads is wrk's -t.
const wrkThreads = 2

// wrkScript is the Lua wrk runs. Arguments after --: the bodies file, the
// thread count, the Authorization header (may be empty).
const wrkScript = `
local threads, count = {}, 0

function setup(thread)
  thread:set("index", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads, auth = args[1], tonumber(args[2]), args[3]
  local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
  if auth ~= nil and auth ~= "" then headers["Authorization"] = auth end
  requests, all, i = {}, {}, 0
  for line in io.lines(path) do
    if i % nthreads == index then requests[#requests + 1] = wrk.format("POST", nil, headers, line) end
    if #all < 4 then all[#all + 1] = wrk.format("POST", nil, headers, line) end
    i = i + 1
  end
  if #requests == 0 then requests = all end
  cursor, failures, conflicts, first_failure = 0, 0, 0, ""
end

function request()
  cursor = cursor + 1
  if cursor > #requests then cursor = 1 end
  return requests[cursor]
end

function response(status, headers, body)
  if status ~= 200 or (string.find(body, '"errors"', 1, true) and not string.find(body, '"CONFLICT"', 1, true)) then
    failures = failures + 1
    if first_failure == "" then first_failure = status .. " " .. string.sub(body, 1, 300) end
  elseif string.find(body, '"CONFLICT"', 1, true) then
    conflicts = conflicts + 1
  end
end

function done(summary, latency, requests)
  local failures, conflicts, first = 0, 0, ""
  for _, t in ipairs(threads) do
    failures = failures + t:get("failures")
    conflicts = conflicts + t:get("conflicts")
    if first == "" then first = t:get("first_failure") end
  end
  local e = summary.errors
  io.write(string.format('BENCH-RESULT {"requests":%d,"duration_us":%d,"socket_errors":%d,"failures":%d,"conflicts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, failures, conflicts,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
  io.write("BENCH-FIRST-FAILURE " .. string.gsub(first, "[\r\n]", " ") .. "\n")
end
`

// wrkResult is what wrkScript's done prints.
type wrkResult struct {
	Requests     int64   `json:"requests"`
	DurationUS   int64   `json:"duration_us"`
	SocketErrors int64   `json:"socket_errors"`
	Failures     int64   `json:"failures"`
	Conflicts    int64   `json:"conflicts"`
	P50          float64 `json:"p50_us"`
	P90          float64 `json:"p90_us"`
	P99          float64 `json:"p99_us"`
	P999         float64 `json:"p999_us"`
	Max          float64 `json:"max_us"`
	Mean         float64 `json:"mean_us"`
}

// wrkPath returns wrk's path, or "" when it is not installed.
func wrkPath() string {
	p, _ := exec.LookPath("wrk")
	return p
}

// wrkSeconds is d in whole seconds, at least one (wrk's -d has no finer unit).
func wrkSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// runWrk posts bodies to url from wrk with concurrency connections for d.
func runWrk(ctx context.Context, dir, url, auth string, bodies [][]byte, concurrency int, d time.Duration) (*loadResult, error) {
	script, data := filepath.Join(dir, "bench.lua"), filepath.Join(dir, "bodies.txt")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(data, append(bytes.Join(bodies, []byte("\n")), '\n'), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "wrk",
		"-t", strconv.Itoa(min(wrkThreads, concurrency)), "-c", strconv.Itoa(concurrency),
		"-d", strconv.Itoa(wrkSeconds(d))+"s", "--timeout", "10s", "-s", script, url,
		"--", data, strconv.Itoa(min(wrkThreads, concurrency)), auth)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("wrk: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	var (
		res   wrkResult
		first string
		found bool
	)
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "BENCH-RESULT "); ok {
			if err := json.Unmarshal([]byte(rest), &res); err != nil {
				return nil, fmt.Errorf("wrk's result: %v: %s", err, rest)
			}
			found = true
		} else if rest, ok := strings.CutPrefix(sc.Text(), "BENCH-FIRST-FAILURE "); ok {
			first = rest
		}
	}
	if !found {
		return nil, fmt.Errorf("wrk printed no result:\n%s%s", stdout.String(), stderr.String())
	}
	usToMs := func(us float64) float64 { return us / 1000 }
	out := &loadResult{
		requests:   res.Requests,
		conflicts:  res.Conflicts,
		fails:      res.Failures + res.SocketErrors,
		elapsed:    time.Duration(res.DurationUS) * time.Microsecond,
		firstError: first,
		latency: latency{P50: usToMs(res.P50), P90: usToMs(res.P90), P99: usToMs(res.P99), P999: usToMs(res.P999),
			Max: usToMs(res.Max), Mean: math.Round(res.Mean) / 1000},
		generatorCPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
	}
	if res.SocketErrors > 0 && out.firstError == "" {
		out.firstError = fmt.Sprintf("%d socket errors (connect, read, write or timeout)", res.SocketErrors)
	}
	return out, nil
}
