package media_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/carlot/carlot/internal/media"
)

func TestHandlerServesStoredFiles(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	store := media.NewFileStore(filepath.Join(root, "media"))
	content := exifJPEG(t, photo(64, 48), 0)
	name, err := store.Put(context.Background(), bytes.NewReader(content), media.JPEG)
	if err != nil {
		t.Fatal(err)
	}
	// Files a traversal would be after: beside and above the store.
	if err := os.WriteFile(filepath.Join(root, "secret.jpg"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := http.StripPrefix("/media/", media.Handler(store, slog.New(slog.DiscardHandler)))
	get := func(method, target string, header http.Header) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/", nil)
		req.URL.Path = target // as the router would see it, unescaped
		for k, v := range header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	etag := `"` + name[:64] + `"`

	t.Run("GET", func(t *testing.T) {
		rec := get(http.MethodGet, "/media/"+name, nil)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), content) {
			t.Fatalf("%d, %d bytes", rec.Code, rec.Body.Len())
		}
		for k, want := range map[string]string{
			"Content-Type":           "image/jpeg",
			"ETag":                   etag,
			"Cache-Control":          "public, max-age=31536000, immutable",
			"X-Content-Type-Options": "nosniff",
		} {
			if got := rec.Header().Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	})

	t.Run("HEAD", func(t *testing.T) {
		rec := get(http.MethodHead, "/media/"+name, nil)
		if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
			t.Fatalf("%d, body %d bytes, ETag %q", rec.Code, rec.Body.Len(), rec.Header().Get("ETag"))
		}
	})

	t.Run("If-None-Match", func(t *testing.T) {
		for _, inm := range []string{etag, `"other", ` + etag, "*"} {
			rec := get(http.MethodGet, "/media/"+name, http.Header{"If-None-Match": {inm}})
			if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
				t.Errorf("If-None-Match %s: %d with %d bytes", inm, rec.Code, rec.Body.Len())
			}
			if rec.Header().Get("ETag") != etag || rec.Header().Get("Cache-Control") == "" {
				t.Errorf("If-None-Match %s: 304 without ETag or Cache-Control", inm)
			}
		}
		if rec := get(http.MethodGet, "/media/"+name, http.Header{"If-None-Match": {`"stale"`}}); rec.Code != http.StatusOK {
			t.Errorf("another ETag: %d", rec.Code)
		}
	})

	t.Run("a range", func(t *testing.T) {
		rec := get(http.MethodGet, "/media/"+name, http.Header{"Range": {"bytes=0-9"}})
		if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), content[:10]) {
			t.Fatalf("%d, %q", rec.Code, rec.Body.Bytes())
		}
	})

	t.Run("unknown and malformed names are 404", func(t *testing.T) {
		other := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.jpg"
		for _, path := range []string{
			"/media/" + other, // well formed, not stored
			"/media/" + name[:64] + ".png",
			"/media/" + name[:64],
			"/media/../secret.jpg",
			"/media/../../secret.jpg",
			"/media/" + name[:2] + "/" + name,
			"/media/" + name + "/",
			"/media/" + name + "/..",
			"/media//" + name,
			"/media/..%2fsecret.jpg",
			"/media/%2e%2e/secret.jpg",
			"/media/" + name[:64] + ".JPG",
			"/media/.put-123",
			"/media/",
			"/media/\x00" + name,
		} {
			rec := get(http.MethodGet, path, nil)
			if rec.Code != http.StatusNotFound {
				t.Errorf("%q: %d", path, rec.Code)
			}
			if bytes.Contains(rec.Body.Bytes(), []byte("secret")) {
				t.Errorf("%q: served the file outside the store", path)
			}
		}
	})

	t.Run("only GET and HEAD", func(t *testing.T) {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
			rec := get(m, "/media/"+name, nil)
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("%s: %d, Allow %q", m, rec.Code, rec.Header().Get("Allow"))
			}
		}
		if ok, _ := store.Exists(context.Background(), name); !ok {
			t.Fatal("DELETE removed the file")
		}
	})

	t.Run("a store that fails is a 500 without detail", func(t *testing.T) {
		h := http.StripPrefix("/media/", media.Handler(brokenStore{}, slog.New(slog.DiscardHandler)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/media/"+name, nil))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != http.StatusInternalServerError || bytes.Contains(body, []byte("disk")) {
			t.Fatalf("%d %s", rec.Code, body)
		}
	})
}

type brokenStore struct{ media.Store }

func (brokenStore) Open(context.Context, string) (io.ReadSeekCloser, error) {
	return nil, &os.PathError{Op: "open", Path: "/srv/disk", Err: os.ErrPermission}
}
