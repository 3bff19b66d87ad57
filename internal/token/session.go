package token

import (
	"errors"
	"time"
)

// SessionLifetime is how long a session token is valid after it is issued.
const SessionLifetime = 7 * 24 * time.Hour

// PendingLifetime is how long a pending token (the second factor still
// owed) is valid: long enough to open an authenticator app, short enough
// that a stolen password alone opens nothing for long.
const PendingLifetime = 10 * time.Minute

// tfaPending is the "tfa" claim of a session that still owes its second factor.
const tfaPending = "pending"

// Session is what a session token says about its bearer.
type Session struct {
	UserID   string    // "sub"
	IssuedAt time.Time // "iat", millisecond precision
	Expires  time.Time // "exp", whole seconds
	// AuthTime ("auth_time", whole seconds) is when the user last proved who
	// they are (password, second factor). Refreshing a token keeps it, so
	// sensitive operations can demand a recent one.
	AuthTime time.Time
	Pending  bool // "tfa":"pending": the second factor is still owed
	// SessionID ("sid") names the server-side session the token belongs
	// to; a pending token has none (README "Sessions").
	SessionID string
	// FirstFactor ("amr", RFC 8176's claim, one value) is how a pending
	// token's bearer gave the first factor: "password" or a social login's
	// provider, for the sign-in event once the second factor is given.
	FirstFactor string
}

type sessionClaims struct {
	claims
	AuthTime *secDate `json:"auth_time,omitempty"`
	TFA      string   `json:"tfa,omitempty"`
	SID      string   `json:"sid,omitempty"`
	AMR      []string `json:"amr,omitempty"`
}

func (c *sessionClaims) validate() error {
	switch {
	case c.Audience.present:
		// Grants for other audiences share the keys; they are not sessions.
		return errors.New("session token carries aud")
	case c.AuthTime == nil:
		return errors.New("missing auth_time")
	case c.TFA != "" && c.TFA != tfaPending:
		return errors.New("unknown tfa state")
	}
	return nil
}

// SessionExpiry is the exp of a session token issued at issued: issued (to
// the millisecond) + SessionLifetime, or PendingLifetime for a pending one,
// in whole seconds.
func SessionExpiry(issued time.Time, pending bool) time.Time {
	lifetime := SessionLifetime
	if pending {
		lifetime = PendingLifetime
	}
	return time.Unix(time.UnixMilli(issued.UnixMilli()).Add(lifetime).Unix(), 0).UTC()
}

// ExpiresAt is the exp IssueSession writes for sess: SessionExpiry, or
// sess.Expires in whole seconds when that is set and earlier.
func (sess Session) ExpiresAt() time.Time {
	exp := SessionExpiry(sess.IssuedAt, sess.Pending)
	if end := time.Unix(sess.Expires.Unix(), 0).UTC(); !sess.Expires.IsZero() && end.Before(exp) {
		return end
	}
	return exp
}

// IssueSession signs a session token for sess.UserID, which with
// sess.IssuedAt and sess.AuthTime must be set. IssuedAt is written truncated
// to the millisecond and AuthTime to the second. exp is
// SessionExpiry(IssuedAt, Pending), so a token may end up to a second early,
// or sess.Expires (whole seconds) when that is set and earlier: the end of
// the session the token belongs to.
func (s *Set) IssueSession(sess Session) (string, error) {
	if sess.UserID == "" || sess.IssuedAt.IsZero() || sess.AuthTime.IsZero() {
		return "", errors.New("token: session needs UserID, IssuedAt and AuthTime")
	}
	iat := time.UnixMilli(sess.IssuedAt.UnixMilli())
	c := &sessionClaims{
		claims: claims{
			Subject:  sess.UserID,
			IssuedAt: &msDate{iat},
			Expires:  &secDate{sess.ExpiresAt()},
		},
		AuthTime: &secDate{sess.AuthTime},
		SID:      sess.SessionID,
	}
	if sess.Pending {
		c.TFA = tfaPending
		if sess.FirstFactor != "" {
			c.AMR = []string{sess.FirstFactor}
		}
	}
	return s.sign(c)
}

// ParseSession verifies a session token at time now and returns its claims.
// An error wraps ErrExpired if the token is authentic but exp <= now (no
// leeway), and ErrInvalid for every other failure, including an iat more than
// a minute after now or any "aud" claim. Times are returned in UTC, IssuedAt
// rounded to the millisecond.
func (s *Set) ParseSession(token string, now time.Time) (Session, error) {
	if sess, ok := s.sessions.get(token); ok {
		if err := timely(sess.IssuedAt, sess.Expires, now); err != nil {
			return Session{}, err
		}
		return sess, nil
	}
	var c sessionClaims
	if err := s.verify(token, &c, now); err != nil {
		return Session{}, err
	}
	sess := Session{
		UserID:    c.Subject,
		IssuedAt:  c.IssuedAt.Time,
		Expires:   c.Expires.Time,
		AuthTime:  c.AuthTime.Time,
		Pending:   c.TFA == tfaPending,
		SessionID: c.SID,
	}
	if sess.Pending && len(c.AMR) == 1 {
		sess.FirstFactor = c.AMR[0]
	}
	s.sessions.put(token, sess)
	return sess, nil
}
