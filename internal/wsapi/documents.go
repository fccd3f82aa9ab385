package wsapi

import (
	"encoding/json"

	"github.com/carlot/carlot/internal/trusted"
)

// liftDocumentID carries the documentId of a graphql-transport-ws subscribe
// message among its extensions, where the trusted-documents extension reads
// it (gqlgen decodes the payload into request parameters, which have no
// field for it). A message without a documentId, or one that does not
// decode, is returned as it came.
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
	ext = trusted.WithDocumentID(ext, id)
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
