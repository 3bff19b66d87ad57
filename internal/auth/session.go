package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"

	"fleetgate/ent"
	"fleetgate/ent/predicate"
	"fleetgate/ent/securityevent"
	entsession "fleetgate/ent/session"
	"fleetgate/internal/audit"
	"fleetgate/internal/clientip"
	"fleetgate/internal/database"
	"fleetgate/internal/fault"
	"fleetgate/internal/token"
	"fleetgate/internal/viewer"
)

// Session is what a sign-in (or a refresh) hands the client.
type Session struct {
	Token             string
	ExpiresAt         time.Time
	TwoFactorRequired bool
	// DeviceToken is set when a sign-in completes (README "Abuse limits").
	DeviceToken *string
	User        *ent.User
	// Method is how the person signed in; empty for a refreshed session
	// (tokens do not carry it).
	Method Method
}

// SessionLimits say how long a server-side session lasts (README
// "Sessions").
type SessionLimits struct {
	// IdleTimeout ends a session that authenticated no request for this
	// long (SESSION_IDLE_TIMEOUT).
	IdleTimeout time.Duration
	// MaxAge ends a session this long after its sign-in, however often it
	// was refreshed (SESSION_MAX_AGE).
	MaxAge time.Duration
}

// DefaultSessionLimits: a week idle, thirty days in all.
var DefaultSessionLimits = SessionLimits{IdleTimeout: 7 * 24 * time.Hour, MaxAge: 30 * 24 * time.Hour}

// Validate refuses limits that would end every session at once.
func (l SessionLimits) Validate() error {
	if l.IdleTimeout <= 0 || l.MaxAge <= 0 {
		return errors.New("session timeouts must be positive durations")
	}
	return nil
}

// useResolution is how stale lastUsedAt may be: it is written at most once
// a minute per session, so a busy session costs no write per request; at
// most once per half the idle timeout when that is shorter, so a session in
// use never times out for want of a write.
func (l SessionLimits) useResolution() time.Duration {
	return min(lastUsedResolution, l.IdleTimeout/2)
}

// endBounds are the instants a session has ended by at now (ended): idle
// since before idle, or begun before age. Sessions are stored in UTC, and
// SQLite compares times as text.
func (l SessionLimits) endBounds(now time.Time) (idle, age time.Time) {
	now = now.UTC()
	return now.Add(-l.IdleTimeout), now.Add(-l.MaxAge)
}

// ended is the condition, in SQL, that a session whose columns lastUsedAt
// and createdAt are named has ended, given its endBounds.
func ended(lastUsedAt, createdAt string, idleBound, ageBound any) *sql.Predicate {
	return sql.Or(sql.LTE(lastUsedAt, idleBound), sql.LTE(createdAt, ageBound))
}

// live narrows a query of sessions to those that have not ended at now.
func (l SessionLimits) live(now time.Time) predicate.Session {
	idle, age := l.endBounds(now)
	return func(s *sql.Selector) {
		s.Where(sql.Not(ended(s.C(entsession.FieldLastUsedAt), s.C(entsession.FieldCreatedAt), idle, age)))
	}
}

var errNoSession = fault.New(fault.NotFound, "no such session (or it has ended)")

// issueSession signs a session token for u, issued at the instant issued,
// with authTime the moment u last proved who they are, by method. A token
// of the session row expires when the session reaches its maximum age at
// the latest; without a row (nil) the token is pending: it owes the second
// factor and has no session yet.
//
// Ending a user's sessions also moves sessionsValidAfter past every token
// issued so far (advanceSessions); tokens whose iat (millisecond precision)
// is before it are refused. That covers the sign-in that raced with it
// (a login with the old password) and pending tokens. Two rules keep that
// exact under concurrency:
//   - issued is read from the clock BEFORE the caller reads u: if sessions
//     end after that read, the new value is later than issued and this token
//     is refused too;
//   - iat is never earlier than u.SessionsValidAfter, so a token issued in
//     the same millisecond as, but after, the end of sessions still works.
func (s *Service) issueSession(u *ent.User, row *ent.Session, issued, authTime time.Time, method Method) (*Session, error) {
	if validAfter := u.SessionsValidAfter.Truncate(time.Millisecond); issued.Before(validAfter) {
		issued = validAfter
	}
	sess := token.Session{UserID: strconv.Itoa(u.ID), IssuedAt: issued, AuthTime: authTime, Pending: row == nil}
	if sess.Pending {
		sess.FirstFactor = string(method)
	}
	if row != nil {
		sess.SessionID = strconv.Itoa(row.ID)
		sess.Expires = row.CreatedAt.Add(s.Sessions.MaxAge)
	}
	signed, err := s.Tokens.IssueSession(sess)
	if err != nil {
		return nil, err
	}
	return &Session{
		Token:             signed,
		ExpiresAt:         sess.ExpiresAt(),
		TwoFactorRequired: sess.Pending,
		User:              u,
		Method:            method,
	}, nil
}

