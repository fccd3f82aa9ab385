package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/carlot/carlot/internal/testdb"
)

// FuzzGraphQLRequest sends arbitrary bodies (as a POST body, and as a GET
// query) through the real handler on the demo data: whatever arrives, the
// answer is a well-formed JSON GraphQL response with a request id, never a
// 5xx, a panic or an internal error. The seeds run with the normal tests;
// `go test -fuzz FuzzGraphQLRequest ./internal/httpapi` explores further.
func FuzzGraphQLRequest(f *testing.F) {
	for _, seed := range []string{
		`{"query":"{ vehicles(first: 2) { nodes { vin make { name } } } }"}`,
		`{"query":"query Q($f: VehicleFilter) { vehicles(filter: $f) { totalCount } }","variables":{"f":{"search":"red","yearMin":2015}}}`,
		`{"query":"{ node(id: \"VmVoaWNsZTox\") { id ... on Vehicle { vin } } }"}`,
		`{"query":"{ node(id: \"!!!\") { id } }"}`,
		`{"query":"{ vehicles(after: \"bm90IGEgY3Vyc29y\") { totalCount } }"}`,
		`{"query":"{ vehicles(first: -1) { totalCount } }"}`,
		`{"query":"{ vehicleByVin(vin: \"\\u0000\") { id } }"}`,
		`{"query":"{ dealers(first: 100) { nodes { vehicles(first: 100) { totalCount } } } }"}`,
		`{"query":"mutation { logout(refreshToken: \"x\") }"}`,
		`{"query":"{ __schema { types { name } } }"}`,
		`{"query":"query A { __typename } query B { __typename }","operationName":"C"}`,
		`{"query":"{","variables":{"x":[1,2,{"y":null}]}}`,
		`{"query":null,"extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}`,
		`{"query":"{ __typename }","extensions":{"persistedQuery":"nope"}}`,
		`[{"query":"{ __typename }"}]`,
		`{"query":"{ __typename }"`,
		`{"query":"{ vehicles(orderBy: {field: PRICE, direction: ASC}, last: 5, before: \"x\") { nodes { id } } }"}`,
		"\xff\xfe{\"query\":1}",
		``,
		`null`,
	} {
		f.Add(seed, false)
	}
	f.Add("{ vehicles(first: 1) { nodes { vin } } }", true)
	f.Add("query($id: ID!) { vehicle(id: $id) { vin } }", true)

	a := newTestAPI(f, testdb.Seeded, map[string]string{"RATE_LIMIT_PER_IP": "0", "RATE_LIMIT_PER_USER": "0"})
	f.Fuzz(func(t *testing.T, body string, get bool) {
		var req *http.Request
		if get {
			req = httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"query": {body}, "variables": {`{"id":"VmVoaWNsZTox"}`}}.Encode(), nil)
		} else {
			req = httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Header().Get(RequestIDHeader) == "" {
			t.Fatal("no X-Request-ID")
		}
		raw := rec.Body.Bytes()
		if !utf8.Valid(raw) {
			t.Fatalf("response is not UTF-8: %q", raw)
		}
		var resp struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(raw, &resp); err != nil {
			t.Fatalf("response is not JSON (%v) for %q: %s", err, body, raw)
		}
		if resp.Data == nil && len(resp.Errors) == 0 {
			t.Fatalf("neither data nor errors for %q: %s", body, raw)
		}
		for _, e := range resp.Errors {
			if e.Extensions["code"] == "INTERNAL_SERVER_ERROR" {
				t.Fatalf("internal error for %q: %s", body, raw)
			}
			if e.Extensions["code"] == nil {
				t.Fatalf("error without a code for %q: %s", body, raw)
			}
		}
	})
}
