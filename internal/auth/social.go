package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/identity"
	"fleetgate/ent/logincode"
	"fleetgate/ent/securityevent"
	"fleetgate/ent/user"
	"fleetgate/internal/account"
	"fleetgate/internal/audit"
	"fleetgate/internal/clientip"
	"fleetgate/internal/database"
	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
	"fleetgate/internal/ratelimit"
	"fleetgate/internal/social"
	"fleetgate/internal/viewer"
)

// Social login as a first factor (README "Social login"): internal/social
// turns a trip through an identity provider into a verified identity; here
// that identity signs in to the account linked to it, is linked to an
// account, or makes a new one, and the callback hands the dashboard a
// login code that exchangeLoginCode turns into a session.

// Lifetimes of the one-time codes (ent LoginCode).
const (
	LoginCodeLifetime  = 60 * time.Second
	LinkTicketLifetime = 5 * time.Minute
)

// MaxIdentities is how many identities one account may link.
const MaxIdentities = 10

// The codes a social callback reports on its redirect target (?error=),
// besides those of internal/social.
const (
	CodeAccountExists   = "account_exists"
	CodeEmailRequired   = "email_required"
	CodeIdentityInUse   = "identity_in_use"
	CodeTooManyAttempts = "too_many_attempts"
	CodeLinkExpired     = "link_expired"
	CodeServerError     = "server_error"
)

var (
	errLoginCode  = fault.New(fault.Unauthenticated, "that login code is not valid: it works once, within a minute of the sign-in; sign in again")
	errNoProvider = fault.Input("provider", "no such identity provider is enabled (see authProviders)")
	errNoIdentity = fault.New(fault.NotFound, "no such identity")
)

// socialFactor is one provider's first factor: the login code its callback
// handed out, for the account the code names.
type socialFactor struct {
	s        *Service
	provider string
}

func (f socialFactor) Method() Method { return Method(f.provider) }

// Verify spends code if it is a live sign-in code of f's provider for u.
// Deleting it is the check: of two exchanges at once, one deletes it.
func (f socialFactor) Verify(ctx context.Context, u *ent.User, code string) (bool, error) {
	if u == nil {
		return false, nil
	}
	n, err := f.s.DB.LoginCode.Delete().Where(logincode.Hash(linkHash(code)), logincode.UserID(u.ID),
		logincode.PurposeEQ(logincode.PurposeSIGN_IN), logincode.Provider(f.provider),
		logincode.ExpiresAtGT(f.s.Now().UTC())).Exec(ctx)
	return n == 1, err
}

// ExchangeLoginCode signs in with the code a social login callback put on
// its redirect target. With a second factor on, the session is pending
// (VerifyTwoFactor), as for Login.
func (s *Service) ExchangeLoginCode(ctx context.Context, code string) (*Session, error) {
	issued := s.Now() // before reading the account: see issueSession
	limit := loginLimit{Limit: ratelimit.Limit{Key: "login:ip:" + clientip.Key(clientip.FromContext(ctx)),
		Throttle: s.LoginPerIP}, shared: true}
	if err := s.admitLogin(ctx, []loginLimit{limit}); err != nil {
		return nil, err
	}
	row, err := s.DB.LoginCode.Query().Where(logincode.Hash(linkHash(code)),
		logincode.PurposeEQ(logincode.PurposeSIGN_IN)).WithUser().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errLoginCode
	}
	if err != nil {
		return nil, err
	}
	factor, ok := s.socialFactors[row.Provider]
	if !ok {
		return nil, errLoginCode // the provider was disabled since
	}
	u := row.Edges.User
	if ok, err := factor.Verify(ctx, u, code); err != nil || !ok {
		return nil, errOr(err, errLoginCode)
	}
	if err := s.loginSucceeded(ctx, []loginLimit{limit}); err != nil {
		return nil, err
	}
	return s.firstFactorPassed(ctx, u, issued, factor.Method())
}

// AuthProviders are the enabled identity providers.
func (s *Service) AuthProviders() []social.ProviderConfig { return s.Social.Providers() }

