package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
	"fleetgate/internal/viewer"
)

// DefaultRequestTimeout bounds how long one request may run (Deps.RequestTimeout).
const DefaultRequestTimeout = 30 * time.Second

var errRequestTimeout = fault.New(fault.Timeout, "the request ran out of time and was stopped; fields not yet run were skipped")

// withDeadline cancels a request that runs longer than d.RequestTimeout:
// its database work stops, and root fields not yet started are skipped.
func (d Deps) withDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// currentAuthorization runs each root field of a mutation with the caller's
// credential and roles read anew (README "Organizations, applications and members": decided when each field runs): a demotion, a password
// change or a revoked key committed by an earlier field, or by anyone while
// the request ran, holds for every field that starts after it. Queries have
// no side effects to order, so their fields share one reading.
func (d Deps) currentAuthorization(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if ctx.Err() != nil {
		graphql.AddError(ctx, errRequestTimeout)
		return graphql.Null
	}
	if graphql.GetOperationContext(ctx).Operation.Operation != ast.Mutation {
		return next(ctx)
	}
	if d.BeforeRootField != nil {
		d.BeforeRootField(ctx, graphql.GetRootFieldContext(ctx).Field.Alias)
	}
	return next(policy.WithRoleCache(viewer.Fresh(ctx), d.DB))
}
