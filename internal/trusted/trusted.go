// Package trusted holds Carlot's trusted documents: the operations a
// deployment's clients were built with, loaded from an Apollo persisted-query
// manifest or a Relay persisted-query map, each named by the SHA-256 of its
// text. Requests may name a document by id instead of sending its text and,
// when only trusted documents may run, nothing else is parsed or executed.
package trusted

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Apollo Router's codes, which Apollo clients and their tooling know.
const (
	// CodeNotInList: the request named an id the manifest does not hold.
	CodeNotInList = "PERSISTED_QUERY_NOT_IN_LIST"
	// CodeNotInSafelist: the request sent a document whose text is not
	// in the manifest, and only trusted documents may run.
	CodeNotInSafelist = "QUERY_NOT_IN_SAFELIST"
)

// DocumentIDKey is where the transports put a request's top-level
// documentId (the GraphQL-over-HTTP persisted-documents proposal's
// parameter) among its extensions, since gqlgen's request parameters have no
// field for it.
const DocumentIDKey = "documentId"

// WithDocumentID carries a request's top-level documentId among its
// extensions, under DocumentIDKey (gqlgen's request parameters have no field
// for it).
func WithDocumentID(ext map[string]any, id string) map[string]any {
	if ext == nil {
		ext = map[string]any{}
	}
	ext[DocumentIDKey] = id
	return ext
}

// documentIDPrefix is the hash algorithm prefix the proposal puts in
// front of an id: "sha256:<hex>".
const documentIDPrefix = "sha256:"

// Documents maps SHA-256 hex ids to document texts.
type Documents struct {
	byID map[string]string
	// Only is whether documents outside the manifest are refused.
	Only bool
}

// Len returns how many documents the manifest holds.
func (d *Documents) Len() int { return len(d.byID) }

// apolloManifest is @apollo/generate-persisted-query-manifest's output.
type apolloManifest struct {
	Format     string `json:"format"`
	Version    int    `json:"version"`
	Operations []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
		Body string `json:"body"`
	} `json:"operations"`
}

// Load reads a manifest: Apollo's persisted-query manifest
// ({"format":"apollo-persisted-query-manifest","version":1,"operations":[…]})
// or Relay's map ({"<id>": "<document>", …}). Every id must be the SHA-256
// hex of its document's text, so a request's id and its text name the same
// document.
func Load(path string, only bool) (*Documents, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted documents: %w", err)
	}
	docs, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("trusted documents %s: %w", path, err)
	}
	docs.Only = only
	return docs, nil
}

// Parse reads a manifest's JSON (see Load).
func Parse(raw []byte) (*Documents, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	d := &Documents{byID: map[string]string{}}
	add := func(id, body string) error {
		id = strings.ToLower(strings.TrimPrefix(id, documentIDPrefix))
		if sum := hash(body); id != sum {
			return fmt.Errorf("id %q is not the SHA-256 of its document (%s): generate ids with SHA-256", id, sum)
		}
		d.byID[id] = body
		return nil
	}
	if _, apollo := probe["format"]; apollo {
		var m apolloManifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("not an Apollo persisted-query manifest: %w", err)
		}
		if m.Format != "apollo-persisted-query-manifest" || m.Version != 1 {
			return nil, fmt.Errorf("unknown manifest format %q version %d (want apollo-persisted-query-manifest, 1)", m.Format, m.Version)
		}
		for _, op := range m.Operations {
			if err := add(op.ID, op.Body); err != nil {
				return nil, fmt.Errorf("operation %q: %w", op.Name, err)
			}
		}
		return d, nil
	}
	for id, v := range probe {
		var body string
		if err := json.Unmarshal(v, &body); err != nil {
			return nil, fmt.Errorf("not a Relay persisted-query map: %q is not a string", id)
		}
		if err := add(id, body); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func hash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// Extension is a gqlgen handler extension that resolves document ids to
// their text and, with Only, refuses the rest. Add it before the APQ
// extension: it runs before anything is parsed.
type Extension struct {
	// Documents is the manifest; nil means none was configured (a
	// documentId then names nothing).
	Documents *Documents
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = Extension{}

// ExtensionName names the extension in gqlgen's list.
func (Extension) ExtensionName() string { return "TrustedDocuments" }

// Validate accepts any schema.
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters turns a document id (documentId, or APQ's
// sha256Hash when the manifest holds it) into the document's text, and, when
// only trusted documents may run, refuses any other text before it is parsed.
func (e Extension) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	var byID map[string]string
	only := false
	if e.Documents != nil {
		byID, only = e.Documents.byID, e.Documents.Only
	}
	if v, named := p.Extensions[DocumentIDKey]; named {
		delete(p.Extensions, DocumentIDKey)
		s, _ := v.(string)
		id, ok := strings.CutPrefix(s, documentIDPrefix)
		if !ok || len(id) != sha256.Size*2 {
			return coded("BAD_USER_INPUT", "documentId must be \"sha256:\" followed by the document's SHA-256 in hex")
		}
		body, known := byID[strings.ToLower(id)]
		switch {
		case !known:
			return coded(CodeNotInList, "the document "+s+" is not in the trusted documents")
		case p.Query != "" && p.Query != body:
			return coded("BAD_USER_INPUT", "the query is not the text of documentId")
		}
		p.Query = body
		return nil
	}
	if hashed := apqHash(p); hashed != "" {
		body, known := byID[strings.ToLower(hashed)]
		switch {
		case known:
			// The APQ extension then finds text and hash agreeing.
			p.Query = body
			return nil
		case !only:
			return nil // ordinary APQ: the cache, or registration
		case p.Query == "":
			return coded(CodeNotInList, "the persisted query is not in the trusted documents")
		}
		// An APQ registration of an unknown document: refused below.
	}
	if only && p.Query != "" {
		if _, known := byID[hash(p.Query)]; !known {
			return coded(CodeNotInSafelist, "only trusted documents may run here, and this document is not one of them")
		}
	}
	return nil
}

// apqHash returns the sha256Hash of Apollo's persistedQuery extension, if any.
func apqHash(p *graphql.RawParams) string {
	pq, _ := p.Extensions["persistedQuery"].(map[string]any)
	h, _ := pq["sha256Hash"].(string)
	return h
}

func coded(code, message string) *gqlerror.Error {
	return &gqlerror.Error{Message: message, Extensions: map[string]any{"code": code}}
}
