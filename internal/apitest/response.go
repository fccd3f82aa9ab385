package apitest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Error is one entry of a GraphQL answer's errors.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Response is a decoded HTTP answer.
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`

	Status  int         `json:"-"`
	Header  http.Header `json:"-"`
	Raw     string      `json:"-"` // the body as sent
	HasData bool        `json:"-"` // the body has a "data" key (even null)
}

// Code returns the extensions.code of the first error, or "".
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// ErrorCode asserts exactly one error and returns its extensions.code.
func (r Response) ErrorCode(t testing.TB) string {
	t.Helper()
	if len(r.Errors) != 1 {
		t.Fatalf("want exactly one error, got %s", r.Raw)
	}
	code, _ := r.Errors[0].Extensions["code"].(string)
	return code
}

// Decode makes a Response of an answer, decoding the body when its
// Content-Type is JSON (and failing the test if it then is not).
func Decode(t testing.TB, status int, header http.Header, raw []byte) Response {
	t.Helper()
	if strings.Contains(header.Get("Content-Type"), "json") {
		return DecodeJSON(t, status, header, raw)
	}
	return Response{Status: status, Header: header, Raw: string(raw)}
}

// DecodeJSON makes a Response of an answer whose body must be JSON,
// whatever its Content-Type says.
func DecodeJSON(t testing.TB, status int, header http.Header, raw []byte) Response {
	t.Helper()
	var r Response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%d response is not JSON: %v\n%s", status, err, raw)
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(raw, &keys)
	_, r.HasData = keys["data"]
	r.Status, r.Header, r.Raw = status, header, string(raw)
	return r
}
