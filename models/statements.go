package models

import (
	"context"
	"sync/atomic"

	"github.com/uptrace/bun"
)

type statementCountKey struct{}

// WithStatementCount returns a context under which every SQL statement sent
// to PostgreSQL (see CountStatement) adds one to the returned counter. It is
// how Carlot measures statements per request.
func WithStatementCount(ctx context.Context) (context.Context, *atomic.Int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, statementCountKey{}, n), n
}

// CountStatement adds one to the counter of a context made by
// WithStatementCount, if ctx has one. The database driver calls it for
// every statement it sends, whoever built the statement.
func CountStatement(ctx context.Context) {
	if n, ok := ctx.Value(statementCountKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}

// StatementCounter is a bun query hook that counts bun's statements with
// CountStatement, for a bun.DB whose driver does not count them itself.
// (Pools opened by internal/database count every statement in the driver;
// adding it there would count bun's twice.)
type StatementCounter struct{}

var _ bun.QueryHook = StatementCounter{}

// BeforeQuery implements bun.QueryHook.
func (StatementCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

// AfterQuery implements bun.QueryHook.
func (StatementCounter) AfterQuery(ctx context.Context, _ *bun.QueryEvent) { CountStatement(ctx) }
