// Package policy applies README "Organizations, applications and members" to the database: ent privacy rules that
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
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/knownemail"
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
	// scope narrows the roles of a scoped API key (README "Scoped API keys").
	scope *access.Scope
	orgs  map[int]access.OrgRole
	apps  map[int]access.Role
}

// Org is the viewer's role in an organization ("" if none).
func (r *Roles) Org(organizationID int) access.OrgRole { return r.orgs[organizationID] }

// On is the viewer's effective role on an application: "" if none, or if
// the viewer's API key is scoped to other applications.
func (r *Roles) On(app *ent.Application) access.Role {
	if !r.scope.Covers(app.ID) {
		return ""
	}
	return access.Effective(r.orgs[app.OrganizationID], r.apps[app.ID])
}

// Permissions is what the viewer may do on an application: what their role
// grants, narrowed by their API key's scope.
func (r *Roles) Permissions(app *ent.Application) []access.Permission {
	return r.scope.Ceiling(r.On(app))
}

// cache holds the viewer's roles for one request, so a list of a hundred
// applications costs the same two queries as one.
type cache struct {
	db    *ent.Client
	mu    sync.Mutex
	roles *Roles
	// known holds the users whose email addresses knownBy, the viewer,
	// knows: loaded when first asked.
	known   map[int]bool
	knownBy int
	// visible are the application queries filtered for a viewer in this
	// request (membersOfVisible).
	visible []visibleApplications
}

type visibleApplications struct {
	q *ent.ApplicationQuery
	v *viewer.Viewer
}

// rememberVisible records that q, an application query, was narrowed to
// what v may see (README "Performance").
func rememberVisible(ctx context.Context, v *viewer.Viewer, q *ent.ApplicationQuery) {
	c, ok := ctx.Value(cacheKey{}).(*cache)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.visible = append(c.visible, visibleApplications{q, v})
}

// membersOfVisible reports whether q is the eager load of the members of
// applications a query remembered by rememberVisible returned, for the
// same viewer: those are visible with their applications, and applying the
// visibility predicate again to each would only cost the database (README
// "Performance").
func membersOfVisible(ctx context.Context, q *ent.ApplicationMembershipQuery) bool {
	c, ok := ctx.Value(cacheKey{}).(*cache)
	if !ok {
		return false
	}
	v, err := viewer.Require(ctx)
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.visible {
		if a.v == v && a.q.LoadsMembersWith(q) {
			return true
		}
	}
	return false
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
	return c.load(ctx, v)
}

// load returns the roles of v, loading them if needed; c.mu is held.
func (c *cache) load(ctx context.Context, v *viewer.Viewer) (*Roles, error) {
	if c.roles != nil && c.roles.UserID == v.UserID && c.roles.scope == v.Scope {
		return c.roles, nil
	}
	r, err := loadRoles(System(ctx), c.db, v.UserID)
	if err != nil {
		return nil, err
	}
	r.scope = v.Scope
	c.roles = r
	return r, nil
}

// SeesEmailOf reports whether the viewer may see the email address of the
// user: their own, and those they already know, having added that user as
// a member by that address (ent.KnownEmail; README "Privacy between
// users"). Adding by username
// reveals nothing, and administering an organization alone shows no
// address; a scoped API key knows none. One query per request.
func SeesEmailOf(ctx context.Context, userID int) (bool, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return false, err
	}
	if v.UserID == userID {
		return true, nil
	}
	if v.Scope != nil {
		return false, nil // what the account knows is the account's
	}
	c, ok := ctx.Value(cacheKey{}).(*cache)
	if !ok {
		return false, errNoCache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known == nil || c.knownBy != v.UserID {
		users, err := c.db.KnownEmail.Query().Where(knownemail.KnownByID(v.UserID)).
			Select(knownemail.FieldUserID).Ints(System(ctx))
		if err != nil {
			return false, err
		}
		c.known, c.knownBy = map[int]bool{}, v.UserID
		for _, id := range users {
			c.known[id] = true
		}
	}
	return c.known[userID], nil
}

// Forget drops the request's cached roles and known addresses after a
// change of memberships, so the rest of the request sees the change.
func Forget(ctx context.Context) {
	if c, ok := ctx.Value(cacheKey{}).(*cache); ok {
		c.mu.Lock()
		c.roles, c.known = nil, nil
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
