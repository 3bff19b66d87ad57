// Package totp implements the second factor of README "Two-factor authentication": time-based one-time
// passwords (RFC 6238) and single-use recovery codes.
//
// TOTP parameters are the ones every authenticator app understands: HMAC-SHA-1,
// 6 digits, a 30-second period, a 160-bit (20-byte) random secret, issuer
// "fleetgate" and the username as account name. The HOTP/TOTP computation
// comes from github.com/pquerna/otp; this package only picks the parameters,
// checks input shapes, and adds what the library leaves to the caller:
//
//   - Verify accepts the code of the previous, current or next time step
//     (±1 step of clock skew) and returns the matched step. A code is refused
//     unless its step is strictly after the last accepted step, which the
//     caller stores per user: a code can be used once, and an older code can
//     no longer be used after a newer one was.
//   - Codes are compared in constant time (crypto/subtle).
//
// Recovery codes are 10 characters from a 31-character alphabet without
// look-alikes (no 0/o, 1/l/i), shown as "xxxxx-xxxxx": 10·log2(31) ≈ 49.5
// bits of entropy each. That is plenty online (attempts are rate limited) but
// could be brute-forced offline from a plain hash, so they are stored as
// HMAC-SHA-256 under a server-side pepper (derived from SECRET_KEY): a
// leaked database alone does not reveal them.
//
// The TOTP secret itself must be stored encrypted (see internal/secretbox).
package totp

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	pqtotp "github.com/pquerna/otp/totp"
)

// Parameters of README "Two-factor authentication".
const (
	Issuer     = "fleetgate"
	Digits     = 6
	Period     = 30 // seconds
	Skew       = 1  // steps accepted on either side of the current one
	SecretSize = 20 // bytes (160 bits)

	// QRCodeSize is the width and height in pixels of QRCodePNG's image.
	QRCodeSize = 256

	// minSecretSize is the smallest secret Verify accepts (RFC 4226 R6:
	// at least 128 bits), so that an empty or truncated stored secret can
	// never validate codes that anybody could compute.
	minSecretSize = 16
)

var validateOpts = pqtotp.ValidateOpts{
	Period:    Period,
	Skew:      Skew,
	Digits:    otp.DigitsSix,
	Algorithm: otp.AlgorithmSHA1,
}

// Key is a freshly generated TOTP key.
type Key struct {
	// Secret is the shared secret, base32 without padding (32 characters).
	Secret string
	// URL is the otpauth:// URL authenticator apps enroll from, e.g.
	// otpauth://totp/fleetgate:alice?algorithm=SHA1&digits=6&issuer=fleetgate&period=30&secret=...
	URL string
}

// Generate creates a new random 160-bit TOTP key for accountName (the
// username).
func Generate(accountName string) (Key, error) {
	if strings.TrimSpace(accountName) == "" {
		return Key{}, errors.New("totp: empty account name")
	}
	if strings.Contains(accountName, ":") {
		// The otpauth label is "issuer:account"; a colon would make it ambiguous.
		return Key{}, errors.New("totp: account name must not contain ':'")
	}
	k, err := pqtotp.Generate(pqtotp.GenerateOpts{
		Issuer:      Issuer,
		AccountName: accountName,
		Period:      Period,
		SecretSize:  SecretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Key{}, fmt.Errorf("totp: generating key: %w", err)
	}
	return Key{Secret: k.Secret(), URL: k.String()}, nil
}

// QRCodePNG renders url (an otpauth:// URL) as a QR code and returns it as a
// data URL, "data:image/png;base64,...", of a QRCodeSize×QRCodeSize PNG.
func QRCodePNG(url string) (string, error) {
	if strings.TrimSpace(url) == "" {
		return "", errors.New("totp: empty URL")
	}
	k, err := otp.NewKeyFromURL(url)
	if err != nil {
		return "", fmt.Errorf("totp: parsing URL: %w", err)
	}
	img, err := k.Image(QRCodeSize, QRCodeSize)
	if err != nil {
		return "", fmt.Errorf("totp: rendering QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("totp: encoding PNG: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// Step returns the TOTP time step of t: seconds since the Unix epoch divided
// by the 30-second period (rounded down, also before 1970).
func Step(t time.Time) int64 {
	s := t.Unix()
	step := s / Period
	if s%Period < 0 {
		step--
	}
	return step
}

// Verify checks code against secret (base32, as in Key.Secret) at time now.
// It accepts a code of exactly 6 ASCII digits, optionally surrounded by white
// space, that is valid for step Step(now)-1, Step(now) or Step(now)+1 and
// whose step is strictly greater than lastStep (the step returned by the
// last successful Verify for this user, or 0 if none). It returns the
// matched step, which the caller must store as the new lastStep.
//
// If the code matches several eligible steps (a 1-in-a-million coincidence)
// the latest is returned, so that the same code cannot be accepted again.
func Verify(secret, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	code, valid := parseCode(code)
	if !valid || !validSecret(secret) {
		return 0, false
	}
	current := Step(now)
	matched := int64(0)
	found := 0
	// Check every candidate step, even after a match, so the time taken
	// does not depend on which step matched.
	for s := current - Skew; s <= current+Skew; s++ {
		if s <= lastStep || s < 0 {
			continue
		}
		want, err := pqtotp.GenerateCodeCustom(secret, time.Unix(s*Period, 0), validateOpts)
		if err != nil {
			return 0, false
		}
		eq := subtle.ConstantTimeCompare([]byte(want), []byte(code))
		if eq == 1 {
			matched = s // ascending loop: the last match is the latest step
		}
		found |= eq
	}
	if found != 1 {
		return 0, false
	}
	return matched, true
}

// parseCode trims white space and checks that exactly 6 ASCII digits remain.
func parseCode(code string) (string, bool) {
	code = strings.TrimSpace(code)
	if len(code) != Digits {
		return "", false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return "", false
		}
	}
	return code, true
}

// validSecret reports whether secret is base32 (as pquerna/otp reads it:
// case-insensitive, padding optional) of at least minSecretSize bytes.
func validSecret(secret string) bool {
	s := strings.ToUpper(strings.TrimRight(strings.TrimSpace(secret), "="))
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	return err == nil && len(b) >= minSecretSize
}
