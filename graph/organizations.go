package graph

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"fleetgate/ent"
	"fleetgate/ent/knownemail"
	"fleetgate/ent/organization"
	"fleetgate/ent/organizationmembership"
	"fleetgate/ent/securityevent"
	"fleetgate/graph/model"
	"fleetgate/internal/access"
	"fleetgate/internal/account"
	"fleetgate/internal/audit"
	"fleetgate/internal/auth"
	"fleetgate/internal/database"
	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
	"fleetgate/internal/text"
	"fleetgate/internal/viewer"
)

var errLastAdministrator = fault.New(fault.Conflict,
	"this is the organization's last administrator: make another member an administrator first")

func (d Deps) createOrganization(ctx context.Context, in model.CreateOrganizationInput) (*ent.Organization, error) {
	v, err := viewer.RequireAccount(ctx)
	if err != nil {
		return nil, err
	}
	name, err := text.Line.Clean("name", in.Name, 1, 100)
	if err != nil {
		return nil, err
	}
	handle, err := account.NormalizeUsername("handle", in.Handle)
	if err != nil {
		return nil, err
	}
	var org *ent.Organization
	err = database.WithTx(ctx, d.DB, func(tx *ent.Tx) error {
		taken, err := auth.NameTaken(policy.System(ctx), tx, handle)
		if err != nil {
			return err
		}
		if taken {
			return fault.Taken("handle", "the handle %q is already taken", handle)
		}
		if org, err = tx.Organization.Create().SetName(name).SetHandle(handle).Save(ctx); err != nil {
			return err
		}
		// The creator is not an administrator until this row exists: the
		// one write the privacy rules could not allow on their own.
		err = tx.OrganizationMembership.Create().SetOrganization(org).SetUserID(v.UserID).
			SetRole(access.OrgAdministrator).Exec(policy.System(ctx))
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), v.UserID, securityevent.KindMEMBERSHIP_CHANGED,
			fmt.Sprintf("created organization %s (ADMINISTRATOR)", handle))
	})
	if ent.IsConstraintError(err) {
		return nil, fault.Taken("handle", "the handle %q is already taken", handle)
	}
	policy.Forget(ctx)
	if err != nil {
		return nil, err
	}
	return org.Unwrap(), nil // detached from the finished transaction
}

func (d Deps) organization(ctx context.Context, handle string) (*ent.Organization, error) {
	if _, err := viewer.RequireAccount(ctx); err != nil {
		return nil, err
	}
	org, err := d.DB.Organization.Query().Where(organization.Handle(strings.ToLower(handle))).Only(ctx)
	return org, notFound(err, policy.ErrNoOrganization)
}

func (d Deps) addOrganizationMember(ctx context.Context, in model.AddOrganizationMemberInput) (*ent.OrganizationMembership, error) {
	if err := policy.CheckOrgAdmin(ctx, d.DB, in.OrganizationID); err != nil {
		return nil, err
	}
	org, err := d.DB.Organization.Get(ctx, in.OrganizationID)
	if err != nil {
		return nil, err
	}
	u, err := d.signedUpUser(ctx, in.UsernameOrEmail)
	if err != nil {
		return nil, err
	}
	var m *ent.OrganizationMembership
	err = database.WithTx(ctx, d.DB, func(tx *ent.Tx) error {
		m, err = tx.OrganizationMembership.Create().SetOrganization(org).SetUser(u).SetRole(in.Role).Save(ctx)
		if err != nil {
			return err
		}
		if err := knowEmail(ctx, tx, u, in.UsernameOrEmail); err != nil {
			return err
		}
		return d.membershipEvent(ctx, tx, u.ID, "added to organization %s as %s", org.Handle, in.Role)
	})
	if ent.IsConstraintError(err) {
		return nil, fault.Taken("usernameOrEmail", "%s is already a member of %s", strings.TrimSpace(in.UsernameOrEmail), org.Handle)
	}
	policy.Forget(ctx)
	if err != nil {
		return nil, err
	}
	return m.Unwrap(), nil // detached from the finished transaction
}

