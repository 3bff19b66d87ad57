package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/organization"
	"fleetgate/ent/securityevent"
	"fleetgate/ent/user"
	"fleetgate/graph/model"
	"fleetgate/internal/access"
	"fleetgate/internal/account"
	"fleetgate/internal/clientip"
	"fleetgate/internal/fault"
	"fleetgate/internal/password"
	"fleetgate/internal/policy"
	"fleetgate/internal/ratelimit"
	"fleetgate/internal/text"
	"fleetgate/internal/viewer"
)

// errLogin is the one answer to every failed login, so it never tells
// whether an account exists.
var errLogin = fault.New(fault.Unauthenticated, "incorrect username, email or password")

func (d Deps) signUp(ctx context.Context, in model.SignUpInput) (*model.AuthPayload, error) {
	username, err := account.NormalizeUsername("username", in.Username)
	if err != nil {
		return nil, err
	}
	email, err := account.NormalizeEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	if err := password.Validate("password", in.Password, username, email); err != nil {
		return nil, err
	}
	if err := d.limits.Allow(ctx, "signup:ip:"+clientip.Key(clientip.FromContext(ctx)), d.SignUpsPerIP); err != nil {
		return nil, err
	}
	// Millisecond-aligned, like every sessionsValidAfter: PostgreSQL rounds
	// to microseconds, which could otherwise lift it past the token's iat.
	issued := d.Now().Truncate(time.Millisecond)
	// Hash before the transaction: it is the slow part and needs no lock.
	hash, err := d.Passwords.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	var u *ent.User
	// Nobody is signed in yet: the account and its organization are
	// fleetgate's own doing, past the privacy rules.
	sys := policy.System(ctx)
	err = withTx(sys, d.DB, func(tx *ent.Tx) error {
		if err := checkSignUpConflicts(sys, tx, username, email); err != nil {
			return err
		}
		u, err = tx.User.Create().SetUsername(username).SetEmail(email).
			SetPasswordHash(hash).SetSessionsValidAfter(issued).Save(sys)
		if err != nil {
			return err
		}
		org, err := tx.Organization.Create().SetName(username).SetHandle(username).Save(sys)
		if err != nil {
			return err
		}
		return tx.OrganizationMembership.Create().SetUser(u).SetOrganization(org).
			SetRole(access.OrgAdministrator).Exec(sys)
	})
	if ent.IsConstraintError(err) {
		// Another sign-up took the name or address between our check and insert.
		return nil, fault.Taken("username", "that username or email address is already taken")
	}
	if err != nil {
		return nil, err
	}
	return d.issueSession(u, issued, issued, false)
}

// checkSignUpConflicts names the field whose value is taken. Usernames and
// organization handles share one namespace: a user's personal organization
// takes the username as its handle.
func checkSignUpConflicts(ctx context.Context, tx *ent.Tx, username, email string) error {
	taken, err := nameTaken(ctx, tx, username)
	if err != nil {
		return err
	}
	if taken {
		return fault.Taken("username", "the username %q is already taken", username)
	}
	taken, err = tx.User.Query().Where(user.Email(email)).Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return fault.Taken("email", "an account with this email address already exists")
	}
	return nil
}

// nameTaken reports whether name is a username or an organization handle:
// the two share one namespace. ctx must see every organization (System).
func nameTaken(ctx context.Context, tx *ent.Tx, name string) (bool, error) {
	taken, err := tx.User.Query().Where(user.Username(name)).Exist(ctx)
	if err == nil && !taken {
		taken, err = tx.Organization.Query().Where(organization.Handle(name)).Exist(ctx)
	}
	return taken, err
}

// Login limits. Attempts on a name from one client address are counted
// before the password is checked, so a burst cannot pass together, and the
// waits double; a right password resets them. Limiting per name and
// address means a stranger cannot lock the owner out; a higher limit per
// name alone stops guessing from many addresses, and one per address stops
// one client trying many names. Names are kept hashed.
var (
	loginThrottlePerNameAndIP = ratelimit.Throttle{Free: 5, Base: 30 * time.Second, Max: time.Hour}
	loginThrottlePerName      = ratelimit.Throttle{Free: 50, Base: 30 * time.Second, Max: time.Hour}
	loginThrottlePerIP        = ratelimit.Throttle{Free: 50, Base: 30 * time.Second, Max: time.Hour}
)

// loginName is the lookup form of a username or email address: trimmed and
// lowercased (the stored forms are). Neither can hold a control or
// invisible character, so one that does is a mistake in the input, not an
// unknown account.
func loginName(usernameOrEmail string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(usernameOrEmail))
	if err := text.Line.Check(name); err != nil {
		return "", text.Invalid("usernameOrEmail", err)
	}
	return name, nil
}

// loginNameKey is the rate-limit key of a login name (in loginName's
// form), known or not.
func loginNameKey(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "login:name:" + hex.EncodeToString(sum[:16])
}

