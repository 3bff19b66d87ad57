package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// RecoveryAlphabet is the alphabet of recovery codes: lowercase letters and
// digits without look-alikes (0 o, 1 i l). 31 characters.
const RecoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// RecoveryCodeCount is the number of recovery codes README "Two-factor authentication" promises.
const RecoveryCodeCount = 10

const (
	recoveryHalf = 5 // characters on each side of the hyphen
	// maxRecoveryCodes bounds the n of RecoveryCodes.
	maxRecoveryCodes = 100
	// recoveryHashLabel separates recovery-code hashes from any other use
	// of the same pepper.
	recoveryHashLabel = "fleetgate/recovery-code/v1\x00"
)

// RecoveryCodes returns n distinct recovery codes of the form "xxxxx-xxxxx",
// each character drawn uniformly from RecoveryAlphabet with crypto/rand:
// 10·log2(31) ≈ 49.5 bits of entropy per code. n must be between 1 and 100.
func RecoveryCodes(n int) ([]string, error) {
	if n < 1 || n > maxRecoveryCodes {
		return nil, fmt.Errorf("totp: recovery code count %d out of range 1..%d", n, maxRecoveryCodes)
	}
	alphabetSize := big.NewInt(int64(len(RecoveryAlphabet)))
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	for len(codes) < n {
		var b strings.Builder
		for i := range 2 * recoveryHalf {
			if i == recoveryHalf {
				b.WriteByte('-')
			}
			idx, err := rand.Int(rand.Reader, alphabetSize)
			if err != nil {
				return nil, fmt.Errorf("totp: generating recovery code: %w", err)
			}
			b.WriteByte(RecoveryAlphabet[idx.Int64()])
		}
		code := b.String()
		if seen[code] { // astronomically unlikely; keep the set distinct anyway
			continue
		}
		seen[code] = true
		codes = append(codes, code)
	}
	return codes, nil
}

// NormalizeRecoveryCode turns user input into the canonical "xxxxx-xxxxx"
// form: it trims surrounding white space, lowercases ASCII letters and
// accepts the code with or without its hyphen. Anything else (other lengths,
// other separators or positions, characters outside RecoveryAlphabet) is
// refused.
func NormalizeRecoveryCode(s string) (string, bool) {
	s = strings.TrimSpace(s)
	var raw string
	switch {
	case len(s) == 2*recoveryHalf:
		raw = s
	case len(s) == 2*recoveryHalf+1 && s[recoveryHalf] == '-':
		raw = s[:recoveryHalf] + s[recoveryHalf+1:]
	default:
		return "", false
	}
	out := make([]byte, 0, 2*recoveryHalf+1)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if strings.IndexByte(RecoveryAlphabet, c) < 0 {
			return "", false
		}
		if i == recoveryHalf {
			out = append(out, '-')
		}
		out = append(out, c)
	}
	return string(out), true
}

// HashRecoveryCode returns HMAC-SHA-256(pepper, label || normalized), the
// value to store for a recovery code and to look it up by. normalized must
// come from NormalizeRecoveryCode (or RecoveryCodes). pepper is a server-side
// secret (e.g. SECRET_KEY or a key derived from it) that is not stored in the
// database; it must not be empty (HashRecoveryCode panics otherwise, since an
// empty pepper would silently make the hashes brute-forceable offline).
func HashRecoveryCode(pepper []byte, normalized string) []byte {
	if len(pepper) == 0 {
		panic(errors.New("totp: HashRecoveryCode with an empty pepper"))
	}
	mac := hmac.New(sha256.New, pepper)
	mac.Write([]byte(recoveryHashLabel))
	mac.Write([]byte(normalized))
	return mac.Sum(nil)
}
