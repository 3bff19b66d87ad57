package auth

import (
	"context"
	stdsql "database/sql"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect/sql"

	"fleetgate/ent"
	entsession "fleetgate/ent/session"
	"fleetgate/ent/user"
	"fleetgate/internal/apikey"
	"fleetgate/internal/database"
	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
	"fleetgate/internal/token"
	"fleetgate/internal/viewer"
)

var (
	errBadCredential  = fault.New(fault.Unauthenticated, "invalid credential: sign in again")
	errExpiredSession = fault.New(fault.Unauthenticated, "session token expired: sign in again")
	errEndedSession   = fault.New(fault.Unauthenticated, "session ended (signed out, revoked, timed out or password changed): sign in again")
)

// Authenticate turns an Authorization header into the caller and, for a
// user, the user's row as it read it (nil for a provisioning key).
func (s *Service) Authenticate(ctx context.Context, header string) (*viewer.Viewer, *ent.User, error) {
	if header == "" {
		return nil, nil, viewer.ErrSignIn
	}
	scheme, credential, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || credential == "" {
		return nil, nil, fault.New(fault.Unauthenticated, "the Authorization header must be: Bearer <session token or API key>")
	}
	credential = strings.TrimSpace(credential)
	if apikey.LooksLikeKey(credential) {
		return s.authenticateAPIKey(ctx, credential)
	}
	if apikey.Provisioning.Matches(credential) {
		v, err := s.authenticateProvisioningKey(ctx, credential)
		return v, nil, err
	}
	return s.authenticateSession(ctx, credential)
}

// lastAuthentication holds what the request's latest authentication read: the caller's row,
// so that me answers without reading it again.
type lastAuthentication struct{ last atomic.Pointer[authenticated] }

type authenticated struct {
	viewer *viewer.Viewer
	user   *ent.User
}

type lastAuthenticationKey struct{}

// WithAuthenticator returns ctx with an authenticator that runs
// Authenticate and keeps the user it read (CallerRow).
func (s *Service) WithAuthenticator(ctx context.Context, header string) context.Context {
	held := &lastAuthentication{}
	ctx = context.WithValue(ctx, lastAuthenticationKey{}, held)
	return viewer.WithAuthenticator(ctx, func() (*viewer.Viewer, error) {
		v, u, err := s.Authenticate(ctx, header)
		if err == nil && u != nil {
			held.last.Store(&authenticated{v, u})
		}
		return v, err
	})
}

// CallerRow is v's row if the authentication that returned v read it.
// A mutation's later root fields authenticate afresh (viewer.Fresh), and
// get the row that authentication read.
func CallerRow(ctx context.Context, v *viewer.Viewer) *ent.User {
	held, _ := ctx.Value(lastAuthenticationKey{}).(*lastAuthentication)
	if held == nil {
		return nil
	}
	if a := held.last.Load(); a != nil && a.viewer == v {
		return a.user
	}
	return nil
}

// authenticateSession checks a session token. A full one names its session
// (sid), read with its user in one indexed statement, as an API key is
// (README "Performance"): a revoked session is deleted, so it fails at once
// on every instance. A pending one has no session yet; its user is read.
func (s *Service) authenticateSession(ctx context.Context, raw string) (*viewer.Viewer, *ent.User, error) {
	now := s.Now()
	sess, err := s.Tokens.ParseSession(raw, now)
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
	v := &viewer.Viewer{UserID: id, Credential: viewer.Session, AuthTime: sess.AuthTime, IssuedAt: sess.IssuedAt}
	var u *ent.User
	if sess.Pending {
		v.Credential, v.FirstFactor = viewer.PendingSession, sess.FirstFactor
		if sess.SessionID != "" {
			return nil, nil, errBadCredential
		}
		u, err = s.DB.User.Get(ctx, id)
	} else {
		if v.SessionID, err = strconv.Atoi(sess.SessionID); err != nil {
			return nil, nil, errBadCredential // no sid: a token from before sessions
		}
		u, err = s.sessionOwner(ctx, v, now)
	}
	switch {
	case ent.IsNotFound(err):
		return nil, nil, errEndedSession // revoked, timed out, or the account was deleted
	case err != nil:
		return nil, nil, err
	case sessionEnded(u, sess.IssuedAt):
		return nil, nil, errEndedSession
	}
	return v, u, nil
}

// sessionOwner reads the user of v's session, if the session is theirs and
// live at now (errEndedSession otherwise), and records its use when
// lastUsedAt is stale.
func (s *Service) sessionOwner(ctx context.Context, v *viewer.Viewer, now time.Time) (*ent.User, error) {
	idleBound, ageBound := s.Sessions.endBounds(now)
	stale := now.UTC().Add(-s.Sessions.useResolution())
	var lastUsedAt time.Time
	u, err := s.userRow(ctx, sessionUser, []any{&lastUsedAt}, v.SessionID, v.UserID, idleBound, ageBound)
	switch {
	case err != nil:
		return nil, err
	case u == nil:
		return nil, errEndedSession // revoked, timed out, or the account was deleted
	}
	if lastUsedAt.Before(stale) {
		// Conditional, so concurrent requests write once; its failure
		// never fails the request.
		err := s.DB.Session.Update().Where(entsession.ID(v.SessionID), entsession.LastUsedAtLT(stale)).
			SetLastUsedAt(now.UTC()).Exec(policy.System(ctx))
		if err != nil {
			s.Log.WarnContext(ctx, "recording session use failed", "session", v.SessionID, "err", err)
		}
	}
	return u, nil
}

// sessionUser reads a live session's user in one statement (README
// "Performance"). Its values: the session's id, the user's id and the
// bounds of SessionLimits.endBounds. Beside the user's columns it selects
// the session's lastUsedAt. Nobody is signed in until the session is
// found: no privacy rule applies.
var sessionUser = database.NewStatement(4, func(d string, p ...any) sql.Querier {
	sessionID, userID, idleBound, ageBound := p[0], p[1], p[2], p[3]
	users, sessions := sql.Table(user.Table), sql.Table(entsession.Table)
	q := sql.Dialect(d).Select(users.Columns(user.Columns...)...).From(users)
	q.Join(sessions).On(users.C(user.FieldID), sessions.C(entsession.FieldUserID)) // names sessions (t1)
	lastUsedAt := sessions.C(entsession.FieldLastUsedAt)
	return q.AppendSelect(lastUsedAt).
		Where(sql.And(
			sql.EQ(sessions.C(entsession.FieldID), sessionID),
			sql.EQ(users.C(user.FieldID), userID),
			sql.Not(ended(lastUsedAt, sessions.C(entsession.FieldCreatedAt), idleBound, ageBound)),
		))
})

// userRow runs stmt, an authentication statement that selects a user's
// columns and then extra's, with values: the user, or nil when no row
// matches.
func (s *Service) userRow(ctx context.Context, stmt *database.Statement, extra []any, values ...any) (*ent.User, error) {
	var u *ent.User
	_, err := stmt.QueryRow(ctx, s.DB, func(rows *stdsql.Rows) (err error) {
		u, err = s.DB.User.ScanRow(rows, user.Columns, extra...)
		return err
	}, values...)
	if err != nil {
		return nil, err
	}
	return u, nil
}
