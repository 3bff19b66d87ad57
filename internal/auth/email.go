package auth

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/emailverification"
	"fleetgate/ent/knownemail"
	"fleetgate/ent/passwordreset"
	"fleetgate/ent/securityevent"
	"fleetgate/ent/user"
	"fleetgate/internal/account"
	"fleetgate/internal/audit"
	"fleetgate/internal/database"
	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
	"fleetgate/internal/ratelimit"
	"fleetgate/internal/viewer"
)

// VerificationLinkLifetime is how long a verification link works.
const VerificationLinkLifetime = 24 * time.Hour

var errBadVerificationToken = fault.Input("token", "this verification link is invalid, used or expired: request a new one")

// newVerification stores a verification link of userID for address, of
// changeEmail (change) or for the account's own address, replacing the
// user's pending links of the same kind, and returns its token.
func (s *Service) newVerification(ctx context.Context, tx *ent.Tx, userID int, address string, change bool) (string, error) {
	sameKind := emailverification.And(emailverification.UserID(userID), emailverification.Change(change))
	if _, err := tx.EmailVerification.Delete().Where(sameKind).Exec(ctx); err != nil {
		return "", err
	}
	tok, err := newLinkSecret()
	if err != nil {
		return "", err
	}
	return tok, tx.EmailVerification.Create().SetUserID(userID).SetEmail(address).SetChange(change).
		SetHash(linkHash(tok)).SetExpiresAt(s.Now().UTC().Add(VerificationLinkLifetime)).Exec(ctx)
}

// verificationLink is the link a verification mail carries.
func (s *Service) verificationLink(tok string) string {
	return s.PublicURL + "/verify-email?token=" + tok
}

// mailVerification mails, in tx, the link that verifies the account's own
// address.
func (s *Service) mailVerification(ctx context.Context, tx *ent.Tx, u *ent.User, tok string) error {
	return s.mail(ctx, tx, u, "Verify your fleetgate email address", fmt.Sprintf(
		"To confirm that this address belongs to the fleetgate account %s, open this link within 24 hours:\n\n%s\n\n"+
			"If you did not sign up for fleetgate, ignore this mail.\n", u.Username, s.verificationLink(tok)))
}

// ResendVerificationEmail mails a new link for the caller's own address.
func (s *Service) ResendVerificationEmail(ctx context.Context) (bool, error) {
	v, err := viewer.RequireSession(ctx, "resendVerificationEmail")
	if err != nil {
		return false, err
	}
	if err := s.Limits.Allow(ctx, verificationAccountKey(v.UserID), s.VerificationMailsPerAccount); err != nil {
		return false, err
	}
	err = database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		// The address as it is now, held until the link is stored: the
		// link goes to the account's address, not one it just left.
		u, err := lockedUser(ctx, tx, v.UserID)
		if err != nil {
			return err
		}
		if u.EmailVerified {
			return fault.New(fault.Conflict, "the address %s is verified already", u.Email)
		}
		tok, err := s.newVerification(ctx, tx, u.ID, u.Email, false)
		if err != nil {
			return err
		}
		return s.mailVerification(ctx, tx, u, tok)
	})
	if err != nil {
		return false, err
	}
	return true, nil
}

func verificationAccountKey(userID int) string { return "verify:user:" + strconv.Itoa(userID) }

// ChangeEmail mails a link to newEmail that makes it the caller's address.
func (s *Service) ChangeEmail(ctx context.Context, newEmail, password string) (bool, error) {
	address, err := account.NormalizeEmail("newEmail", newEmail)
	if err != nil {
		return false, err
	}
	u, err := s.confirmPassword(ctx, "changeEmail", "password", password)
	if err != nil {
		return false, err
	}
	if address == u.Email {
		return false, fault.Input("newEmail", "%s is the account's address already", address)
	}
	if err := s.Limits.Allow(ctx, verificationAccountKey(u.ID), s.VerificationMailsPerAccount); err != nil {
		return false, err
	}
	if err := s.Limits.Allow(ctx, ratelimit.NameKey("verify:email:", address), s.VerificationMailsPerAddress); err != nil {
		return false, err
	}
	sys := policy.System(ctx) // another account's address is checked too
	err = database.WithTx(sys, s.DB, func(tx *ent.Tx) error {
		if err := emailFree(sys, tx, address, "newEmail"); err != nil {
			return err
		}
		tok, err := s.newVerification(sys, tx, u.ID, address, true)
		if err != nil {
			return err
		}
		if err := audit.Record(sys, tx.Client(), u.ID, securityevent.KindEMAIL_CHANGE_REQUESTED, address); err != nil {
			return err
		}
		return s.mailTo(sys, tx, address, "Confirm your new fleetgate email address", fmt.Sprintf(
			"Someone asked to make this the address of the fleetgate account %s.\n\n"+
				"To confirm, open this link within 24 hours:\n\n%s\n\n"+
				"Until then the account keeps its current address. If it was not you, ignore this mail.\n",
			u.Username, s.verificationLink(tok)))
	})
	if err != nil {
		return false, err
	}
	return true, nil
}

