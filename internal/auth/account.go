package auth

import (
	"context"

	"fleetgate/ent"
	"fleetgate/ent/organization"
	"fleetgate/ent/organizationmembership"
	"fleetgate/ent/outboxmail"
	"fleetgate/internal/access"
	"fleetgate/internal/database"
	"fleetgate/internal/policy"
)

// DeleteAccount deletes the caller's account, given its password, with the
// organizations it alone administers.
func (s *Service) DeleteAccount(ctx context.Context, password string) (bool, error) {
	u, err := s.confirmPassword(ctx, "deleteAccount", "password", password)
	if err != nil {
		return false, err
	}
	// The account's own decision, checked by its password: what it deletes
	// is past the privacy rules (organizations it alone administers).
	sys := policy.System(ctx)
	err = database.WithTx(sys, s.DB, func(tx *ent.Tx) error {
		// Lock the organizations the user administers first, as every
		// change of administrators does (keepAnAdministrator): two
		// co-administrators leaving at once cannot both leave it to the
		// other.
		administered, err := tx.Organization.Query().Where(organization.HasMembersWith(
			organizationmembership.UserID(u.ID), organizationmembership.RoleEQ(access.OrgAdministrator),
		)).Modify(database.LockRow).IDs(sys)
		if err != nil {
			return err
		}
		alone, err := tx.Organization.Query().Where(organization.IDIn(administered...),
			organization.Not(organization.HasMembersWith(organizationmembership.UserIDNEQ(u.ID), organizationmembership.RoleEQ(access.OrgAdministrator))),
		).IDs(sys)
		if err != nil {
			return err
		}
		// Applications, devices and everything under them go with each
		// organization (ON DELETE CASCADE), memberships, keys, codes,
		// events and reset links with the user.
		if _, err := tx.Organization.Delete().Where(organization.IDIn(alone...)).Exec(sys); err != nil {
			return err
		}
		// Mail to the account's address, sent or not, goes too: it holds
		// the address and what was said to it (reset links among it).
		if _, err := tx.OutboxMail.Delete().Where(outboxmail.Recipient(u.Email)).Exec(sys); err != nil {
			return err
		}
		return tx.User.DeleteOneID(u.ID).Exec(sys)
	})
	return err == nil, err
}
