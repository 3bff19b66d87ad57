package graph

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"

	"fleetgate/ent"
	"fleetgate/ent/user"
	"fleetgate/graph/model"
	"fleetgate/internal/apikey"
	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
	"fleetgate/internal/token"
	"fleetgate/internal/viewer"
)

var (
	errBadCredential  = fault.New(fault.Unauthenticated, "invalid credential: sign in again")
	errExpiredSession = fault.New(fault.Unauthenticated, "session token expired: sign in again")
	errEndedSession   = fault.New(fault.Unauthenticated, "session ended (password changed or signed out everywhere): sign in again")
)

// authenticate turns an Authorization header into the caller and, for a
// user, the user's row as it read it (nil for a provisioning key).
func (d Deps) authenticate(ctx context.Context, header string) (*viewer.Viewer, *ent.User, error) {
	if header == "" {
		return nil, nil, viewer.ErrSignIn
	}
	scheme, credential, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || credential == "" {
		return nil, nil, fault.New(fault.Unauthenticated, "the Authorization header must be: Bearer <session token or API key>")
	}
	credential = strings.TrimSpace(credential)
	if apikey.LooksLikeKey(credential) {
		return d.authenticateAPIKey(ctx, credential)
	}
	if apikey.Provisioning.Matches(credential) {
		v, err := d.authenticateProvisioningKey(ctx, credential)
		return v, nil, err
	}
	return d.authenticateSession(ctx, credential)
}

// lastAuthentication holds what the request's latest authentication read: the caller's row,
// so that me answers without reading it again.
type lastAuthentication struct{ last atomic.Pointer[authenticated] }

type authenticated struct {
	viewer *viewer.Viewer
	user   *ent.User
}

type lastAuthenticationKey struct{}

// withAuthenticator returns ctx with an authenticator that runs authenticate and
// keeps the user it read.
func (d Deps) withAuthenticator(ctx context.Context, header string) context.Context {
	held := &lastAuthentication{}
	ctx = context.WithValue(ctx, lastAuthenticationKey{}, held)
	return viewer.WithAuthenticator(ctx, func() (*viewer.Viewer, error) {
		v, u, err := d.authenticate(ctx, header)
		if err == nil && u != nil {
			held.last.Store(&authenticated{v, u})
		}
		return v, err
	})
}

// callerRow is v's row if the authentication that returned v read it.
// A mutation's later root fields authenticate afresh (viewer.Fresh), and
// get the row that authentication read.
func callerRow(ctx context.Context, v *viewer.Viewer) *ent.User {
	held, _ := ctx.Value(lastAuthenticationKey{}).(*lastAuthentication)
	if held == nil {
		return nil
	}
	if a := held.last.Load(); a != nil && a.viewer == v {
		return a.user
	}
	return nil
}

func (d Deps) authenticateSession(ctx context.Context, raw string) (*viewer.Viewer, *ent.User, error) {
	sess, err := d.Tokens.ParseSession(raw, d.Now())
	switch {
	case errors.Is(err, token.ErrExpired):
		return nil, nil, errExpiredSession
	case err != nil:
		return nil, nil, errBadCredential
	}
	id, err := strconv.Atoi(sess.UserID)
	if err != nil {
		return nil, nil, errBadCredential
	}
	u, err := d.DB.User.Get(ctx, id)
	switch {
	case ent.IsNotFound(err):
		return nil, nil, errBadCredential // the account was deleted
	case err != nil:
		return nil, nil, err
	case sessionEnded(u, sess.IssuedAt):
		return nil, nil, errEndedSession
	}
	kind := viewer.Session
	if sess.Pending {
		kind = viewer.PendingSession
	}
	return &viewer.Viewer{UserID: u.ID, Credential: kind, AuthTime: sess.AuthTime, IssuedAt: sess.IssuedAt}, u, nil
}

