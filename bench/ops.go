package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/models"
)

// The documents the load sends. The selections are what a catalog shows: a
// vehicle with its model, make and dealer, and a dealer's lot.
const (
	vehicleFields = `vin priceCents model { name make { name } } dealer { name city }`
	pageFields    = `vin priceCents model { name make { name } } dealer { name }`
	lookupQuery   = `query Lookup($id: ID!) { vehicle(id: $id) { ` + vehicleFields + ` } }`
	dealersQuery  = `query Dealers { dealers(first: 20) { nodes { name city vehicles(first: 5) { nodes { vin priceCents model { name make { name } } } } } } }`
	searchQuery   = `query Search($search: String!) { vehicles(first: 20, filter: {search: $search}) { nodes { vin priceCents model { name make { name } } } pageInfo { hasNextPage endCursor } } }`
	writeQuery    = `mutation Write($id: ID!, $price: Int!, $version: Int!) { updateVehicle(id: $id, input: {priceCents: $price}, expectedVersion: $version) { id version priceCents } }`
)

// pageQuery is a dealer's lot, cheapest first, first vehicles at a time,
// with totalCount when total is set.
func pageQuery(first int, total bool) string {
	count := ""
	if total {
		count = "totalCount "
	}
	return `query Page($dealerId: ID!) { vehicles(first: ` + strconv.Itoa(first) +
		`, filter: {dealerId: $dealerId}, orderBy: {field: PRICE, direction: ASC}) { ` + count + `nodes { ` + pageFields +
		` } pageInfo { hasNextPage endCursor } } }`
}

// operation is one kind of request the load generator sends.
type operation struct {
	name string
	url  string
	// body appends the request body (a GraphQL request; the ceiling reads
	// only its variables) for a random target.
	body func(r *rand.Rand, buf []byte) []byte
	// bodies, when set, makes the n bodies an external generator sends in
	// turn (writes need each vehicle's current version); otherwise they are
	// n calls of body.
	bodies func(ctx context.Context, n int) ([][]byte, error)
	token  string
	// statements is the statement budget per request; negative: none
	// (writes, the ceiling).
	statements int
	// ceiling names the ceiling operation this one is compared with.
	ceiling string
	// check validates a sample answer before the load starts.
	check func(body []byte) error
	// answered, when set, sees every successful answer (writes learn versions from it).
	answered func(body []byte)
}

// catalogSample is what the operations pick their random targets from.
type catalogSample struct {
	vehicleIDs []int64
	versions   []atomic.Int64 // by index in vehicleIDs: the last version seen
	dealerIDs  []string       // global IDs
	makeNames  []string
}

// sampleCatalog reads ids, versions, dealers and make names once.
func sampleCatalog(ctx context.Context, env *environment) (*catalogSample, error) {
	var rows []struct {
		ID      int64 `bun:"id"`
		Version int64 `bun:"version"`
	}
	if err := env.db.NewRaw("SELECT id, version FROM vehicles ORDER BY id").Scan(ctx, &rows); err != nil {
		return nil, err
	}
	var dealers []int64
	if err := env.db.NewRaw("SELECT id FROM dealers ORDER BY id").Scan(ctx, &dealers); err != nil {
		return nil, err
	}
	c := &catalogSample{vehicleIDs: make([]int64, len(rows)), versions: make([]atomic.Int64, len(rows))}
	for i, r := range rows {
		c.vehicleIDs[i] = r.ID
		c.versions[i].Store(r.Version)
	}
	for _, id := range dealers {
		c.dealerIDs = append(c.dealerIDs, relay.NodeID(models.TypeDealer, id))
	}
	if err := env.db.NewRaw("SELECT name FROM makes ORDER BY name").Scan(ctx, &c.makeNames); err != nil {
		return nil, err
	}
	if len(c.vehicleIDs) == 0 || len(c.dealerIDs) == 0 || len(c.makeNames) == 0 {
		return nil, errors.New("the seeded catalog is empty")
	}
	return c, nil
}

// readVersions reads every vehicle's version again (the writes of an
// external generator are not seen one by one).
func (c *catalogSample) readVersions(ctx context.Context, env *environment) error {
	var rows []struct {
		ID      int64 `bun:"id"`
		Version int64 `bun:"version"`
	}
	if err := env.db.NewRaw("SELECT id, version FROM vehicles ORDER BY id").Scan(ctx, &rows); err != nil {
		return err
	}
	for _, r := range rows {
		if i, found := slices.BinarySearch(c.vehicleIDs, r.ID); found {
			c.versions[i].Store(r.Version)
		}
	}
	return nil
}

