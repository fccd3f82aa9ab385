package graph_test

import (
	"testing"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
)

// PostgreSQL refuses NUL in text. No string argument may carry one to the
// database and come back as an internal error: each is bad input or simply
// matches nothing.
func TestNULInAnyStringArgumentIsNeverInternal(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	admin := a.login(p.admin)
	vehicle, _ := a.vehicleOf(p.dealerA)
	const nul = "a\x00b"
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
	}{
		{"login email", `mutation($s: String!) { login(email: $s, password: "whatever-it-is") { accessToken } }`, map[string]any{"s": nul}},
		{"login password", `mutation($s: String!) { login(email: "boss@example.test", password: $s) { accessToken } }`, map[string]any{"s": nul}},
		{"refresh token", `mutation($s: String!) { refreshToken(refreshToken: $s) { accessToken } }`, map[string]any{"s": nul}},
		{"logout", `mutation($s: String!) { logout(refreshToken: $s) }`, map[string]any{"s": nul}},
		{"vehicleByVin", `query($s: String!) { vehicleByVin(vin: $s) { id } }`, map[string]any{"s": nul}},
		{"decodeVin", `query($s: String!) { decodeVin(vin: $s) { valid } }`, map[string]any{"s": nul}},
		{"search", `query($s: String) { vehicles(filter: {search: $s}) { totalCount } }`, map[string]any{"s": nul}},
		{"node id", `query($s: ID!) { node(id: $s) { id } }`, map[string]any{"s": nul}},
		{"cursor", `query($s: String) { vehicles(after: $s) { totalCount } }`, map[string]any{"s": nul}},
		{"dealer name", `mutation($s: String!) { createDealer(input: {name: $s, city: "X"}) { id } }`, map[string]any{"s": nul}},
		{"vehicle color", `mutation($id: ID!, $s: String) { updateVehicle(id: $id, input: {color: $s}) { id } }`, map[string]any{"id": vehicle, "s": nul}},
		{"vehicle vin", createMutation, map[string]any{"input": func() map[string]any {
			in := a.newVehicleInput(p.dealerA, nul)
			in["modelId"] = relay.NodeID("Model", 1)
			return in
		}()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.PostAs(admin, tc.query, tc.vars)
			for _, e := range r.Errors {
				if e.Extensions["code"] == "INTERNAL_SERVER_ERROR" {
					t.Fatalf("internal error: %s", r.Raw)
				}
			}
		})
	}
}
