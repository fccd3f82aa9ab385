package httpapi

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/testdb"
)

// conformanceDir holds the Node project that runs the graphql-http audits
// (install it with `npm ci --prefix tests/conformance`).
const conformanceDir = "../../tests/conformance"

// TestGraphQLOverHTTPConformance runs the graphql-http audit suite against
// the handler and fails on any failed MUST audit. Without Node or the npm
// modules it skips locally, and fails in CI (CI=true), where .ci/run
// installs them.
func TestGraphQLOverHTTPConformance(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(conformanceDir, "node_modules", "graphql-http"))
	if err != nil || modErr != nil {
		msg := "the conformance audit needs Node.js and `npm ci --prefix tests/conformance`"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// Development mode: several audits query __type, which production's
	// disabled introspection refuses.
	a := newTestAPI(t, testdb.Empty, map[string]string{"RATE_LIMIT_PER_IP": "0"})
	base := a.Serve()

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(conformanceDir, "audit.mjs"), base+"/graphql")
	out, err := cmd.CombinedOutput()
	t.Logf("graphql-http audit:\n%s", out)
	if err != nil {
		t.Fatalf("MUST audits failed: %v", err)
	}
}