// DefaultSignUpsPerIP limits sign-ups per client address (Deps.SignUpsPerIP).
var DefaultSignUpsPerIP = ratelimit.Rate{Limit: 10, Window: time.Hour}

func (d Deps) login(ctx context.Context, in model.LoginInput) (*model.AuthPayload, error) {
	issued := d.Now() // before reading the account: see issueSession
	name, err := loginName(in.UsernameOrEmail)
	if err != nil {
		return nil, err
	}
	ip := clientip.Key(clientip.FromContext(ctx))
	nameKey, ipKey := loginNameKey(name), "login:ip:"+ip
	pairKey := nameKey + "@" + ip
	if err := d.limits.Check(ctx, ipKey, loginThrottlePerIP); err != nil {
		return nil, err
	}
	if err := d.limits.Attempt(ctx, pairKey, loginThrottlePerNameAndIP); err != nil {
		return nil, err
	}
	if err := d.limits.Attempt(ctx, nameKey, loginThrottlePerName); err != nil {
		return nil, err
	}
	u, err := d.findUser(ctx, name)
	if err != nil {
		return nil, err
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	// Verify runs one hash even without an account or password, so the
	// answer takes as long whether or not the account exists.
	ok, err := d.Passwords.Verify(ctx, in.Password, hash)
	if err != nil {
		return nil, err
	}
	if !ok || u == nil {
		return nil, d.loginFailed(ctx, u, ipKey)
	}
	for _, key := range []string{pairKey, nameKey} {
		if err := d.limits.Reset(ctx, key); err != nil {
			return nil, err
		}
	}
	if d.Passwords.NeedsRehash(hash) {
		d.rehash(ctx, u, in.Password)
	}
	if u.TotpSecret != nil {
		// The sign-in is recorded once the second factor is given.
		return d.issueSession(u, issued, issued, true)
	}
	if err := recordEvent(ctx, d.DB, u.ID, securityevent.KindSIGN_IN, ""); err != nil {
		return nil, err
	}
	return d.issueSession(u, issued, issued, false)
}

// loginFailed counts a failed login against the client address (the name
// counted already) and records it on the account, if there is one; the
// answer is errLogin either way.
func (d Deps) loginFailed(ctx context.Context, u *ent.User, ipKey string) error {
	if err := d.limits.Fail(ctx, ipKey, loginThrottlePerIP); err != nil {
		return err
	}
	if u != nil {
		detail := "from " + clientip.FromContext(ctx).String()
		if err := recordEvent(ctx, d.DB, u.ID, securityevent.KindSIGN_IN_FAILED, detail); err != nil {
			return err
		}
	}
	return errLogin
}

// findUser looks up an account by username or email (in loginName's form);
// nil if there is none.
func (d Deps) findUser(ctx context.Context, name string) (*ent.User, error) {
	if name == "" || len(name) > 254 {
		return nil, nil
	}
	where := user.Username(name)
	if strings.Contains(name, "@") {
		where = user.Email(name)
	}
	u, err := d.DB.User.Query().Where(where).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

// rehash upgrades a stored hash to the current parameters after a
// successful login. Failing to do so is not the caller's problem.
func (d Deps) rehash(ctx context.Context, u *ent.User, plain string) {
	hash, err := d.Passwords.Hash(ctx, plain)
	if err == nil {
		err = d.DB.User.UpdateOne(u).Where(user.PasswordHash(u.PasswordHash)).SetPasswordHash(hash).Exec(ctx)
	}
	if err != nil && !ent.IsNotFound(err) {
		d.Log.WarnContext(ctx, "rehash failed", "user", u.ID, "err", err)
	}
}

func (d Deps) refreshToken(ctx context.Context) (*model.AuthPayload, error) {
	v, err := viewer.RequireSession(ctx, "refreshToken")
	if err != nil {
		return nil, err
	}
	issued := d.Now() // before reading the account: see issueSession
	u, err := d.sessionUser(ctx, v)
	if err != nil {
		return nil, err
	}
	return d.issueSession(u, issued, v.AuthTime, false)
}

// sessionUser reads the account of a session token that is about to be
// exchanged for a new one, checking again that its sessions have not ended
// since the caller was authenticated.
func (d Deps) sessionUser(ctx context.Context, v *viewer.Viewer) (*ent.User, error) {
	u, err := d.DB.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	if sessionEnded(u, v.IssuedAt) {
		return nil, errEndedSession
	}
	return u, nil
}

func (d Deps) signOutEverywhere(ctx context.Context) (bool, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return false, err
	}
	err = d.endSessions(ctx, d.DB, v.UserID)
	return err == nil, err
}

// withTx runs fn in a transaction: it commits if fn succeeds and rolls back
// otherwise, so a failure leaves nothing half done.
func withTx(ctx context.Context, db *ent.Client, fn func(tx *ent.Tx) error) error {
	tx, err := db.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
