package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/testdb"
)

// The documents a client was built with.
const (
	trustedMakes    = "query Makes { makes { name } }"
	trustedVehicles = "query Count { vehicles(first: 1) { totalCount } }"
	untrustedQuery  = "query Dealers { dealers(first: 1) { totalCount } }"
)

func sha(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// writeManifest writes an Apollo persisted-query manifest, or with relay a
// Relay persisted-query map, of docs and returns its path.
func writeManifest(t *testing.T, relay bool, docs ...string) string {
	t.Helper()
	var v any
	if relay {
		m := map[string]string{}
		for _, d := range docs {
			m[sha(d)] = d
		}
		v = m
	} else {
		var ops []map[string]string
		for _, d := range docs {
			ops = append(ops, map[string]string{"id": sha(d), "name": strings.Fields(d)[1], "type": "query", "body": d})
		}
		v = map[string]any{"format": "apollo-persisted-query-manifest", "version": 1, "operations": ops}
	}
	b, _ := json.Marshal(v)
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// apq is Apollo's persistedQuery extension for text.
func apq(text string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha(text)}}
}

func (a *testAPI) postJSON(body map[string]any) apitest.Response {
	a.T.Helper()
	b, _ := json.Marshal(body)
	return a.PostRaw("application/json", string(b))
}

func TestTrustedDocumentsOnly(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"apollo", "relay"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			a := newTestAPI(t, testdb.Seeded, map[string]string{
				"APP_ENV": "production", "RATE_LIMIT_PER_IP": "0",
				"TRUSTED_DOCUMENTS": writeManifest(t, format == "relay", trustedMakes, trustedVehicles, subscriptionDoc),
			})
			ok := func(what string, r apitest.Response) {
				t.Helper()
				if r.Status != http.StatusOK || len(r.Errors) > 0 || !r.HasData {
					t.Fatalf("%s: %d %s", what, r.Status, r.Raw)
				}
			}
			refused := func(what string, r apitest.Response, code string) {
				t.Helper()
				if r.Code() != code || r.HasData && string(r.Data) != "null" {
					t.Fatalf("%s: want %s, got %d %s", what, code, r.Status, r.Raw)
				}
			}

			ok("documentId over POST", a.postJSON(map[string]any{"documentId": "sha256:" + sha(trustedMakes)}))
			get := httptest.NewRequest(http.MethodGet, "/graphql?documentId="+url.QueryEscape("sha256:"+sha(trustedVehicles)), nil)
			ok("documentId over GET", a.Send(get))
			ok("APQ hash of a trusted document", a.postJSON(map[string]any{"extensions": apq(trustedMakes)}))
			ok("the exact text of a trusted document", a.postJSON(map[string]any{"query": trustedMakes}))

			refused("other text", a.postJSON(map[string]any{"query": untrustedQuery}), "QUERY_NOT_IN_SAFELIST")
			refused("unparsable text is refused before parsing", a.postJSON(map[string]any{"query": "{ vehicles("}), "QUERY_NOT_IN_SAFELIST")
			refused("a trusted text with other whitespace", a.postJSON(map[string]any{"query": trustedMakes + " "}), "QUERY_NOT_IN_SAFELIST")
			refused("an unknown documentId", a.postJSON(map[string]any{"documentId": "sha256:" + sha(untrustedQuery)}), "PERSISTED_QUERY_NOT_IN_LIST")
			refused("a malformed documentId", a.postJSON(map[string]any{"documentId": "md5:abc"}), "BAD_USER_INPUT")
			refused("an unknown APQ hash", a.postJSON(map[string]any{"extensions": apq(untrustedQuery)}), "PERSISTED_QUERY_NOT_IN_LIST")
			refused("APQ registration of a new document",
				a.postJSON(map[string]any{"query": untrustedQuery, "extensions": apq(untrustedQuery)}), "QUERY_NOT_IN_SAFELIST")
			refused("the refused registration registered nothing", a.postJSON(map[string]any{"extensions": apq(untrustedQuery)}), "PERSISTED_QUERY_NOT_IN_LIST")

			t.Run("websocket", func(t *testing.T) {
				base := a.Serve()
				ws := apitest.DialRaw(t, base)
				defer ws.Close()
				ws.Send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"documentId": "sha256:" + sha(trustedMakes)}})
				if msg := ws.Read(); msg["type"] != "next" || !strings.Contains(mustJSON(t, msg), `"makes"`) {
					t.Fatalf("documentId over the websocket: %v", msg)
				}
				if msg := ws.Read(); msg["type"] != "complete" {
					t.Fatalf("after the result: %v", msg)
				}
				ws.Send(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": untrustedQuery}})
				if msg := ws.Read(); msg["id"] != "2" || !strings.Contains(mustJSON(t, msg), "QUERY_NOT_IN_SAFELIST") || strings.Contains(mustJSON(t, msg), `"dealers"`) {
					t.Fatalf("other text over the websocket: %v", msg)
				}
				ws.Send(map[string]any{"id": "3", "type": "subscribe", "payload": map[string]any{"documentId": "sha256:" + sha(subscriptionDoc)}})
				api := a.api()
				apitest.Eventually(t, func() bool { return api.LiveSubscribers() > 0 }, 10*time.Second, "the trusted subscription started")
			})
		})
	}
}

// subscriptionDoc is a trusted subscription.
const subscriptionDoc = "subscription Events { vehicleEvents { sequence } }"

func TestTrustedDocumentsPreRegisterWhenNotOnly(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Seeded, map[string]string{
		"APP_ENV": "production", "RATE_LIMIT_PER_IP": "0",
		"TRUSTED_DOCUMENTS": writeManifest(t, false, trustedMakes), "TRUSTED_DOCUMENTS_ONLY": "false",
	})
	for what, body := range map[string]map[string]any{
		"documentId":              {"documentId": "sha256:" + sha(trustedMakes)},
		"APQ hash, never sent":    {"extensions": apq(trustedMakes)},
		"other text":              {"query": untrustedQuery},
		"APQ registration of new": {"query": untrustedQuery, "extensions": apq(untrustedQuery)},
	} {
		t.Run(what, func(t *testing.T) {
			if r := a.postJSON(body); r.Status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("%s: %d %s", what, r.Status, r.Raw)
			}
		})
	}
	if r := a.postJSON(map[string]any{"extensions": apq(untrustedQuery)}); len(r.Errors) > 0 {
		t.Fatalf("the registered document: %s", r.Raw)
	}
	if r := a.postJSON(map[string]any{"documentId": "sha256:" + sha(untrustedQuery)}); r.Code() != "PERSISTED_QUERY_NOT_IN_LIST" {
		t.Fatalf("an id outside the manifest: %s", r.Raw)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
