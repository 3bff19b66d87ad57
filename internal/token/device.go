package token

import (
	"errors"
	"time"
)

// Device tokens are OWASP's "device cookie": fleetgate hands one to a client
// when it completes a sign-in, and a later login that presents it for the
// same account is known to come from a client that has signed in there
// before, so it is spared the limits strangers' guesses run into (README
// "Abuse limits"). A device token proves nothing on its own: the password
// is still needed. They carry aud "login-device", so ParseSession refuses
// them (any aud) and ParseDevice refuses sessions and SSH grants.

const (
	// DeviceLifetime is how long a device token is valid after it is
	// issued. Each completed sign-in hands out a fresh one.
	DeviceLifetime = 180 * 24 * time.Hour
	// DeviceAudience is the "aud" of every device token.
	DeviceAudience = "login-device"
)

// Device is what a device token says: a client signed in to UserID.
type Device struct {
	UserID string // "sub"
	// ID ("jti") is 16 random bytes in lowercase hex, unique per token, so
	// that each token's failed logins can be counted on their own.
	ID       string
	IssuedAt time.Time // "iat", whole seconds
	Expires  time.Time // "exp" = IssuedAt + DeviceLifetime
}

type deviceClaims struct {
	claims
	ID string `json:"jti"`
}

func (c *deviceClaims) validate() error {
	switch {
	case !c.Audience.is(DeviceAudience):
		return errors.New(`aud is not exactly "login-device"`)
	case !isLowerHex(c.ID, 32):
		return errors.New("jti is not 32 lowercase hex digits")
	case !c.lastsAtMost(DeviceLifetime):
		return errors.New("exp is not within DeviceLifetime of iat")
	}
	return nil
}

// IssueDevice signs a device token for userID (required), issued at
// issued, truncated to the second. It returns the token and its expiry.
func (s *Set) IssueDevice(userID string, issued time.Time) (token string, expires time.Time, err error) {
	if userID == "" || issued.IsZero() {
		return "", time.Time{}, errors.New("token: device token needs a user ID and an issue time")
	}
	jti, err := newJTI()
	if err != nil {
		return "", time.Time{}, err
	}
	iat := time.Unix(issued.Unix(), 0).UTC()
	exp := iat.Add(DeviceLifetime)
	token, err = s.sign(&deviceClaims{
		claims: claims{
			Subject:  userID,
			Audience: audience{ClaimStrings: []string{DeviceAudience}},
			IssuedAt: &msDate{iat},
			Expires:  &secDate{exp},
		},
		ID: jti,
	})
	return token, exp, err
}

// ParseDevice verifies a device token at time now and returns its claims.
// Errors are as for ParseSession: ErrExpired if it is authentic but exp <=
// now, ErrInvalid for everything else, session tokens and SSH grants
// included.
func (s *Set) ParseDevice(token string, now time.Time) (Device, error) {
	var c deviceClaims
	if err := s.verify(token, &c, now); err != nil {
		return Device{}, err
	}
	return Device{UserID: c.Subject, ID: c.ID, IssuedAt: c.IssuedAt.Time, Expires: c.Expires.Time}, nil
}
