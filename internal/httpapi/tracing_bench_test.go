package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/logging"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/internal/tracing"
	"github.com/carlot/carlot/models"
)

// BenchmarkTracing runs the lookup request (a vehicle with its model, make
// and dealer) with tracing off, and on with every request sampled and its
// spans exported to an in-process OTLP/HTTP endpoint, to show what tracing
// costs a request.
func BenchmarkTracing(b *testing.B) {
	_, endpoint := newCollector(b)
	var ids []int64
	seeded := testdb.New(b, testdb.Seeded)
	if err := seeded.NewRaw("SELECT id FROM vehicles ORDER BY id LIMIT 100").Scan(b.Context(), &ids); err != nil {
		b.Fatal(err)
	}
	bodies := make([]string, len(ids))
	for i, id := range ids {
		raw, _ := json.Marshal(map[string]any{
			"query":     `query($id: ID!) { vehicle(id: $id) { vin priceCents model { name make { name } } dealer { name city } } }`,
			"variables": map[string]any{"id": relay.NodeID(models.TypeVehicle, id)},
		})
		bodies[i] = string(raw)
	}
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			env := map[string]string{"RATE_LIMIT_PER_IP": "0", "RATE_LIMIT_PER_USER": "0", "LOG_LEVEL": "warn"}
			if on {
				env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
				env["OTEL_TRACES_SAMPLER"] = "always_on"
			}
			cfg := apitest.Config(b, env)
			db := testdb.New(b, testdb.Seeded)
			deps := apitest.Deps{Config: cfg, DB: db, Log: logging.New(io.Discard, slog.LevelWarn, "json")}
			tp, err := tracing.New(b.Context(), cfg.Tracing)
			if err != nil {
				b.Fatal(err)
			}
			if tp != nil {
				b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				tracing.InstrumentDB(db, tp)
				deps.Tracer = tp
			}
			api := newApplication(b, deps)
			b.Cleanup(api.Close)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				api.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
				i++
			}
		})
	}
}
