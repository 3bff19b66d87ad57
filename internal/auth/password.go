package auth

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/passwordreset"
	"fleetgate/ent/securityevent"
	"fleetgate/ent/user"
	"fleetgate/internal/account"
	"fleetgate/internal/audit"
	"fleetgate/internal/clientip"
	"fleetgate/internal/database"
	"fleetgate/internal/fault"
	"fleetgate/internal/password"
	"fleetgate/internal/policy"
	"fleetgate/internal/ratelimit"
	"fleetgate/internal/viewer"
)

// passwordFactor is the account's password as a first factor.
type passwordFactor struct{ s *Service }

func (passwordFactor) Method() Method { return MethodPassword }

// Verify runs one hash even without an account or password. A right
// password under old hashing parameters is hashed again with the current
// ones.
func (f passwordFactor) Verify(ctx context.Context, u *ent.User, plain string) (bool, error) {
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := f.s.Passwords.Verify(ctx, plain, hash)
	if ok && u != nil && f.s.Passwords.NeedsRehash(hash) {
		f.s.rehash(ctx, u, plain)
	}
	return ok, err
}

// rehash upgrades a stored hash to the current parameters after a
// successful login. Failing to do so is not the caller's problem.
func (s *Service) rehash(ctx context.Context, u *ent.User, plain string) {
	hash, err := s.Passwords.Hash(ctx, plain)
	if err == nil {
		err = s.DB.User.UpdateOne(u).Where(user.PasswordHash(u.PasswordHash)).SetPasswordHash(hash).Exec(ctx)
	}
	if err != nil && !ent.IsNotFound(err) {
		s.Log.WarnContext(ctx, "rehash failed", "user", u.ID, "err", err)
	}
}

// confirmPassword is the caller's account, once they have given its
// password again (in the input field named field); operation needs a
// session token.
func (s *Service) confirmPassword(ctx context.Context, operation, field, password string) (*ent.User, error) {
	v, err := viewer.RequireSession(ctx, operation)
	if err != nil {
		return nil, err
	}
	u, err := s.DB.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	if u.PasswordHash == "" {
		return nil, fault.New(fault.PasswordRequired, "the account has no password: set one first (setPassword)")
	}
	key := "password:user:" + strconv.Itoa(u.ID)
	if err := s.Limits.Attempt(ctx, key, s.PasswordConfirmation); err != nil {
		return nil, err
	}
	ok, err := s.Passwords.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fault.Input(field, "incorrect password")
	}
	return u, s.Limits.Reset(ctx, key)
}

// ResetLinkLifetime is how long a password-reset link works.
const ResetLinkLifetime = time.Hour

var errBadResetToken = fault.Input("token", "this reset link is invalid, used or expired: request a new one")

// RequestPasswordReset mails a reset link to the account of address, if
// there is one; the answer is the same either way.
func (s *Service) RequestPasswordReset(ctx context.Context, address string) (bool, error) {
	email, err := account.NormalizeEmail("email", address)
	if err != nil {
		return false, err
	}
	if err := s.Limits.Allow(ctx, "reset:ip:"+clientip.Key(clientip.FromContext(ctx)), s.ResetMailsPerIP); err != nil {
		return false, err
	}
	if err := s.Limits.Allow(ctx, ratelimit.NameKey("reset:email:", email), s.ResetMailsPerAddress); err != nil {
		return false, err
	}
	// Known or not, the same work: one lookup and one transaction (which
	// for an unknown address deletes nothing and inserts nothing); the mail
	// is written in that transaction and goes out off the request path.
	sys := policy.System(ctx)
	u, err := s.DB.User.Query().Where(user.Email(email)).Only(sys)
	if err != nil && !ent.IsNotFound(err) {
		return false, err
	}
	userID := -1
	if u != nil {
		userID = u.ID
	}
	tok, err := newLinkSecret()
	if err != nil {
		return false, err
	}
	err = database.WithTx(sys, s.DB, func(tx *ent.Tx) error {
		// A new link replaces the older ones.
		if _, err := tx.PasswordReset.Delete().Where(passwordreset.UserID(userID)).Exec(sys); err != nil || u == nil {
			return err
		}
		err := tx.PasswordReset.Create().SetUserID(u.ID).SetHash(linkHash(tok)).
			SetExpiresAt(s.Now().UTC().Add(ResetLinkLifetime)).Exec(sys)
		if err != nil {
			return err
		}
		return s.mail(sys, tx, u, "Reset your fleetgate password", fmt.Sprintf(
			"Someone asked to reset the password of the fleetgate account %s.\n\n"+
				"To choose a new password, open this link within an hour:\n\n%s/password-reset?token=%s\n\n"+
				"If it was not you, ignore this mail: your password stays as it is.\n", u.Username, s.PublicURL, tok))
	})
	if err != nil {
		return false, err
	}
	return true, nil
}

