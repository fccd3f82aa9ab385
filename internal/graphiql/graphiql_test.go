package graphiql

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestPageLoadsOnlyEmbeddedFiles checks that every script and stylesheet the
// page names is served from the binary, and that the policy names no other
// origin. (The browser test in internal/httpapi runs the page for real.)
func TestPageLoadsOnlyEmbeddedFiles(t *testing.T) {
	h := New()
	page := get(t, h, "/", http.StatusOK)
	if page.Header().Get("Content-Security-Policy") != Policy {
		t.Fatalf("page CSP %q", page.Header().Get("Content-Security-Policy"))
	}
	if strings.Contains(page.Body.String(), "//") {
		t.Fatalf("the page names an absolute URL:\n%s", page.Body)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page.Body.String(), -1)
	if len(refs) < 6 {
		t.Fatalf("found %d references in the page", len(refs))
	}
	for _, ref := range refs {
		rec := get(t, h, ref[1], http.StatusOK)
		if rec.Body.Len() == 0 || rec.Header().Get("Content-Security-Policy") != Policy {
			t.Fatalf("%s: %d bytes, CSP %q", ref[1], rec.Body.Len(), rec.Header().Get("Content-Security-Policy"))
		}
		want := map[bool]string{true: "text/javascript", false: "text/css"}[strings.HasSuffix(ref[1], ".js")]
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), want) {
			t.Fatalf("%s is served as %q", ref[1], rec.Header().Get("Content-Type"))
		}
	}
	for _, source := range strings.Fields(Policy) {
		if source = strings.TrimSuffix(source, ";"); strings.Contains(source, ":") && source != "data:" {
			t.Fatalf("the policy allows %s", source)
		}
	}
	get(t, h, Prefix+"missing.js", http.StatusNotFound)
}

func TestRevalidation(t *testing.T) {
	h := New()
	first := get(t, h, Prefix+"graphiql.min.js", http.StatusOK)
	req := httptest.NewRequest(http.MethodGet, Prefix+"graphiql.min.js", nil)
	req.Header.Set("If-None-Match", first.Header().Get("ETag"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("revalidation: %d", rec.Code)
	}
}

func get(t *testing.T, h http.Handler, path string, status int) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != status {
		t.Fatalf("GET %s: %d, want %d", path, rec.Code, status)
	}
	return rec
}
