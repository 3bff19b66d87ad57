package graph

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/organization"
	"fleetgate/ent/organizationmembership"
	"fleetgate/ent/passwordreset"
	"fleetgate/ent/securityevent"
	"fleetgate/ent/user"
	"fleetgate/graph/model"
	"fleetgate/internal/access"
	"fleetgate/internal/account"
	"fleetgate/internal/clientip"
	"fleetgate/internal/fault"
	"fleetgate/internal/mail"
	"fleetgate/internal/password"
	"fleetgate/internal/policy"
	"fleetgate/internal/ratelimit"
	"fleetgate/internal/viewer"
)

// ResetLinkLifetime is how long a password-reset link works.
const ResetLinkLifetime = time.Hour

// Reset mails: per address (what a victim's inbox receives) and per client
// address (what one sender can trigger).
var (
	resetMailsPerAddress = ratelimit.Rate{Limit: 3, Window: time.Hour}
	resetMailsPerIP      = ratelimit.Rate{Limit: 20, Window: time.Hour}
)

var errBadResetToken = fault.Input("token", "this reset link is invalid, used or expired: request a new one")

func (d Deps) requestPasswordReset(ctx context.Context, address string) (bool, error) {
	email, err := account.NormalizeEmail("email", address)
	if err != nil {
		return false, err
	}
	if err := d.limits.Allow(ctx, "reset:ip:"+clientip.Key(clientip.FromContext(ctx)), resetMailsPerIP); err != nil {
		return false, err
	}
	if err := d.limits.Allow(ctx, ratelimit.NameKey("reset:email:", email), resetMailsPerAddress); err != nil {
		return false, err
	}
	// Known or not, the same work: one lookup and one transaction (which
	// for an unknown address deletes nothing and inserts nothing); the mail
	// goes out off the request path.
	sys := policy.System(ctx)
	u, err := d.DB.User.Query().Where(user.Email(email)).Only(sys)
	if err != nil && !ent.IsNotFound(err) {
		return false, err
	}
	userID := -1
	if u != nil {
		userID = u.ID
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return false, err
	}
	tok := base64.RawURLEncoding.EncodeToString(raw)
	err = withTx(sys, d.DB, func(tx *ent.Tx) error {
		// A new link replaces the older ones.
		if _, err := tx.PasswordReset.Delete().Where(passwordreset.UserID(userID)).Exec(sys); err != nil || u == nil {
			return err
		}
		return tx.PasswordReset.Create().SetUserID(u.ID).SetHash(resetHash(tok)).
			SetExpiresAt(d.Now().UTC().Add(ResetLinkLifetime)).Exec(sys)
	})
	if err != nil {
		return false, err
	}
	if u != nil {
		d.mail(u, "Reset your fleetgate password", fmt.Sprintf(
			"Someone asked to reset the password of the fleetgate account %s.\n\n"+
				"To choose a new password, open this link within an hour:\n\n%s/password-reset?token=%s\n\n"+
				"If it was not you, ignore this mail: your password stays as it is.\n", u.Username, d.PublicURL, tok))
	}
	return true, nil
}

func resetHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func (d Deps) resetPassword(ctx context.Context, in model.ResetPasswordInput) (bool, error) {
	sys := policy.System(ctx)
	reset, err := d.DB.PasswordReset.Query().Where(passwordreset.Hash(resetHash(in.Token)),
		passwordreset.ExpiresAtGT(d.Now().UTC())).WithUser().Only(sys)
	if ent.IsNotFound(err) {
		return false, errBadResetToken
	}
	if err != nil {
		return false, err
	}
	u := reset.Edges.User
	hash, err := d.newPasswordHash(ctx, in.NewPassword, u)
	if err != nil {
		return false, err
	}
	_, err = d.storePassword(sys, u.ID, hash, securityevent.KindPASSWORD_RESET, func(tx *ent.Tx) error {
		// Single use: of two requests with one link, one deletes it.
		n, err := tx.PasswordReset.Delete().Where(passwordreset.ID(reset.ID)).Exec(sys)
		if err == nil && n != 1 {
			err = errBadResetToken
		}
		return err
	})
	if err != nil {
		return false, err
	}
	d.mail(u, "Your fleetgate password was reset", fmt.Sprintf(
		"The password of the fleetgate account %s was reset, and every session signed out.\n\n"+
			"If it was not you, reset it again at once and check the account's security events.\n", u.Username))
	return true, nil
}

// newPasswordHash checks a new password against u's rules and hashes it.
func (d Deps) newPasswordHash(ctx context.Context, plain string, u *ent.User) (string, error) {
	if err := password.Validate("newPassword", plain, u.Username, u.Email); err != nil {
		return "", err
	}
	return d.Passwords.Hash(ctx, plain)
}

