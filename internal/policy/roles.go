// Package policy applies SPEC.md §4 to the database: ent privacy rules that
// filter every query of organizations, applications, memberships, API keys
// and security events down to what the signed-in viewer may see, and refuse
// writes the role matrix (internal/access) does not allow. They back up the
// @can directive, so that no path (node, connections, where-filters, edges
// from other types) returns what the viewer has no role on.
//
// A context without a viewer sees and changes nothing, except through
// System, which fleetgate's own bookkeeping uses (authentication, sign-up,
// the admin command).
package policy

import (
	"context"
	"errors"
	"sync"

	"fleetgate/ent"
	"fleetgate/ent/application"
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/organizationmembership"
	"fleetgate/ent/privacy"
	"fleetgate/internal/access"
	"fleetgate/internal/viewer"
)

// System marks ctx as fleetgate acting on its own behalf: every privacy rule
// allows it. Never use it for work a viewer asked for.
func System(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}

// Roles is what the viewer is in each of their organizations and
// applications.
type Roles struct {
	UserID int
	orgs   map[int]access.OrgRole
	apps   map[int]access.Role
}

// Org is the viewer's role in an organization ("" if none).
func (r *Roles) Org(organizationID int) access.OrgRole { return r.orgs[organizationID] }

// On is the viewer's effective role on an application ("" if none).
func (r *Roles) On(app *ent.Application) access.Role {
	return access.Effective(r.orgs[app.OrganizationID], r.apps[app.ID])
}

// administeredOrganizations lists the organizations the viewer administers.
func (r *Roles) administeredOrganizations() []int {
	var ids []int
	for id, role := range r.orgs {
		if role == access.OrgAdministrator {
			ids = append(ids, id)
		}
	}
	return ids
}

// cache holds the viewer's roles for one request, so a list of a hundred
// applications costs the same two queries as one.
type cache struct {
	db    *ent.Client
	mu    sync.Mutex
	roles *Roles
	// emails holds the users whose email addresses the viewer may see,
	// loaded when first asked.
	emails map[int]bool
}

type cacheKey struct{}

// WithRoleCache prepares ctx, a request's context, to load the viewer's
// roles from db once.
func WithRoleCache(ctx context.Context, db *ent.Client) context.Context {
	return context.WithValue(ctx, cacheKey{}, &cache{db: db})
}

var errNoCache = errors.New("policy: context has no role cache (WithRoleCache)")

// ViewerRoles returns the signed-in viewer's roles, loading them on first
// use in the request.
func ViewerRoles(ctx context.Context) (*Roles, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := ctx.Value(cacheKey{}).(*cache)
	if !ok {
		return nil, errNoCache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.load(ctx, v.UserID)
}

// load returns the roles of userID, loading them if needed; c.mu is held.
func (c *cache) load(ctx context.Context, userID int) (*Roles, error) {
	if c.roles != nil && c.roles.UserID == userID {
		return c.roles, nil
	}
	r, err := loadRoles(System(ctx), c.db, userID)
	if err != nil {
		return nil, err
	}
	c.roles, c.emails = r, nil
	return r, nil
}

// SeesEmailOf reports whether the viewer may see the email address of the
// user: their own, and, for administrators of an organization, those of its
// members and of the members of its applications (SPEC.md §4: the
// administrators of an application they share). One query per request.
func SeesEmailOf(ctx context.Context, userID int) (bool, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return false, err
	}
	if v.UserID == userID {
		return true, nil
	}
	c, ok := ctx.Value(cacheKey{}).(*cache)
	if !ok {
		return false, errNoCache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, err := c.load(ctx, v.UserID)
	if err != nil {
		return false, err
	}
	if c.emails == nil {
		if c.emails, err = administeredUsers(System(ctx), c.db, r.administeredOrganizations()); err != nil {
			return false, err
		}
	}
	return c.emails[userID], nil
}

func administeredUsers(ctx context.Context, db *ent.Client, orgIDs []int) (map[int]bool, error) {
	users := map[int]bool{}
	if len(orgIDs) == 0 {
		return users, nil
	}
	inOrgs, err := db.OrganizationMembership.Query().
		Where(organizationmembership.OrganizationIDIn(orgIDs...)).
		Select(organizationmembership.FieldUserID).Ints(ctx)
	if err != nil {
		return nil, err
	}
	inApps, err := db.ApplicationMembership.Query().
		Where(applicationmembership.HasApplicationWith(application.OrganizationIDIn(orgIDs...))).
		Select(applicationmembership.FieldUserID).Ints(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range append(inOrgs, inApps...) {
		users[id] = true
	}
	return users, nil
}

// Forget drops the request's cached roles after a change of memberships, so
// the rest of the request sees the change.
func Forget(ctx context.Context) {
	if c, ok := ctx.Value(cacheKey{}).(*cache); ok {
		c.mu.Lock()
		c.roles, c.emails = nil, nil
		c.mu.Unlock()
	}
}

func loadRoles(ctx context.Context, db *ent.Client, userID int) (*Roles, error) {
	r := &Roles{UserID: userID, orgs: map[int]access.OrgRole{}, apps: map[int]access.Role{}}
	orgs, err := db.OrganizationMembership.Query().
		Where(organizationmembership.UserID(userID)).
		Select(organizationmembership.FieldOrganizationID, organizationmembership.FieldRole).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range orgs {
		r.orgs[m.OrganizationID] = m.Role
	}
	apps, err := db.ApplicationMembership.Query().
		Where(applicationmembership.UserID(userID)).
		Select(applicationmembership.FieldApplicationID, applicationmembership.FieldRole).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range apps {
		r.apps[m.ApplicationID] = m.Role
	}
	return r, nil
}
