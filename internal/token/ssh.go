package token

import (
	"errors"
	"fmt"
	"time"
)

// SSH access grants are minted by fleetgate and shown to an SSH proxy, which
// verifies them offline from the JWKS document. They are short-lived and
// bound to one device, so a leaked grant is worth little; they carry
// aud "ssh" so they can never pass as a session (ParseSession refuses any
// aud), and a session cannot pass as a grant.

const (
	// SSHGrantLifetime is how long an SSH grant is valid after it is issued:
	// long enough to open a connection, too short to be worth stealing.
	SSHGrantLifetime = 60 * time.Second
	// SSHAudience is the "aud" of every SSH grant.
	SSHAudience = "ssh"
)

// SSHGrant is what an SSH access grant says: UserID may open an SSH session
// on the device DeviceUUID.
//
// A proxy verifies a grant with only /.well-known/jwks.json: decode each
// key's "x" (base64url, no padding) into an ed25519.PublicKey, index the keys
// by "kid", and then, with github.com/golang-jwt/jwt/v5:
//
//	tok, err := jwt.Parse(grant, func(t *jwt.Token) (any, error) {
//		kid, _ := t.Header["kid"].(string)
//		if pub, ok := keys[kid]; ok {
//			return pub, nil
//		}
//		return nil, errors.New("unknown kid")
//	},
//		jwt.WithValidMethods([]string{"EdDSA"}), // never "none" or HS256
//		jwt.WithAudience("ssh"),                 // refuses session tokens
//		jwt.WithExpirationRequired(),
//	)
//	if err != nil {
//		return err
//	}
//	claims := tok.Claims.(jwt.MapClaims)
//	if claims["device"] != deviceUUID { // the device being connected to
//		return errors.New("grant is for another device")
//	}
//	// claims["sub"] is the user ID and claims["username"] the name to log.
//	// To refuse reuse, remember claims["jti"] until "exp" passes.
//
// Refetch the JWKS when a kid is unknown: keys rotate. Do not add
// jwt.WithIssuedAt without a leeway: a proxy clock a second behind
// fleetgate's would then refuse fresh grants.
type SSHGrant struct {
	UserID     string // "sub"
	Username   string // "username", for the proxy's logs; may be empty
	DeviceUUID string // "device": 32 lowercase hex digits
	// ID ("jti") is 16 random bytes in lowercase hex, unique per grant, so a
	// verifier can refuse reuse. IssueSSHGrant ignores it and makes a new one.
	ID       string
	IssuedAt time.Time // "iat", whole seconds
	Expires  time.Time // "exp" = IssuedAt + SSHGrantLifetime
}

type sshClaims struct {
	claims
	Device   string `json:"device"`
	Username string `json:"username,omitempty"`
	ID       string `json:"jti"`

	wantDevice string // the device the caller is verifying for
}

func (c *sshClaims) validate() error {
	switch {
	case !c.Audience.is(SSHAudience):
		return errors.New(`aud is not exactly "ssh"`)
	case !isLowerHex(c.Device, 32):
		return errors.New("device is not 32 lowercase hex digits")
	case c.Device != c.wantDevice:
		return errors.New("grant is for another device")
	case !isLowerHex(c.ID, 32):
		return errors.New("jti is not 32 lowercase hex digits")
	case !c.lastsAtMost(SSHGrantLifetime):
		// Only we sign, but a grant must stay short-lived whatever minted it.
		return errors.New("exp is not within SSHGrantLifetime of iat")
	}
	return nil
}

// isLowerHex reports whether s is n lowercase hex digits.
func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// IssueSSHGrant signs an SSH grant for g.UserID on g.DeviceUUID (32 lowercase
// hex digits), both required, as is g.IssuedAt. IssuedAt is truncated to the
// second so that exp is exactly iat + SSHGrantLifetime; g.ID and g.Expires are
// ignored. It returns the token and its expiry.
func (s *Set) IssueSSHGrant(g SSHGrant) (token string, expires time.Time, err error) {
	if g.UserID == "" || g.IssuedAt.IsZero() {
		return "", time.Time{}, errors.New("token: SSH grant needs UserID and IssuedAt")
	}
	if !isLowerHex(g.DeviceUUID, 32) {
		return "", time.Time{}, errors.New("token: SSH grant DeviceUUID must be 32 lowercase hex digits")
	}
	jti, err := newJTI()
	if err != nil {
		return "", time.Time{}, err
	}
	return s.signSSHGrant(g, jti)
}

// signSSHGrant is IssueSSHGrant after validation, with the jti given: the
// same inputs give the same token, which the fuzz test relies on.
func (s *Set) signSSHGrant(g SSHGrant, jti string) (token string, expires time.Time, err error) {
	iat := time.Unix(g.IssuedAt.Unix(), 0).UTC()
	exp := iat.Add(SSHGrantLifetime)
	token, err = s.sign(&sshClaims{
		claims: claims{
			Subject:  g.UserID,
			Audience: audience{ClaimStrings: []string{SSHAudience}},
			IssuedAt: &msDate{iat},
			Expires:  &secDate{exp},
		},
		Device:   g.DeviceUUID,
		Username: g.Username,
		ID:       jti,
	})
	if err != nil {
		return "", time.Time{}, err
	}
	if len(token) > maxTokenLen {
		// ParseSSHGrant would refuse it; fail here, where the cause is known.
		return "", time.Time{}, fmt.Errorf("token: SSH grant is %d bytes, over %d", len(token), maxTokenLen)
	}
	return token, exp, nil
}

// ParseSSHGrant verifies at time now an SSH grant for the device deviceUUID
// and returns its claims. The token must be signed (EdDSA) by a key of the
// Set, carry aud exactly "ssh" and name deviceUUID, compared exactly.
// Errors are as for ParseSession: ErrExpired if the grant is authentic but
// exp <= now (no leeway), ErrInvalid for everything else, including an iat
// more than a minute after now and session tokens. It does not track jti;
// a caller that must refuse reuse remembers g.ID until g.Expires.
func (s *Set) ParseSSHGrant(token string, deviceUUID string, now time.Time) (SSHGrant, error) {
	c := sshClaims{wantDevice: deviceUUID}
	if err := s.verify(token, &c, now); err != nil {
		return SSHGrant{}, err
	}
	return SSHGrant{
		UserID:     c.Subject,
		Username:   c.Username,
		DeviceUUID: c.Device,
		ID:         c.ID,
		IssuedAt:   c.IssuedAt.Time,
		Expires:    c.Expires.Time,
	}, nil
}
