package graph_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/carlot/carlot/graph"
	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/logging"
)

// A client that goes away mid-request is not a server fault: what its
// cancellation breaks (a statement, a transaction's commit) must not be
// logged as an internal error, which operators alert on.
func TestClientThatGoesAwayIsNotLoggedAsAnError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"the statement was cancelled", fmt.Errorf("read vehicles: %w", context.Canceled)},
		{"the commit found the transaction gone", errors.New("sql: transaction has already been committed or rolled back")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logs := new(apitest.LogBuffer)
			present := graph.ErrorPresenter(logging.New(logs, slog.LevelDebug, "text"))
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			got := present(ctx, tc.err)
			if code := got.Extensions["code"]; code != "INTERNAL_SERVER_ERROR" {
				t.Errorf("code %v, want INTERNAL_SERVER_ERROR", code)
			}
			if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "client went away") {
				t.Errorf("want one line saying the client went away, below ERROR:\n%s", logs)
			}
		})
	}
}
