package graph

import (
	"context"
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
	return d.signedIn(u, issued, issued)
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

// Login limits (README "Abuse limits"). Every attempt is counted before
// the password is checked, so a burst cannot pass together, and the waits
// double; a right password resets them (see loginLimit.shared for the
// address's). Limiting per name and address
// means a stranger cannot lock the owner out from one address; a higher
// limit per name alone stops guessing from many addresses, and one per
// address stops one client trying many names. Names are kept hashed.
//
// The per-name limit alone could still be run up on purpose from enough
// addresses, so a client that has signed in to the account before (it
// presents the device token of that sign-in) is subject to none of these:
// only to a limit of its own token, so that a stolen token is no licence
// to guess either.
var (
	loginThrottlePerNameAndIP = ratelimit.Throttle{Free: 5, Base: 30 * time.Second, Max: time.Hour}
	loginThrottlePerName      = ratelimit.Throttle{Free: 50, Base: 30 * time.Second, Max: time.Hour}
	loginThrottlePerIP        = ratelimit.Throttle{Free: 50, Base: 30 * time.Second, Max: time.Hour}
	loginThrottlePerDevice    = ratelimit.Throttle{Free: 5, Base: 30 * time.Second, Max: time.Hour}
)

// loginLimit is one counter a login attempt must pass.
type loginLimit struct {
	ratelimit.Limit
	// shared: the key counts other people's logins too (the client
	// address, whatever the name). A success then takes back only its own
	// attempt instead of resetting the key, or an attacker could wipe out
	// the address's failures by signing in to an account of their own
	// between guesses.
	shared bool
}

func (d Deps) loginLimits(ctx context.Context, usernameOrEmail string, u *ent.User, deviceToken *string) []loginLimit {
	if device, ok := d.knownDevice(u, deviceToken); ok {
		return []loginLimit{{Limit: ratelimit.Limit{Key: "login:device:" + device, Throttle: loginThrottlePerDevice}}}
	}
	ip := clientip.Key(clientip.FromContext(ctx))
	nameKey := loginNameKey(usernameOrEmail)
	return []loginLimit{
		{Limit: ratelimit.Limit{Key: "login:ip:" + ip, Throttle: loginThrottlePerIP}, shared: true},
		{Limit: ratelimit.Limit{Key: nameKey + "@" + ip, Throttle: loginThrottlePerNameAndIP}},
		{Limit: ratelimit.Limit{Key: nameKey, Throttle: loginThrottlePerName}},
	}
}

// admitLogin counts the attempt on every limit, or, while one of them
// blocks, refuses it and counts it on none.
func (d Deps) admitLogin(ctx context.Context, limits []loginLimit) error {
	all := make([]ratelimit.Limit, len(limits))
	for i, l := range limits {
		all[i] = l.Limit
	}
	return d.limits.AttemptAll(ctx, all...)
}

// loginSucceeded lifts the limits of a login whose password was right.
func (d Deps) loginSucceeded(ctx context.Context, limits []loginLimit) error {
	var reset []string
	for _, l := range limits {
		if !l.shared {
			reset = append(reset, l.Key)
		} else if err := d.limits.Refund(ctx, l.Key, l.Throttle); err != nil {
			return err
		}
	}
	return d.limits.Reset(ctx, reset...)
}

// loginNameKey is the rate-limit key of a login name, known or not.
func loginNameKey(usernameOrEmail string) string {
	return ratelimit.NameKey("login:name:", typedName(usernameOrEmail))
}

// checkLoginName refuses a username or email address that no account can
// have (a control or invisible character): a mistake in the input, not an
// unknown account, so it is said before any limit counts it.
func checkLoginName(usernameOrEmail string) error {
	if err := text.Line.Check(typedName(usernameOrEmail)); err != nil {
		return text.Invalid("usernameOrEmail", err)
	}
	return nil
}

// DefaultSignUpsPerIP limits sign-ups per client address (Deps.SignUpsPerIP).
var DefaultSignUpsPerIP = ratelimit.Rate{Limit: 10, Window: time.Hour}

func (d Deps) login(ctx context.Context, in model.LoginInput) (*model.AuthPayload, error) {
	issued := d.Now() // before reading the account: see issueSession
	if err := checkLoginName(in.UsernameOrEmail); err != nil {
		return nil, err
	}
	u, err := d.findUser(ctx, in.UsernameOrEmail)
	if err != nil {
		return nil, err
	}
	limits := d.loginLimits(ctx, in.UsernameOrEmail, u, in.DeviceToken)
	if err := d.admitLogin(ctx, limits); err != nil {
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
		return nil, d.loginFailed(ctx, u)
	}
	if err := d.loginSucceeded(ctx, limits); err != nil {
		return nil, err
	}
	if d.Passwords.NeedsRehash(hash) {
		d.rehash(ctx, u, in.Password)
	}
	if u.TotpSecret != nil {
		// The sign-in is recorded, and the device token handed out, once
		// the second factor is given.
		return d.issueSession(u, issued, issued, true)
	}
	if err := recordEvent(ctx, d.DB, u.ID, securityevent.KindSIGN_IN, ""); err != nil {
		return nil, err
	}
	return d.signedIn(u, issued, issued)
}

// loginFailed records a failed login on the account, if there is one (the
// attempt was counted already); the answer is errLogin either way.
func (d Deps) loginFailed(ctx context.Context, u *ent.User) error {
	if u != nil {
		detail := "from " + clientip.FromContext(ctx).String()
		if err := recordEvent(ctx, d.DB, u.ID, securityevent.KindSIGN_IN_FAILED, detail); err != nil {
			return err
		}
	}
	return errLogin
}

// typedName is a username or email address as typed, in the form it is
// stored in: trimmed and lowercase.
func typedName(usernameOrEmail string) string {
	return strings.ToLower(strings.TrimSpace(usernameOrEmail))
}

// findUser looks up an account by username or email; nil if there is none.
func (d Deps) findUser(ctx context.Context, usernameOrEmail string) (*ent.User, error) {
	key := typedName(usernameOrEmail)
	if key == "" || len(key) > 254 {
		return nil, nil
	}
	where := user.Username(key)
	if strings.Contains(key, "@") {
		where = user.Email(key)
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
