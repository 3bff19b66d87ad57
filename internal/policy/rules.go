package policy

import (
	"context"

	entgo "entgo.io/ent"

	"fleetgate/ent"
	"fleetgate/ent/apikey"
	"fleetgate/ent/application"
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/identity"
	"fleetgate/ent/organization"
	"fleetgate/ent/organizationmembership"
	"fleetgate/ent/predicate"
	"fleetgate/ent/privacy"
	"fleetgate/ent/securityevent"
	"fleetgate/ent/session"
	"fleetgate/internal/access"
	"fleetgate/internal/fault"
	"fleetgate/internal/viewer"
)

// Refusals. Without a role an object does not exist for the viewer
// (NOT_FOUND); with a role that lacks the permission, FORBIDDEN.
var (
	ErrNoApplication  = fault.New(fault.NotFound, "no such application (or it is not shared with you)")
	ErrNoOrganization = fault.New(fault.NotFound, "no such organization (or you are not a member)")
	ErrNoMembership   = fault.New(fault.NotFound, "no such membership")
	errOrgAdminOnly   = fault.New(fault.Forbidden, "only administrators of the organization can do this")
)

// forbidden is the refusal of a role that lacks a permission.
func forbidden(role access.Role, p access.Permission) error {
	return fault.New(fault.Forbidden, "the %s role does not include %s", role, p)
}

// scopeForbids is the refusal of a permission the role grants but the API
// key's scope does not.
func scopeForbids(scope *access.Scope, p access.Permission) error {
	if scope.ReadOnly {
		return fault.New(fault.Forbidden, "this API key is scoped read-only: it cannot use %s", p)
	}
	return fault.New(fault.Forbidden, "this API key is scoped: its permissions do not include %s", p)
}

// The read filters: what the viewer may see, as SQL predicates, so lists,
// counts, edges and node lookups all obey them in the database.

// visibleApplication: the viewer administers the application's organization
// or is a member of the application, and it is one their API key's scope
// covers (README "Scoped API keys": the others do not exist for the key).
func visibleApplication(v *viewer.Viewer) predicate.Application {
	return applicationsWhere(v, func(access.Role) bool { return true })
}

// applicationsWhere: the applications, among those the viewer's scope
// covers, where their effective role is one that granted accepts.
func applicationsWhere(v *viewer.Viewer, granted func(access.Role) bool) predicate.Application {
	where := roleWhere(v.UserID, granted)
	if v.Scope == nil || len(v.Scope.ApplicationIDs) == 0 {
		return where
	}
	return application.And(application.IDIn(v.Scope.ApplicationIDs...), where)
}

// roleWhere: the applications where the user's effective role is one that
// granted accepts.
func roleWhere(userID int, granted func(access.Role) bool) predicate.Application {
	var where []predicate.Application
	if granted(access.Administrator) {
		where = append(where, application.HasOrganizationWith(organization.HasMembersWith(
			organizationmembership.UserID(userID),
			organizationmembership.RoleEQ(access.OrgAdministrator))))
	}
	var memberRoles []access.Role
	for _, name := range access.Role("").Values() {
		if r := access.Role(name); r != access.Administrator && granted(r) {
			memberRoles = append(memberRoles, r)
		}
	}
	if len(memberRoles) > 0 {
		where = append(where, application.HasMembersWith(
			applicationmembership.UserID(userID), applicationmembership.RoleIn(memberRoles...)))
	}
	if len(where) == 0 {
		return application.IDIn() // none
	}
	return application.Or(where...)
}

// visibleOrganization: the viewer is a member of the organization or of one
// of its applications (a shared application shows its owner). A scoped API
// key sees only the owners of the applications it sees.
func visibleOrganization(v *viewer.Viewer) predicate.Organization {
	if v.Scope != nil {
		return organization.HasApplicationsWith(visibleApplication(v))
	}
	return organization.Or(
		organization.HasMembersWith(organizationmembership.UserID(v.UserID)),
		organization.HasApplicationsWith(application.HasMembersWith(applicationmembership.UserID(v.UserID))),
	)
}

// Application is the policy of applications.
func Application() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.ApplicationQueryRuleFunc(func(ctx context.Context, q *ent.ApplicationQuery) error {
			return filter(ctx, func(v *viewer.Viewer) {
				q.Where(visibleApplication(v))
				rememberVisible(ctx, v, q)
			})
		})},
		Mutation: privacy.MutationPolicy{privacy.ApplicationMutationRuleFunc(func(ctx context.Context, m *ent.ApplicationMutation) error {
			if m.Op().Is(entgo.OpCreate) {
				orgID, _ := m.OrganizationID()
				return allowIf(CheckOrgAdmin(ctx, m.Client(), orgID))
			}
			id, err := oneID(m.Op(), m.ID)
			if err != nil {
				return err
			}
			// Changing or deleting the application itself is the
			// DELETE_APPLICATION power: administrators only.
			return allowIf(checkOn(ctx, m.Client(), id, access.DeleteApplication))
		})},
	}
}

