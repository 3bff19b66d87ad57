package auth

import (
	"context"
	"strings"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/securityevent"
	"fleetgate/ent/user"
	"fleetgate/internal/audit"
	"fleetgate/internal/clientip"
	"fleetgate/internal/fault"
	"fleetgate/internal/ratelimit"
	"fleetgate/internal/text"
)

// A FirstFactor proves who someone is with nothing but what they present:
// the first step of a sign-in (a password; later a social login or a
// passkey). A new one is a new file and a field of Service.
type FirstFactor interface {
	Method() Method
	// Verify checks proof for the account u, or for none (u nil): then it
	// still does the same work, so the answer takes as long whether or not
	// the account exists.
	Verify(ctx context.Context, u *ent.User, proof string) (bool, error)
}

// errLogin is the one answer to every failed login, so it never tells
// whether an account exists.
var errLogin = fault.New(fault.Unauthenticated, "incorrect username, email or password")

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

// loginLimits are the limits of a login (README "Abuse limits"). Every attempt is counted before
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
// The throttles are AbuseLimits.Login….
func (s *Service) loginLimits(ctx context.Context, usernameOrEmail string, u *ent.User, deviceToken *string) []loginLimit {
	if device, ok := s.knownDevice(u, deviceToken); ok {
		return []loginLimit{{Limit: ratelimit.Limit{Key: "login:device:" + device, Throttle: s.LoginPerDevice}}}
	}
	ip := clientip.Key(clientip.FromContext(ctx))
	nameKey := loginNameKey(usernameOrEmail)
	return []loginLimit{
		{Limit: ratelimit.Limit{Key: "login:ip:" + ip, Throttle: s.LoginPerIP}, shared: true},
		{Limit: ratelimit.Limit{Key: nameKey + "@" + ip, Throttle: s.LoginPerNameAndIP}},
		{Limit: ratelimit.Limit{Key: nameKey, Throttle: s.LoginPerName}},
	}
}

// admitLogin counts the attempt on every limit, or, while one of them
// blocks, refuses it and counts it on none.
func (s *Service) admitLogin(ctx context.Context, limits []loginLimit) error {
	all := make([]ratelimit.Limit, len(limits))
	for i, l := range limits {
		all[i] = l.Limit
	}
	return s.Limits.AttemptAll(ctx, all...)
}

// loginSucceeded lifts the limits of a login whose first factor was right,
// in one statement (README "What a request costs").
func (s *Service) loginSucceeded(ctx context.Context, limits []loginLimit) error {
	var (
		reset  []string
		refund []ratelimit.Limit
	)
	for _, l := range limits {
		if l.shared {
			refund = append(refund, l.Limit)
		} else {
			reset = append(reset, l.Key)
		}
	}
	return s.Limits.Settle(ctx, reset, refund...)
}

// loginNameKey is the rate-limit key of a login name, known or not.
func loginNameKey(usernameOrEmail string) string {
	return ratelimit.NameKey("login:name:", TypedName(usernameOrEmail))
}

// CheckLoginName refuses a username or email address that no account can
// have (a control or invisible character): a mistake in the input, not an
// unknown account, so it is said before any limit counts it.
func CheckLoginName(usernameOrEmail string) error {
	if err := text.Line.Check(TypedName(usernameOrEmail)); err != nil {
		return text.Invalid("usernameOrEmail", err)
	}
	return nil
}

// Login signs in with a username or email address and a password. With a
// second factor on, the session it returns is pending (VerifyTwoFactor).
func (s *Service) Login(ctx context.Context, usernameOrEmail, password string, deviceToken *string) (*Session, error) {
	factor := s.password
	issued := s.Now() // before reading the account: see issueSession
	if err := CheckLoginName(usernameOrEmail); err != nil {
		return nil, err
	}
	u, err := s.FindUser(ctx, usernameOrEmail)
	if err != nil {
		return nil, err
	}
	limits := s.loginLimits(ctx, usernameOrEmail, u, deviceToken)
	if err := s.admitLogin(ctx, limits); err != nil {
		return nil, err
	}
	ok, err := factor.Verify(ctx, u, password)
	if err != nil {
		return nil, err
	}
	if !ok || u == nil {
		return nil, s.loginFailed(ctx, u)
	}
	if err := s.loginSucceeded(ctx, limits); err != nil {
		return nil, err
	}
	return s.firstFactorPassed(ctx, u, issued, factor.Method())
}

// firstFactorPassed ends a sign-in whose first factor (method, at issued)
// was right: with a pending session if the second factor is owed, else
// with the SIGN_IN event and the session.
func (s *Service) firstFactorPassed(ctx context.Context, u *ent.User, issued time.Time, method Method) (*Session, error) {
	if u.TotpSecret != nil {
		// The sign-in is recorded, and the device token handed out, once
		// the second factor is given.
		return s.pendingSession(u, issued, method)
	}
	if err := audit.Record(ctx, s.DB, u.ID, securityevent.KindSIGN_IN, signInDetail(method, false)); err != nil {
		return nil, err
	}
	return s.signedIn(ctx, u, issued, issued, method)
}

// signInDetail is what the SIGN_IN security event says of how the person
// signed in: the first factor unless it was the password (the only way there
// was at first), then whether a second one was given.
func signInDetail(first Method, secondGiven bool) string {
	var ways []string
	if first != MethodPassword && first != "" {
		ways = append(ways, string(first)) // a social login's provider
	}
	if secondGiven {
		ways = append(ways, "two-factor authentication")
	}
	if len(ways) == 0 {
		return ""
	}
	return "with " + strings.Join(ways, " and ")
}

// loginFailed records a failed login on the account, if there is one (the
// attempt was counted already); the answer is errLogin either way.
func (s *Service) loginFailed(ctx context.Context, u *ent.User) error {
	if u != nil {
		detail := "from " + clientip.FromContext(ctx).String()
		if err := audit.Record(ctx, s.DB, u.ID, securityevent.KindSIGN_IN_FAILED, detail); err != nil {
			return err
		}
	}
	return errLogin
}

// TypedName is a username or email address as typed, in the form it is
// stored in: trimmed and lowercase.
func TypedName(usernameOrEmail string) string {
	return strings.ToLower(strings.TrimSpace(usernameOrEmail))
}

// FindMember looks up an account to add as a member: by username, or by a
// verified address only — an unverified one may belong to somebody else,
// who would otherwise be shown the fleet and its owner shown them.
func (s *Service) FindMember(ctx context.Context, usernameOrEmail string) (*ent.User, error) {
	u, err := s.FindUser(ctx, usernameOrEmail)
	if u != nil && !u.EmailVerified && u.Email == TypedName(usernameOrEmail) {
		return nil, err
	}
	return u, err
}

// FindUser looks up an account by username or email; nil if there is none.
func (s *Service) FindUser(ctx context.Context, usernameOrEmail string) (*ent.User, error) {
	key := TypedName(usernameOrEmail)
	if key == "" || len(key) > 254 {
		return nil, nil
	}
	where := user.Username(key)
	if strings.Contains(key, "@") {
		where = user.Email(key)
	}
	u, err := s.DB.User.Query().Where(where).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}
