package token

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// claims are the registered claims every kind of token shares. Times are
// pointers so that a missing claim is told apart from the epoch.
type claims struct {
	Subject  string   `json:"sub,omitempty"`
	Audience audience `json:"aud,omitzero"`
	IssuedAt *msDate  `json:"iat,omitempty"`
	Expires  *secDate `json:"exp,omitempty"`
}

func (c *claims) registered() *claims { return c }

// lastsAtMost reports whether exp is after iat by no more than lifetime.
func (c *claims) lastsAtMost(lifetime time.Duration) bool {
	return c.Expires.After(c.IssuedAt.Time) && c.Expires.Sub(c.IssuedAt.Time) <= lifetime
}

// newJTI returns a fresh "jti": 16 random bytes in lowercase hex.
func newJTI() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token: jti: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// The jwt.Claims methods; jwt needs them although verify does the checking.

func (c claims) GetExpirationTime() (*jwt.NumericDate, error) {
	if c.Expires == nil {
		return nil, nil
	}
	return &jwt.NumericDate{Time: c.Expires.Time}, nil
}

func (c claims) GetIssuedAt() (*jwt.NumericDate, error) {
	if c.IssuedAt == nil {
		return nil, nil
	}
	// Not jwt.NewNumericDate: it would truncate to jwt.TimePrecision.
	return &jwt.NumericDate{Time: c.IssuedAt.Time}, nil
}

func (c claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (c claims) GetIssuer() (string, error)              { return "", nil }
func (c claims) GetSubject() (string, error)             { return c.Subject, nil }
func (c claims) GetAudience() (jwt.ClaimStrings, error)  { return c.Audience.ClaimStrings, nil }

// audience is "aud" plus whether the claim appeared at all: null, "" or []
// still count, since session tokens must not carry the claim in any form.
type audience struct {
	jwt.ClaimStrings
	present bool
}

// is reports whether the audience is exactly want, alone.
func (a audience) is(want string) bool {
	return len(a.ClaimStrings) == 1 && a.ClaimStrings[0] == want
}

func (a *audience) UnmarshalJSON(b []byte) error {
	a.present = true
	return a.ClaimStrings.UnmarshalJSON(b)
}

// MarshalJSON writes a single audience as a plain string, whatever the
// process-wide jwt.MarshalSingleStringAsArray says, so grants look the same
// in every binary.
func (a audience) MarshalJSON() ([]byte, error) {
	if len(a.ClaimStrings) == 1 {
		return json.Marshal(a.ClaimStrings[0])
	}
	return json.Marshal([]string(a.ClaimStrings))
}

// msDate is a NumericDate written with exactly three decimals. Millisecond
// iat lets callers revoke sessions by comparing iat with a millisecond
// timestamp; whole seconds would let tokens from the same second as the
// revocation fall on the wrong side of it. It has its own (un)marshalling
// because jwt.NumericDate's precision is the process-wide jwt.TimePrecision.
type msDate struct{ time.Time }

func (d msDate) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(d.UnixMilli())/1e3, 'f', 3, 64), nil
}

func (d *msDate) UnmarshalJSON(b []byte) (err error) {
	d.Time, err = parseNumericDate(b)
	return err
}

// secDate is a NumericDate written as whole seconds.
type secDate struct{ time.Time }

func (d secDate) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, d.Unix(), 10), nil
}

func (d *secDate) UnmarshalJSON(b []byte) (err error) {
	d.Time, err = parseNumericDate(b)
	return err
}

// maxNumericDate is 9999-12-31T23:59:59Z. Bounding dates keeps the
// millisecond arithmetic below exact and the result representable.
const maxNumericDate = 253402300799

// parseNumericDate reads a JSON number of seconds since the epoch, integer or
// fractional, rounded to the millisecond.
func parseNumericDate(b []byte) (time.Time, error) {
	// b is a single JSON value; ParseFloat accepts exactly the JSON numbers
	// among them (plus forms such as "Inf" that JSON cannot produce).
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return time.Time{}, errors.New("NumericDate is not a number")
	}
	if !(f > 0 && f <= maxNumericDate) {
		return time.Time{}, errors.New("NumericDate out of range")
	}
	return time.UnixMilli(int64(math.Round(f * 1e3))).UTC(), nil
}
