package httpapi

import (
	"encoding/json"

	"github.com/carlot/carlot/internal/trusted"
)

// withDocumentID carries a request's top-level documentId among its
// extensions, where the trusted-documents extension reads it (gqlgen's
// request parameters have no field for it).
func withDocumentID(ext map[string]any, id string) map[string]any {
	if ext == nil {
		ext = map[string]any{}
	}
	ext[trusted.DocumentIDKey] = id
	return ext
}

// liftDocumentID does the same for a graphql-transport-ws subscribe
// message, whose payload gqlgen decodes into those parameters. A message
// without a documentId, or one that does not decode, is returned as it came.
func liftDocumentID(message []byte) []byte {
	var msg map[string]json.RawMessage
	if json.Unmarshal(message, &msg) != nil {
		return message
	}
	var payload map[string]json.RawMessage
	if json.Unmarshal(msg["payload"], &payload) != nil {
		return message
	}
	var id string
	if json.Unmarshal(payload["documentId"], &id) != nil || id == "" {
		return message
	}
	var ext map[string]any
	if raw, ok := payload["extensions"]; ok && json.Unmarshal(raw, &ext) != nil {
		return message
	}
	ext = withDocumentID(ext, id)
	delete(payload, "documentId")
	var err error
	if payload["extensions"], err = json.Marshal(ext); err != nil {
		return message
	}
	if msg["payload"], err = json.Marshal(payload); err != nil {
		return message
	}
	out, err := json.Marshal(msg)
	if err != nil {
		return message
	}
	return out
}
