// Package graph is fleetgate's GraphQL API: the resolvers, the @can
// directive, the error presenter, and NewHandler, which serves them with
// every other HTTP route.
package graph

import (
	"log/slog"
	"time"

	"fleetgate/ent"
	"fleetgate/internal/password"
	"fleetgate/internal/token"
)

// Deps is what the API needs from the outside world.
type Deps struct {
	DB        *ent.Client
	Passwords *password.Hasher
	Tokens    *token.Set
	Log       *slog.Logger
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// Introspection turns on schema introspection (the playground needs it).
	Introspection bool
	// CORSOrigins lists the browser origins allowed to call the API.
	CORSOrigins []string
	// PublicURL is where people and devices reach the service (no trailing
	// slash), for links and device image configurations.
	PublicURL string
}

// Resolver is the root of the resolvers.
type Resolver struct{ Deps }
