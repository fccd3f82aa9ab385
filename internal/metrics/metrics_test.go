package metrics

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Operation names are chosen by clients, so the label takes at most
// MaxOperationNames values.
func TestOperationLabelsAreBounded(t *testing.T) {
	t.Parallel()
	m := New()
	for i := range MaxOperationNames + 50 {
		m.ObserveGraphQL(fmt.Sprintf("Op%d", i), "ok", time.Millisecond, 1)
	}
	m.ObserveGraphQL("Op1", "ok", time.Millisecond, 1)
	m.ObserveGraphQL(strings.Repeat("x", 65), "ok", time.Millisecond, 1)
	m.ObserveGraphQL("not a name!", "weird code {}", time.Millisecond, 1)
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	outcomes := map[string]bool{}
	for _, f := range families {
		if f.GetName() != "carlot_graphql_requests_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				switch l.GetName() {
				case "operation":
					ops[l.GetValue()] = true
				case "outcome":
					outcomes[l.GetValue()] = true
				}
			}
		}
	}
	if len(ops) != MaxOperationNames+1 || !ops[OtherOperation] || !ops["Op1"] || ops["Op120"] {
		t.Fatalf("%d operation labels (other: %v)", len(ops), ops[OtherOperation])
	}
	if !outcomes["OTHER"] || len(outcomes) != 2 {
		t.Fatalf("outcomes %v", outcomes)
	}
}

func TestNilRegistryRecordsNothing(t *testing.T) {
	t.Parallel()
	var r *Registry
	r.ObserveGraphQL("Q", OutcomeOK, time.Second, 1)
	r.ObserveHTTP("/graphql", 200)
	r.RateLimited("ip")
	r.WebsocketOpened()
	r.WebsocketClosed()
	r.SubscriptionStarted()
	r.SubscriptionEnded()
	r.EventsDelivered(3)
	r.WatchDB("carlot", (*pgxpool.Pool)(nil))
	if r.Handler() == nil {
		t.Fatal("no handler")
	}
}
