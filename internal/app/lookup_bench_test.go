package app_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/app"
	"github.com/carlot/carlot/internal/logging"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
)

// BenchmarkGraphQLRequest runs whole requests through the production
// handler, in process: decoding the body, the middleware, parsing (cached
// after the first), validation, resolvers with their loaders and SQL, and
// encoding the answer. The bench harness (go run ./bench) measures the same
// over real sockets under concurrency.
func BenchmarkGraphQLRequest(b *testing.B) {
	db := testdb.New(b, testdb.Seeded)
	cfg := apitest.Config(b, map[string]string{"RATE_LIMIT_PER_IP": "0", "RATE_LIMIT_PER_USER": "0", "LOG_LEVEL": "warn"})
	api, err := app.New(app.Deps{Config: cfg, DB: db, Log: logging.New(discard{}, slog.LevelWarn, "json")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(api.Close)

	var vehicleIDs, dealerIDs []int64
	if err := db.NewRaw("SELECT id FROM vehicles ORDER BY id LIMIT 100").Scan(b.Context(), &vehicleIDs); err != nil {
		b.Fatal(err)
	}
	if err := db.NewRaw("SELECT id FROM dealers ORDER BY id").Scan(b.Context(), &dealerIDs); err != nil {
		b.Fatal(err)
	}
	const fields = `vin priceCents model { name make { name } } dealer { name city }`
	for _, bc := range []struct {
		name, query, variable string
		typ                   string
		ids                   []int64
	}{
		{"lookup", `query($id: ID!) { vehicle(id: $id) { ` + fields + ` } }`, "id", models.TypeVehicle, vehicleIDs},
		{"page50", `query($id: ID!) { vehicles(first: 50, filter: {dealerId: $id}, orderBy: {field: PRICE, direction: ASC}) { nodes { ` + fields + ` } pageInfo { hasNextPage endCursor } } }`, "id", models.TypeDealer, dealerIDs},
	} {
		bodies := make([]string, len(bc.ids))
		for i, id := range bc.ids {
			raw, _ := json.Marshal(map[string]any{"query": bc.query, "variables": map[string]any{bc.variable: relay.NodeID(bc.typ, id)}})
			bodies[i] = string(raw)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu := processCPU()
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
			// This process's CPU time (PostgreSQL's is its own), which
			// waits on the database do not inflate as they do ns/op.
			b.ReportMetric(float64(processCPU()-cpu)/float64(i), "cpu-ns/op")
		})
	}
}

// discard is an io.Writer that drops everything (log lines at warn and above).
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// processCPU returns the user and system CPU time this process has used.
func processCPU() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
