package models

import (
	"context"
	"sync/atomic"

	"github.com/uptrace/bun"
)

type statementCountKey struct{}

// WithStatementCount returns a context under which every SQL statement that
// bun runs (see StatementCounter) adds one to the returned counter. It is how
// Carlot measures statements per request.
func WithStatementCount(ctx context.Context) (context.Context, *atomic.Int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, statementCountKey{}, n), n
}

// StatementCounter is a bun query hook that counts statements for contexts
// made by WithStatementCount.
type StatementCounter struct{}

var _ bun.QueryHook = StatementCounter{}

// BeforeQuery implements bun.QueryHook.
func (StatementCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

// AfterQuery implements bun.QueryHook.
func (StatementCounter) AfterQuery(ctx context.Context, _ *bun.QueryEvent) {
	if n, ok := ctx.Value(statementCountKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}
