package models

import "context"

// Role is what a user may do.
type Role string

// The roles, from least to most privileged.
const (
	RoleViewer Role = "VIEWER"
	RoleStaff  Role = "STAFF"
	RoleAdmin  Role = "ADMIN"
)

// Actor is the authenticated user a request acts for, as its access token
// describes it.
type Actor struct {
	UserID int64
	Role   Role
	// DealerID is the dealer a STAFF user belongs to.
	DealerID *int64
}

type actorKey struct{}

// WithActor returns ctx acting for a.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx, or nil for an anonymous request.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}
