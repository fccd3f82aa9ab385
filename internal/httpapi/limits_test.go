package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

const codeTooComplex = "QUERY_TOO_COMPLEX"

// deepQuery returns a valid query exactly depth levels deep that costs
// almost nothing (every page is one item).
func deepQuery(depth int) string {
	path := []string{"vehicles(first: 1)", "nodes"}
	cycle := []string{"dealer", "vehicles(first: 1)", "nodes"}
	for i := 0; len(path) < depth-1; i++ {
		path = append(path, cycle[i%len(cycle)])
	}
	leaf := map[string]string{"nodes": "id", "dealer": "id", "vehicles(first: 1)": "totalCount"}[path[len(path)-1]]
	var b strings.Builder
	for _, f := range path {
		b.WriteString(f + " { ")
	}
	b.WriteString(leaf)
	b.WriteString(strings.Repeat(" }", len(path)))
	return "{ " + b.String() + " }"
}

func aliasesQuery(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " a%d: __typename", i)
	}
	return "{" + b.String() + " }"
}

func repeatedFields(n int) string {
	return "{" + strings.Repeat(" __typename", n) + " }"
}

func TestLimitsHoldAtTheLimitAndRefuseOneMore(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Seeded, nil)

	t.Run("depth 12 runs, 13 is refused", func(t *testing.T) {
		a.MustQuery(deepQuery(12), nil)
		r := a.ExpectCode(deepQuery(13), http.StatusOK, codeTooComplex)
		if r.HasData {
			t.Fatalf("a refused request has a data entry: %s", r.Raw)
		}
	})
	t.Run("30 aliases run, 31 are refused", func(t *testing.T) {
		a.MustQuery(aliasesQuery(30), nil)
		a.ExpectCode(aliasesQuery(31), http.StatusOK, codeTooComplex)
	})
	t.Run("aliases in fragments count every time they are spread", func(t *testing.T) {
		q := "query { ...F ...F } fragment F on Query { a: __typename b: __typename c: __typename d: __typename e: __typename " +
			"f: __typename g: __typename h: __typename i: __typename j: __typename k: __typename l: __typename m: __typename " +
			"n: __typename o: __typename p: __typename }"
		a.ExpectCode(q, http.StatusOK, codeTooComplex) // 32 aliases after expansion, 16 as written
	})
	t.Run("complexity 1000 runs, 1001 is refused", func(t *testing.T) {
		// 100 dealers × (1 + 9 vehicles) = 1000; each dealer's vehicle fields are free.
		a.MustQuery(`{ dealers(first: 100) { nodes { vehicles(first: 9) { nodes { id vin } } } } }`, nil)
		a.ExpectCode(`{ dealers(first: 100) { nodes { vehicles(first: 9) { nodes { id vin } } } } vehicle(id: "VmVoaWNsZTox") { id } }`,
			http.StatusOK, codeTooComplex)
		a.ExpectCode(`{ dealers(first: 100) { nodes { vehicles(first: 10) { nodes { id } } } } }`, http.StatusOK, codeTooComplex)
	})
	t.Run("complexity reads first from variables", func(t *testing.T) {
		q := `query($n: Int) { v1: vehicles(first: $n) { nodes { id } } v2: vehicles(first: $n) { nodes { id } } }`
		if r := a.Post(q, map[string]any{"n": 100}); len(r.Errors) > 0 {
			t.Fatalf("two pages of 100 (cost 200): %s", r.Raw)
		}
		many := `query($n: Int) { ` + strings.Repeat(`vehicles(first: $n) { nodes { id } } `, 1) +
			`a: dealers(first: $n) { nodes { vehicles(first: $n) { totalCount } } } }`
		if r := a.Post(many, map[string]any{"n": 100}); r.Code() != codeTooComplex {
			t.Fatalf("100 dealers × 100 vehicles: %s", r.Raw)
		}
	})
	t.Run("a page larger than the maximum is bad input, not too complex", func(t *testing.T) {
		a.ExpectCode(`{ vehicles(first: 101) { nodes { id } } }`, http.StatusOK, "BAD_USER_INPUT")
	})
	t.Run("the contract's example queries run", func(t *testing.T) {
		a.MustQuery(`query Cheapest($after: String) {
			vehicles(first: 3, after: $after, filter: { fuel: [ELECTRIC], status: [AVAILABLE] }, orderBy: { field: PRICE, direction: ASC }) {
				nodes { id vin year priceCents make { name } model { name } dealer { name city } }
				pageInfo { hasNextPage endCursor } totalCount } }`, nil)
		a.MustQuery(`{ dealers(first: 20) { nodes { id name city vehicles(first: 5) { nodes { vin model { name } } totalCount } }
			pageInfo { hasNextPage endCursor } } }`, nil)
		a.MustQuery(`{ vehicles(first: 100) { edges { cursor node { id } } nodes { id vin year color mileageKm priceCents fuel status
			createdAt make { id name } model { id name } dealer { id name } } pageInfo { hasNextPage } totalCount } }`, nil)
		a.MustQuery(`{ makes { name models { name } } vehicleStats { count byStatus { status count } byMake { make { name } count } } }`, nil)
	})
	t.Run("GraphiQL's introspection query runs in development", func(t *testing.T) {
		a.MustQuery(introspection.Query, nil)
	})
	t.Run("directives beyond the limit are refused before validation", func(t *testing.T) {
		ten := "{ __typename" + strings.Repeat(" @include(if: true)", 10) + " }"
		a.ExpectCode(ten, http.StatusUnprocessableEntity, "GRAPHQL_VALIDATION_FAILED") // @include twice is invalid anyway
		a.ExpectCode("{ __typename"+strings.Repeat(" @include(if: true)", 11)+" }", http.StatusOK, codeTooComplex)
	})
	t.Run("a document's fields are counted with fragments expanded", func(t *testing.T) {
		a.MustQuery(repeatedFields(500), nil)
		a.ExpectCode(repeatedFields(501), http.StatusOK, codeTooComplex)
		a.MustQuery("query { ...F ...F } fragment F on Query {"+strings.Repeat(" __typename", 250)+" }", nil)
		a.ExpectCode("query { ...F ...F } fragment F on Query {"+strings.Repeat(" __typename", 251)+" }", http.StatusOK, codeTooComplex)
		// A fragment no operation uses is still validated, so it counts too (and is then invalid).
		a.ExpectCode("query { __typename } fragment F on Query {"+strings.Repeat(" __typename", 500)+" }", http.StatusOK, codeTooComplex)
	})
	t.Run("too many tokens are refused", func(t *testing.T) {
		q := "{" + strings.Repeat(` vehicles(filter: { search: "x" }) { totalCount }`, 1200) + " }" // 13 tokens each
		a.ExpectCode(q, http.StatusOK, codeTooComplex)
	})
}

