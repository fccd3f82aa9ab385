// Command ceiling is what the bench compares Carlot's reads with: the
// fastest plain Go answer to the same two requests on the same database.
//
//	DATABASE_URL=postgres://… go run ./bench/ceiling [-addr 127.0.0.1:0]
//
// It is net/http, a pgxpool of its own (pgx's default extended protocol, so
// each connection prepares a statement once and reuses its plan), ONE
// statement with joins per request, and encoding/json. It answers
// POST /graphql with the request bodies the bench sends for `lookup` and
// `page`, telling them apart by their variables (it parses no GraphQL), with
// the JSON Carlot gives for them:
//
//	lookup: vehicle(id: $id) { vin priceCents model { name make { name } } dealer { name city } }
//	page:   vehicles(first: 50, filter: {dealerId: $dealerId}, orderBy: {field: PRICE, direction: ASC}) {
//	          nodes { vin priceCents model { name make { name } } dealer { name } } pageInfo { hasNextPage endCursor } }
//
// GET /metrics reports, in Prometheus' text format and under the names
// Carlot uses, the statements it ran and the Go runtime's allocation
// counters, so the bench reads both processes the same way. It prints the
// address it listens on as its first line of output.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	lookupSQL = `SELECT v.vin, v.price_cents, md.name, mk.name, d.name, d.city
		FROM vehicles v
		JOIN models md ON md.id = v.model_id
		JOIN makes mk ON mk.id = v.make_id
		JOIN dealers d ON d.id = v.dealer_id
		WHERE v.id = $1`
	// pageSQL reads one row more than a page to learn whether another follows.
	pageSQL = `SELECT v.id, v.vin, v.price_cents, md.name, mk.name, d.name
		FROM vehicles v
		JOIN models md ON md.id = v.model_id
		JOIN makes mk ON mk.id = v.make_id
		JOIN dealers d ON d.id = v.dealer_id
		WHERE v.dealer_id = $1
		ORDER BY v.price_cents, v.id
		LIMIT $2`
	pageSize = 50
)

// Global IDs and cursors as Carlot writes them: unpadded URL-safe base64 of
// "Type:id" and of "order:id:key".
var b64 = base64.RawURLEncoding

type modelJSON struct {
	Name string `json:"name"`
	Make struct {
		Name string `json:"name"`
	} `json:"make"`
}

type lookupVehicle struct {
	VIN    string    `json:"vin"`
	Price  int64     `json:"priceCents"`
	Model  modelJSON `json:"model"`
	Dealer struct {
		Name string `json:"name"`
		City string `json:"city"`
	} `json:"dealer"`
}

type pageVehicle struct {
	id     int64
	VIN    string    `json:"vin"`
	Price  int64     `json:"priceCents"`
	Model  modelJSON `json:"model"`
	Dealer struct {
		Name string `json:"name"`
	} `json:"dealer"`
}

type request struct {
	Variables struct {
		ID       string `json:"id"`
		DealerID string `json:"dealerId"`
	} `json:"variables"`
}

type server struct {
	pool       *pgxpool.Pool
	statements atomic.Int64
	requests   atomic.Int64
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		return errors.New("DATABASE_URL is required")
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return err
	}
	s := &server{pool: pool}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /graphql", s.graphql)
	mux.HandleFunc("GET /metrics", s.metrics)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

func (s *server) graphql(w http.ResponseWriter, r *http.Request) {
	var req request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad request body")
		return
	}
	s.requests.Add(1)
	switch {
	case req.Variables.ID != "":
		s.lookup(w, r, req.Variables.ID)
	case req.Variables.DealerID != "":
		s.page(w, r, req.Variables.DealerID)
	default:
		writeError(w, http.StatusBadRequest, "only the bench's lookup and page requests are answered")
	}
}

func (s *server) lookup(w http.ResponseWriter, r *http.Request, globalID string) {
	id, ok := parseID(globalID, "Vehicle")
	if !ok {
		writeError(w, http.StatusBadRequest, "bad id")
		return
	}
	var v lookupVehicle
	s.statements.Add(1)
	err := s.pool.QueryRow(r.Context(), lookupSQL, id).
		Scan(&v.VIN, &v.Price, &v.Model.Name, &v.Model.Make.Name, &v.Dealer.Name, &v.Dealer.City)
	var answer struct {
		Data struct {
			Vehicle *lookupVehicle `json:"vehicle"`
		} `json:"data"`
	}
	switch {
	case err == nil:
		answer.Data.Vehicle = &v
	case !errors.Is(err, pgx.ErrNoRows):
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	writeJSON(w, &answer)
}

func (s *server) page(w http.ResponseWriter, r *http.Request, globalID string) {
	dealerID, ok := parseID(globalID, "Dealer")
	if !ok {
		writeError(w, http.StatusBadRequest, "bad id")
		return
	}
	s.statements.Add(1)
	rows, err := s.pool.Query(r.Context(), pageSQL, dealerID, pageSize+1)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	vs := make([]pageVehicle, 0, pageSize+1)
	for rows.Next() {
		var v pageVehicle
		if err := rows.Scan(&v.id, &v.VIN, &v.Price, &v.Model.Name, &v.Model.Make.Name, &v.Dealer.Name); err != nil {
			rows.Close()
			writeError(w, http.StatusInternalServerError, "internal error")
			return
		}
		vs = append(vs, v)
	}
	if rows.Err() != nil {
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	var answer struct {
		Data struct {
			Vehicles struct {
				Nodes    []pageVehicle `json:"nodes"`
				PageInfo struct {
					HasNextPage bool    `json:"hasNextPage"`
					EndCursor   *string `json:"endCursor"`
				} `json:"pageInfo"`
			} `json:"vehicles"`
		} `json:"data"`
	}
	page := &answer.Data.Vehicles
	if page.PageInfo.HasNextPage = len(vs) > pageSize; page.PageInfo.HasNextPage {
		vs = vs[:pageSize]
	}
	page.Nodes = vs
	if len(vs) > 0 {
		last := vs[len(vs)-1]
		c := b64.EncodeToString([]byte("price:" + strconv.FormatInt(last.id, 10) + ":" + strconv.FormatInt(last.Price, 10)))
		page.PageInfo.EndCursor = &c
	}
	writeJSON(w, &answer)
}

// metrics writes the counters the bench reads before and after a run.
func (s *server) metrics(w http.ResponseWriter, _ *http.Request) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "carlot_graphql_request_sql_statements_sum %d\n", s.statements.Load())
	fmt.Fprintf(w, "carlot_graphql_request_sql_statements_count %d\n", s.requests.Load())
	fmt.Fprintf(w, "go_memstats_mallocs_total %d\n", m.Mallocs)
	fmt.Fprintf(w, "go_memstats_alloc_bytes_total %d\n", m.TotalAlloc)
	fmt.Fprintf(w, "go_gc_duration_seconds_count %d\n", m.NumGC)
}

// parseID decodes a global ID of type typ.
func parseID(s, typ string) (int64, bool) {
	raw, err := b64.DecodeString(s)
	if err != nil {
		return 0, false
	}
	t, num, ok := strings.Cut(string(raw), ":")
	if !ok || t != typ {
		return 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	return id, err == nil && id > 0
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"message": message}}})
}
