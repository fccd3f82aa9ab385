package models

import (
	"context"
	"sync/atomic"
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
