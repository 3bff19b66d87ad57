package graph

import (
	"context"
	"strings"

	"entgo.io/contrib/entgql"

	"fleetgate/ent"
	"fleetgate/ent/application"
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/organization"
	"fleetgate/ent/organizationmembership"
	"fleetgate/graph/model"
	"fleetgate/internal/access"
	"fleetgate/internal/database"
	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
	"fleetgate/internal/text"
	"fleetgate/internal/viewer"
)

// maxAppName bounds an application's name (and the slug's second part).
const maxAppName = 64

func (d Deps) createApplication(ctx context.Context, in model.CreateApplicationInput) (*ent.Application, error) {
	if err := policy.CheckOrgAdmin(ctx, d.DB, in.OrganizationID); err != nil {
		return nil, err
	}
	name, err := text.Line.Clean("name", in.Name, 1, maxAppName)
	if err != nil {
		return nil, err
	}
	part := slugPart(name)
	if part == "" {
		return nil, fault.Input("name", "name must contain a letter or digit")
	}
	org, err := d.DB.Organization.Get(ctx, in.OrganizationID)
	if err != nil {
		return nil, err
	}
	slug := org.Handle + "/" + part
	// The unique slug decides: another application with it is a conflict.
	app, err := d.DB.Application.Create().SetName(name).SetSlug(slug).SetType(in.Type).SetOrganization(org).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, fault.Taken("name", "%s already has an application %q", org.Handle, slug)
	}
	return app, err
}

