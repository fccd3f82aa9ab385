// Package relay encodes the opaque identifiers the API hands to clients:
// global object IDs ("what is this and which one") and pagination cursors
// ("where in this ordering"). Both are base64url text so that clients treat
// them as opaque and the server may change their insides.
package relay

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// ErrMalformed reports an ID or cursor that this server did not produce.
var ErrMalformed = errors.New("malformed")

// Strict decoding: an ID has exactly one accepted spelling.
var b64 = base64.RawURLEncoding.Strict()

// maxEncodedLen bounds what we are willing to decode; anything longer was not made here.
const maxEncodedLen = 512

// NodeID returns the global ID of the object of type typ with database id id.
func NodeID(typ string, id int64) string {
	buf := make([]byte, 0, len(typ)+21)
	buf = append(buf, typ...)
	buf = append(buf, ':')
	buf = strconv.AppendInt(buf, id, 10)
	return b64.EncodeToString(buf)
}

// ParseNodeID splits a global ID into its type name and database id.
func ParseNodeID(s string) (typ string, id int64, err error) {
	raw, err := decode(s)
	if err != nil {
		return "", 0, err
	}
	typ, num, ok := strings.Cut(raw, ":")
	if !ok || typ == "" {
		return "", 0, ErrMalformed
	}
	id, err = parsePositiveID(num)
	if err != nil {
		return "", 0, err
	}
	return typ, id, nil
}

// Cursor is a position in a keyset ordering: the ordering's name, the value of
// its sort key at that row, and the row's id, which breaks ties.
type Cursor struct {
	Order string
	Key   string
	ID    int64
}

// String encodes the cursor for a client.
func (c Cursor) String() string {
	buf := make([]byte, 0, len(c.Order)+len(c.Key)+22)
	buf = append(buf, c.Order...)
	buf = append(buf, ':')
	buf = strconv.AppendInt(buf, c.ID, 10)
	buf = append(buf, ':')
	buf = append(buf, c.Key...)
	return b64.EncodeToString(buf)
}

// ParseCursor decodes a cursor made by Cursor.String.
func ParseCursor(s string) (Cursor, error) {
	raw, err := decode(s)
	if err != nil {
		return Cursor{}, err
	}
	order, rest, ok := strings.Cut(raw, ":")
	if !ok || order == "" {
		return Cursor{}, ErrMalformed
	}
	num, key, ok := strings.Cut(rest, ":")
	if !ok {
		return Cursor{}, ErrMalformed
	}
	id, err := parsePositiveID(num)
	if err != nil {
		return Cursor{}, err
	}
	return Cursor{Order: order, Key: key, ID: id}, nil
}

func decode(s string) (string, error) {
	if s == "" || len(s) > maxEncodedLen {
		return "", ErrMalformed
	}
	// The decoder skips CR and LF; refuse them (and anything else outside the
	// URL-safe alphabet) so that every ID has exactly one spelling.
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", ErrMalformed
		}
	}
	raw, err := b64.DecodeString(s)
	if err != nil {
		return "", ErrMalformed
	}
	return string(raw), nil
}

func parsePositiveID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != s {
		return 0, ErrMalformed
	}
	return id, nil
}
