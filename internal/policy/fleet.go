package policy

import (
	"context"

	entgo "entgo.io/ent"

	"fleetgate/ent"
	"fleetgate/ent/application"
	"fleetgate/ent/predicate"
	"fleetgate/ent/privacy"
	"fleetgate/internal/access"
	"fleetgate/internal/viewer"
)

// Fleet is the policy of the fleet-side types (devices, what belongs to
// them, and the application's releases, variables and actions). Each row
// names its application: rows are visible with it, and writes need a
// permission of the matrix on it — write to create or delete, update to
// change. Updates and deletes are narrowed in SQL to the applications where
// the viewer's role has the permission, so a refused one changes nothing.
//
// A provisioning key (viewer.Provisioning) only creates, and then reads,
// devices of its own application.
func Fleet(write, update access.Permission) ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
			v, err := viewer.FromContext(ctx)
			if err != nil {
				return err
			}
			if v.Credential == viewer.Provisioning {
				if write != access.AddRemoveDevice {
					return privacy.Denyf("a provisioning key reads devices only")
				}
				f.(applicationFilter).WhereHasApplicationWith(application.ID(v.ApplicationID))
				return privacy.Allow
			}
			return filter(ctx, func(v *viewer.Viewer) { f.(applicationFilter).WhereHasApplicationWith(visibleApplication(v)) })
		})},
		Mutation: privacy.MutationPolicy{privacy.MutationRuleFunc(func(ctx context.Context, m entgo.Mutation) error {
			p := update
			if m.Op().Is(entgo.OpCreate | entgo.OpDelete | entgo.OpDeleteOne) {
				p = write
			}
			if !m.Op().Is(entgo.OpCreate) {
				return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
					return filter(ctx, func(v *viewer.Viewer) { f.(applicationFilter).WhereHasApplicationWith(allowedApplications(v, p)) })
				}).EvalMutation(ctx, m)
			}
			appID, _ := m.(interface{ ApplicationID() (int, bool) }).ApplicationID()
			if v, err := viewer.FromContext(ctx); err == nil && v.Credential == viewer.Provisioning {
				if p == access.AddRemoveDevice && appID == v.ApplicationID {
					return privacy.Allow
				}
				return privacy.Denyf("a provisioning key only registers devices of its application")
			}
			db := m.(interface{ Client() *ent.Client }).Client()
			return allowIf(checkOn(ctx, db, appID, p))
		})},
	}
}

// applicationFilter is the EntQL filter of every fleet-side type.
type applicationFilter interface {
	WhereHasApplicationWith(...predicate.Application)
}

// allowedApplications: the applications where the viewer's role grants p,
// and their API key's scope allows it.
func allowedApplications(v *viewer.Viewer, p access.Permission) predicate.Application {
	return applicationsWhere(v, func(r access.Role) bool { return r.Allows(p) && v.Scope.Allows(p) })
}
