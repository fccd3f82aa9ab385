// Package graphiql serves the GraphiQL playground from files embedded in the
// binary: the page, its start script, and pinned builds of GraphiQL, React
// and ReactDOM (see package.json; update.sh refreshes assets/). The page
// loads nothing from another origin, so it works with no network at all.
package graphiql

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed index.html page.css start.js assets/*.js assets/*.css
var files embed.FS

// Prefix is the path under which Handler serves the page's files.
const Prefix = "/graphiql/"

// Policy is the Content-Security-Policy of the page and its files: scripts,
// styles and connections to this origin only (the websocket included: 'self'
// covers ws: and wss: on the same host), fonts and images inlined as data:
// URIs by GraphiQL's stylesheet, and nothing framed, posted or based elsewhere.
const Policy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// file is one servable file with its validator.
type file struct {
	content []byte
	etag    string
}

// Handler serves the page at "/" and its files under Prefix.
type Handler struct {
	byPath map[string]file
}

// New reads the embedded files once.
func New() *Handler {
	h := &Handler{byPath: map[string]file{}}
	add := func(urlPath, name string) {
		b, err := files.ReadFile(name)
		if err != nil {
			panic("graphiql: " + name + " is not embedded: " + err.Error()) // a build mistake, caught by the tests
		}
		sum := sha256.Sum256(b)
		h.byPath[urlPath] = file{content: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
	add("/", "index.html")
	add(Prefix+"page.css", "page.css")
	add(Prefix+"start.js", "start.js")
	vendored, _ := fs.Glob(files, "assets/*")
	for _, name := range vendored {
		add(Prefix+path.Base(name), name)
	}
	return h
}

// ServeHTTP answers GET and HEAD for the page and its files, with an ETag
// so a browser revalidates rather than downloads them again.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := h.byPath[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", Policy)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", f.etag)
	if r.URL.Path == "/" {
		hdr.Set("Content-Type", "text/html; charset=utf-8")
	}
	// ServeContent answers If-None-Match with 304 and sets the type of the
	// other files from their extension.
	http.ServeContent(w, r, path.Base(r.URL.Path), time.Time{}, bytes.NewReader(f.content))
}
