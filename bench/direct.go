package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
)

// The direct baseline: what the lookup and page operations cost without
// GraphQL. It reads the same request body (only its variables), runs ONE
// hand-written statement with joins on the same connection pool, and
// writes the same JSON with encoding/json. The ratio of Carlot's
// throughput to this is what the GraphQL layer (parsing, validation,
// resolvers, loaders, one statement per relation) costs.

const (
	directColumns = `v.id, v.vin, v.price_cents, md.name, mk.name, d.name, d.city
		FROM vehicles v
		JOIN models md ON md.id = v.model_id
		JOIN makes mk ON mk.id = v.make_id
		JOIN dealers d ON d.id = v.dealer_id`
	directLookupSQL = `SELECT ` + directColumns + ` WHERE v.id = ?`
	directPageSQL   = `SELECT ` + directColumns + ` WHERE v.dealer_id = ? ORDER BY v.price_cents, v.id LIMIT ?`
	directPageSize  = 50
)

// directVehicle is the lookup's selection, as GraphQL would answer it.
type directVehicle struct {
	id    int64
	VIN   string `json:"vin"`
	Price int64  `json:"priceCents"`
	Model struct {
		Name string `json:"name"`
		Make struct {
			Name string `json:"name"`
		} `json:"make"`
	} `json:"model"`
	Dealer struct {
		Name string `json:"name"`
		City string `json:"city"`
	} `json:"dealer"`
}

type directRequest struct {
	Variables struct {
		ID       string `json:"id"`
		DealerID string `json:"dealerId"`
	} `json:"variables"`
}

// newDirectHandler serves POST /lookup and POST /page.
func newDirectHandler(db *bun.DB) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /lookup", func(w http.ResponseWriter, r *http.Request) {
		id, ok := directID(w, r, models.TypeVehicle, func(q *directRequest) string { return q.Variables.ID })
		if !ok {
			return
		}
		vs, err := queryVehicles(r.Context(), db, directLookupSQL, id)
		if err != nil {
			directError(w, http.StatusInternalServerError, "internal error")
			return
		}
		var answer struct {
			Data struct {
				Vehicle *directVehicle `json:"vehicle"`
			} `json:"data"`
		}
		if len(vs) > 0 {
			answer.Data.Vehicle = &vs[0]
		}
		writeDirect(w, &answer)
	})
	mux.HandleFunc("POST /page", func(w http.ResponseWriter, r *http.Request) {
		dealerID, ok := directID(w, r, models.TypeDealer, func(q *directRequest) string { return q.Variables.DealerID })
		if !ok {
			return
		}
		vs, err := queryVehicles(r.Context(), db, directPageSQL, dealerID, directPageSize+1)
		if err != nil {
			directError(w, http.StatusInternalServerError, "internal error")
			return
		}
		var answer struct {
			Data struct {
				Vehicles struct {
					Nodes    []directVehicle `json:"nodes"`
					PageInfo struct {
						HasNextPage bool    `json:"hasNextPage"`
						EndCursor   *string `json:"endCursor"`
					} `json:"pageInfo"`
				} `json:"vehicles"`
			} `json:"data"`
		}
		page := &answer.Data.Vehicles
		if page.PageInfo.HasNextPage = len(vs) > directPageSize; page.PageInfo.HasNextPage {
			vs = vs[:directPageSize]
		}
		page.Nodes = vs
		if len(vs) > 0 {
			last := vs[len(vs)-1]
			c := relay.Cursor{Order: models.OrderByPrice.CursorName(), Key: strconv.FormatInt(last.Price, 10), ID: last.id}.String()
			page.PageInfo.EndCursor = &c
		}
		writeDirect(w, &answer)
	})
	return mux
}

// directID decodes the request and returns the database id of the global ID
// of type typ that field picks from its variables.
func directID(w http.ResponseWriter, r *http.Request, typ string, field func(*directRequest) string) (int64, bool) {
	var req directRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		directError(w, http.StatusBadRequest, "bad request body")
		return 0, false
	}
	t, id, err := relay.ParseNodeID(field(&req))
	if err != nil || t != typ {
		directError(w, http.StatusBadRequest, "bad id")
		return 0, false
	}
	return id, true
}

// queryVehicles runs one statement returning directColumns.
func queryVehicles(ctx context.Context, db *bun.DB, query string, args ...any) ([]directVehicle, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []directVehicle
	for rows.Next() {
		var v directVehicle
		if err := rows.Scan(&v.id, &v.VIN, &v.Price, &v.Model.Name, &v.Model.Make.Name, &v.Dealer.Name, &v.Dealer.City); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func writeDirect(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func directError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"message": message}}})
}
