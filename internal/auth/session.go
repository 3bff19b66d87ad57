package auth

import (
	"context"
	"strconv"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/user"
	"fleetgate/internal/database"
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

// issueSession signs a session token for u, issued at the instant issued,
// with authTime the moment u last proved who they are, by method.
//
// Ending a user's sessions moves sessionsValidAfter past every token issued
// so far (endSessions); tokens whose iat (millisecond precision) is before
// it are refused. Two rules keep that exact under concurrency:
//   - issued is read from the clock BEFORE the caller reads u: if sessions
//     end after that read, the new value is later than issued and this token
//     is refused too;
//   - iat is never earlier than u.SessionsValidAfter, so a token issued in
//     the same millisecond as, but after, the end of sessions still works.
func (s *Service) issueSession(u *ent.User, issued, authTime time.Time, method Method, pending bool) (*Session, error) {
	if validAfter := u.SessionsValidAfter.Truncate(time.Millisecond); issued.Before(validAfter) {
		issued = validAfter
	}
	sess := token.Session{UserID: strconv.Itoa(u.ID), IssuedAt: issued, AuthTime: authTime, Pending: pending}
	signed, err := s.Tokens.IssueSession(sess)
	if err != nil {
		return nil, err
	}
	return &Session{
		Token:             signed,
		ExpiresAt:         token.SessionExpiry(issued, pending),
		TwoFactorRequired: pending,
		User:              u,
		Method:            method,
	}, nil
}

// signedIn completes a sign-in to u: a full session, and a device token by
// which this client's later logins to u are known (README "Abuse limits").
// A pending session gets none: the token is handed out only once the second
// factor is given too, so a stolen password alone does not earn one.
func (s *Service) signedIn(u *ent.User, issued, authTime time.Time, method Method) (*Session, error) {
	p, err := s.issueSession(u, issued, authTime, method, false)
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

// endSessions ends every session token of the user issued up to now.
func (s *Service) endSessions(ctx context.Context, userID int) error {
	return database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		_, err := s.advanceSessions(ctx, tx, userID)
		return err
	})
}

// advanceSessions ends, within tx, every session token of the user issued
// up to now, and returns the updated user. The new sessionsValidAfter is one
// millisecond past now and always later than the current value, so tokens
// issued in between (clamped to the current value) end too. The row is
// locked while it is read and moved forward.
func (s *Service) advanceSessions(ctx context.Context, tx *ent.Tx, userID int) (*ent.User, error) {
	u, err := tx.User.Query().Where(user.ID(userID)).Modify(database.LockRow).Only(ctx)
	if err != nil {
		return nil, err
	}
	next := s.Now().Truncate(time.Millisecond).Add(time.Millisecond)
	if current := u.SessionsValidAfter.Truncate(time.Millisecond); !next.After(current) {
		next = current.Add(time.Millisecond)
	}
	return tx.User.UpdateOne(u).SetSessionsValidAfter(next).Save(ctx)
}

// RefreshToken exchanges the caller's session token for a new one, with the
// same moment of sign-in.
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
	return s.issueSession(u, issued, v.AuthTime, "", false)
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

// SignOutEverywhere ends every session of the caller.
func (s *Service) SignOutEverywhere(ctx context.Context) (bool, error) {
	v, err := viewer.RequireAccount(ctx)
	if err != nil {
		return false, err
	}
	err = s.endSessions(ctx, v.UserID)
	return err == nil, err
}