// login returns an access token for email.
func login(ctx context.Context, client *http.Client, graphqlURL, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`,
		"variables": map[string]string{"e": email, "p": password},
	})
	status, raw, err := post(ctx, client, graphqlURL, "", body, nil)
	if err != nil {
		return "", err
	}
	var out struct {
		Data struct {
			Login struct{ AccessToken string } `json:"login"`
		} `json:"data"`
	}
	if status != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.Data.Login.AccessToken == "" {
		return "", fmt.Errorf("login as %s failed: %d %s", email, status, raw)
	}
	return out.Data.Login.AccessToken, nil
}

// operations builds every HTTP operation against Carlot at graphqlURL, by
// name, and the ceiling's, whose url is set once the ceiling runs.
func operations(ctx context.Context, env *environment, c *catalogSample, client *http.Client, graphqlURL string) (map[string]*operation, error) {
	token, err := login(ctx, client, graphqlURL, seed.AdminEmail, env.password)
	if err != nil {
		return nil, err
	}
	lookupBody := func(r *rand.Rand, buf []byte) []byte {
		buf = appendRequest(buf, lookupQuery)
		buf = append(buf, `{"id":"`...)
		buf = append(buf, relay.NodeID(models.TypeVehicle, c.vehicleIDs[r.IntN(len(c.vehicleIDs))])...)
		return append(buf, `"}}`...)
	}
	pageBody := func(first int, total bool) func(r *rand.Rand, buf []byte) []byte {
		doc := pageQuery(first, total)
		return func(r *rand.Rand, buf []byte) []byte {
			buf = appendRequest(buf, doc)
			buf = append(buf, `{"dealerId":"`...)
			buf = append(buf, c.dealerIDs[r.IntN(len(c.dealerIDs))]...)
			return append(buf, `"}}`...)
		}
	}
	writeBody := func(r *rand.Rand, buf []byte, i int) []byte {
		buf = appendRequest(buf, writeQuery)
		buf = append(buf, `{"id":"`...)
		buf = append(buf, relay.NodeID(models.TypeVehicle, c.vehicleIDs[i])...)
		buf = append(buf, `","price":`...)
		buf = strconv.AppendInt(buf, 500_000+r.Int64N(10_000_000), 10)
		buf = append(buf, `,"version":`...)
		buf = strconv.AppendInt(buf, c.versions[i].Load(), 10)
		return append(buf, `}}`...)
	}
	write := &operation{
		name: "write", url: graphqlURL, token: token, statements: -1,
		body:  func(r *rand.Rand, buf []byte) []byte { return writeBody(r, buf, r.IntN(len(c.vehicleIDs))) },
		check: expectPath("updateVehicle", "version"),
		// Each vehicle once, in random order, at its version as it is now:
		// only a run that sends more writes than there are vehicles conflicts.
		bodies: func(ctx context.Context, n int) ([][]byte, error) {
			if err := c.readVersions(ctx, env); err != nil {
				return nil, err
			}
			r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
			order := r.Perm(len(c.vehicleIDs))[:min(n, len(c.vehicleIDs))]
			out := make([][]byte, len(order))
			for k, i := range order {
				out[k] = writeBody(r, nil, i)
			}
			return out, nil
		},
	}
	// Learn each written vehicle's new version, keeping the highest: two
	// answers for one vehicle may arrive in either order.
	write.answered = func(body []byte) {
		var out struct {
			Data struct {
				UpdateVehicle struct {
					ID      string `json:"id"`
					Version int64  `json:"version"`
				} `json:"updateVehicle"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &out) != nil {
			return
		}
		_, id, err := relay.ParseNodeID(out.Data.UpdateVehicle.ID)
		if err != nil {
			return
		}
		if i, found := slices.BinarySearch(c.vehicleIDs, id); found {
			for v := c.versions[i].Load(); v < out.Data.UpdateVehicle.Version; v = c.versions[i].Load() {
				if c.versions[i].CompareAndSwap(v, out.Data.UpdateVehicle.Version) {
					break
				}
			}
		}
	}
	ops := map[string]*operation{
		"lookup": {name: "lookup", url: graphqlURL, body: lookupBody, statements: 1, ceiling: "ceiling-lookup",
			check: expectPath("vehicle", "model", "make", "name")},
		"ceiling-lookup": {name: "ceiling-lookup", body: lookupBody, statements: -1,
			check: expectPath("vehicle", "model", "make", "name")},
		"page": {name: "page", url: graphqlURL, body: pageBody(50, false), statements: 1, ceiling: "ceiling-page",
			check: expectNodes("vehicles", 50)},
		"ceiling-page": {name: "ceiling-page", body: pageBody(50, false), statements: -1,
			check: expectNodes("vehicles", 50)},
		"pagecount": {name: "pagecount", url: graphqlURL, body: pageBody(50, true), statements: 2, check: expectNodes("vehicles", 50)},
		"page10":    {name: "page10", url: graphqlURL, body: pageBody(10, false), statements: 1, check: expectNodes("vehicles", 10)},
		"page100":   {name: "page100", url: graphqlURL, body: pageBody(100, false), statements: 1, check: expectNodes("vehicles", 100)},
		"dealers": {name: "dealers", url: graphqlURL, statements: 2, check: expectNodes("dealers", 20),
			body: func(_ *rand.Rand, buf []byte) []byte { return append(appendRequest(buf, dealersQuery), `{}}`...) }},
		"search": {name: "search", url: graphqlURL, statements: 2, check: expectNodes("vehicles", 20),
			body: func(r *rand.Rand, buf []byte) []byte {
				buf = appendRequest(buf, searchQuery)
				buf = append(buf, `{"search":`...)
				buf = strconv.AppendQuote(buf, c.makeNames[r.IntN(len(c.makeNames))])
				return append(buf, `}}`...)
			}},
		"write": write,
	}
	return ops, nil
}

// appendRequest starts a GraphQL request body: the document, then the
// variables object the caller appends and closes with "}}".
func appendRequest(buf []byte, query string) []byte {
	buf = append(buf, `{"query":`...)
	buf = strconv.AppendQuote(buf, query)
	return append(buf, `,"variables":`...)
}
