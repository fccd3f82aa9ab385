package httpapi

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browserPath finds a Chromium to drive: CHROMIUM_PATH, or chromium (or
// Chrome) on PATH. Without one the browser tests skip locally and fail in
// CI (CI=true), where .ci/run installs Debian's chromium.
func browserPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "the GraphiQL browser test needs Chromium (Debian: apt-get install chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestGraphiQLInBrowser opens GraphiQL in headless Chromium with every other
// host unreachable (names other than 127.0.0.1 do not resolve, and any
// request elsewhere is refused and recorded), then uses it as a person
// would: the docs explorer, a query, the headers editor with a token, and a
// subscription over the websocket that receives a change made meanwhile.
func TestGraphiQLInBrowser(t *testing.T) {
	t.Parallel()
	chromium := browserPath(t)
	a := newTestAPI(t, testdb.Seeded, map[string]string{"RATE_LIMIT_PER_IP": "0"})
	base := a.Serve()

	var adminID int64
	if err := a.DB.NewSelect().Table("users").Column("id").Where("email = ?", testdb.AdminEmail).Scan(t.Context(), &adminID); err != nil {
		t.Fatal(err)
	}
	admin := apitest.Bearer(t, adminID, models.RoleAdmin)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // tests may run as root
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	var mu sync.Mutex
	var offsite, exceptions []string
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			allowed := strings.HasPrefix(ev.Request.URL, base+"/")
			if !allowed {
				mu.Lock()
				offsite = append(offsite, ev.Request.URL)
				mu.Unlock()
			}
			go func() {
				c := chromedp.FromContext(ctx)
				exec := cdp.WithExecutor(ctx, c.Target)
				if allowed {
					_ = fetch.ContinueRequest(ev.RequestID).Do(exec)
				} else {
					_ = fetch.FailRequest(ev.RequestID, "BlockedByClient").Do(exec)
				}
			}()
		case *runtime.EventExceptionThrown:
			mu.Lock()
			exceptions = append(exceptions, ev.ExceptionDetails.Error())
			mu.Unlock()
		}
	})

	// Every CSP violation on the page is recorded where the test can read it.
	const recordViolations = `window.cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`
	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("%s: %v (requests to other hosts: %q; exceptions: %q)", what, err, offsite, exceptions)
		}
	}
	editor := func(selector string) string {
		return fmt.Sprintf(`document.querySelector(%q).CodeMirror`, selector)
	}
	const queryEditor = ".graphiql-query-editor .CodeMirror"
	const responseEditor = ".graphiql-response .CodeMirror"
	// setQuery types a named operation into the query editor and waits
	// until GraphiQL has parsed it (the tab takes the operation's name): it
	// decides between HTTP and the websocket from the parsed document.
	setQuery := func(name, q string) chromedp.Action {
		return chromedp.Tasks{
			chromedp.Evaluate(fmt.Sprintf(`%s.setValue(%q)`, editor(queryEditor), q), nil),
			chromedp.WaitVisible(fmt.Sprintf(`//li[contains(@class,"graphiql-tab-active")]/button[text()=%q]`, name)),
		}
	}
	// waitResponse polls the response pane until it holds want.
	waitResponse := func(what, want string) {
		t.Helper()
		var got string
		if !apitest.Poll(ctx, func() bool {
			err := chromedp.Run(ctx, chromedp.Evaluate(editor(responseEditor)+`.getValue()`, &got))
			return err == nil && strings.Contains(got, want)
		}) {
			t.Fatalf("%s: the response pane never showed %q; it shows:\n%s", what, want, got)
		}
	}

	run("open GraphiQL",
		fetch.Enable().WithPatterns([]*fetch.RequestPattern{{URLPattern: "*"}}),
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(recordViolations).Do(ctx)
			return err
		}),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(queryEditor),
	)

	t.Run("docs explorer", func(t *testing.T) {
		run("open the docs",
			chromedp.Click(`button[aria-label="Show Documentation Explorer"]`),
			chromedp.WaitVisible(`//div[contains(@class,"graphiql-doc-explorer")]//a[text()="Query"]`),
			chromedp.Click(`//div[contains(@class,"graphiql-doc-explorer")]//a[text()="Query"]`),
			chromedp.WaitVisible(`//div[contains(@class,"graphiql-doc-explorer")]//a[text()="vehicleByVin"]`),
		)
	})

	t.Run("query", func(t *testing.T) {
		run("run a query", setQuery("Makes", `query Makes { makes { name } }`), chromedp.Click(".graphiql-execute-button"))
		waitResponse("makes", `"Toyota"`)
	})

	t.Run("headers editor", func(t *testing.T) {
		headers := fmt.Sprintf(`{"Authorization": %q}`, admin)
		run("set the headers",
			chromedp.Click(`button[data-name="headers"]`),
			chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll('.graphiql-editor-tool .CodeMirror')[1].CodeMirror.setValue(%q)`, headers), nil),
			setQuery("Me", `query Me { me { email role } }`),
			chromedp.Click(".graphiql-execute-button"),
		)
		waitResponse("me", testdb.AdminEmail)
	})

	t.Run("subscription over the websocket", func(t *testing.T) {
		// The headers set above go in connection_init: actor is shown to
		// admins only.
		run("subscribe", setQuery("Watch", `subscription Watch { vehicleEvents { kind vehicle { vin priceCents } actor { email } } }`),
			chromedp.Click(".graphiql-execute-button"))
		api := a.api()
		if !apitest.Poll(ctx, func() bool { return api.LiveSubscribers() > 0 }) {
			t.Fatalf("the subscription never reached the server")
		}
		r := a.MustQuery(`{ vehicles(first: 1) { nodes { id } } }`, nil)
		id := strings.Split(strings.Split(string(r.Data), `"id":"`)[1], `"`)[0]
		u := a.Post(`mutation($id: ID!) { updateVehicle(id: $id, input: { priceCents: 1234567 }) { id } }`,
			map[string]any{"id": id}, "Authorization", admin)
		if len(u.Errors) > 0 {
			t.Fatal(u.Raw)
		}
		waitResponse("the event", `"priceCents": 1234567`)
		waitResponse("the event's actor", testdb.AdminEmail)
	})

	var violations []string
	run("read CSP violations", chromedp.Evaluate(`window.cspViolations`, &violations))
	mu.Lock()
	defer mu.Unlock()
	if len(violations) > 0 || len(offsite) > 0 || len(exceptions) > 0 {
		t.Fatalf("CSP violations %q, requests to other hosts %q, exceptions %q", violations, offsite, exceptions)
	}
}
