// Package token issues and verifies fleetgate's signed tokens: EdDSA
// (Ed25519) JWTs under a small, rotating set of keys.
//
// Ed25519 keys are small, fast and have no parameters to get wrong, and
// asymmetric signatures let other services verify tokens offline from the
// public JWKS document instead of calling back to fleetgate. The package is
// storage-agnostic: the caller generates keys with GenerateKey, persists them,
// and builds a Set from whatever it loaded. The newest key signs; every key in
// the Set verifies, so a key can be rotated in before the old one is dropped.
//
// Signing and verifying are generic underneath, so that every kind of token
// shares the key set: session tokens, short-lived SSH access grants
// (audience "ssh", see SSHGrant) and login device tokens (audience
// "login-device", see Device) are kinds of claims on top. Session tokens
// never carry "aud", and ParseSession refuses any token that does, so a token
// minted for another audience cannot be replayed as a session; ParseSSHGrant
// and ParseDevice each demand their own aud, so neither accepts a session or
// the other's tokens.
package token

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	// ErrInvalid means the token must not be trusted: it is malformed,
	// oversized, not signed by a key of the Set, uses another algorithm,
	// misses required claims, has claims of the wrong kind, or was issued
	// more than a minute in the future.
	ErrInvalid = errors.New("token: invalid")
	// ErrExpired means the token is authentic and well-formed but its exp has
	// passed. It is only returned once everything ErrInvalid covers passed.
	ErrExpired = errors.New("token: expired")
)

const (
	// maxTokenLen bounds the work an unauthenticated caller can cause: claims
	// are JSON-decoded before the signature is checked.
	maxTokenLen = 4 << 10
	// clockSkew tolerates issuers whose clock runs slightly ahead. It applies
	// to iat only; exp gets no leeway.
	clockSkew = time.Minute
	// keyIDLen is how many bytes of the public key's SHA-256 form a key ID:
	// 96 bits is plenty to tell a handful of keys apart and keeps headers short.
	keyIDLen = 12
)

// Key is one Ed25519 signing key. The caller stores all three fields.
type Key struct {
	ID        string
	Private   ed25519.PrivateKey
	CreatedAt time.Time
}

// GenerateKey creates a new random key created at now. Its ID is derived from
// the public key (base64url of the first 12 bytes of its SHA-256, in the
// spirit of RFC 7638 thumbprints), so it is stable and needs no coordination.
func GenerateKey(now time.Time) (Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("token: generate key: %w", err)
	}
	return Key{ID: keyID(pub), Private: priv, CreatedAt: now}, nil
}

func keyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:keyIDLen])
}

// Set is an immutable set of keys; it is safe for concurrent use.
type Set struct {
	signer Key
	public map[string]ed25519.PublicKey // by key ID
	jwks   []byte
	parser *jwt.Parser
	// sessions are the session tokens this set has verified.
	sessions *verifiedSessions
}

// NewSet builds a Set from at least one key. The key with the newest
// CreatedAt signs (ties go to the smallest ID, so the argument order never
// matters); all keys verify. Keys are copied, so the caller may reuse its
// slices.
func NewSet(keys ...Key) (*Set, error) {
	if len(keys) == 0 {
		return nil, errors.New("token: NewSet needs at least one key")
	}
	owned := make([]Key, 0, len(keys))
	public := make(map[string]ed25519.PublicKey, len(keys))
	for _, k := range keys {
		if k.ID == "" {
			return nil, errors.New("token: key without ID")
		}
		if len(k.Private) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("token: key %q: private key is %d bytes, want %d", k.ID, len(k.Private), ed25519.PrivateKeySize)
		}
		// An Ed25519 private key is seed||public; a corrupted public half
		// would produce signatures nobody can verify, so rebuild and compare.
		priv := ed25519.NewKeyFromSeed(k.Private.Seed())
		if !bytes.Equal(priv, k.Private) {
			return nil, fmt.Errorf("token: key %q: public half does not match the seed", k.ID)
		}
		if _, dup := public[k.ID]; dup {
			return nil, fmt.Errorf("token: duplicate key ID %q", k.ID)
		}
		public[k.ID] = priv.Public().(ed25519.PublicKey)
		owned = append(owned, Key{ID: k.ID, Private: priv, CreatedAt: k.CreatedAt})
	}
	slices.SortFunc(owned, func(a, b Key) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	jwks, err := marshalJWKS(owned)
	if err != nil {
		return nil, err
	}
	return &Set{
		signer:   owned[0],
		public:   public,
		jwks:     jwks,
		sessions: &verifiedSessions{},
		parser: jwt.NewParser(
			// Pinning the algorithm defeats "none" and HMAC-with-public-key
			// confusion regardless of what the header claims.
			jwt.WithValidMethods([]string{"EdDSA"}),
			// Claims are checked by verify: jwt's validator has one leeway
			// for both iat and exp, and it cannot make "invalid" take
			// precedence over "expired".
			jwt.WithoutClaimsValidation(),
			// Non-canonical base64 would let different strings stand for
			// the same signed token.
			jwt.WithStrictDecoding(),
		),
	}, nil
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	X   string `json:"x"`
}