// storePassword stores a new password hash for the user, in one
// transaction with first (nil for nothing): every session and every reset
// link of the user ends; two-factor authentication stays. Then the login
// limits of the user's names are lifted: whoever locked them out with wrong
// guesses, the owner with the new password may sign in (after the
// transaction: the limiter writes on a connection of its own). It returns
// the updated user.
func (d Deps) storePassword(ctx context.Context, userID int, hash string, kind securityevent.Kind, first func(tx *ent.Tx) error) (*ent.User, error) {
	var u *ent.User
	err := withTx(ctx, d.DB, func(tx *ent.Tx) error {
		if first != nil {
			if err := first(tx); err != nil {
				return err
			}
		}
		if err := tx.User.UpdateOneID(userID).SetPasswordHash(hash).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.PasswordReset.Delete().Where(passwordreset.UserID(userID)).Exec(ctx); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx.Client(), userID, kind, ""); err != nil {
			return err
		}
		var err error
		u, err = d.advanceSessions(ctx, tx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	u = u.Unwrap()
	for _, name := range []string{u.Username, u.Email} {
		if err := d.limits.Reset(ctx, loginNameKey(name)); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (d Deps) changePassword(ctx context.Context, in model.ChangePasswordInput) (*model.AuthPayload, error) {
	issued := d.Now() // before reading the account: see issueSession
	u, err := d.confirmPassword(ctx, "changePassword", "currentPassword", in.CurrentPassword)
	if err != nil {
		return nil, err
	}
	if in.NewPassword == in.CurrentPassword {
		return nil, fault.Input("newPassword", "the new password is the current one")
	}
	hash, err := d.newPasswordHash(ctx, in.NewPassword, u)
	if err != nil {
		return nil, err
	}
	if u, err = d.storePassword(ctx, u.ID, hash, securityevent.KindPASSWORD_CHANGED, nil); err != nil {
		return nil, err
	}
	d.mail(u, "Your fleetgate password was changed", fmt.Sprintf(
		"The password of the fleetgate account %s was changed, and every other session signed out.\n\n"+
			"If it was not you, reset your password at once (%s/password-reset).\n", u.Username, d.PublicURL))
	return d.issueSession(u, issued, d.Now(), false)
}

func (d Deps) setPassword(ctx context.Context, in model.SetPasswordInput) (*ent.User, error) {
	v, err := viewer.RequireRecentSession(ctx, "setPassword", d.Now())
	if err != nil {
		return nil, err
	}
	u, err := d.DB.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	if u.PasswordHash != "" {
		return nil, fault.Input("newPassword", "the account has a password: use changePassword")
	}
	hash, err := d.newPasswordHash(ctx, in.NewPassword, u)
	if err != nil {
		return nil, err
	}
	err = withTx(ctx, d.DB, func(tx *ent.Tx) error {
		// Conditional: two first passwords at once, one wins.
		n, err := tx.User.Update().Where(user.ID(u.ID), user.PasswordHash("")).SetPasswordHash(hash).Save(ctx)
		if err != nil || n != 1 {
			return notFoundOr(err, fault.Input("newPassword", "the account has a password: use changePassword"))
		}
		return recordEvent(ctx, tx.Client(), u.ID, securityevent.KindPASSWORD_CHANGED, "password set")
	})
	if err != nil {
		return nil, err
	}
	d.mail(u, "A password was set for your fleetgate account", "A password was set for the fleetgate account "+u.Username+
		", which can now sign in with it.\n\nIf it was not you, reset the password at once ("+d.PublicURL+"/password-reset).\n")
	return d.DB.User.Get(ctx, u.ID)
}

func (d Deps) deleteAccount(ctx context.Context, password string) (bool, error) {
	u, err := d.confirmPassword(ctx, "deleteAccount", "password", password)
	if err != nil {
		return false, err
	}
	// The account's own decision, checked by its password: what it deletes
	// is past the privacy rules (organizations it alone administers).
	sys := policy.System(ctx)
	err = withTx(sys, d.DB, func(tx *ent.Tx) error {
		// Lock the organizations the user administers first, as every
		// change of administrators does (keepAnAdministrator): two
		// co-administrators leaving at once cannot both leave it to the
		// other.
		administered, err := tx.Organization.Query().Where(organization.HasMembersWith(
			organizationmembership.UserID(u.ID), organizationmembership.RoleEQ(access.OrgAdministrator),
		)).Modify(lockRow).IDs(sys)
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
		return tx.User.DeleteOneID(u.ID).Exec(sys)
	})
	return err == nil, err
}

// mail queues a message to u; sending happens off the request path, and
// its failure is logged, never the caller's problem.
func (d Deps) mail(u *ent.User, subject, text string) {
	d.Mail.Enqueue(mail.Message{To: u.Email, Subject: subject, Text: text})
}
