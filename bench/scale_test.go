package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
)

// TestScaleSmoke runs scale mode on a tiny catalog: every storefront query
// must answer without an error, and the table must list them all. It
// measures nothing.
func TestScaleSmoke(t *testing.T) {
	args := []string{"--mode", "scale", "--vehicles", "300", "--scale-runs", "1", "--out", t.TempDir() + "/scale.json"}
	server := testdb.URL(t, testdb.Empty)
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return server
		}
		return ""
	}
	var out bytes.Buffer
	if err := run(t.Context(), args, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"lookup by VIN", "filtered page by price, totalCount", `vehicleStats search "ford"`, "dealers with nested totalCount"} {
		if !strings.Contains(out.String(), "| "+q) {
			t.Errorf("no row for %s in:\n%s", q, out.String())
		}
	}
}
