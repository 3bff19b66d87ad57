package graph

import (
	"context"

	"fleetgate/ent"
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/organizationmembership"
	entsession "fleetgate/ent/session"
	"fleetgate/internal/fault"
	"fleetgate/internal/viewer"
)

var errNoSuchNode = fault.New(fault.NotFound, "no object with this id")

// node resolves a global ID to an object the caller may see. Anything else,
// existing or not, is NOT_FOUND: an id never tells whether it exists. The
// privacy rules (internal/policy) filter every type but User, whose rows
// the API reads on its own behalf (sign-in, adding members by name).
func (d Deps) node(ctx context.Context, id int) (ent.Noder, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	n, err := d.DB.Noder(ctx, id)
	if ent.IsNotFound(err) || ent.IsNotSingular(err) {
		return nil, errNoSuchNode
	}
	if err != nil {
		return nil, err
	}
	// An ended session, not yet swept, is not found either: me.sessions
	// does not list it (README "Sessions").
	if sess, ok := n.(*ent.Session); ok {
		u, err := d.me(ctx)
		if err != nil {
			return nil, err
		}
		live, err := d.auth.LiveSessions(u).Where(entsession.ID(sess.ID)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if !live {
			return nil, errNoSuchNode
		}
	}
	if u, ok := n.(*ent.User); ok && u.ID != v.UserID {
		shared, err := d.sharesWith(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if !shared {
			return nil, errNoSuchNode
		}
	}
	return n, nil
}

// sharesWith reports whether the viewer sees the user as a member of an
// organization or application: the memberships the privacy rules show.
func (d Deps) sharesWith(ctx context.Context, userID int) (bool, error) {
	shared, err := d.DB.ApplicationMembership.Query().Where(applicationmembership.UserID(userID)).Exist(ctx)
	if err != nil || shared {
		return shared, err
	}
	return d.DB.OrganizationMembership.Query().Where(organizationmembership.UserID(userID)).Exist(ctx)
}

// nodes resolves up to a page of ids; an id the caller may not see is null.
func (d Deps) nodes(ctx context.Context, ids []int) ([]ent.Noder, error) {
	if len(ids) > MaxPageSize {
		return nil, fault.Input("ids", "at most %d ids at once", MaxPageSize)
	}
	out := make([]ent.Noder, len(ids))
	for i, id := range ids {
		n, err := d.node(ctx, id)
		if err != nil && err != errNoSuchNode {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}
