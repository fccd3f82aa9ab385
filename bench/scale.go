package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/models"
)

// Scale mode (--mode scale) shows how the storefront's queries grow with
// the inventory: one client, each query warmed up and then sent
// --scale-runs times in a row over HTTP to Carlot, reporting the median
// and the slowest. Run it at two sizes to compare:
//
//	go run ./bench --mode scale --vehicles 100000
//	go run ./bench --mode scale --vehicles 1000000

// scaleWarmup is how many unmeasured runs warm each query's caches first.
const scaleWarmup = 3

// scaleQuery is one storefront query at a fixed target.
type scaleQuery struct {
	Name      string         `json:"name"`
	Document  string         `json:"document"`
	Variables map[string]any `json:"variables,omitempty"`
	// P50 and Max are milliseconds.
	P50 float64 `json:"p50_ms"`
	Max float64 `json:"max_ms"`
}

// scaleReport is what a scale run writes as JSON.
type scaleReport struct {
	Started    time.Time     `json:"started"`
	Command    string        `json:"command"`
	Vehicles   int           `json:"vehicles"`
	Runs       int           `json:"runs"`
	SeedSecs   float64       `json:"seed_seconds"`
	PostgreSQL string        `json:"postgresql"`
	Queries    []*scaleQuery `json:"queries"`
}

const scaleVehicleFields = `vin priceCents model { name make { name } } dealer { name }`

// scaleQueries are the storefront queries, aimed at targets read from the
// seeded catalog.
func scaleQueries(ctx context.Context, env *environment) ([]*scaleQuery, error) {
	var target struct {
		VehicleID int64 `bun:"vehicle_id"`
		MakeID    int64 `bun:"make_id"`
		DealerID  int64 `bun:"dealer_id"`
	}
	err := env.db.NewRaw(`SELECT
		(SELECT min(id) + (max(id) - min(id)) / 2 FROM vehicles) AS vehicle_id,
		(SELECT id FROM makes WHERE name = 'Toyota') AS make_id,
		(SELECT id FROM dealers ORDER BY name, id LIMIT 1) AS dealer_id`).Scan(ctx, &target)
	if err != nil {
		return nil, fmt.Errorf("pick the targets: %w", err)
	}
	var vin string
	if err := env.db.NewRaw("SELECT vin FROM vehicles WHERE id >= ? ORDER BY id LIMIT 1", target.VehicleID).Scan(ctx, &vin); err != nil {
		return nil, fmt.Errorf("pick a VIN: %w", err)
	}
	vehicleID := relay.NodeID(models.TypeVehicle, target.VehicleID)
	makeID := relay.NodeID(models.TypeMake, target.MakeID)
	dealerID := relay.NodeID(models.TypeDealer, target.DealerID)
	page := func(params, args string) string {
		return `query` + params + ` { vehicles(` + args + `) { totalCount nodes { ` + scaleVehicleFields + ` } pageInfo { hasNextPage endCursor } } }`
	}
	toronto := map[string]any{"latitude": 43.6532, "longitude": -79.3832, "radiusKm": 50}
	const facets = `query($f: VehicleFilter) { vehicleStats(filter: $f) { count byFuel { value count } byCondition { value count }
		byBodyStyle { value count } byYear { year count } priceHistogram(bucketCents: 500000) { minCents maxCents count } } }`
	const storefront = `query($f: VehicleFilter) {
		vehicles(first: 20, filter: $f, orderBy: {field: DISTANCE, direction: ASC}) {
			totalCount
			nodes { id year trim condition priceCents mileageKm daysOnLot distanceKm make { name } model { name }
				dealer { name city phone } primaryPhoto { thumbnailUrl alt width height } }
			pageInfo { hasNextPage endCursor } }
		vehicleStats(filter: $f) { count byFuel { value count } byCondition { value count } byBodyStyle { value count }
			byYear { year count } priceHistogram(bucketCents: 500000) { minCents maxCents count } } }`
	const stats = `query($f: VehicleFilter) { vehicleStats(filter: $f) { count minPriceCents avgPriceCents maxPriceCents byStatus { status count } byMake { make { name } count } } }`
	return []*scaleQuery{
		{Name: "lookup by id", Document: `query($id: ID!) { vehicle(id: $id) { ` + scaleVehicleFields + ` } }`, Variables: map[string]any{"id": vehicleID}},
		{Name: "lookup by VIN", Document: `query($vin: String!) { vehicleByVin(vin: $vin) { ` + scaleVehicleFields + ` } }`, Variables: map[string]any{"vin": vin}},
		{Name: "first page, totalCount", Document: page("", "first: 50")},
		{Name: "filtered page by price, totalCount", Document: page("", `first: 50, filter: {fuel: [ELECTRIC], status: [AVAILABLE], priceMaxCents: 3000000, yearMin: 2018}, orderBy: {field: PRICE, direction: ASC}`)},
		{Name: `search "toyota red", totalCount`, Document: page("($v: String)", `first: 20, filter: {search: $v}`), Variables: map[string]any{"v": "toyota red"}},
		{Name: "search 6 characters of a VIN, totalCount", Document: page("($v: String)", `first: 20, filter: {search: $v}`), Variables: map[string]any{"v": vin[10:16]}},
		{Name: "a dealer's lot by price, totalCount", Document: `query($d: ID!) { dealer(id: $d) { vehicles(first: 50, orderBy: {field: PRICE, direction: ASC}) { totalCount nodes { ` + scaleVehicleFields + ` } } } }`, Variables: map[string]any{"d": dealerID}},
		{Name: "dealers with nested totalCount", Document: `{ dealers(first: 20) { nodes { name vehicles(first: 5) { totalCount nodes { vin priceCents } } } } }`},
		{Name: "vehicleStats", Document: stats},
		{Name: "vehicleStats by make", Document: stats, Variables: map[string]any{"f": map[string]any{"makeId": makeID}}},
		{Name: `vehicleStats search "ford"`, Document: stats, Variables: map[string]any{"f": map[string]any{"search": "ford"}}},
		{Name: "50 km around Toronto by distance, totalCount", Document: page("($f: VehicleFilter)", `first: 20, filter: $f, orderBy: {field: DISTANCE, direction: ASC}`),
			Variables: map[string]any{"f": map[string]any{"near": toronto}}},
		{Name: "storefront: near, listing filters, photos, facets", Document: storefront, Variables: map[string]any{"f": map[string]any{
			"near": toronto, "status": []string{"AVAILABLE"}, "bodyStyle": []string{"SUV", "WAGON"}, "condition": []string{"USED", "CERTIFIED"},
		}}},
		{Name: "facets, no filter", Document: facets},
		{Name: "facets by make", Document: facets, Variables: map[string]any{"f": map[string]any{"makeId": makeID}}},
	}, nil
}