// ApplicationMembership is the policy of application memberships: visible
// with the application, and only so (membersOfVisible relies on it: a
// membership rule narrower than its application's must drop that
// shortcut); changed with ADD_MEMBERS; ended by its member too.
func ApplicationMembership() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.ApplicationMembershipQueryRuleFunc(func(ctx context.Context, q *ent.ApplicationMembershipQuery) error {
			if membersOfVisible(ctx, q) {
				return privacy.Allow
			}
			return filter(ctx, func(v *viewer.Viewer) { q.Where(applicationmembership.HasApplicationWith(visibleApplication(v))) })
		})},
		Mutation: privacy.MutationPolicy{privacy.ApplicationMembershipMutationRuleFunc(func(ctx context.Context, m *ent.ApplicationMembershipMutation) error {
			var appID int
			if m.Op().Is(entgo.OpCreate) {
				appID, _ = m.ApplicationID()
			} else {
				id, err := oneID(m.Op(), m.ID)
				if err != nil {
					return err
				}
				mem, err := m.Client().ApplicationMembership.Get(ctx, id)
				if err != nil {
					return notFound(err, ErrNoMembership)
				}
				if leaving(ctx, m.Op(), mem.UserID) {
					return privacy.Allow
				}
				appID = mem.ApplicationID
			}
			return allowIf(checkOn(ctx, m.Client(), appID, access.AddMembers))
		})},
	}
}

// Organization is the policy of organizations: visible to members (and to
// members of its applications); changed by its administrators.
func Organization() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.OrganizationQueryRuleFunc(func(ctx context.Context, q *ent.OrganizationQuery) error {
			return filter(ctx, func(v *viewer.Viewer) { q.Where(visibleOrganization(v)) })
		})},
		Mutation: privacy.MutationPolicy{privacy.OrganizationMutationRuleFunc(func(ctx context.Context, m *ent.OrganizationMutation) error {
			if m.Op().Is(entgo.OpCreate) {
				_, err := viewer.RequireAccount(ctx)
				return allowIf(err)
			}
			id, err := oneID(m.Op(), m.ID)
			if err != nil {
				return err
			}
			return allowIf(CheckOrgAdmin(ctx, m.Client(), id))
		})},
	}
}

// OrganizationMembership is the policy of organization memberships: visible
// to the organization's members (not to a scoped API key); changed by its
// administrators; ended by its member too.
func OrganizationMembership() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.OrganizationMembershipQueryRuleFunc(func(ctx context.Context, q *ent.OrganizationMembershipQuery) error {
			return ownRows(ctx, func(uid int) {
				q.Where(organizationmembership.HasOrganizationWith(organization.HasMembersWith(organizationmembership.UserID(uid))))
			})
		})},
		Mutation: privacy.MutationPolicy{privacy.OrganizationMembershipMutationRuleFunc(func(ctx context.Context, m *ent.OrganizationMembershipMutation) error {
			if m.Op().Is(entgo.OpCreate) {
				orgID, _ := m.OrganizationID()
				return allowIf(CheckOrgAdmin(ctx, m.Client(), orgID))
			}
			id, err := oneID(m.Op(), m.ID)
			if err != nil {
				return err
			}
			mem, err := m.Client().OrganizationMembership.Get(ctx, id)
			if err != nil {
				return notFound(err, ErrNoMembership)
			}
			if leaving(ctx, m.Op(), mem.UserID) {
				return privacy.Allow
			}
			return allowIf(CheckOrgAdmin(ctx, m.Client(), mem.OrganizationID))
		})},
	}
}

// ApiKey is the policy of API keys: the owner's alone.
func ApiKey() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.ApiKeyQueryRuleFunc(func(ctx context.Context, q *ent.ApiKeyQuery) error {
			return ownRows(ctx, func(uid int) { q.Where(apikey.UserID(uid)) })
		})},
		Mutation: privacy.MutationPolicy{privacy.ApiKeyMutationRuleFunc(func(ctx context.Context, m *ent.ApiKeyMutation) error {
			v, err := viewer.RequireAccount(ctx)
			if err != nil {
				return err
			}
			if owner, ok := m.UserID(); ok && owner != v.UserID {
				return privacy.Denyf("an API key is created for its owner only")
			}
			m.Where(apikey.UserID(v.UserID))
			return privacy.Allow
		})},
	}
}

// SecurityEvent is the policy of security events: read by their user only.
// fleetgate records them on behalf of whoever caused them (an administrator
// changing someone's membership), so writes are not restricted.
func SecurityEvent() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.SecurityEventQueryRuleFunc(func(ctx context.Context, q *ent.SecurityEventQuery) error {
			return ownRows(ctx, func(uid int) { q.Where(securityevent.UserID(uid)) })
		})},
		Mutation: privacy.MutationPolicy{privacy.AlwaysAllowRule()},
	}
}

