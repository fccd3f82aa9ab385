package httpapi

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/carlot/carlot/internal/media"
	"github.com/carlot/carlot/internal/testdb"
)

// The router serves MEDIA_DIR at /media/ with the file's own headers,
// through the same middleware as every route, and nothing outside it.
func TestMediaRoute(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "media")
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	name, err := media.NewFileStore(dir).Put(context.Background(), bytes.NewReader(buf.Bytes()), media.PNG)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "secret.png"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := newTestAPI(t, testdb.Empty, map[string]string{"MEDIA_DIR": dir})
	get := func(target string, header http.Header) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header = header
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, req)
		return rec
	}

	rec := get("/media/"+name, nil)
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), buf.Bytes()) {
		t.Fatalf("%d, %d bytes (Content-Encoding %q)", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Encoding"))
	}
	etag := `"` + name[:64] + `"`
	for k, want := range map[string]string{
		"Content-Type":           "image/png",
		"ETag":                   etag,
		"Cache-Control":          "public, max-age=31536000, immutable",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if rec.Header().Get("X-Request-ID") == "" {
		t.Error("no request id: the route skipped the middleware")
	}
	if rec := get("/media/"+name, http.Header{"If-None-Match": {etag}}); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", rec.Code)
	}
	for _, target := range []string{"/media/../secret.png", "/media/%2e%2e/secret.png", "/media/..%2Fsecret.png",
		"/media/" + name[:64] + ".jpg", "/media/", "/media"} {
		if rec := get(target, nil); rec.Code != http.StatusNotFound || bytes.Contains(rec.Body.Bytes(), []byte("secret")) {
			t.Errorf("%s: %d %q", target, rec.Code, rec.Body.String())
		}
	}
}