// StartSocial begins a sign-in with provider that ends at redirect, or,
// with the ticket of a LinkIdentity start URL, a link to that account. It
// returns where to send the browser and the cookie of the flow; a refusal
// whose target is sound comes as that target with ?error=.
func (s *Service) StartSocial(ctx context.Context, provider, redirect, ticket string) (string, *http.Cookie, error) {
	target, err := s.Social.CheckRedirect(redirect)
	if err != nil {
		return "", nil, err
	}
	link := ""
	if ticket != "" {
		userID, err := s.spendCode(ctx, ticket, logincode.PurposeLINK, provider)
		if err != nil {
			return refusedAt(target, CodeLinkExpired), nil, err
		}
		link = strconv.Itoa(userID)
	}
	location, cookie, err := s.Social.Start(provider, target, link)
	if err != nil {
		return refusedAt(target, codeOf(err)), nil, err
	}
	return location, cookie, nil
}

// FinishSocial completes the flow at its callback request r and returns
// where to send the browser: the flow's target with ?code= (a sign-in),
// ?linked= (a link) or ?error=. It returns "" when r belongs to no flow of
// this browser: then there is no target to trust. err, when set, says why
// in detail, for the log.
func (s *Service) FinishSocial(ctx context.Context, r *http.Request, provider string) (string, error) {
	flow, ident, err := s.Social.Finish(ctx, r, provider)
	if flow.Redirect == "" {
		return "", err
	}
	if err != nil {
		return refusedAt(flow.Redirect, codeOf(err)), err
	}
	// A client address blocked for failed logins is refused here too (a
	// callback may create an account); a completed flow takes its attempt
	// back, as a right password does.
	limit := loginLimit{Limit: ratelimit.Limit{Key: "login:ip:" + clientip.Key(clientip.FromContext(ctx)),
		Throttle: s.LoginPerIP}, shared: true}
	if err := s.admitLogin(ctx, []loginLimit{limit}); err != nil {
		return refusedAt(flow.Redirect, CodeTooManyAttempts), err
	}
	if err := s.loginSucceeded(ctx, []loginLimit{limit}); err != nil {
		return refusedAt(flow.Redirect, CodeServerError), err
	}
	if flow.Link != "" {
		userID, err := strconv.Atoi(flow.Link)
		if err == nil {
			err = s.linkIdentity(ctx, userID, ident)
		}
		if err != nil {
			return refusedAt(flow.Redirect, codeOf(err)), err
		}
		return social.WithQuery(flow.Redirect, "linked", provider), nil
	}
	u, err := s.accountFor(ctx, ident)
	if err != nil {
		return refusedAt(flow.Redirect, codeOf(err)), err
	}
	code, err := s.issueCode(ctx, u.ID, logincode.PurposeSIGN_IN, provider, LoginCodeLifetime)
	if err != nil {
		return refusedAt(flow.Redirect, CodeServerError), err
	}
	return social.WithQuery(flow.Redirect, "code", code), nil
}

// accountFor is the account ident signs in to (README "Social login"):
// the one linked to it; else, when the provider's address is an account's,
// that account, linked now if the provider and the account both verified
// the address and refused otherwise; else a new account.
func (s *Service) accountFor(ctx context.Context, ident social.Identity) (*ent.User, error) {
	sys := policy.System(ctx) // nobody is signed in
	linked, err := s.DB.Identity.Query().Where(identity.Provider(ident.Provider), identity.Subject(ident.Subject)).
		WithUser().Only(sys)
	switch {
	case err == nil:
		if linked.Email != ident.Email {
			if err := linked.Update().SetEmail(ident.Email).Exec(sys); err != nil {
				return nil, err
			}
		}
		return linked.Edges.User, nil
	case !ent.IsNotFound(err):
		return nil, err
	}
	email, err := account.NormalizeEmail("email", ident.Email)
	if err != nil {
		return nil, &social.Error{Code: CodeEmailRequired, Err: fmt.Errorf("%s gave no usable email address (%q)", ident.Provider, ident.Email)}
	}
	existing, err := s.DB.User.Query().Where(user.Email(email)).Only(sys)
	switch {
	case err == nil:
		// Linking by an unverified address on either side would hand the
		// account to whoever typed that address first.
		if !ident.EmailVerified || !existing.EmailVerified {
			return nil, &social.Error{Code: CodeAccountExists, Err: fmt.Errorf(
				"account %d has the address %s (verified: %v; by %s: %v): sign in to it and link from there",
				existing.ID, email, existing.EmailVerified, ident.Provider, ident.EmailVerified)}
		}
		return existing, s.linkIdentity(ctx, existing.ID, ident)
	case !ent.IsNotFound(err):
		return nil, err
	}
	return s.createSocialAccount(ctx, ident, email)
}