// ResetPassword sets a new password with the token of a reset link.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) (bool, error) {
	sys := policy.System(ctx)
	reset, err := s.DB.PasswordReset.Query().Where(passwordreset.Hash(linkHash(token)),
		passwordreset.ExpiresAtGT(s.Now().UTC())).WithUser().Only(sys)
	if ent.IsNotFound(err) {
		return false, errBadResetToken
	}
	if err != nil {
		return false, err
	}
	u := reset.Edges.User
	hash, err := s.newPasswordHash(ctx, newPassword, u)
	if err != nil {
		return false, err
	}
	_, err = s.storePassword(sys, u.ID, hash, securityevent.KindPASSWORD_RESET, 0, func(tx *ent.Tx) error {
		// Single use: of two requests with one link, one deletes it.
		n, err := tx.PasswordReset.Delete().Where(passwordreset.ID(reset.ID)).Exec(sys)
		if err == nil && n != 1 {
			err = errBadResetToken
		}
		if err != nil {
			return err
		}
		return s.mail(sys, tx, u, "Your fleetgate password was reset", fmt.Sprintf(
			"The password of the fleetgate account %s was reset, and every session signed out.\n\n"+
				"If it was not you, reset it again at once and check the account's security events.\n", u.Username))
	})
	if err != nil {
		return false, err
	}
	return true, nil
}

// newPasswordHash checks a new password against u's rules and hashes it.
func (s *Service) newPasswordHash(ctx context.Context, plain string, u *ent.User) (string, error) {
	if err := password.Validate("newPassword", plain, u.Username, u.Email); err != nil {
		return "", err
	}
	return s.Passwords.Hash(ctx, plain)
}

// storePassword stores a new password hash for the user, in one
// transaction with first (nil for nothing; it writes the notice mail): every
// session but keep (0 for none) and every reset link of the user ends;
// two-factor authentication stays. Then the login
// limits of the user's names are lifted: whoever locked them out with wrong
// guesses, the owner with the new password may sign in (after the
// transaction: the limiter writes on a connection of its own). It returns
// the updated user.
func (s *Service) storePassword(ctx context.Context, userID int, hash string, kind securityevent.Kind, keep int, first func(tx *ent.Tx) error) (*ent.User, error) {
	var u *ent.User
	err := database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
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
		if err := audit.Record(ctx, tx.Client(), userID, kind, ""); err != nil {
			return err
		}
		var err error
		u, _, err = s.advanceSessions(ctx, tx, userID, keep)
		return err
	})
	if err != nil {
		return nil, err
	}
	u = u.Unwrap()
	for _, name := range []string{u.Username, u.Email} {
		if err := s.Limits.Reset(ctx, loginNameKey(name)); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// ChangePassword replaces the caller's password, given the current one;
// the caller's session goes on with a new token, and every other one ends.
func (s *Service) ChangePassword(ctx context.Context, currentPassword, newPassword string) (*Session, error) {
	issued := s.Now() // before reading the account: see issueSession
	u, err := s.confirmPassword(ctx, "changePassword", "currentPassword", currentPassword)
	if err != nil {
		return nil, err
	}
	v, err := viewer.RequireSession(ctx, "changePassword") // as confirmPassword found it
	if err != nil {
		return nil, err
	}
	if newPassword == currentPassword {
		return nil, fault.Input("newPassword", "the new password is the current one")
	}
	hash, err := s.newPasswordHash(ctx, newPassword, u)
	if err != nil {
		return nil, err
	}
	u, err = s.storePassword(ctx, u.ID, hash, securityevent.KindPASSWORD_CHANGED, v.SessionID, func(tx *ent.Tx) error {
		return s.mail(ctx, tx, u, "Your fleetgate password was changed", fmt.Sprintf(
			"The password of the fleetgate account %s was changed, and every other session signed out.\n\n"+
				"If it was not you, reset your password at once (%s/password-reset).\n", u.Username, s.PublicURL))
	})
	if err != nil {
		return nil, err
	}
	return s.continueSession(ctx, v, u, issued, s.Now(), MethodPassword)
}

// SetPassword gives an account without a password its first one.
func (s *Service) SetPassword(ctx context.Context, newPassword string) (*ent.User, error) {
	v, err := viewer.RequireRecentSession(ctx, "setPassword", s.Now())
	if err != nil {
		return nil, err
	}
	u, err := s.DB.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	if u.PasswordHash != "" {
		return nil, fault.Input("newPassword", "the account has a password: use changePassword")
	}
	hash, err := s.newPasswordHash(ctx, newPassword, u)
	if err != nil {
		return nil, err
	}
	err = database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		// Conditional: two first passwords at once, one wins.
		n, err := tx.User.Update().Where(user.ID(u.ID), user.PasswordHash("")).SetPasswordHash(hash).Save(ctx)
		if err != nil || n != 1 {
			return cmp.Or(err, fault.Input("newPassword", "the account has a password: use changePassword"))
		}
		if err := audit.Record(ctx, tx.Client(), u.ID, securityevent.KindPASSWORD_CHANGED, "password set"); err != nil {
			return err
		}
		return s.mail(ctx, tx, u, "A password was set for your fleetgate account", "A password was set for the fleetgate account "+u.Username+
			", which can now sign in with it.\n\nIf it was not you, reset the password at once ("+s.PublicURL+"/password-reset).\n")
	})
	if err != nil {
		return nil, err
	}
	return s.DB.User.Get(ctx, u.ID)
}
