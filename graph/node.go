package graph

import (
	"context"

	"fleetgate/ent"
	"fleetgate/ent/organizationmembership"
	"fleetgate/internal/fault"
	"fleetgate/internal/viewer"
)

var errNoSuchNode = fault.New(fault.NotFound, "no object with this id")

// node resolves a global ID to an object the caller may see. Anything else,
// existing or not, is NOT_FOUND: an id never tells whether it exists.
func (d Deps) node(ctx context.Context, id int) (ent.Noder, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	n, err := d.DB.Noder(ctx, id)
	if err != nil {
		if ent.IsNotFound(err) || ent.IsNotSingular(err) {
			return nil, errNoSuchNode
		}
		return nil, err
	}
	visible := false
	switch n := n.(type) {
	case *ent.User:
		visible = n.ID == v.UserID
	case *ent.ApiKey:
		visible = n.UserID == v.UserID
	case *ent.Organization:
		visible, err = d.DB.OrganizationMembership.Query().Where(
			organizationmembership.OrganizationID(n.ID), organizationmembership.UserID(v.UserID)).Exist(ctx)
	}
	if err != nil {
		return nil, err
	}
	if !visible {
		return nil, errNoSuchNode
	}
	return n, nil
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
