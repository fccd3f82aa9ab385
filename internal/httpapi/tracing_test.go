package httpapi

import (
	"cmp"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/logging"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/internal/tracing"
	"github.com/carlot/carlot/models"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// collector is an OTLP/HTTP traces endpoint that decodes what it receives.
type collector struct {
	mu       sync.Mutex
	spans    []*tracepb.Span
	services []string
}

func newCollector(t testing.TB) (*collector, string) {
	t.Helper()
	c := &collector{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("collector: %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Error(err)
				return
			}
			body = gz
		}
		raw, _ := io.ReadAll(body)
		var req collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(raw, &req); err != nil {
			t.Errorf("collector: %v", err)
			http.Error(w, "bad protobuf", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					c.services = append(c.services, a.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.ScopeSpans {
				c.spans = append(c.spans, ss.Spans...)
			}
		}
		c.mu.Unlock()
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return c, srv.URL
}

// inTrace returns the received spans of trace id (hex).
func (c *collector) inTrace(id string) []*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range c.spans {
		if hex.EncodeToString(s.TraceId) == id {
			out = append(out, s)
		}
	}
	return out
}

func attr(s *tracepb.Span, key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.GetValue().GetStringValue()
		}
	}
	return ""
}

func TestTracesReachAnOTLPEndpoint(t *testing.T) {
	t.Parallel()
	col, endpoint := newCollector(t)
	cfg := apitest.Config(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_SERVICE_NAME": "carlot-test", "RATE_LIMIT_PER_IP": "0",
	})
	tp, err := tracing.New(t.Context(), cfg.Tracing)
	if err != nil || tp == nil {
		t.Fatalf("tracing.New: %v %v", tp, err)
	}
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	db, err := database.Open(testdb.URL(t, testdb.Seeded), database.Options{MaxOpenConns: 4, Tracer: tracing.StatementTracer(tp)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	tracing.InstrumentDB(db, tp)
	logs := &apitest.LogBuffer{}
	api := newApplication(t, apitest.Deps{Config: cfg, DB: db, Log: logging.New(logs, slog.LevelInfo, "json"), Metrics: metrics.New(), Tracer: tp})
	t.Cleanup(api.Close)

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	const callerSpan = "00f067aa0ba902b7"
	const vin = "1HGCM82633A004352"
	req := httptest.NewRequest(http.MethodPost, "/graphql",
		strings.NewReader(`{"query":"query ByVin($vin: String!) { vehicleByVin(vin: $vin) { vin make { name } } }","variables":{"vin":"`+vin+`"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-"+callerSpan+"-01")
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if err := tp.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}

	spans := col.inTrace(traceID)
	byName := map[string]*tracepb.Span{}
	var sql []*tracepb.Span
	for _, s := range spans {
		byName[s.Name] = s
		if attr(s, "db.system") != "" {
			sql = append(sql, s)
		}
	}
	httpSpan, op := byName["POST /graphql"], byName["query ByVin"]
	if httpSpan == nil || op == nil || len(sql) == 0 {
		names := []string{}
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("spans of the trace: %q", names)
	}
	if hex.EncodeToString(httpSpan.ParentSpanId) != callerSpan || httpSpan.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("the request's span does not continue the caller's traceparent: parent %x kind %v", httpSpan.ParentSpanId, httpSpan.Kind)
	}
	if string(op.ParentSpanId) != string(httpSpan.SpanId) ||
		attr(op, "graphql.operation.type") != "query" || attr(op, "graphql.operation.name") != "ByVin" {
		t.Errorf("operation span: parent %x (request %x), attributes %v", op.ParentSpanId, httpSpan.SpanId, op.Attributes)
	}
	for _, s := range sql {
		// bun's hook names the text db.statement, otelpgx (newer conventions) db.query.text.
		stmt := cmp.Or(attr(s, "db.statement"), attr(s, "db.query.text"))
		if attr(s, "db.system") != "postgresql" || stmt == "" || strings.Contains(stmt, vin) {
			t.Errorf("SQL span %q: db.system %q, statement %q (must not hold argument values)", s.Name, attr(s, "db.system"), stmt)
		}
		if string(s.ParentSpanId) != string(op.SpanId) {
			t.Errorf("SQL span %q is not under the operation", stmt)
		}
	}
	// One span for the request, one for the operation, one per statement:
	// none per field.
	if len(spans) != 2+len(sql) {
		t.Errorf("%d spans for a request with %d statements", len(spans), len(sql))
	}
	col.mu.Lock()
	services := col.services
	col.mu.Unlock()
	if len(services) == 0 || services[0] != "carlot-test" {
		t.Errorf("service.name %q", services)
	}
	// The request's log line carries its trace id beside its request id.
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			line = l
		}
	}
	if !strings.Contains(line, `"trace_id":"`+traceID+`"`) || !strings.Contains(line, `"request_id":`) {
		t.Errorf("access log line: %s", line)
	}
}

func TestSubscriptionDeliveriesAreTraced(t *testing.T) {
	t.Parallel()
	col, endpoint := newCollector(t)
	cfg := apitest.Config(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "RATE_LIMIT_PER_IP": "0"})
	tp, err := tracing.New(t.Context(), cfg.Tracing)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	db := testdb.New(t, testdb.Seeded)
	api := newApplication(t, apitest.Deps{Config: cfg, DB: db, Log: logging.New(io.Discard, slog.LevelInfo, "json"), Metrics: metrics.New(), Tracer: tp})
	t.Cleanup(api.Close)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)

	ws := apitest.DialRaw(t, srv.URL)
	defer ws.Close()
	ws.Send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription Events { vehicleEvents { kind } }"}})
	apitest.Eventually(t, func() bool { return api.LiveSubscribers() > 0 }, 10*time.Second, "the subscription started")
	var adminID int64
	if err := db.NewSelect().Table("users").Column("id").Where("email = ?", testdb.AdminEmail).Scan(t.Context(), &adminID); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := db.NewSelect().Table("vehicles").Column("id").Limit(1).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"query": `mutation($id: ID!) { updateVehicle(id: $id, input: { priceCents: 100 }) { id } }`,
		"variables": map[string]any{"id": relay.NodeID(models.TypeVehicle, id)}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", apitest.Bearer(t, adminID, models.RoleAdmin))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), `"errors"`) {
		t.Fatal(string(body))
	}
	if msg := ws.Read(); msg["type"] != "next" {
		t.Fatalf("event: %v", msg)
	}
	if err := tp.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	var names []string
	for _, s := range col.spans {
		names = append(names, s.Name)
		if s.Name == "deliver subscription Events" && attr(s, "graphql.operation.name") == "Events" {
			return
		}
	}
	t.Fatalf("no delivery span among %q", names)
}

func TestTracingIsOffWithoutAnEndpoint(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	tp, err := tracing.New(t.Context(), cfg.Tracing)
	if err != nil || tp != nil {
		t.Fatalf("tracing without an endpoint: %v %v", tp, err)
	}
	a := newTestAPI(t, testdb.Seeded, nil)
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ makes { name } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	a.Send(req)
	if strings.Contains(a.Logs.String(), "trace_id") {
		t.Fatalf("trace ids logged with tracing off:\n%s", a.Logs.String())
	}
}
