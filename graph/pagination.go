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

// pageLimits applies the page sizes to every field that takes first and
// last (every connection), before its resolver reads them: out of range is
// BAD_USER_INPUT, neither given means first: DefaultPageSize.
func pageLimits(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	first, hasFirst := fc.Args["first"].(*int)
	last, hasLast := fc.Args["last"].(*int)
	if !hasFirst || !hasLast {
		return next(ctx)
	}
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
