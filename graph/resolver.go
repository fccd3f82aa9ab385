// Package graph is Carlot's GraphQL layer: the gqlgen executor generated from
// schema.graphqls, and the resolvers that check access and call into models,
// reading vehicles through the planner (graph/plan) and the catalog through
// per-request loaders. NewServer builds the GraphQL server around them with
// its whole policy: transports (GET and POST here, the websocket one handed
// in), caches, APQ and trusted documents, Int checks, document limits and
// cost, the error presenter and per-operation rules. It knows nothing of the
// HTTP layer, which it tells what requests ran through RequestHooks.
package graph

//go:generate go run ./internal/gqlgen

import (
	"log/slog"
	"time"

	"github.com/carlot/carlot/graph/plan"
	"github.com/carlot/carlot/internal/auth"
	"github.com/carlot/carlot/internal/live"
	"github.com/carlot/carlot/internal/media"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
)

// Resolver is the root of the resolvers' dependencies. It is built once in
// internal/app and shared by every request.
type Resolver struct {
	DB *bun.DB
	// Plan reads every field that returns vehicles (see NewPlanner).
	Plan   *plan.Planner
	Log    *slog.Logger
	Tokens *auth.Tokens
	// Passwords checks login passwords within a memory budget.
	Passwords *models.PasswordHasher
	// RefreshTTL is how long a refresh token stays valid.
	RefreshTTL time.Duration
	// Live streams committed vehicle events to subscriptions.
	Live *live.Broker
	// Media stores vehicle photos' files, which uploads are checked and
	// re-encoded within MediaLimits to become.
	Media       media.Store
	MediaLimits media.Limits
	// PhotoGate bounds how many uploads are decoded at once; nil: one
	// gate of GOMAXPROCS slots shared by every resolver without one.
	PhotoGate *media.Gate
	// Renderings lets subscriptions share the execution of an event they
	// would render identically; nil executes each event for each of them.
	Renderings *Renderings
	// PlainFields says that the server runs no field middleware (no gqlgen
	// extension that intercepts fields, no AroundFields): fields that only
	// read a value of their object then skip gqlgen's per-field machinery
	// (see resolvePlainField and resolvePlainPointer). Leave it false for a
	// server that does.
	PlainFields bool
}
