package auth

import (
	"context"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/organization"
	"fleetgate/ent/user"
	"fleetgate/internal/access"
	"fleetgate/internal/account"
	"fleetgate/internal/clientip"
	"fleetgate/internal/database"
	"fleetgate/internal/fault"
	"fleetgate/internal/password"
	"fleetgate/internal/policy"
)

// SignUp creates an account with a password and its personal organization,
// mails the link that verifies its address, and signs in to it.
func (s *Service) SignUp(ctx context.Context, username, email, plain string) (*Session, error) {
	username, err := account.NormalizeUsername("username", username)
	if err != nil {
		return nil, err
	}
	email, err = account.NormalizeEmail("email", email)
	if err != nil {
		return nil, err
	}
	if err := password.Validate("password", plain, username, email); err != nil {
		return nil, err
	}
	if err := s.Limits.Allow(ctx, "signup:ip:"+clientip.Key(clientip.FromContext(ctx)), s.SignUpsPerIP); err != nil {
		return nil, err
	}
	// Millisecond-aligned, like every sessionsValidAfter: PostgreSQL rounds
	// to microseconds, which could otherwise lift it past the token's iat.
	issued := s.Now().Truncate(time.Millisecond)
	// Hash before the transaction: it is the slow part and needs no lock.
	hash, err := s.Passwords.Hash(ctx, plain)
	if err != nil {
		return nil, err
	}
	var u *ent.User
	// Nobody is signed in yet: the account and its organization are
	// fleetgate's own doing, past the privacy rules.
	sys := policy.System(ctx)
	err = database.WithTx(sys, s.DB, func(tx *ent.Tx) error {
		if err := checkSignUpConflicts(sys, tx, username, email); err != nil {
			return err
		}
		u, err = createAccount(sys, tx, tx.User.Create().SetUsername(username).SetEmail(email).
			SetPasswordHash(hash).SetSessionsValidAfter(issued))
		if err != nil {
			return err
		}
		tok, err := s.newVerification(sys, tx, u.ID, email, false)
		if err != nil {
			return err
		}
		return s.mailVerification(sys, tx, u, tok)
	})
	if ent.IsConstraintError(err) {
		// Another sign-up took the name or address between our check and insert.
		return nil, fault.Taken("username", "that username or email address is already taken")
	}
	if err != nil {
		return nil, err
	}
	return s.signedIn(ctx, u, issued, issued, MethodPassword)
}

// createAccount saves the user of create with their personal organization,
// which they administer and whose handle is their username. ctx is System:
// nobody is signed in yet.
func createAccount(ctx context.Context, tx *ent.Tx, create *ent.UserCreate) (*ent.User, error) {
	u, err := create.Save(ctx)
	if err != nil {
		return nil, err
	}
	org, err := tx.Organization.Create().SetName(u.Username).SetHandle(u.Username).Save(ctx)
	if err != nil {
		return nil, err
	}
	return u, tx.OrganizationMembership.Create().SetUser(u).SetOrganization(org).
		SetRole(access.OrgAdministrator).Exec(ctx)
}

// checkSignUpConflicts names the field whose value is taken. Usernames and
// organization handles share one namespace: a user's personal organization
// takes the username as its handle.
func checkSignUpConflicts(ctx context.Context, tx *ent.Tx, username, email string) error {
	taken, err := NameTaken(ctx, tx, username)
	if err != nil {
		return err
	}
	if taken {
		return fault.Taken("username", "the username %q is already taken", username)
	}
	return emailFree(ctx, tx, email, "email")
}

// NameTaken reports whether name is a username or an organization handle:
// the two share one namespace. ctx must see every organization (System).
func NameTaken(ctx context.Context, tx *ent.Tx, name string) (bool, error) {
	taken, err := tx.User.Query().Where(user.Username(name)).Exist(ctx)
	if err == nil && !taken {
		taken, err = tx.Organization.Query().Where(organization.Handle(name)).Exist(ctx)
	}
	return taken, err
}
