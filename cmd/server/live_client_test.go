package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/internal/wsapi"
)

// liveClientDir holds the Node project that runs the README's live-updates
// sample with the graphql-ws client (install it with
// `npm ci --prefix tests/live`).
const liveClientDir = "../../tests/live"

// childServerEnv makes this test binary run the server instead of the
// tests, so a test can SIGKILL a real server process.
const childServerEnv = "CARLOT_TEST_CHILD_SERVER"

// The JWT_SECRET of the servers these tests start, so a token from one
// replica holds on the others.
const liveTestSecret = "live-client-test-secret-live-client-test"

// follower is the README's live-updates sample following vehicleEvents in
// a Node process (tests/live/follow.mjs).
type follower struct {
	t      *testing.T
	lines  chan followerLine
	stdin  io.WriteCloser
	events []string // the sequences received, in order
	closes []int    // the close codes seen
	tokens int      // the access tokens fetched
}

type followerLine struct {
	Event *struct {
		Sequence string `json:"sequence"`
	} `json:"event"`
	Connected bool   `json:"connected"`
	Retrying  bool   `json:"retrying"`
	Closed    int    `json:"closed"`
	Error     string `json:"error"`
	Token     int    `json:"token"`
}

// follow starts the sample against url from the sequence after; env may
// hold CARLOT_EMAIL and CARLOT_PASSWORD for an authenticated client. Without
// Node or its modules it skips, and fails in CI (CI=true), where .ci/run
// installs them.
func follow(t *testing.T, url string, after int64, env ...string) *follower {
	t.Helper()
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(liveClientDir, "node_modules", "graphql-ws"))
	if err != nil || modErr != nil {
		msg := "the live-updates sample needs Node.js and `npm ci --prefix tests/live`"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, filepath.Join(liveClientDir, "follow.mjs"), url, strconv.FormatInt(after, 10))
	cmd.Env = append(os.Environ(), env...)
	var stderr apitest.LogBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f := &follower{t: t, lines: make(chan followerLine, 1024), stdin: stdin}
	go func() {
		defer close(f.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l followerLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				l.Error = "unreadable line: " + sc.Text()
			}
			f.lines <- l
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close() // the follower stops when its stdin ends
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cancel()
			<-done
		}
		cancel()
		if t.Failed() {
			t.Logf("follower stderr:\n%s", stderr.String())
		}
	})
	return f
}

// await reads the follower's reports until cond holds, failing on any error
// the sample reports or after a minute (reconnects back off for seconds).
func (f *follower) await(what string, cond func(followerLine) bool) {
	f.t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case l, ok := <-f.lines:
			if !ok {
				f.t.Fatalf("the follower exited while waiting for %s (events %v, closes %v)", what, f.events, f.closes)
			}
			switch {
			case l.Error != "":
				f.t.Fatalf("the sample reported an error while waiting for %s: %s (events %v, closes %v)", what, l.Error, f.events, f.closes)
			case l.Event != nil:
				f.events = append(f.events, l.Event.Sequence)
			case l.Closed != 0:
				f.closes = append(f.closes, l.Closed)
			case l.Token != 0:
				f.tokens = l.Token
			}
			if cond(l) {
				return
			}
		case <-timeout:
			f.t.Fatalf("no %s within a minute (events %v, closes %v)", what, f.events, f.closes)
		}
	}
}

// awaitSequence waits until the event with sequence n arrives. Events come
// in order, so by then every earlier one (and any duplicate) has too.
func (f *follower) awaitSequence(n int64) {
	f.t.Helper()
	want := strconv.FormatInt(n, 10)
	f.await("event "+want, func(l followerLine) bool { return l.Event != nil && l.Event.Sequence == want })
}

// writer changes vehicles through the GraphQL API as the demo admin.
type writer struct {
	t        *testing.T
	base     string
	vehicles []string
	n        int
}

func newWriter(t *testing.T, base string) *writer {
	t.Helper()
	w := &writer{t: t, base: base}
	var page struct {
		Vehicles struct{ Nodes []struct{ ID string } }
	}
	w.post(&page, "", `{ vehicles(first: 5) { nodes { id } } }`, nil)
	for _, v := range page.Vehicles.Nodes {
		w.vehicles = append(w.vehicles, v.ID)
	}
	return w
}

func (w *writer) post(out any, token, query string, vars map[string]any) {
	w.t.Helper()
	authorization := ""
	if token != "" {
		authorization = "Bearer " + token
	}
	apitest.Remote(w.t, w.base).QueryAs(authorization, out, query, vars)
}

