package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
)

// rawUpload is a multipart upload request with its operations and map
// parts as given, then one PNG part per key.
func rawUpload(t *testing.T, operations, mapping string, data []byte, keys ...string) ([]byte, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("operations", operations)
	_ = w.WriteField("map", mapping)
	for _, key := range keys {
		part, err := w.CreateFormFile(key, "car.png")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = part.Write(data)
	}
	_ = w.Close()
	return body.Bytes(), w.FormDataContentType()
}

// requestsWithOutcome sums the GraphQL request counter over operations for
// one outcome.
func requestsWithOutcome(a *api, outcome string) int {
	a.T.Helper()
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	n := 0
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "carlot_graphql_requests_total{") && strings.Contains(line, `outcome="`+outcome+`"`) {
			var v int
			if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err == nil {
				n += v
			}
		}
	}
	return n
}

// The map's paths are checked before any file fills a variable: each must
// lead to a null in a variable the operation declares, within the lists
// on its way. A malformed path is bad input (never a server error), and
// one file per request, filling one variable, is all that is accepted.
// An operations part without variables gets them.
func TestUploadMapPaths(t *testing.T) {
	t.Parallel()
	a, _ := photoAPI(t, nil)
	p := a.accounts()
	staff := a.login(p.staffA)
	vehicle, _ := a.vehicleOf(p.dealerA)
	data := pngOf(t, 20, 20, color.White)
	operations := func(query string, vars map[string]any) string {
		fields := map[string]any{"query": query}
		if vars != nil {
			fields["variables"] = vars
		}
		out, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	listQuery := `mutation($vehicleId: ID!, $file: Upload!, $files: [Upload]) {
		addVehiclePhoto(vehicleId: $vehicleId, file: $file) { id } }`
	listVars := map[string]any{"vehicleId": vehicle, "file": nil, "files": []any{nil, nil}}
	vars := map[string]any{"vehicleId": vehicle, "file": nil}

	for _, tc := range []struct {
		name, operations, mapping string
		keys                      []string
	}{
		{"index into the variables", operations(addPhotoMutation, vars), `{"0":["variables.0"]}`, nil},
		{"undeclared variable", operations(addPhotoMutation, vars), `{"0":["variables.nope"]}`, nil},
		{"no variable named", operations(addPhotoMutation, vars), `{"0":["variables"]}`, nil},
		{"not under variables", operations(addPhotoMutation, vars), `{"0":["query"]}`, nil},
		{"index past a list's end", operations(listQuery, listVars), `{"0":["variables.files.3"]}`, nil},
		{"negative index", operations(listQuery, listVars), `{"0":["variables.files.-1"]}`, nil},
		{"index that is no number", operations(listQuery, listVars), `{"0":["variables.files.x"]}`, nil},
		{"into a null", operations(addPhotoMutation, vars), `{"0":["variables.file.0"]}`, nil},
		{"into a string", operations(addPhotoMutation, vars), `{"0":["variables.vehicleId.0"]}`, nil},
		{"over a value", operations(addPhotoMutation, vars), `{"0":["variables.vehicleId"]}`, nil},
		{"undeclared variable without variables", operations(addPhotoMutation, nil), `{"0":["variables.nope"]}`, nil},
		{"two targets", operations(listQuery, listVars), `{"0":["variables.file","variables.files.0"]}`, nil},
		{"no target", operations(addPhotoMutation, vars), `{"0":[]}`, nil},
		{"two files", operations(listQuery, listVars), `{"0":["variables.file"],"1":["variables.files.0"]}`, []string{"0", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = []string{"0"}
			}
			before, refused := a.state(), requestsWithOutcome(a, "BAD_USER_INPUT")
			body, contentType := rawUpload(t, tc.operations, tc.mapping, data, keys...)
			r := a.PostRaw(contentType, string(body), "Authorization", staff)
			if r.Status != http.StatusBadRequest || r.Code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "map") {
				t.Fatalf("want 400 BAD_USER_INPUT about the map, got (%d) %s", r.Status, r.Raw)
			}
			if after := a.state(); after != before {
				t.Fatalf("state changed: %+v → %+v", before, after)
			}
			if n := requestsWithOutcome(a, "BAD_USER_INPUT"); n != refused+1 {
				t.Fatalf("%d requests counted as BAD_USER_INPUT, want %d", n, refused+1)
			}
		})
	}

	// No variables at all: the file's variable is made.
	query := fmt.Sprintf(`mutation($file: Upload!) { addVehiclePhoto(vehicleId: %q, file: $file) { id position } }`, vehicle)
	body, contentType := rawUpload(t, operations(query, nil), `{"0":["variables.file"]}`, data, "0")
	if r := a.PostRaw(contentType, string(body), "Authorization", staff); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("upload without variables: (%d) %s", r.Status, r.Raw)
	}
	// A file in a list of uploads.
	query = `mutation($vehicleId: ID!, $files: [Upload!]!) { addVehiclePhoto(vehicleId: $vehicleId, file: $files) { id } }`
	body, contentType = rawUpload(t, operations(query, map[string]any{"vehicleId": vehicle, "files": []any{nil}}), `{"0":["variables.files.0"]}`, data, "0")
	if r := a.PostRaw(contentType, string(body), "Authorization", staff); r.Status == http.StatusBadRequest || r.Status >= 500 ||
		strings.Contains(string(r.Raw), "map") || r.Code() == "INTERNAL_SERVER_ERROR" {
		t.Fatalf("a file in a list: (%d) %s", r.Status, r.Raw)
	}
	if n := requestsWithOutcome(a, "INTERNAL_SERVER_ERROR"); n != 0 {
		t.Fatalf("%d requests failed with INTERNAL_SERVER_ERROR", n)
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// An upload with a bad token, or from someone who may not manage
// vehicles, is refused as the rest of the API refuses them, before a byte
// of its body is read.
func TestUploadRefusedBeforeReading(t *testing.T) {
	t.Parallel()
	a, dir := photoAPI(t, nil)
	p := a.accounts()
	vehicle, _ := a.vehicleOf(p.dealerA)
	body, contentType := apitest.MultipartBody(addPhotoMutation, map[string]any{"vehicleId": vehicle, "file": nil},
		file("car.png", pngOf(t, 64, 48, color.White))...)
	for _, tc := range []struct{ name, auth, code string }{
		{"malformed token", "Bearer not-a-token", "UNAUTHENTICATED"},
		{"token signed with another key", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwicm9sZSI6IkFETUlOIn0.c2lnbmF0dXJl", "UNAUTHENTICATED"},
		{"viewer", a.login(p.viewer), "FORBIDDEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state()
			reader := &countingReader{r: bytes.NewReader(body)}
			req := httptest.NewRequest(http.MethodPost, "/graphql", reader)
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("Authorization", tc.auth)
			r := a.Send(req)
			if r.Status != http.StatusOK || r.Code() != tc.code {
				t.Fatalf("want %s, got (%d) %s", tc.code, r.Status, r.Raw)
			}
			if reader.n != 0 {
				t.Fatalf("%d bytes of the body were read", reader.n)
			}
			if after := a.state(); after != before {
				t.Fatalf("state changed: %+v → %+v", before, after)
			}
		})
	}
	if n := storedFiles(t, dir); n != 0 {
		t.Fatalf("%d files in the media directory", n)
	}
}

// Uploads wait in the media directory's .uploads, not in the system's
// temporary directory, and are gone once their request is answered,
// whether it succeeded or not.
func TestUploadTempFiles(t *testing.T) {
	t.Parallel()
	a, dir := photoAPI(t, nil)
	p := a.accounts()
	staff := a.login(p.staffA)
	vehicle, _ := a.vehicleOf(p.dealerA)
	a.addPhoto(staff, vehicle, pngOf(t, 64, 48, color.White))
	r := a.Upload(staff, addPhotoMutation, map[string]any{"vehicleId": vehicle, "file": nil}, file("car.png", []byte("not an image")))
	if r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("a text file: (%d) %s", r.Status, r.Raw)
	}
	body, contentType := rawUpload(t, `{"query":"mutation($file: Upload!) { addVehiclePhoto(vehicleId: \"x\", file: $file) { id } }"}`,
		`{"0":["variables.nope"]}`, []byte("data"), "0")
	if r := a.PostRaw(contentType, string(body), "Authorization", staff); r.Status != http.StatusBadRequest {
		t.Fatalf("a bad path: (%d) %s", r.Status, r.Raw)
	}
	entries, err := os.ReadDir(filepath.Join(dir, ".uploads"))
	if err != nil {
		t.Fatalf("the uploads' directory: %v", err)
	}
	if len(entries) != 0 {
		t.Fatalf("%d files left in .uploads", len(entries))
	}
}
