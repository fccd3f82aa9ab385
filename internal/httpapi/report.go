package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/carlot/carlot/models"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Media types of GraphQL responses, which the compression middleware
// compresses.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// OperationNamed records the GraphQL operation a request names or runs,
// for its access log line. The GraphQL server calls it (graph.RequestHooks).
func OperationNamed(ctx context.Context, operation string) {
	if info := infoFrom(ctx); info != nil {
		info.operation = operation
	}
}

// OperationUnderstood records the operation of a request whose document
// parsed and validated, so that its name may label the request's metrics.
func OperationUnderstood(ctx context.Context, operation string) {
	if info := infoFrom(ctx); info != nil {
		info.metricsOperation = &operation
	}
}

// Answered records a GraphQL request's outcome ("ok" or the extensions.code
// of its first error) for the access log and metrics.
func Answered(ctx context.Context, outcome string) {
	if info := infoFrom(ctx); info != nil {
		info.outcome = outcome
	}
}

// ClientKey is the rate-limit key of r's client address (see limitKey), or
// "unknown".
func ClientKey(r *http.Request) string {
	if info := infoFrom(r.Context()); info != nil && info.clientIP != "" {
		return limitKey(info.clientIP)
	}
	return "unknown"
}

// writeError answers a request refused by a middleware, before GraphQL
// sees it, with a GraphQL error body (no "data"), and records the outcome
// for the log and metrics.
func writeError(w http.ResponseWriter, r *http.Request, status int, code models.Code, message string) {
	Answered(r.Context(), string(code))
	// The same body as the GraphQL transport's request errors.
	body, err := json.Marshal(struct {
		Errors gqlerror.List `json:"errors"`
	}{gqlerror.List{{Message: message, Extensions: map[string]any{"code": string(code)}}}})
	if err != nil {
		panic(err) // strings always encode
	}
	h := w.Header()
	h.Set("Content-Type", mediaJSON+"; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