// runScale seeds a scratch database with s.vehicles vehicles and times
// each storefront query with one client.
func runScale(ctx context.Context, s *settings, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	progress("preparing a scratch database with %d vehicles", s.vehicles)
	env, err := prepare(ctx, s, getenv, stderr, progress)
	if err != nil {
		return err
	}
	defer env.close(progress)
	carlot, err := env.startCarlot(ctx)
	if err != nil {
		return err
	}
	defer carlot.stop()
	graphqlURL := carlot.graphqlURL()
	progress("seeded %d vehicles in %.2fs; Carlot (a child process, production mode) listens on %s", s.vehicles, env.seed.Seconds, graphqlURL)

	queries, err := scaleQueries(ctx, env)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: time.Minute}
	defer client.CloseIdleConnections()
	for _, q := range queries {
		body, err := json.Marshal(map[string]any{"query": q.Document, "variables": q.Variables})
		if err != nil {
			return err
		}
		var times []float64
		for i := range scaleWarmup + s.scaleRuns {
			start := time.Now()
			status, raw, err := post(ctx, client, graphqlURL, "", body, nil)
			elapsed := float64(time.Since(start).Microseconds()) / 1000
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("HTTP %d: %s", status, raw)
			}
			if err == nil {
				_, err = dataOf(raw)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", q.Name, err)
			}
			if i >= scaleWarmup {
				times = append(times, elapsed)
			}
		}
		slices.Sort(times)
		q.P50, q.Max = times[len(times)/2], times[len(times)-1]
		progress("%-45s p50 %8.2f ms  max %8.2f ms", q.Name, q.P50, q.Max)
	}

	rep := &scaleReport{
		Started: time.Now().UTC(), Command: strings.TrimSpace("go run ./bench " + strings.Join(args, " ")), Vehicles: s.vehicles, Runs: s.scaleRuns,
		SeedSecs: env.seed.Seconds, PostgreSQL: env.pgVersion, Queries: queries,
	}
	if err := os.MkdirAll(filepath.Dir(s.out), 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.out, append(raw, '\n'), 0o644); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "%d vehicles (seeded in %.1f s), one client, %d runs after %d warm-up runs:\n\n", s.vehicles, env.seed.Seconds, s.scaleRuns, scaleWarmup)
	tw := tabwriter.NewWriter(stdout, 0, 4, 1, ' ', 0)
	fmt.Fprintln(tw, "| query\t| p50 ms\t| max ms\t|")
	fmt.Fprintln(tw, "| ---\t| ---:\t| ---:\t|")
	for _, q := range queries {
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t|\n", q.Name, strconv.FormatFloat(q.P50, 'f', 1, 64), strconv.FormatFloat(q.Max, 'f', 1, 64))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nJSON: %s\n", s.out)
	return nil
}