// createSocialAccount makes an account without a password for ident, with
// a username made from the profile, its personal organization and the
// identity linked.
func (s *Service) createSocialAccount(ctx context.Context, ident social.Identity, email string) (*ent.User, error) {
	if err := s.Limits.Allow(ctx, "signup:ip:"+clientip.Key(clientip.FromContext(ctx)), s.SignUpsPerIP); err != nil {
		return nil, &social.Error{Code: CodeTooManyAttempts, Err: err}
	}
	issued := s.Now().Truncate(time.Millisecond) // as SignUp
	localPart := email[:strings.LastIndexByte(email, '@')]
	base := account.UsernameFrom(ident.Username, ident.Name, localPart)
	sys := policy.System(ctx)
	var u *ent.User
	err := database.WithTx(sys, s.DB, func(tx *ent.Tx) error {
		username, err := freeUsername(sys, tx, base)
		if err != nil {
			return err
		}
		// No password ("" as setPassword expects) until the person sets one.
		u, err = createAccount(sys, tx, tx.User.Create().SetUsername(username).SetEmail(email).
			SetPasswordHash("").SetEmailVerified(ident.EmailVerified).SetSessionsValidAfter(issued))
		if err != nil {
			return err
		}
		return tx.Identity.Create().SetUserID(u.ID).SetProvider(ident.Provider).SetSubject(ident.Subject).
			SetEmail(ident.Email).SetLinkedAt(s.Now()).Exec(sys)
	})
	if ent.IsConstraintError(err) {
		// Another callback took the name, address or identity meanwhile.
		return nil, &social.Error{Code: CodeServerError, Err: fmt.Errorf("creating the account raced another: %w", err)}
	}
	return u, err
}

// freeUsername is base, or base with the first free numeric suffix.
func freeUsername(ctx context.Context, tx *ent.Tx, base string) (string, error) {
	for i := 1; i < 1000; i++ {
		name := base
		if i > 1 {
			name = base + "_" + strconv.Itoa(i)
		}
		if _, err := account.NormalizeUsername("username", name); err != nil {
			continue // reserved
		}
		taken, err := NameTaken(ctx, tx, name)
		if err != nil || !taken {
			return name, err
		}
	}
	return "", fmt.Errorf("no free username from %q", base)
}

// linkIdentity links ident to the account userID (already linked to it:
// nothing to do; to another account: refused), records it and tells the
// owner.
func (s *Service) linkIdentity(ctx context.Context, userID int, ident social.Identity) error {
	sys := policy.System(ctx)
	var u *ent.User
	err := database.WithTx(sys, s.DB, func(tx *ent.Tx) error {
		var err error
		// Locked: two links at once count each other against MaxIdentities.
		if u, err = lockedUser(sys, tx, userID); err != nil {
			return err
		}
		current, err := tx.Identity.Query().Where(identity.Provider(ident.Provider), identity.Subject(ident.Subject)).Only(sys)
		switch {
		case err == nil && current.UserID == userID:
			u = nil // nothing new to tell
			return nil
		case err == nil:
			return &social.Error{Code: CodeIdentityInUse, Err: fmt.Errorf("%s identity %s signs in to account %d", ident.Provider, ident.Subject, current.UserID)}
		case !ent.IsNotFound(err):
			return err
		}
		n, err := tx.Identity.Query().Where(identity.UserID(userID)).Count(sys)
		if err != nil {
			return err
		}
		if n >= MaxIdentities {
			return &social.Error{Code: CodeIdentityInUse, Err: fmt.Errorf("account %d has %d identities already", userID, n)}
		}
		if err := tx.Identity.Create().SetUserID(userID).SetProvider(ident.Provider).SetSubject(ident.Subject).
			SetEmail(ident.Email).SetLinkedAt(s.Now()).Exec(sys); err != nil {
			return err
		}
		if err := audit.Record(sys, tx.Client(), userID, securityevent.KindIDENTITY_LINKED, identityDetail(ident.Provider, ident.Email)); err != nil {
			return err
		}
		return s.mail(sys, tx, u, "A sign-in was linked to your fleetgate account", fmt.Sprintf(
			"The fleetgate account %s can now be signed in to with %s.\n\n"+
				"If it was not you, sign in, unlink it (unlinkIdentity) and change your password at once (%s/password-reset).\n",
			u.Username, identityDetail(ident.Provider, ident.Email), s.PublicURL))
	})
	return err
}

func identityDetail(provider, email string) string {
	if email == "" {
		return provider
	}
	return provider + " (" + email + ")"
}