// slugPart is the application part of a slug: the name lowercased, with
// every run of characters other than a-z and 0-9 turned into one '-'.
func slugPart(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

func (d Deps) applications(ctx context.Context, after *entgql.Cursor[int], first *int, before *entgql.Cursor[int], last *int, orderBy *ent.ApplicationOrder, where *ent.ApplicationWhereInput) (*ent.ApplicationConnection, error) {
	if _, err := viewer.Require(ctx); err != nil {
		return nil, err
	}
	// The privacy rules narrow the query to applications the viewer has a
	// role on; where only narrows it further.
	return d.DB.Application.Query().Paginate(ctx, after, first, before, last,
		ent.WithApplicationOrder(orderBy), ent.WithApplicationFilter(where.Filter))
}

func (d Deps) application(ctx context.Context, slug string) (*ent.Application, error) {
	app, err := d.DB.Application.Query().Where(application.Slug(strings.ToLower(slug))).Only(ctx)
	return app, notFound(err, policy.ErrNoApplication)
}

func (d Deps) deleteApplication(ctx context.Context, id int) (int, error) {
	err := database.WithTx(ctx, d.DB, func(tx *ent.Tx) error {
		app, err := tx.Application.Get(ctx, id)
		if err != nil {
			return err
		}
		members, err := app.QueryMembers().Select(applicationmembership.FieldUserID).Ints(ctx)
		if err != nil {
			return err
		}
		if err := d.membershipEvents(ctx, tx, members, "application "+app.Slug+" deleted"); err != nil {
			return err
		}
		// Memberships, devices and everything of the fleet go with it:
		// ON DELETE CASCADE, in this one statement.
		return tx.Application.DeleteOne(app).Exec(ctx)
	})
	policy.Forget(ctx)
	return id, err
}

func (d Deps) addApplicationMember(ctx context.Context, in model.AddApplicationMemberInput) (*ent.ApplicationMembership, error) {
	app, err := d.assignableRole(ctx, in.ApplicationID, in.Role)
	if err != nil {
		return nil, err
	}
	u, err := d.signedUpUser(ctx, in.UsernameOrEmail)
	if err != nil {
		return nil, err
	}
	administers, err := u.QueryOrganizationMemberships().Where(
		organizationmembership.OrganizationID(app.OrganizationID),
		organizationmembership.RoleEQ(access.OrgAdministrator)).Exist(policy.System(ctx))
	if err != nil {
		return nil, err
	}
	if administers {
		return nil, fault.Taken("usernameOrEmail", "%s already administers %s through its organization", u.Username, app.Slug)
	}
	var m *ent.ApplicationMembership
	err = database.WithTx(ctx, d.DB, func(tx *ent.Tx) error {
		m, err = tx.ApplicationMembership.Create().SetApplication(app).SetUser(u).SetRole(in.Role).Save(ctx)
		if err != nil {
			return err
		}
		if err := knowEmail(ctx, tx, u, in.UsernameOrEmail); err != nil {
			return err
		}
		return d.membershipEvent(ctx, tx, u.ID, "added to application %s as %s", app.Slug, in.Role)
	})
	if ent.IsConstraintError(err) {
		return nil, fault.Taken("usernameOrEmail", "%s is already a member of %s", strings.TrimSpace(in.UsernameOrEmail), app.Slug)
	}
	policy.Forget(ctx)
	if err != nil {
		return nil, err
	}
	return m.Unwrap(), nil // detached from the finished transaction
}

func (d Deps) updateApplicationMember(ctx context.Context, in model.UpdateApplicationMemberInput) (*ent.ApplicationMembership, error) {
	m, err := d.applicationMembership(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	app, err := d.assignableRole(ctx, m.ApplicationID, in.Role)
	if err != nil {
		return nil, err
	}
	err = database.WithTx(ctx, d.DB, func(tx *ent.Tx) error {
		if m, err = tx.ApplicationMembership.UpdateOneID(m.ID).SetRole(in.Role).Save(ctx); err != nil {
			return err
		}
		return d.membershipEvent(ctx, tx, m.UserID, "role on application %s changed to %s", app.Slug, in.Role)
	})
	policy.Forget(ctx)
	if err != nil {
		return nil, err
	}
	return m.Unwrap(), nil // detached from the finished transaction
}

// assignableRole loads the application and applies the plan rules to role.
func (d Deps) assignableRole(ctx context.Context, appID int, role access.Role) (*ent.Application, error) {
	app, err := d.DB.Application.Query().Where(application.ID(appID)).WithOrganization().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, policy.ErrNoApplication
	}
	if err != nil {
		return nil, err
	}
	paid := app.Edges.Organization.Plan == organization.PlanPAID
	if err := access.Assignable(role, paid, app.Type == application.TypeSTARTER); err != nil {
		return nil, fault.Input("role", "%v", err)
	}
	return app, nil
}

func (d Deps) removeApplicationMember(ctx context.Context, id int) (int, error) {
	m, err := d.applicationMembership(ctx, id)
	if err != nil {
		return 0, err
	}
	return id, d.endApplicationMembership(ctx, m)
}

func (d Deps) leaveApplication(ctx context.Context, appID int) (int, error) {
	v, err := viewer.RequireAccount(ctx)
	if err != nil {
		return 0, err
	}
	m, err := d.DB.ApplicationMembership.Query().Where(
		applicationmembership.ApplicationID(appID), applicationmembership.UserID(v.UserID)).Only(ctx)
	if ent.IsNotFound(err) {
		// Visible without a membership: through administering the organization.
		if visible, err := d.DB.Application.Query().Where(application.ID(appID)).Exist(ctx); err != nil || !visible {
			return 0, notFoundOr(err, policy.ErrNoApplication)
		}
		return 0, fault.Input("applicationId", "you administer this application through its organization: leave the organization instead")
	}
	if err != nil {
		return 0, err
	}
	return appID, d.endApplicationMembership(ctx, m)
}

// endApplicationMembership deletes m (removal by an administrator, or the
// member leaving) and records it on the member's account.
func (d Deps) endApplicationMembership(ctx context.Context, m *ent.ApplicationMembership) error {
	err := database.WithTx(ctx, d.DB, func(tx *ent.Tx) error {
		app, err := tx.Application.Query().Where(application.ID(m.ApplicationID)).Only(policy.System(ctx))
		if err != nil {
			return err
		}
		if err := tx.ApplicationMembership.DeleteOneID(m.ID).Exec(ctx); err != nil {
			return err
		}
		if v, _ := viewer.Require(ctx); v != nil && v.UserID == m.UserID {
			return d.membershipEvent(ctx, tx, m.UserID, "left application %s", app.Slug)
		}
		return d.membershipEvent(ctx, tx, m.UserID, "removed from application %s", app.Slug)
	})
	policy.Forget(ctx)
	return err
}

func (d Deps) applicationMembership(ctx context.Context, id int) (*ent.ApplicationMembership, error) {
	m, err := d.DB.ApplicationMembership.Get(ctx, id)
	return m, notFound(err, policy.ErrNoMembership)
}

// myRole is the viewer's effective role on app.
func myRole(ctx context.Context, app *ent.Application) (access.Role, error) {
	roles, err := policy.ViewerRoles(ctx)
	if err != nil {
		return "", err
	}
	role := roles.On(app)
	if role == "" {
		// Only reachable if the row was loaded past the privacy rules.
		return "", policy.ErrNoApplication
	}
	return role, nil
}

// myPermissions is what the viewer may do on app: their role's
// permissions, narrowed by their API key's scope (README "Scoped API keys").
func myPermissions(ctx context.Context, app *ent.Application) ([]access.Permission, error) {
	if _, err := myRole(ctx, app); err != nil {
		return nil, err
	}
	roles, err := policy.ViewerRoles(ctx)
	if err != nil {
		return nil, err
	}
	return roles.Permissions(app), nil
}

func isShared(ctx context.Context, app *ent.Application) (bool, error) {
	roles, err := policy.ViewerRoles(ctx)
	if err != nil {
		return false, err
	}
	return roles.Org(app.OrganizationID) != access.OrgAdministrator, nil
}

// myOrganizationRole is Organization.myRole: the account's, which a scoped
// key may not read (README "Scoped API keys").
func myOrganizationRole(ctx context.Context, org *ent.Organization) (*access.OrgRole, error) {
	if _, err := viewer.RequireAccount(ctx); err != nil {
		return nil, err
	}
	roles, err := policy.ViewerRoles(ctx)
	if err != nil {
		return nil, err
	}
	if role := roles.Org(org.ID); role != "" {
		return &role, nil
	}
	return nil, nil
}

// notFoundOr is err, or refusal when there was no error.
func notFoundOr(err, refusal error) error {
	if err != nil {
		return err
	}
	return refusal
}