// pendingSession is the token of a sign-in that still owes the second
// factor: no session row, and so no entry in me.sessions, until it is given.
func (s *Service) pendingSession(u *ent.User, issued time.Time, method Method) (*Session, error) {
	return s.issueSession(u, nil, issued, issued, method)
}

// startSession begins a session of u, signed in at issued by method, from
// the client of ctx.
func (s *Service) startSession(ctx context.Context, u *ent.User, issued, authTime time.Time, method Method) (*Session, error) {
	row, err := s.DB.Session.Create().SetUserID(u.ID).SetCreatedAt(issued.UTC()).SetLastUsedAt(issued.UTC()).
		SetValidAfter(u.SessionsValidAfter).SetClientAddress(clientAddress(ctx)).SetUserAgent(UserAgent(ctx)).SetSignInMethod(string(method)).Save(ctx)
	if err != nil {
		return nil, err
	}
	return s.issueSession(u, row, issued, authTime, method)
}

// continueSession hands the caller's session a new token, for u as read
// after issued, the caller having just proved who they are by method (""
// for a refresh): the session goes on (same sid, same place in
// me.sessions). A caller without one (an API key) begins one.
func (s *Service) continueSession(ctx context.Context, v *viewer.Viewer, u *ent.User, issued, authTime time.Time, method Method) (*Session, error) {
	if v.SessionID == 0 {
		return s.startSession(ctx, u, issued, authTime, method)
	}
	row, err := s.DB.Session.Query().Where(entsession.ID(v.SessionID), entsession.UserID(u.ID), s.Sessions.live(s.Now())).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errEndedSession
	}
	if err != nil {
		return nil, err
	}
	return s.issueSession(u, row, issued, authTime, method)
}

// signedIn completes a sign-in to u: a session, and a device token by which
// this client's later logins to u are known (README "Abuse limits"). A
// pending session gets neither: they are handed out only once the second
// factor is given too, so a stolen password alone does not earn one.
func (s *Service) signedIn(ctx context.Context, u *ent.User, issued, authTime time.Time, method Method) (*Session, error) {
	p, err := s.startSession(ctx, u, issued, authTime, method)
	if err != nil {
		return nil, err
	}
	device, _, err := s.Tokens.IssueDevice(strconv.Itoa(u.ID), issued)
	if err != nil {
		return nil, err
	}
	p.DeviceToken = &device
	return p, nil
}

// clientAddress is the address a session signs in from, as stored.
func clientAddress(ctx context.Context) string {
	if a := clientip.FromContext(ctx); a.IsValid() {
		return a.String()
	}
	return ""
}

// maxUserAgent is how many characters of a User-Agent header a session keeps.
const maxUserAgent = 256

type userAgentKey struct{}

// WithUserAgent returns ctx carrying the request's User-Agent header, which
// a session begun by the request records.
func WithUserAgent(ctx context.Context, header string) context.Context {
	return context.WithValue(ctx, userAgentKey{}, header)
}

// UserAgent is the User-Agent of ctx's request as a session records it:
// valid UTF-8 without control characters, at most maxUserAgent characters.
func UserAgent(ctx context.Context) string {
	header, _ := ctx.Value(userAgentKey{}).(string)
	header = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(header, ""))
	if utf8.RuneCountInString(header) > maxUserAgent {
		header = string([]rune(header)[:maxUserAgent])
	}
	return strings.TrimSpace(header)
}

// knownDevice returns the ID of deviceToken if it is a valid device token
// of the account u. Anything else (no account, no token, another account's,
// expired, altered, a session) is as if no token had been sent: telling
// them apart would only help an attacker.
func (s *Service) knownDevice(u *ent.User, deviceToken *string) (string, bool) {
	if u == nil || deviceToken == nil {
		return "", false
	}
	device, err := s.Tokens.ParseDevice(*deviceToken, s.Now())
	if err != nil || device.UserID != strconv.Itoa(u.ID) {
		return "", false
	}
	return device.ID, true
}

// sessionEnded reports whether a token issued at iat was ended for u.
func sessionEnded(u *ent.User, iat time.Time) bool {
	return iat.Before(u.SessionsValidAfter.Truncate(time.Millisecond))
}

// advanceSessions ends, within tx, every session of the user but keep (0
// for none) and every token issued up to now, and returns the updated user
// and how many sessions ended:
// the session kept goes on with a new token (continueSession). The new
// sessionsValidAfter is one millisecond past now and always later than the
// current value, so tokens issued in between (clamped to the current value)
// end too. The row is locked while it is read and moved forward.
func (s *Service) advanceSessions(ctx context.Context, tx *ent.Tx, userID, keep int) (*ent.User, int, error) {
	u, err := lockedUser(ctx, tx, userID)
	if err != nil {
		return nil, 0, err
	}
	n, err := deleteSessions(ctx, tx, userID, keep)
	if err != nil {
		return nil, 0, err
	}
	next := s.Now().Truncate(time.Millisecond).Add(time.Millisecond)
	if current := u.SessionsValidAfter.Truncate(time.Millisecond); !next.After(current) {
		next = current.Add(time.Millisecond)
	}
	u, err = tx.User.UpdateOne(u).SetSessionsValidAfter(next).Save(ctx)
	if err != nil || keep == 0 {
		return u, n, err
	}
	// The session kept goes on under the new value (see LiveSessions).
	return u, n, tx.Session.Update().Where(entsession.ID(keep)).SetValidAfter(u.SessionsValidAfter).Exec(ctx)
}