func TestConfiguredLimits(t *testing.T) {
	t.Parallel()
	t.Run("MAX_TOKENS", func(t *testing.T) {
		t.Parallel()
		q := repeatedFields(150)
		n := parserTokens(t, q)
		a := newTestAPI(t, testdb.Empty, map[string]string{"MAX_TOKENS": strconv.Itoa(n)})
		a.MustQuery(q, nil)
		b := newTestAPI(t, testdb.Empty, map[string]string{"MAX_TOKENS": strconv.Itoa(n - 1)})
		r := b.ExpectCode(q, http.StatusOK, codeTooComplex)
		if !strings.Contains(r.Errors[0].Message, "tokens") {
			t.Fatalf("message does not name the limit: %s", r.Raw)
		}
	})
	t.Run("MAX_DIRECTIVES", func(t *testing.T) {
		t.Parallel()
		a := newTestAPI(t, testdb.Empty, map[string]string{"MAX_DIRECTIVES": "2"})
		a.MustQuery("{ __typename @include(if: true) @skip(if: false) }", nil)
		a.ExpectCode("{ __typename @include(if: true) @skip(if: false) @include(if: true) }", http.StatusOK, codeTooComplex)
		a.ExpectCode("query Q @a @b @c { __typename }", http.StatusOK, codeTooComplex)
	})
	t.Run("MAX_DEPTH, MAX_ALIASES, MAX_FIELDS and MAX_COMPLEXITY", func(t *testing.T) {
		t.Parallel()
		a := newTestAPI(t, testdb.Seeded, map[string]string{
			"MAX_DEPTH": "5", "MAX_ALIASES": "2", "MAX_FIELDS": "5", "MAX_COMPLEXITY": "60",
		})
		a.MustQuery(deepQuery(5), nil)
		a.ExpectCode(deepQuery(6), http.StatusOK, codeTooComplex)
		a.MustQuery(aliasesQuery(2), nil)
		a.ExpectCode(aliasesQuery(3), http.StatusOK, codeTooComplex)
		a.MustQuery(repeatedFields(5), nil)
		a.ExpectCode(repeatedFields(6), http.StatusOK, codeTooComplex)
		// 10 dealers × (1 + 5 vehicles) = 60, then 61 with a root lookup.
		a.MustQuery(`{ dealers(first: 10) { nodes { vehicles(first: 5) { nodes { vin } } } } }`, nil)
		a.ExpectCode(`{ dealers(first: 10) { nodes { vehicles(first: 5) { nodes { vin } } } } makes { name } }`, http.StatusOK, codeTooComplex)
	})
	t.Run("graphql-response+json gets 400 for a refused document", func(t *testing.T) {
		t.Parallel()
		a := newTestAPI(t, testdb.Empty, map[string]string{"MAX_DEPTH": "2"})
		r := a.PostRaw("application/json", `{"query":"{ makes { models { name } } }"}`, "Accept", mediaGraphQLResponse)
		if r.Status != http.StatusBadRequest || r.Code() != codeTooComplex || r.HasData {
			t.Fatalf("got %d %s", r.Status, r.Raw)
		}
	})
}

// parserTokens returns the smallest token limit gqlparser parses q under.
func parserTokens(t *testing.T, q string) int {
	t.Helper()
	for n := 1; n < 10_000; n++ {
		if _, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, n); err == nil {
			return n
		}
	}
	t.Fatal("query does not parse")
	return 0
}

// Documents built to be cheap to send and ruinous to expand (fragments
// spread twice at each of forty levels, cycles) are refused or rejected
// quickly: each fragment is measured once.
func TestFragmentBombsAreMeasuredOnce(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, testdb.Empty, nil)
	bomb := func(body string) string {
		var b strings.Builder
		b.WriteString("query { ...F0 }")
		for i := range 40 {
			fmt.Fprintf(&b, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
		}
		b.WriteString(" fragment F40 on Query { " + body + " }")
		return b.String()
	}
	for _, tc := range []struct{ name, query, code string }{
		{"fields", bomb("__typename"), codeTooComplex},
		{"aliases", bomb("a: __typename"), codeTooComplex},
		{"nested lists", bomb("makes { name }"), codeTooComplex},
		{"cycle", "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A __typename }", "GRAPHQL_VALIDATION_FAILED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan apitest.Response, 1)
			go func() { done <- a.Post(tc.query, nil) }()
			select {
			case r := <-done:
				if r.Code() != tc.code {
					t.Fatalf("got %s, want %s", r.Raw, tc.code)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the document is still being measured after 30s")
			}
		})
	}
}
