package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/vektah/gqlparser/v2/ast"
)

// subscriptionMetrics is a gqlgen extension that keeps the active
// subscriptions gauge, whatever transport carries the subscription: a
// subscription is active from its start until its stream ends (its
// response handler returns nil, which gqlgen's transports wait for, also
// when the client stops it or the socket closes). Events delivered are
// counted by the event broker (live.Options.Delivered).
type subscriptionMetrics struct {
	metrics *metrics.Registry
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = subscriptionMetrics{}

func (subscriptionMetrics) ExtensionName() string { return "SubscriptionMetrics" }

func (subscriptionMetrics) Validate(graphql.ExecutableSchema) error { return nil }

func (s subscriptionMetrics) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil || op.Operation != ast.Subscription {
		return next(ctx)
	}
	responses := next(ctx)
	s.metrics.SubscriptionStarted()
	var ended sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if resp == nil {
			ended.Do(s.metrics.SubscriptionEnded)
		}
		return resp
	}
}
