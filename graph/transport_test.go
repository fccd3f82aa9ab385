package graph

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestDataOnlyBodyIsJSONMarshal checks that a successful answer is written
// exactly as json.Marshal would write it, HTML escaping included.
func TestDataOnlyBodyIsJSONMarshal(t *testing.T) {
	for _, data := range []string{
		`{"vehicle":null}`,
		`{"vehicle":{"vin":"1HGCM82633A004352","priceCents":1250000}}`,
		"{\"dealer\":{\"name\":\"Tom & Jerry's <Cars>\",\"city\":\"Zürich \u2028\u2029 \\\" \\\\\"}}",
		`{"dealer":{"name":"A & B <c> > d","city":"\n\t"}}`,
	} {
		resp := &graphql.Response{Data: json.RawMessage(data)}
		if !onlyData(resp) {
			t.Fatalf("%s: not data only", data)
		}
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if got := dataOnlyBody(resp.Data); !bytes.Equal(got, want) {
			t.Errorf("dataOnlyBody(%s)\n got %s\nwant %s", data, got, want)
		}
	}
	for _, resp := range []*graphql.Response{
		{},
		{Data: json.RawMessage(`{}`), Errors: gqlerror.List{{Message: "x"}}},
		{Data: json.RawMessage(`{}`), Extensions: map[string]any{"k": 1}},
	} {
		if onlyData(resp) {
			t.Errorf("%+v counted as data only", resp)
		}
	}
}

// BenchmarkResponseBody encodes a page of 50 vehicles' answer as
// writeGraphQL does.
func BenchmarkResponseBody(b *testing.B) {
	var page strings.Builder
	page.WriteString(`{"vehicles":{"nodes":[`)
	for i := range 50 {
		if i > 0 {
			page.WriteString(",")
		}
		page.WriteString(`{"vin":"1HGCM82633A004352","priceCents":1250000,"model":{"name":"Civic","make":{"name":"Honda"}},"dealer":{"name":"Cars & Co","city":"Lyon"}}`)
	}
	page.WriteString(`],"pageInfo":{"hasNextPage":true,"endCursor":"Y3Vyc29yOjEyMzQ1"}}}`)
	resp := &graphql.Response{Data: json.RawMessage(page.String())}
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("dataOnlyBody", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dataOnlyBody(resp.Data)
		}
	})
}
