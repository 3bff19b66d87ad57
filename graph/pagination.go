package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"fleetgate/internal/fault"
)

// Page sizes of every connection (README "Limits"): entgql itself returns every
// row when neither first nor last is given, and sets no maximum.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// pageLimits is the @pageLimits directive of every connection: it applies
// the page sizes before the field's resolver reads first and last. Out of
// range is BAD_USER_INPUT, neither given means first: DefaultPageSize. A
// directive, not a middleware, so the fields that are no connection pay
// nothing for it (README "Performance").
func pageLimits(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	first, _ := fc.Args["first"].(*int)
	last, _ := fc.Args["last"].(*int)
	for name, n := range map[string]*int{"first": first, "last": last} {
		if n != nil && (*n < 0 || *n > MaxPageSize) {
			return nil, fault.Input(name, "%s must be between 0 and %d", name, MaxPageSize)
		}
	}
	if first == nil && last == nil {
		n := DefaultPageSize
		fc.Args["first"] = &n
	}
	return next(ctx)
}