// issueSession signs a session token for u, issued at the instant issued,
// with authTime the moment u last proved who they are.
//
// Ending a user's sessions moves sessionsValidAfter past every token issued
// so far (endSessions); tokens whose iat (millisecond precision) is before
// it are refused. Two rules keep that exact under concurrency:
//   - issued is read from the clock BEFORE the caller reads u: if sessions
//     end after that read, the new value is later than issued and this token
//     is refused too;
//   - iat is never earlier than u.SessionsValidAfter, so a token issued in
//     the same millisecond as, but after, the end of sessions still works.
func (d Deps) issueSession(u *ent.User, issued, authTime time.Time, pending bool) (*model.AuthPayload, error) {
	if validAfter := u.SessionsValidAfter.Truncate(time.Millisecond); issued.Before(validAfter) {
		issued = validAfter
	}
	sess := token.Session{UserID: strconv.Itoa(u.ID), IssuedAt: issued, AuthTime: authTime, Pending: pending}
	signed, err := d.Tokens.IssueSession(sess)
	if err != nil {
		return nil, err
	}
	return &model.AuthPayload{
		Token:             signed,
		ExpiresAt:         token.SessionExpiry(issued, pending),
		TwoFactorRequired: pending,
		User:              u,
	}, nil
}

// sessionEnded reports whether a token issued at iat was ended for u.
func sessionEnded(u *ent.User, iat time.Time) bool {
	return iat.Before(u.SessionsValidAfter.Truncate(time.Millisecond))
}

// endSessions ends every session token of the user issued up to now.
func (d Deps) endSessions(ctx context.Context, db *ent.Client, userID int) error {
	return withTx(ctx, db, func(tx *ent.Tx) error {
		_, err := d.advanceSessions(ctx, tx, userID)
		return err
	})
}

// advanceSessions ends, within tx, every session token of the user issued
// up to now, and returns the updated user. The new sessionsValidAfter is one
// millisecond past now and always later than the current value, so tokens
// issued in between (clamped to the current value) end too. The row is
// locked while it is read and moved forward.
func (d Deps) advanceSessions(ctx context.Context, tx *ent.Tx, userID int) (*ent.User, error) {
	u, err := tx.User.Query().Where(user.ID(userID)).Modify(lockRow).Only(ctx)
	if err != nil {
		return nil, err
	}
	next := d.Now().Truncate(time.Millisecond).Add(time.Millisecond)
	if current := u.SessionsValidAfter.Truncate(time.Millisecond); !next.After(current) {
		next = current.Add(time.Millisecond)
	}
	return tx.User.UpdateOne(u).SetSessionsValidAfter(next).Save(ctx)
}

// lockRow makes a query inside a transaction lock the rows it reads, on
// PostgreSQL. SQLite transactions here begin IMMEDIATE: the writer already
// holds the database, and SQLite has no FOR UPDATE.
func lockRow(s *sql.Selector) {
	if s.Dialect() != dialect.SQLite {
		s.ForUpdate()
	}
}

// me loads the caller's own account. A session still owing the second
// factor gets it too, but only id, username and twoFactorEnabled show
// (self): enough for a login page to ask for the code.
func (d Deps) me(ctx context.Context) (*ent.User, error) {
	v, err := viewer.RequireFirstFactor(ctx)
	if err != nil {
		return nil, err
	}
	if u := callerRow(ctx, v); u != nil {
		return u, nil
	}
	return d.DB.User.Get(ctx, v.UserID)
}

// ownAccount refuses fields of a User that only that user may see, and,
// while the second factor is owed, all of them (TWO_FACTOR_REQUIRED). The
// user of an AuthPayload is the person who just proved who they are, even
// though the request itself carried no credential.
func ownAccount(ctx context.Context, u *ent.User) error {
	return self(ctx, u, false)
}

// self decides whether the caller is u; pending accepts a session still
// owing the second factor (the limited me of README "Two-factor authentication").
func self(ctx context.Context, u *ent.User, pending bool) error {
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Parent != nil && fc.Parent.Parent != nil && fc.Parent.Object == "AuthPayload" {
		if p, ok := fc.Parent.Parent.Result.(*model.AuthPayload); (!ok || p.TwoFactorRequired) && !pending {
			return viewer.ErrTwoFactorRequired
		}
		return nil
	}
	require := viewer.Require
	if pending {
		require = viewer.RequireFirstFactor
	}
	v, err := require(ctx)
	if err != nil {
		return err
	}
	if v.UserID != u.ID {
		return fault.New(fault.Forbidden, "only %s can see this", u.Username)
	}
	return nil
}

// email is u's address if the viewer may see it (policy.SeesEmailOf), else
// null: the field is nullable to hide it, from other users and from a
// login that still owes its second factor alike.
func email(ctx context.Context, u *ent.User) (*string, error) {
	if ownAccount(ctx, u) == nil {
		return &u.Email, nil
	}
	ok, err := policy.SeesEmailOf(ctx, u.ID)
	if _, refused := fault.As(err); refused || !ok {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &u.Email, nil
}
