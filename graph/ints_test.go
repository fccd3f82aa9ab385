package graph_test

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
)

// GraphQL's Int is 32 bits: larger values are refused when the request is
// validated, written in the document or passed as variables, and never
// reach the database.
func TestIntArgumentsBeyond32BitsAreRefused(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	admin := a.login(p.admin)
	id, _ := a.vehicleOf(p.dealerA)

	invalid := func(t *testing.T, r apitest.Response) {
		t.Helper()
		if r.Status != http.StatusUnprocessableEntity || r.ErrorCode(t) != "GRAPHQL_VALIDATION_FAILED" ||
			!strings.Contains(r.Errors[0].Message, "32-bit") || r.Data != nil {
			t.Fatalf("want 422 GRAPHQL_VALIDATION_FAILED naming 32 bits, got %d %s", r.Status, r.Raw)
		}
	}
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
	}{
		{"price literal", `mutation($id: ID!) { updateVehicle(id: $id, input: { priceCents: 9007199254740993 }) { priceCents } }`, map[string]any{"id": id}},
		{"mileage literal", `mutation($id: ID!) { updateVehicle(id: $id, input: { mileageKm: 3000000000 }) { mileageKm } }`, map[string]any{"id": id}},
		{"negative literal", `{ vehicles(filter: { yearMin: -2147483649 }) { totalCount } }`, nil},
		{"literal in a default value", `query($n: Int = 2147483648) { vehicles(first: $n) { totalCount } }`, nil},
		{"price in an input variable", updateMutation, map[string]any{"id": id, "input": map[string]any{"priceCents": 9007199254740993}}},
		{"mileage in an input variable", updateMutation, map[string]any{"id": id, "input": map[string]any{"mileageKm": 3000000000}}},
		{"top-level variable", `query($n: Int) { vehicles(first: $n) { totalCount } }`, map[string]any{"n": 4294967297}},
		{"nested filter variable", `query($f: VehicleFilter) { vehicles(filter: $f) { totalCount } }`, map[string]any{"f": map[string]any{"priceMaxCents": -2147483649}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state()
			invalid(t, a.PostAs(admin, tc.query, tc.vars))
			if a.state() != before {
				t.Fatal("a refused write changed data")
			}
		})
	}

	t.Run("the 32-bit bounds themselves are accepted", func(t *testing.T) {
		r := a.PostAs(admin, `mutation($id: ID!, $p: Int) { updateVehicle(id: $id, input: { mileageKm: 2147483647, priceCents: $p }) { priceCents mileageKm } }`,
			map[string]any{"id": id, "p": math.MaxInt32})
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `{"priceCents":2147483647,"mileageKm":2147483647}`) {
			t.Fatalf("%s", r.Raw)
		}
		a.Query(&struct{}{}, `{ vehicles(filter: { yearMin: -2147483648, yearMax: 2147483647 }) { totalCount } }`, nil)
	})
}

// A cursor is opaque but not trusted: one forged to hold a key its ordering
// cannot hold is BAD_USER_INPUT, not a database error.
func TestForgedCursorKeysAreBadUserInput(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	for _, order := range []string{"CREATED_AT", "YEAR", "MILEAGE"} {
		for _, key := range []int64{math.MinInt64, math.MaxInt64} {
			t.Run(order+" "+strconv.FormatInt(key, 10), func(t *testing.T) {
				query := `query($after: String) { vehicles(first: 2, after: $after, orderBy: { field: ` + order + `, direction: ASC }) { pageInfo { endCursor } } }`
				var page struct {
					Vehicles struct{ PageInfo struct{ EndCursor string } }
				}
				a.Query(&page, query, nil)
				c, err := relay.ParseCursor(page.Vehicles.PageInfo.EndCursor)
				if err != nil {
					t.Fatal(err)
				}
				c.Key = strconv.FormatInt(key, 10)
				r := a.Post(query, map[string]any{"after": c.String()})
				if r.ErrorCode(t) != "BAD_USER_INPUT" || !strings.Contains(r.Raw, `"field":"after"`) {
					t.Fatalf("forged cursor: %s", r.Raw)
				}
			})
		}
	}
}