// emailFree refuses an address another account has, naming the input
// field that gave it.
func emailFree(ctx context.Context, tx *ent.Tx, address, field string) error {
	taken, err := tx.User.Query().Where(user.Email(address)).Exist(ctx)
	if err == nil && taken {
		err = emailTaken(field)
	}
	return err
}

// emailTaken is the refusal of an address another account has.
func emailTaken(field string) error {
	return fault.Taken(field, "an account with this email address already exists")
}

// VerifyEmail follows a verification link: the account's address becomes
// verified or, for a link of ChangeEmail, the new address becomes the
// account's. Who follows it needs no credential: the token is the proof.
func (s *Service) VerifyEmail(ctx context.Context, token string) (*ent.User, error) {
	sys := policy.System(ctx)
	link, err := s.DB.EmailVerification.Query().Where(emailverification.Hash(linkHash(token)),
		emailverification.ExpiresAtGT(s.Now().UTC())).WithUser().Only(sys)
	if ent.IsNotFound(err) {
		return nil, errBadVerificationToken
	}
	if err != nil {
		return nil, err
	}
	u, old := link.Edges.User, link.Edges.User.Email
	changed := link.Change
	if changed == (link.Email == old) {
		// A link for an address the account has left, or a change made
		// already.
		return nil, errBadVerificationToken
	}
	err = database.WithTx(sys, s.DB, func(tx *ent.Tx) error {
		// Single use: of two requests with one link, one deletes it.
		n, err := tx.EmailVerification.Delete().Where(emailverification.ID(link.ID)).Exec(sys)
		if err == nil && n != 1 {
			err = errBadVerificationToken
		}
		if err != nil {
			return err
		}
		update := tx.User.UpdateOneID(u.ID).Where(user.Email(old)).SetEmailVerified(true)
		if !changed {
			if u, err = update.Save(sys); err != nil {
				return err
			}
			return audit.Record(sys, tx.Client(), u.ID, securityevent.KindEMAIL_VERIFIED, old)
		}
		if err := emailFree(sys, tx, link.Email, "token"); err != nil {
			return err
		}
		if u, err = update.SetEmail(link.Email).Save(sys); err != nil {
			return err
		}
		if err := forgetAddress(sys, tx, u.ID, old, link.Email); err != nil {
			return err
		}
		return s.mailTo(sys, tx, old, "Your fleetgate email address was changed", fmt.Sprintf(
			"The address of the fleetgate account %s was changed from this one to %s.\n\n"+
				"If it was not you, reset the password at once and check the account's security events.\n",
			u.Username, u.Email))
	})
	switch {
	case ent.IsNotFound(err):
		// The address changed since the link was mailed.
		return nil, errBadVerificationToken
	case ent.IsConstraintError(err):
		return nil, emailTaken("token")
	case err != nil:
		return nil, err
	}
	return u, nil
}

// forgetAddress ends what was bound to a user's old address once the
// account has a new one: links mailed to it (verification and password
// reset), and who could see it because they had typed it to add the user as
// a member (they never typed the new one).
func forgetAddress(ctx context.Context, tx *ent.Tx, userID int, old, address string) error {
	if _, err := tx.EmailVerification.Delete().Where(emailverification.UserID(userID)).Exec(ctx); err != nil {
		return err
	}
	if _, err := tx.PasswordReset.Delete().Where(passwordreset.UserID(userID)).Exec(ctx); err != nil {
		return err
	}
	if _, err := tx.KnownEmail.Delete().Where(knownemail.UserID(userID)).Exec(ctx); err != nil {
		return err
	}
	return audit.Record(ctx, tx.Client(), userID, securityevent.KindEMAIL_CHANGED, old+" → "+address)
}