// deleteSessions deletes the user's sessions but keep, and says how many.
func deleteSessions(ctx context.Context, tx *ent.Tx, userID, keep int) (int, error) {
	return tx.Session.Delete().Where(entsession.UserID(userID), entsession.IDNEQ(keep)).Exec(ctx)
}

// RefreshToken exchanges the caller's session token for a new one of the
// same session, with the same moment of sign-in.
func (s *Service) RefreshToken(ctx context.Context) (*Session, error) {
	v, err := viewer.RequireSession(ctx, "refreshToken")
	if err != nil {
		return nil, err
	}
	issued := s.Now() // before reading the account: see issueSession
	u, err := s.sessionUser(ctx, v)
	if err != nil {
		return nil, err
	}
	return s.continueSession(ctx, v, u, issued, v.AuthTime, "")
}

// sessionUser reads the account of a session token that is about to be
// exchanged for a new one, checking again that its sessions have not ended
// since the caller was authenticated.
func (s *Service) sessionUser(ctx context.Context, v *viewer.Viewer) (*ent.User, error) {
	u, err := s.DB.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	if sessionEnded(u, v.IssuedAt) {
		return nil, errEndedSession
	}
	return u, nil
}

// SignOutEverywhere ends every session of the caller; with keepCurrent,
// every other one. A pending sign-in (owing the second factor) ends only
// without keepCurrent: its token is refused with the caller's own.
func (s *Service) SignOutEverywhere(ctx context.Context, keepCurrent bool) (bool, error) {
	v, err := viewer.RequireAccount(ctx)
	if err != nil {
		return false, err
	}
	keep := 0
	if keepCurrent {
		keep = v.SessionID
	}
	err = database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		var n int
		if keep == 0 {
			_, n, err = s.advanceSessions(ctx, tx, v.UserID, 0)
		} else {
			n, err = deleteSessions(ctx, tx, v.UserID, keep)
		}
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("signed out everywhere: sessions ended: %d", n)
		if keep != 0 {
			detail += " (all but the one signing out)"
		}
		return audit.Record(ctx, tx.Client(), v.UserID, securityevent.KindSESSION_REVOKED, detail)
	})
	return err == nil, err
}

// LiveSessions is the query of u's sessions that have not ended (their
// user's to read: the privacy rule of sessions).
func (s *Service) LiveSessions(u *ent.User) *ent.SessionQuery {
	return s.DB.Session.Query().Where(entsession.UserID(u.ID), s.Sessions.live(s.Now()),
		// Not one a later end of sessions ended (a sign-in that raced it).
		entsession.Or(entsession.ValidAfterIsNil(), entsession.ValidAfterGTE(u.SessionsValidAfter)))
}

// RevokeSession ends one of the caller's sessions (its own too: that is
// signing out). It fails at once on every instance: each request reads its
// session's row.
func (s *Service) RevokeSession(ctx context.Context, id int) (int, error) {
	v, err := viewer.RequireAccount(ctx)
	if err != nil {
		return 0, err
	}
	err = database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		row, err := tx.Session.Query().Where(entsession.ID(id), entsession.UserID(v.UserID), s.Sessions.live(s.Now())).Only(ctx)
		if ent.IsNotFound(err) {
			return errNoSession
		}
		if err != nil {
			return err
		}
		// Conditional: of two revocations at once, one revokes.
		if n, err := tx.Session.Delete().Where(entsession.ID(id), entsession.UserID(v.UserID)).Exec(ctx); err != nil || n != 1 {
			if err == nil {
				err = errNoSession
			}
			return err
		}
		detail := "a session signed in with " + row.SignInMethod
		if row.ClientAddress != "" {
			detail += " from " + row.ClientAddress
		}
		return audit.Record(ctx, tx.Client(), v.UserID, securityevent.KindSESSION_REVOKED, detail)
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// PruneSessions deletes the sessions that have ended by now, for a periodic
// sweep (an ended session is refused whether or not its row is gone).
func PruneSessions(ctx context.Context, db *ent.Client, limits SessionLimits, now time.Time) (int, error) {
	idle, age := limits.endBounds(now)
	return db.Session.Delete().Where(func(s *sql.Selector) {
		s.Where(ended(s.C(entsession.FieldLastUsedAt), s.C(entsession.FieldCreatedAt), idle, age))
	}).Exec(ctx)
}
