package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
)

// paddedBody returns a JSON request body of exactly n bytes.
func paddedBody(t *testing.T, n int) string {
	t.Helper()
	body := `{"query":"{ __typename }"}`
	if n < len(body) {
		t.Fatalf("cannot pad to %d bytes", n)
	}
	return body + strings.Repeat(" ", n-len(body))
}

// onlyReader hides a reader's length, so the client sends it chunked.
type onlyReader struct{ io.Reader }

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Empty, map[string]string{"MAX_BODY_BYTES": "2048"})
	var mu sync.Mutex
	var sentChunked bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sentChunked = r.ContentLength == -1 && slices.Contains(r.TransferEncoding, "chunked")
		mu.Unlock()
		a.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name    string
		size    int
		chunked bool
		status  int
	}{
		{"declared length at the limit", 2048, false, http.StatusOK},
		{"declared length one over", 2049, false, http.StatusRequestEntityTooLarge},
		{"chunked at the limit", 2048, true, http.StatusOK},
		{"chunked one over", 2049, true, http.StatusRequestEntityTooLarge},
		{"chunked far over", 1 << 20, true, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(paddedBody(t, tc.size))
			if tc.chunked {
				body = onlyReader{body}
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", body)
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			mu.Lock()
			chunked := sentChunked
			mu.Unlock()
			if chunked != tc.chunked {
				t.Fatalf("the request arrived chunked=%v, want %v", chunked, tc.chunked)
			}
			r := apitest.Decode(t, resp.StatusCode, resp.Header, readAll(t, resp.Body))
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			if r.Header.Get(RequestIDHeader) == "" {
				t.Fatal("no X-Request-ID")
			}
			if tc.status == http.StatusRequestEntityTooLarge && (r.Code() != "BAD_USER_INPUT" || r.HasData) {
				t.Fatalf("413 body: %s", r.Raw)
			}
		})
	}
}

func TestRequestsRefusedBeforeExecution(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Seeded, nil)
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"a batch", "application/json", `[{"query":"{ __typename }"},{"query":"{ __typename }"}]`, http.StatusBadRequest},
		{"a batch after whitespace", "application/json", " \n [{\"query\":\"{ __typename }\"}]", http.StatusBadRequest},
		{"malformed JSON", "application/json", `{"query": "{ __typename }", "secret-token-xyz`, http.StatusBadRequest},
		{"two JSON values", "application/json", `{"query":"{ __typename }"} {"query":"{ makes { name } }"}`, http.StatusBadRequest},
		{"a JSON string", "application/json", `"{ __typename }"`, http.StatusBadRequest},
		{"no body", "application/json", ``, http.StatusBadRequest},
		{"no query", "application/json", `{"qeury":"{ __typename }"}`, http.StatusBadRequest},
		{"query not a string", "application/json", `{"query":{"obj":"ect"}}`, http.StatusBadRequest},
		{"variables not an object", "application/json", `{"query":"{ __typename }","variables":"x"}`, http.StatusBadRequest},
		{"variables an array", "application/json", `{"query":"{ __typename }","variables":[]}`, http.StatusBadRequest},
		{"extensions not an object", "application/json", `{"query":"{ __typename }","extensions":0}`, http.StatusBadRequest},
		{"operationName not a string", "application/json", `{"query":"{ __typename }","operationName":false}`, http.StatusBadRequest},
		{"a form (CSRF)", "application/x-www-form-urlencoded", `query=%7B+__typename+%7D`, http.StatusUnsupportedMediaType},
		{"multipart (CSRF)", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{ __typename }\"}\r\n--x--\r\n", http.StatusUnsupportedMediaType},
		{"text/plain (CSRF)", "text/plain", `{"query":"{ __typename }"}`, http.StatusUnsupportedMediaType},
		{"no content type", "", `{"query":"{ __typename }"}`, http.StatusUnsupportedMediaType},
		{"another charset", "application/json; charset=latin1", `{"query":"{ __typename }"}`, http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.PostRaw(tc.contentType, tc.body)
			if r.Status != tc.status || r.Code() != "BAD_USER_INPUT" || r.HasData {
				t.Fatalf("got %d %s, want %d with a BAD_USER_INPUT error and no data", r.Status, r.Raw, tc.status)
			}
			if strings.Contains(r.Raw, "secret-token-xyz") || strings.Contains(r.Raw, "__typename") {
				t.Fatalf("the response repeats the request: %s", r.Raw)
			}
			if r.Header.Get(RequestIDHeader) == "" {
				t.Fatal("no X-Request-ID")
			}
		})
	}
	t.Run("null parameters are allowed", func(t *testing.T) {
		r := a.PostRaw("application/json", `{"query":"{ __typename }","variables":null,"operationName":null,"extensions":null}`)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("got %d %s", r.Status, r.Raw)
		}
	})
	t.Run("other methods are 405", func(t *testing.T) {
		for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead} {
			r := a.Send(httptest.NewRequest(method, "/graphql", nil))
			if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") == "" || r.Header.Get(RequestIDHeader) == "" {
				t.Fatalf("%s: %d %v", method, r.Status, r.Header)
			}
		}
	})
	t.Run("unknown paths are 404 with a request id", func(t *testing.T) {
		r := a.Send(httptest.NewRequest(http.MethodGet, "/nope", nil))
		if r.Status != http.StatusNotFound || r.Header.Get(RequestIDHeader) == "" {
			t.Fatalf("%d %v", r.Status, r.Header)
		}
	})
}