// change updates a vehicle's price (one event), logging in each time so a
// short ACCESS_TOKEN_TTL never gets in the way.
func (w *writer) change(count int) {
	w.t.Helper()
	var login struct{ Login struct{ AccessToken string } }
	w.post(&login, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`,
		map[string]any{"e": testdb.AdminEmail, "p": testdb.Password})
	for range count {
		w.n++
		var out any
		w.post(&out, login.Login.AccessToken, `mutation($id: ID!, $p: Int!) { updateVehicle(id: $id, input: { priceCents: $p }) { id } }`,
			map[string]any{"id": w.vehicles[w.n%len(w.vehicles)], "p": 100000 + w.n})
	}
}

// eventSequences returns the sequences of every event after after.
func eventSequences(t *testing.T, url string, after int64) []string {
	t.Helper()
	db, err := database.Open(url, database.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var seqs []int64
	if err := db.NewRaw("SELECT sequence FROM vehicle_events WHERE sequence > ? ORDER BY sequence", after).Scan(t.Context(), &seqs); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(seqs))
	for i, s := range seqs {
		out[i] = strconv.FormatInt(s, 10)
	}
	return out
}

func lastSequence(t *testing.T, url string) int64 {
	t.Helper()
	seqs := eventSequences(t, url, 0)
	if len(seqs) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(seqs[len(seqs)-1], 10, 64)
	return n
}

// The README's sample, run by the real graphql-ws client, follows a server
// that is killed and started again while other replicas keep writing: after
// the reconnect it resumes where it left off, with no gap and no duplicate.
func TestLiveUpdatesSampleResumesAcrossAServerKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Node.js and a server process")
	}
	t.Parallel()
	url := testdb.URL(t, testdb.Seeded)
	env := map[string]string{"DATABASE_URL": url, "JWT_SECRET": liveTestSecret, "RATE_LIMIT_PER_IP": "0"}
	writerBase, _ := startServer(t, env)
	w := newWriter(t, writerBase)

	port := freePort(t)
	killed := startServerProcess(t, url, port)
	start := lastSequence(t, url)
	f := follow(t, fmt.Sprintf("ws://127.0.0.1:%d/graphql", port), start)

	w.change(3)
	f.awaitSequence(start + 3)

	killed()
	f.await("the socket to close", func(l followerLine) bool { return l.Closed != 0 })
	w.change(3) // while the server is down
	startServerProcess(t, url, port)
	f.await("the reconnect", func(l followerLine) bool { return l.Connected && l.Retrying })
	w.change(3)

	want := eventSequences(t, url, start)
	f.awaitSequence(start + int64(len(want)))
	if !slices.Equal(f.events, want) {
		t.Fatalf("received %v, want %v (a gap or a duplicate)", f.events, want)
	}
}

// An access token that expires closes the socket with a code graphql-ws
// reconnects on: the README's sample logs in again through connectionParams
// and resumes with no gap and no duplicate.
func TestLiveUpdatesSampleSurvivesTokenExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Node.js")
	}
	t.Parallel()
	url := testdb.URL(t, testdb.Seeded)
	base, _ := startServer(t, map[string]string{
		"DATABASE_URL": url, "JWT_SECRET": liveTestSecret, "RATE_LIMIT_PER_IP": "0", "ACCESS_TOKEN_TTL": "3s",
	})
	w := newWriter(t, base)
	start := lastSequence(t, url)
	f := follow(t, "ws"+strings.TrimPrefix(base, "http")+"/graphql", start,
		"CARLOT_EMAIL="+testdb.AdminEmail, "CARLOT_PASSWORD="+testdb.Password)

	w.change(2)
	f.awaitSequence(start + 2)
	f.await("the token to expire", func(l followerLine) bool { return l.Closed != 0 })
	if f.closes[0] != wsapi.CloseTokenExpired {
		t.Fatalf("closed with %d, want %d", f.closes[0], wsapi.CloseTokenExpired)
	}
	w.change(2) // before the client is back
	f.await("the reconnect", func(l followerLine) bool { return l.Connected && l.Retrying })
	w.change(2)

	want := eventSequences(t, url, start)
	f.awaitSequence(start + int64(len(want)))
	if !slices.Equal(f.events, want) {
		t.Fatalf("received %v, want %v (a gap or a duplicate)", f.events, want)
	}
	if f.tokens < 2 {
		t.Fatalf("the client fetched %d access tokens, want a fresh one per connection", f.tokens)
	}
}

// The README quotes the sample these tests run, word for word.
func TestREADMEQuotesTheLiveUpdatesSample(t *testing.T) {
	t.Parallel()
	sample, err := os.ReadFile(filepath.Join(liveClientDir, "live-updates.js"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte("```js\n"+string(sample)+"```\n")) {
		t.Fatal("README.md's live-updates sample differs from tests/live/live-updates.js: quote the file whole")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServerProcess runs `server serve` on port in a process of its own
// (this test binary, see TestMain) and waits until it is ready. It returns
// the function that SIGKILLs it.
func startServerProcess(t *testing.T, url string, port int) (kill func()) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childServerEnv+"=1", "DATABASE_URL="+url, "PORT="+strconv.Itoa(port),
		"JWT_SECRET="+liveTestSecret, "RATE_LIMIT_PER_IP=0", "CARLOT_DATA_DIR="+t.TempDir())
	var out apitest.LogBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	kill = func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	t.Cleanup(kill)
	ready := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	wait, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if !apitest.Poll(wait, func() bool {
		if resp, err := http.Get(ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		select {
		case <-exited:
			t.Fatalf("the server exited before it was ready:\n%s", out.String())
		default:
		}
		return false
	}) {
		t.Fatalf("the server was not ready within 2 minutes:\n%s", out.String())
	}
	return kill
}