// LinkIdentity returns the start URL that links an identity at provider to
// the caller's account, for a session that signed in recently: the ticket
// in it works once, within LinkTicketLifetime. redirect, if given, is
// where the flow ends (else the dashboard appends &redirect=).
func (s *Service) LinkIdentity(ctx context.Context, provider string, redirect *string) (string, error) {
	v, err := viewer.RequireRecentSession(ctx, "linkIdentity", s.Now())
	if err != nil {
		return "", err
	}
	if !s.Social.Enabled(provider) {
		return "", errNoProvider
	}
	q := url.Values{}
	if redirect != nil {
		target, err := s.Social.CheckRedirect(*redirect)
		if err != nil {
			return "", fault.Input("redirect", "redirect must be a URL on an allowed origin (SOCIAL_REDIRECT_ORIGINS)")
		}
		q.Set("redirect", target)
	}
	ticket, err := s.issueCode(ctx, v.UserID, logincode.PurposeLINK, provider, LinkTicketLifetime)
	if err != nil {
		return "", err
	}
	q.Set("link", ticket)
	return s.PublicURL + "/auth/" + provider + "/start?" + q.Encode(), nil
}

// Identities are u's linked identities, oldest first; the caller must be u.
func (s *Service) Identities(ctx context.Context, u *ent.User) ([]*ent.Identity, error) {
	return s.DB.Identity.Query().Where(identity.UserID(u.ID)).Order(ent.Asc(identity.FieldLinkedAt), ent.Asc(identity.FieldID)).All(ctx)
}

// UnlinkIdentity removes one of the caller's identities, unless it is the
// account's last way to sign in (no password, no other identity).
func (s *Service) UnlinkIdentity(ctx context.Context, id int) (int, error) {
	v, err := viewer.RequireSession(ctx, "unlinkIdentity")
	if err != nil {
		return 0, err
	}
	err = database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		// Locked: two unlinks at once cannot each leave the other as the last.
		u, err := lockedUser(ctx, tx, v.UserID)
		if err != nil {
			return err
		}
		ident, err := tx.Identity.Query().Where(identity.ID(id), identity.UserID(v.UserID)).Only(ctx)
		if ent.IsNotFound(err) {
			return errNoIdentity
		}
		if err != nil {
			return err
		}
		others, err := tx.Identity.Query().Where(identity.UserID(v.UserID), identity.IDNEQ(id)).Count(ctx)
		if err != nil {
			return err
		}
		if u.PasswordHash == "" && others == 0 {
			return fault.New(fault.Forbidden, "this identity is the account's only way to sign in: set a password (setPassword) or link another identity first")
		}
		if err := tx.Identity.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), v.UserID, securityevent.KindIDENTITY_UNLINKED, ident.Provider)
	})
	return id, err
}

// issueCode stores a new one-time code and returns it.
func (s *Service) issueCode(ctx context.Context, userID int, purpose logincode.Purpose, provider string, lifetime time.Duration) (string, error) {
	code, err := newLinkSecret()
	if err != nil {
		return "", err
	}
	err = s.DB.LoginCode.Create().SetHash(linkHash(code)).SetPurpose(purpose).SetProvider(provider).
		SetUserID(userID).SetExpiresAt(s.Now().UTC().Add(lifetime)).Exec(ctx)
	return code, err
}

// spendCode deletes a live code of purpose for provider and returns its
// account.
func (s *Service) spendCode(ctx context.Context, code string, purpose logincode.Purpose, provider string) (int, error) {
	row, err := s.DB.LoginCode.Query().Where(logincode.Hash(linkHash(code)), logincode.PurposeEQ(purpose),
		logincode.Provider(provider), logincode.ExpiresAtGT(s.Now().UTC())).Only(ctx)
	if err != nil {
		return 0, err
	}
	n, err := s.DB.LoginCode.Delete().Where(logincode.ID(row.ID)).Exec(ctx)
	if err == nil && n != 1 {
		err = errors.New("the code was spent meanwhile")
	}
	return row.UserID, err
}

// refusedAt is target with ?error=code.
func refusedAt(target, code string) string {
	return social.WithQuery(target, "error", code)
}

// codeOf is err's flow code, CodeServerError for anything unforeseen.
func codeOf(err error) string {
	if c := social.ErrorCode(err); c != "" {
		return c
	}
	return CodeServerError
}

// errOr is err, or fallback when err is nil.
func errOr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}