// Session is the policy of sessions: read by their user only. The
// authentication core writes them, for sign-ins that have no viewer yet,
// always naming the user (internal/auth).
func Session() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.SessionQueryRuleFunc(func(ctx context.Context, q *ent.SessionQuery) error {
			return ownRows(ctx, func(uid int) { q.Where(session.UserID(uid)) })
		})},
		Mutation: privacy.MutationPolicy{privacy.AlwaysAllowRule()},
	}
}

// Identity is the policy of linked identities: seen and unlinked by their
// user only. Social login links them on the user's behalf (System).
func Identity() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.IdentityQueryRuleFunc(func(ctx context.Context, q *ent.IdentityQuery) error {
			return ownRows(ctx, func(uid int) { q.Where(identity.UserID(uid)) })
		})},
		Mutation: privacy.MutationPolicy{privacy.IdentityMutationRuleFunc(func(ctx context.Context, m *ent.IdentityMutation) error {
			if m.Op().Is(entgo.OpCreate) {
				return privacy.Denyf("identities are linked by social login only")
			}
			v, err := viewer.RequireAccount(ctx)
			if err != nil {
				return err
			}
			m.Where(identity.UserID(v.UserID))
			return privacy.Allow
		})},
	}
}

// filter narrows a query to what the signed-in viewer may see.
func filter(ctx context.Context, where func(v *viewer.Viewer)) error {
	v, err := viewer.Require(ctx)
	if err != nil {
		return err
	}
	where(v)
	return privacy.Allow
}

// ownRows narrows a query of rows of the viewer's account (their keys,
// events, identities, organization memberships) to the viewer's. A scoped
// API key cannot read the account (README "Scoped API keys"): for it the
// rows do not exist, by id either.
func ownRows(ctx context.Context, where func(userID int)) error {
	v, err := viewer.Require(ctx)
	if err != nil {
		return err
	}
	if v.Scope != nil {
		where(noUser)
	} else {
		where(v.UserID)
	}
	return privacy.Allow
}

// noUser matches no user: ids are never negative.
const noUser = -1

// oneID is the id of an UpdateOne or DeleteOne. Changes by predicate are
// fleetgate's own (System) or refused.
func oneID(op entgo.Op, id func() (int, bool)) (int, error) {
	if n, ok := id(); ok && op.Is(entgo.OpUpdateOne|entgo.OpDeleteOne) {
		return n, nil
	}
	return 0, privacy.Denyf("%s by predicate is not allowed on behalf of a user", op)
}

// checkOn is Check on the application with the given id.
func checkOn(ctx context.Context, db *ent.Client, appID int, p access.Permission) error {
	app, err := db.Application.Get(ctx, appID)
	if err != nil {
		return notFound(err, ErrNoApplication)
	}
	return Check(ctx, app, p)
}

// leaving reports whether op deletes the viewer's own membership (of user
// memberUserID): every member may leave, but not with a scoped API key,
// which cannot change the account (viewer.RequireAccount).
func leaving(ctx context.Context, op entgo.Op, memberUserID int) bool {
	v, err := viewer.RequireAccount(ctx)
	return err == nil && op.Is(entgo.OpDeleteOne) && memberUserID == v.UserID
}

// Check decides whether the viewer may use permission p on app, by the role
// matrix: no role is NOT_FOUND, a role without p is FORBIDDEN, and so is an
// API key whose scope does not allow p.
func Check(ctx context.Context, app *ent.Application, p access.Permission) error {
	roles, err := ViewerRoles(ctx)
	if err != nil {
		return err
	}
	role := roles.On(app)
	switch {
	case role == "":
		return ErrNoApplication
	case !role.Allows(p):
		return forbidden(role, p)
	case !roles.scope.Allows(p):
		return scopeForbids(roles.scope, p)
	}
	return nil
}

// CheckOrgAdmin decides whether the viewer administers the organization: a
// member who does not is FORBIDDEN; anyone else, NOT_FOUND, unless the
// organization shows through an application shared with them.
func CheckOrgAdmin(ctx context.Context, db *ent.Client, orgID int) error {
	if _, err := viewer.RequireAccount(ctx); err != nil {
		return err
	}
	roles, err := ViewerRoles(ctx)
	if err != nil {
		return err
	}
	switch roles.Org(orgID) {
	case access.OrgAdministrator:
		return nil
	case access.OrgMember:
		return errOrgAdminOnly
	}
	// Not a member: the organization may still be visible through a
	// shared application.
	visible, err := db.Organization.Query().Where(organization.ID(orgID)).Exist(ctx)
	switch {
	case err != nil:
		return err
	case !visible:
		return ErrNoOrganization
	}
	return errOrgAdminOnly
}

func allowIf(err error) error {
	if err != nil {
		return err
	}
	return privacy.Allow
}

// notFound turns ent's not-found into the refusal given; other errors pass.
func notFound(err, refusal error) error {
	if err == nil {
		return nil
	}
	if ent.IsNotFound(err) {
		return refusal
	}
	return err
}
