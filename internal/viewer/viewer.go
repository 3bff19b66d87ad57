// Package viewer carries the caller of a request through its context.
//
// The HTTP layer attaches a lazy authenticator; the first field that needs
// the caller runs it, and every later field (and ent privacy rule) gets the
// same answer. Requests that never ask, such as signUp, never pay for a
// database lookup. The package imports nothing of ent, so privacy rules in
// ent/schema can use it without an import cycle.
package viewer

import (
	"context"
	"sync"
	"time"

	"fleetgate/internal/access"
	"fleetgate/internal/fault"
)

// Credential says how the caller authenticated.
type Credential int

const (
	// Session is a session token with every factor satisfied.
	Session Credential = iota + 1
	// PendingSession is a session token still owing the second factor.
	PendingSession
	// APIKey is a named API key.
	APIKey
	// Provisioning is a device provisioning key: it registers devices in
	// one application (ApplicationID) and does nothing else.
	Provisioning
)

// String names the kind of credential, for logs and metrics.
func (c Credential) String() string {
	switch c {
	case Session:
		return "session"
	case PendingSession:
		return "pending_session"
	case APIKey:
		return "api_key"
	case Provisioning:
		return "provisioning_key"
	}
	return "unknown"
}

// Viewer is an authenticated caller.
type Viewer struct {
	UserID     int
	Credential Credential
	// AuthTime is when the user last proved who they are; kept across refreshes.
	AuthTime time.Time
	// IssuedAt is when the session token was issued (sessions only).
	IssuedAt time.Time
	// SessionID is the server-side session of a full session token.
	SessionID int
	// FirstFactor is how a pending session gave its first factor (an
	// auth.Method: the password or a social login's provider).
	FirstFactor string
	// APIKeyID is the key used, when Credential is APIKey.
	APIKeyID int
	// ApplicationID is the application a provisioning key is for.
	ApplicationID int
	// Scope narrows a scoped API key below its owner's roles (README
	// "Scoped API keys"); nil for every other credential.
	Scope *access.Scope
}

type ctxKey struct{}

// lazy is a context's viewer: authenticate, run at most once by get.
type lazy struct {
	authenticate func() (*Viewer, error)
	get          func() (*Viewer, error)
}

// WithAuthenticator returns a context whose viewer is computed by
// authenticate on first use, at most once.
func WithAuthenticator(ctx context.Context, authenticate func() (*Viewer, error)) context.Context {
	return context.WithValue(ctx, ctxKey{}, lazy{authenticate, sync.OnceValues(authenticate)})
}

// Fresh returns ctx with its viewer forgotten: the credential is checked
// again, once, when next asked for. Each root field of a mutation runs
// with a fresh viewer, so a credential ended by a field before it, or by
// anyone meanwhile, acts no more (README "Limits").
func Fresh(ctx context.Context) context.Context {
	l, ok := ctx.Value(ctxKey{}).(lazy)
	if !ok {
		return ctx
	}
	return WithAuthenticator(ctx, l.authenticate)
}

// Observe returns ctx whose authenticator also tells observe of every
// caller it authenticates, now or after Fresh: the request log names the
// caller without authenticating a request that never asked who it is.
func Observe(ctx context.Context, observe func(*Viewer)) context.Context {
	l, ok := ctx.Value(ctxKey{}).(lazy)
	if !ok {
		return ctx
	}
	return WithAuthenticator(ctx, func() (*Viewer, error) {
		v, err := l.authenticate()
		if err == nil {
			observe(v)
		}
		return v, err
	})
}

// WithViewer returns a context with an already known viewer.
func WithViewer(ctx context.Context, v *Viewer) context.Context {
	return WithAuthenticator(ctx, func() (*Viewer, error) { return v, nil })
}

// FromContext returns the caller, or an UNAUTHENTICATED error saying why
// there is none. A caller still owing the second factor is returned as is:
// use Require to refuse it.
func FromContext(ctx context.Context) (*Viewer, error) {
	l, ok := ctx.Value(ctxKey{}).(lazy)
	if !ok {
		return nil, ErrSignIn
	}
	return l.get()
}

// ErrSignIn is the answer to a request without credentials.
var ErrSignIn = fault.New(fault.Unauthenticated, "sign in first: send Authorization: Bearer <session token or API key>")

// Require returns the user calling, refusing a session that still owes the
// second factor (TWO_FACTOR_REQUIRED) and a provisioning key, which acts
// for no user (FORBIDDEN).
func Require(ctx context.Context) (*Viewer, error) {
	v, err := RequireFirstFactor(ctx)
	if err == nil && v.Credential == PendingSession {
		return nil, ErrTwoFactorRequired
	}
	return v, err
}

// RequireFirstFactor is Require accepting a session that still owes the
// second factor: the caller has proved their password, for verifyTwoFactor
// and the limited me.
func RequireFirstFactor(ctx context.Context) (*Viewer, error) {
	v, err := FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if v.Credential == Provisioning {
		return nil, ErrProvisioningOnly
	}
	return v, nil
}

// ErrTwoFactorRequired refuses a session that still owes the second factor.
var ErrTwoFactorRequired = fault.New(fault.TwoFactorRequired, "enter your two-factor code first (verifyTwoFactor)")

// ErrProvisioningOnly refuses a provisioning key anything but registering
// devices.
var ErrProvisioningOnly = fault.New(fault.Forbidden, "a provisioning key can only register devices (registerDevice) in its application")

// RequireAccount is Require for what reads or changes the account itself
// rather than its applications (its email, keys, sessions, security
// events, organizations, passwords, two-factor settings): a scoped API key
// acts only on its applications and is refused (ErrScopedKey).
func RequireAccount(ctx context.Context) (*Viewer, error) {
	v, err := Require(ctx)
	if err != nil {
		return nil, err
	}
	if v.Scope != nil {
		return nil, ErrScopedKey
	}
	return v, nil
}

// ErrScopedKey refuses a scoped API key what concerns the account.
var ErrScopedKey = fault.New(fault.Forbidden, "this API key is scoped: it acts only on the applications of its scope and cannot read or change the account (use a session token)")

// RequireSession is RequireAccount for operations that mint credentials: an
// API key is refused (FORBIDDEN).
func RequireSession(ctx context.Context, operation string) (*Viewer, error) {
	v, err := RequireAccount(ctx)
	if err != nil {
		return nil, err
	}
	if v.Credential != Session {
		return nil, fault.New(fault.Forbidden, "%s needs a session token: an API key cannot mint credentials", operation)
	}
	return v, nil
}

// PrivilegedSessionAge is how recently a session must have proved who it is
// (auth_time) for operations that would let a stolen token outlive the
// session: pairing an authenticator, creating or rotating an API key,
// setting a first password, linking an identity.
const PrivilegedSessionAge = 15 * time.Minute

// RequireRecentSession is RequireSession for privileged operations: the
// session must have signed in within PrivilegedSessionAge of now (a
// refreshed token keeps its sign-in time), else FORBIDDEN.
func RequireRecentSession(ctx context.Context, operation string, now time.Time) (*Viewer, error) {
	v, err := RequireSession(ctx, operation)
	if err != nil {
		return nil, err
	}
	if now.Sub(v.AuthTime) > PrivilegedSessionAge {
		return nil, fault.New(fault.Forbidden, "%s needs a recent sign-in: log in again (within %v) and retry", operation, PrivilegedSessionAge)
	}
	return v, nil
}