func TestMutationsOverGETAreNeverExecuted(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Seeded, nil)
	admin := apitest.Bearer(t, 1, models.RoleAdmin)
	create := `mutation { createDealer(input: { name: "Sneaky Motors", city: "Nowhere" }) { id } }`
	count := func() int {
		var n int
		if err := a.DB.NewRaw("SELECT count(*) FROM dealers WHERE name = 'Sneaky Motors'").Scan(t.Context(), &n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	for _, accept := range []string{"", mediaJSON, mediaGraphQLResponse} {
		req := httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"query": {create}}.Encode(), nil)
		req.Header.Set("Authorization", admin)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		r := a.Send(req)
		if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != http.MethodPost || r.HasData {
			t.Fatalf("GET mutation (Accept %q): %d Allow=%q %s", accept, r.Status, r.Header.Get("Allow"), r.Raw)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("a mutation sent with GET ran: %d dealers created", n)
	}
	// The same request with POST does run, so the check above would have seen it.
	if r := a.PostRaw("application/json", `{"query":`+quote(create)+`}`, "Authorization", admin); len(r.Errors) > 0 {
		t.Fatalf("POST: %s", r.Raw)
	}
	if n := count(); n != 1 {
		t.Fatalf("POST created %d dealers, want 1", n)
	}
	t.Run("subscriptions need a websocket", func(t *testing.T) {
		r := a.PostRaw("application/json", `{"query":"subscription { vehicleEvents { sequence } }"}`)
		if r.Status != http.StatusBadRequest || r.HasData {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestStatusCodesFollowTheAcceptHeader(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Empty, nil)
	for _, tc := range []struct {
		name, accept, query string
		status              int
		contentType         string
	}{
		{"parse error, json", mediaJSON, "{", http.StatusUnprocessableEntity, mediaJSON},
		{"parse error, graphql-response", mediaGraphQLResponse, "{", http.StatusBadRequest, mediaGraphQLResponse},
		{"validation error, json", mediaJSON, "{ nope }", http.StatusUnprocessableEntity, mediaJSON},
		{"validation error, graphql-response", mediaGraphQLResponse, "{ nope }", http.StatusBadRequest, mediaGraphQLResponse},
		{"ok, graphql-response preferred", mediaGraphQLResponse + ", application/json;q=0.9", "{ __typename }", http.StatusOK, mediaGraphQLResponse},
		{"ok, any", "*/*", "{ __typename }", http.StatusOK, mediaJSON},
		{"ok, no accept", "", "{ __typename }", http.StatusOK, mediaJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.PostRaw("application/json", `{"query":`+quote(tc.query)+`}`, "Accept", tc.accept)
			if r.Status != tc.status || !strings.HasPrefix(r.Header.Get("Content-Type"), tc.contentType) {
				t.Fatalf("got %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
			}
			if r.Status != http.StatusOK && r.HasData {
				t.Fatalf("a request error has a data entry: %s", r.Raw)
			}
		})
	}
	t.Run("variables that do not coerce", func(t *testing.T) {
		r := a.PostRaw("application/json", `{"query":"query($id: ID!) { node(id: $id) { id } }","variables":{"id":null}}`, "Accept", mediaGraphQLResponse)
		if r.Status != http.StatusBadRequest {
			t.Fatalf("got %d %s", r.Status, r.Raw)
		}
	})
}

func TestInputIsData(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Seeded, nil)
	var before int
	if err := a.DB.NewRaw("SELECT count(*) FROM vehicles").Scan(t.Context(), &before); err != nil {
		t.Fatal(err)
	}
	for _, search := range []string{`' OR 1=1 --`, `'; DROP TABLE vehicles; --`, `%`, `_`, `\`, `") OR ("1"="1`} {
		r := a.MustQuery(`query($s: String) { vehicles(filter: { search: $s }) { totalCount } }`, map[string]any{"s": search})
		var data struct{ Vehicles struct{ TotalCount int } }
		if err := json.Unmarshal(r.Data, &data); err != nil {
			t.Fatal(err)
		}
		if data.Vehicles.TotalCount != 0 {
			t.Fatalf("search %q matched %d vehicles: it was not taken literally", search, data.Vehicles.TotalCount)
		}
	}
	var after int
	if err := a.DB.NewRaw("SELECT count(*) FROM vehicles").Scan(t.Context(), &after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("vehicles went from %d to %d", before, after)
	}
}

func TestAutomaticPersistedQueries(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Seeded, nil)
	query := `{ makes { name } }`
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	post := func(withQuery bool) apitest.Response {
		body := map[string]any{"extensions": ext}
		if withQuery {
			body["query"] = query
		}
		b, _ := json.Marshal(body)
		return a.PostRaw("application/json", string(b))
	}

	r := post(false)
	if r.Status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].Message != "PersistedQueryNotFound" ||
		r.Code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("hash before registration: %d %s", r.Status, r.Raw)
	}
	if r = post(true); r.Status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), "makes") {
		t.Fatalf("registration: %d %s", r.Status, r.Raw)
	}
	if r = post(false); r.Status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), "makes") {
		t.Fatalf("hash after registration: %d %s", r.Status, r.Raw)
	}
	extJSON, _ := json.Marshal(ext)
	get := a.Send(httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"extensions": {string(extJSON)}}.Encode(), nil))
	if get.Status != http.StatusOK || len(get.Errors) > 0 || !strings.Contains(string(get.Data), "makes") {
		t.Fatalf("hash over GET: %d %s", get.Status, get.Raw)
	}

	t.Run("a hash that does not match the query is refused", func(t *testing.T) {
		b, _ := json.Marshal(map[string]any{"query": `{ dealers { totalCount } }`, "extensions": ext})
		r := a.PostRaw("application/json", string(b))
		if r.Code() != "BAD_USER_INPUT" || r.HasData {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("a persisted query is held to the limits", func(t *testing.T) {
		q := deepQuery(13)
		sum := sha256.Sum256([]byte(q))
		b, _ := json.Marshal(map[string]any{"query": q, "extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}})
		if r := a.PostRaw("application/json", string(b)); r.Code() != codeTooComplex {
			t.Fatalf("%s", r.Raw)
		}
	})
}

func TestGzipForLargeResponses(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Seeded, nil)
	body, _ := json.Marshal(map[string]any{"query": `{ vehicles(first: 100) { nodes { id vin color } } }`})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	if !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
		t.Fatalf("Vary: %q", rec.Header().Get("Vary"))
	}
}