func (d Deps) updateOrganizationMember(ctx context.Context, in model.UpdateOrganizationMemberInput) (*ent.OrganizationMembership, error) {
	m, err := d.organizationMembership(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if err := policy.CheckOrgAdmin(ctx, d.DB, m.OrganizationID); err != nil {
		return nil, err
	}
	err = database.WithTx(ctx, d.DB, func(tx *ent.Tx) error {
		org, err := keepAnAdministrator(ctx, tx, m, in.Role)
		if err != nil {
			return err
		}
		if m, err = tx.OrganizationMembership.UpdateOneID(m.ID).SetRole(in.Role).Save(ctx); err != nil {
			return err
		}
		return d.membershipEvent(ctx, tx, m.UserID, "role in organization %s changed to %s", org.Handle, in.Role)
	})
	policy.Forget(ctx)
	if err != nil {
		return nil, err
	}
	return m.Unwrap(), nil // detached from the finished transaction
}

func (d Deps) removeOrganizationMember(ctx context.Context, id int) (int, error) {
	v, err := viewer.RequireAccount(ctx)
	if err != nil {
		return 0, err
	}
	m, err := d.organizationMembership(ctx, id)
	if err != nil {
		return 0, err
	}
	leaving := m.UserID == v.UserID
	if !leaving {
		if err := policy.CheckOrgAdmin(ctx, d.DB, m.OrganizationID); err != nil {
			return 0, err
		}
	}
	err = database.WithTx(ctx, d.DB, func(tx *ent.Tx) error {
		org, err := keepAnAdministrator(ctx, tx, m, "")
		if err != nil {
			return err
		}
		if err := tx.OrganizationMembership.DeleteOneID(m.ID).Exec(ctx); err != nil {
			return err
		}
		if leaving {
			return d.membershipEvent(ctx, tx, m.UserID, "left organization %s", org.Handle)
		}
		return d.membershipEvent(ctx, tx, m.UserID, "removed from organization %s", org.Handle)
	})
	policy.Forget(ctx)
	return id, err
}

// organizationMembership loads a membership to change: the account's
// business, which a scoped API key cannot touch (viewer.RequireAccount).
func (d Deps) organizationMembership(ctx context.Context, id int) (*ent.OrganizationMembership, error) {
	if _, err := viewer.RequireAccount(ctx); err != nil {
		return nil, err
	}
	m, err := d.DB.OrganizationMembership.Get(ctx, id)
	return m, notFound(err, policy.ErrNoMembership)
}

// keepAnAdministrator refuses to change membership m to role ("" for
// removal) if that would leave its organization without an administrator.
// The organization's row stays locked until the transaction ends, so two
// administrators demoting each other at once cannot both succeed.
func keepAnAdministrator(ctx context.Context, tx *ent.Tx, m *ent.OrganizationMembership, role access.OrgRole) (*ent.Organization, error) {
	org, err := tx.Organization.Query().Where(organization.ID(m.OrganizationID)).Modify(database.LockRow).Only(ctx)
	if err != nil {
		return nil, err
	}
	current, err := tx.OrganizationMembership.Get(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	if current.Role != access.OrgAdministrator || role == access.OrgAdministrator {
		return org, nil
	}
	others, err := tx.OrganizationMembership.Query().Where(
		organizationmembership.OrganizationID(org.ID),
		organizationmembership.RoleEQ(access.OrgAdministrator),
		organizationmembership.IDNEQ(m.ID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !others {
		return nil, errLastAdministrator
	}
	return org, nil
}

// signedUpUser finds the account a member is added by, once the lookup has
// counted against the caller's AbuseLimits.MemberLookups (README "Abuse
// limits").
func (d Deps) signedUpUser(ctx context.Context, usernameOrEmail string) (*ent.User, error) {
	if err := auth.CheckLoginName(usernameOrEmail); err != nil {
		return nil, err
	}
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.limits.Allow(ctx, "members:user:"+strconv.Itoa(v.UserID), d.auth.MemberLookups); err != nil {
		return nil, err
	}
	u, err := d.auth.FindMember(ctx, usernameOrEmail)
	if err == nil && u == nil {
		err = fault.New(fault.NotFound, "no account has that username or verified email address: they must sign up (and verify their address) first")
	}
	return u, err
}

// knowEmail records, in the transaction that adds u as a member, that the
// caller typed u's email address (rather than the username) and so knows
// it: from now on they see it (policy.SeesEmailOf).
func knowEmail(ctx context.Context, tx *ent.Tx, u *ent.User, usernameOrEmail string) error {
	if auth.TypedName(usernameOrEmail) != u.Email {
		return nil
	}
	v, err := viewer.Require(ctx)
	if err != nil {
		return err
	}
	return tx.KnownEmail.Create().SetUserID(u.ID).SetKnownByID(v.UserID).
		OnConflictColumns(knownemail.FieldKnownByID, knownemail.FieldUserID).Ignore().Exec(ctx)
}

// membershipEvent records a change of the user's memberships on their
// account, naming who made it.
func (d Deps) membershipEvent(ctx context.Context, tx *ent.Tx, userID int, format string, args ...any) error {
	return d.membershipEvents(ctx, tx, []int{userID}, fmt.Sprintf(format, args...))
}

// membershipEvents records one change on the accounts of several users,
// naming who made it (read once) where it was not the user themself.
func (d Deps) membershipEvents(ctx context.Context, tx *ent.Tx, userIDs []int, detail string) error {
	if len(userIDs) == 0 {
		return nil
	}
	actor := ""
	v, err := viewer.Require(ctx)
	if err == nil && slices.ContainsFunc(userIDs, func(id int) bool { return id != v.UserID }) {
		u, err := tx.User.Get(ctx, v.UserID)
		if err != nil {
			return err
		}
		actor = u.Username
	}
	events := make([]*ent.SecurityEventCreate, len(userIDs))
	for i, id := range userIDs {
		text := detail
		if actor != "" && id != v.UserID {
			text += " by " + actor
		}
		events[i] = tx.SecurityEvent.Create().SetUserID(id).SetKind(securityevent.KindMEMBERSHIP_CHANGED).SetDetail(text)
	}
	return tx.SecurityEvent.CreateBulk(events...).Exec(ctx)
}
