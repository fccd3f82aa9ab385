package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func scrape(t *testing.T, a *testAPI) string {
	t.Helper()
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	return rec.Body.String()
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Seeded, map[string]string{"MAX_BODY_BYTES": "1024"})
	a.MustQuery(`query Cheapest { vehicles(first: 3) { nodes { vin make { name } } } }`, nil)
	a.MustQuery(`query Cheapest { vehicles(first: 3) { nodes { vin } } }`, nil)
	a.MustQuery(`{ makes { name } }`, nil)
	a.Post(`query Broken { nope }`, nil)
	a.Post(`query Deep `+deepQuery(13)[0:], nil)
	a.PostRaw("application/json", paddedBody(t, 2000))
	a.Send(httptest.NewRequest(http.MethodGet, "/nope", nil))

	body := scrape(t, a)
	for _, want := range []string{
		`carlot_graphql_requests_total{operation="Cheapest",outcome="ok"} 2`,
		`carlot_graphql_requests_total{operation="anonymous",outcome="ok"} 1`,
		`carlot_graphql_requests_total{operation="unknown",outcome="GRAPHQL_VALIDATION_FAILED"} 1`,
		`carlot_graphql_requests_total{operation="unknown",outcome="QUERY_TOO_COMPLEX"} 1`,
		`carlot_graphql_requests_total{operation="unknown",outcome="BAD_USER_INPUT"} 1`,
		`carlot_graphql_request_duration_seconds_bucket{operation="Cheapest",le="+Inf"} 2`,
		`carlot_graphql_request_sql_statements_count 6`,
		`carlot_http_responses_total{code="413",route="/graphql"} 1`,
		`carlot_http_responses_total{code="404",route="unmatched"} 1`,
		`go_sql_open_connections{db_name="carlot"}`,
		`go_sql_in_use_connections{db_name="carlot"}`,
		`go_sql_idle_connections{db_name="carlot"}`,
		`go_sql_wait_count_total{db_name="carlot"}`,
		`go_sql_wait_duration_seconds_total{db_name="carlot"}`,
		`carlot_websocket_connections 0`,
		`carlot_graphql_subscriptions_active 0`,
		`carlot_graphql_subscription_events_total 0`,
		`carlot_graphql_subscription_executions_total 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
	// The two Cheapest requests ran two statements each (vehicles, then makes); their sum is exact.
	if !strings.Contains(body, "carlot_graphql_request_sql_statements_sum") {
		t.Error("no statement histogram sum")
	}
}

func TestWebsocketAndSubscriptionGauges(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Seeded, nil)
	base := a.Serve()
	ws := apitest.DialRaw(t, base)
	apitest.Eventually(t, func() bool { return testutil.ToFloat64(a.Metrics.WebsocketGauge()) == 1 }, 10*time.Second, "websocket counted")
	ws.Send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription { vehicleEvents { sequence } }"}})
	apitest.Eventually(t, func() bool { return testutil.ToFloat64(a.Metrics.SubscriptionGauge()) == 1 }, 10*time.Second, "subscription counted")
	ws.Send(map[string]any{"id": "1", "type": "complete"})
	apitest.Eventually(t, func() bool { return testutil.ToFloat64(a.Metrics.SubscriptionGauge()) == 0 }, 10*time.Second, "subscription ended")
	ws.Close()
	apitest.Eventually(t, func() bool { return testutil.ToFloat64(a.Metrics.WebsocketGauge()) == 0 }, 10*time.Second, "websocket closed")
}