// marshalJWKS renders the public keys as an RFC 8037 JWK Set, in the order
// given (newest first).
func marshalJWKS(keys []Key) ([]byte, error) {
	doc := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, len(keys))}
	for i, k := range keys {
		doc.Keys[i] = jwk{
			Kty: "OKP",
			Crv: "Ed25519",
			Alg: "EdDSA",
			Use: "sig",
			Kid: k.ID,
			X:   base64.RawURLEncoding.EncodeToString(k.Private.Public().(ed25519.PublicKey)),
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("token: marshal JWKS: %w", err)
	}
	return b, nil
}

// JWKS returns the public keys as a JWK Set document, newest first, for the
// caller to serve at /.well-known/jwks.json. It is computed once in NewSet;
// each call returns a fresh copy so callers cannot alter the Set's.
func (s *Set) JWKS() []byte {
	return bytes.Clone(s.jwks)
}

// sign signs c with the newest key, naming it in the "kid" header.
func (s *Set) sign(c jwt.Claims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = s.signer.ID
	str, err := t.SignedString(s.signer.Private)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return str, nil
}

// claimSet is implemented by each kind of token's claims.
type claimSet interface {
	jwt.Claims
	registered() *claims
	// validate checks what is specific to the kind of token.
	validate() error
}

// verify checks token's size, signature and claims, decoding them into c.
// Every failure wraps ErrInvalid, except an exp at or before now on an
// otherwise valid token, which wraps ErrExpired.
func (s *Set) verify(token string, c claimSet, now time.Time) error {
	if len(token) > maxTokenLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalid, maxTokenLen)
	}
	if _, err := s.parser.ParseWithClaims(token, c, s.verificationKey); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	r := c.registered()
	var err error
	switch {
	case r.Subject == "":
		err = errors.New("missing sub")
	case r.IssuedAt == nil:
		err = errors.New("missing iat")
	case r.Expires == nil:
		err = errors.New("missing exp")
	default:
		err = c.validate()
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return timely(r.IssuedAt.Time, r.Expires.Time, now)
}

// timely checks an authentic token's times at now: an iat more than
// clockSkew ahead is invalid (ErrInvalid); an exp at or before now wraps
// ErrExpired.
func timely(issuedAt, expires, now time.Time) error {
	if issuedAt.After(now.Add(clockSkew)) {
		return fmt.Errorf("%w: iat is in the future", ErrInvalid)
	}
	if !now.Before(expires) {
		return fmt.Errorf("%w: at %s", ErrExpired, expires.Format(time.RFC3339))
	}
	return nil
}

// verificationKey is the jwt.Keyfunc: it picks the public key named by the
// "kid" header. There is no fallback to trying every key: a token must say
// which key signed it.
func (s *Set) verificationKey(t *jwt.Token) (any, error) {
	kid, ok := t.Header["kid"].(string)
	if !ok {
		return nil, errors.New("kid header missing or not a string")
	}
	pub, ok := s.public[kid]
	if !ok {
		return nil, errors.New("unknown kid")
	}
	return pub, nil
}
