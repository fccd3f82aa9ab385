package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/carlot/carlot/models"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// internalMessage is all a client learns about an unexpected failure; the
// details go to the log under the request id.
const internalMessage = "internal server error"

// ErrorPresenter turns resolver errors into GraphQL errors. A *models.Error
// keeps its message and becomes extensions.code (with extensions.fields for
// bad input); errors gqlgen raised itself (parse, validation, complexity)
// already carry a code and keep it; anything else is logged and masked as
// INTERNAL_SERVER_ERROR, so no SQL or driver text ever reaches a client.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		presented := graphql.DefaultErrorPresenter(ctx, err)
		var appErr *models.Error
		if errors.As(err, &appErr) {
			out := &gqlerror.Error{
				Message:    appErr.Message,
				Path:       presented.Path,
				Locations:  presented.Locations,
				Extensions: map[string]any{"code": string(appErr.Code)},
			}
			if len(appErr.Fields) > 0 {
				out.Extensions["fields"] = appErr.Fields
			}
			return out
		}
		if _, coded := presented.Extensions["code"]; coded && errors.Unwrap(presented) == nil {
			return presented // gqlgen's own parse and validation errors
		}
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			log.WarnContext(ctx, "request timed out", "path", presented.Path.String())
		case errors.Is(err, context.Canceled) || ctx.Err() == context.Canceled:
			// The client went away: whatever its cancellation broke (a
			// statement, a commit) is no fault of the server's.
			log.InfoContext(ctx, "client went away", "err", err, "path", presented.Path.String())
		default:
			log.ErrorContext(ctx, "internal error", "err", err, "path", presented.Path.String())
		}
		return &gqlerror.Error{
			Message:    internalMessage,
			Path:       presented.Path,
			Locations:  presented.Locations,
			Extensions: map[string]any{"code": string(models.CodeInternal)},
		}
	}
}

// Recover logs a panicking resolver with its stack and answers with an
// internal error instead of crashing the request or the process.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errors.New("panic in resolver")
	}
}
