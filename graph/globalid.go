package graph

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/models"
)

// gqlgen.yml binds every object's id field to its model's Key method and
// the ID scalar, for a models.Key, to MarshalGlobalID: the key becomes the
// opaque global ID here, so the domain never encodes one.

// NodeID is the global ID of the object k names, as the id field shows it.
func NodeID(k models.Key) string { return relay.NodeID(k.Type, k.ID) }

// MarshalGlobalID writes k's global ID.
func MarshalGlobalID(k models.Key) graphql.Marshaler { return graphql.MarshalID(NodeID(k)) }

// UnmarshalGlobalID parses a global ID; arguments take plain IDs, so gqlgen
// only needs it to bind the scalar.
func UnmarshalGlobalID(v any) (models.Key, error) {
	s, err := graphql.UnmarshalID(v)
	if err != nil {
		return models.Key{}, err
	}
	typ, id, err := relay.ParseNodeID(s)
	if err != nil {
		return models.Key{}, badID("id")
	}
	return models.Key{Type: typ, ID: id}, nil
}
