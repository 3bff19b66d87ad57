package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// newLinkSecret is the secret of a mailed link or one-time code: 32 random
// bytes, URL-safe. Only its linkHash is stored, so a copy of the database
// opens no account.
func newLinkSecret() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// linkHash is what is stored of a secret from newLinkSecret: its SHA-256,
// enough for 256-bit random input (no salt or slow hash needed).
func linkHash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}
