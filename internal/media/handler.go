package media

import (
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// cacheForever is the Cache-Control of every stored file: a name is the
// hash of its bytes, so what it names never changes.
const cacheForever = "public, max-age=31536000, immutable"

// Handler serves GET and HEAD for the files in store, by name: mount it
// with the route's prefix stripped, so the request path is the bare name.
// Anything that is not a well-formed name (a path, "..", another
// extension) is 404 without reaching the store. Responses carry a strong
// ETag (the content hash), cache for a year as immutable, and answer
// If-None-Match with 304 and Range with 206.
func Handler(store Store, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := r.URL.Path
		contentType, ok := ContentType(name)
		if !ok {
			http.NotFound(w, r)
			return
		}
		f, err := store.Open(r.Context(), name)
		if errors.Is(err, ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			log.ErrorContext(r.Context(), "open media file", "name", name, "err", err)
			http.Error(w, "internal server error", http.StatusInternalServerError)
			return
		}
		defer f.Close()
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("ETag", `"`+Hash(name)+`"`)
		h.Set("Cache-Control", cacheForever)
		h.Set("X-Content-Type-Options", "nosniff")
		// ServeContent answers If-None-Match (304), If-Match and ranges
		// from the ETag set above; without a modification time it sends no
		// Last-Modified, which the ETag makes needless.
		http.ServeContent(w, r, name, time.Time{}, f)
	})
}
