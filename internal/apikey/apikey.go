// Package apikey generates and validates fleetgate API keys.
//
// There are two kinds of key ([Kind]):
//
//   - [User] keys ("fgk_") authenticate a user to the API. The package-level
//     functions [Generate], [Parse] and [LooksLikeKey] work on this kind.
//   - [Provisioning] keys ("fgp_") are baked into a device image and let
//     devices booted from it register themselves in one application.
//
// # Format
//
// A key of either kind is 53 ASCII characters ([Length]; spaces below are
// only for readability):
//
//	fgk_ RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR CCCCCC   user
//	fgp_ RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR CCCCCC   provisioning
//	 4   43 characters: random part                6: checksum
//
// where:
//
//   - "fgk_" or "fgp_" is a fixed prefix naming the kind ([Kind.Prefix];
//     [Prefix] is the user prefix).
//   - The random part is 32 bytes from crypto/rand (256 bits of entropy),
//     read as a big-endian unsigned integer and written in base62, left
//     padded with '0' to a fixed width of 43 characters (62^43 > 2^256, so
//     43 characters always suffice).
//   - The checksum is a CRC-32 (IEEE), written in base62 and left padded
//     with '0' to 6 characters (62^6 > 2^32). For a user key it is the
//     CRC-32 of the 43 ASCII characters of the random part only; for a
//     provisioning key it is the CRC-32 of the 47 ASCII characters before
//     the checksum, that is the prefix "fgp_" followed by the random part.
//
// The base62 alphabet is "0-9A-Za-z": digits, then upper case, then lower
// case letters.
//
// # Why the checksums differ between kinds
//
// If both kinds used the checksum of the random part alone, editing the
// prefix of a valid key of one kind would give a valid-looking key of the
// other kind, and one credential could be presented as the other. User keys
// were issued before provisioning keys existed and must keep parsing, so
// their checksum cannot change; the provisioning checksum therefore also
// covers the prefix. CRC-32 is affine in its input bits (for a fixed input
// length) and leading zero bits do not change its polynomial remainder, so
// for every 43-character random part R
//
//	CRC("fgp_" + R) = CRC(R) XOR D
//
// for one fixed constant D, which is not zero (the tests check both). So a
// user key with its prefix changed to "fgp_" never passes
// Provisioning.Parse, and a provisioning key with its prefix changed to
// "fgk_" never passes [Parse]: always, not merely with high probability.
// (Their hashes differ too, since [Hash] covers the prefix.)
//
// # Why
//
// The prefix lets a server route a bearer credential to the right path
// (user API key, provisioning key or JWT) with a cheap string test
// ([LooksLikeKey], [Kind.Matches]), and lets people and secret scanners
// recognise a leaked fleetgate key (the same idea as GitHub's ghp_ tokens).
// The checksum lets Parse refuse mistyped, truncated or made-up keys before
// any database lookup: CRC-32 detects every single-character change, and a
// random string passes with probability about 2^-32. The checksum is not a
// secret and gives no security by itself; the security comes from the 256
// random bits.
//
// Only a hash of a key is stored ([Hash], SHA-256 of the whole key string,
// for either kind), under a unique index. Since keys carry 256 bits of
// entropy, a fast unsalted hash is appropriate (no password-style KDF is
// needed). [DisplayPrefix] gives the first 12 characters, which are safe to
// show in lists so people can tell keys apart.
//
// Base62 keeps keys free of punctuation so that a double click selects a
// whole key and it needs no escaping in URLs, headers or shells.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash/crc32"
)

const (
	// Prefix starts every user key; it is User.Prefix().
	Prefix = "fgk_"
	// Length is the length of every key of every kind in bytes (all ASCII).
	Length = prefixLen + randLen + sumLen // 53

	// provisioningPrefix starts every provisioning key.
	provisioningPrefix = "fgp_"

	prefixLen = len(Prefix) // every kind's prefix has this length
	randBytes = 32          // entropy in bytes
	randLen   = 43          // base62 digits for randBytes bytes: 62^43 > 2^256
	sumLen    = 6           // base62 digits for a CRC-32: 62^6 > 2^32

	// displayLen is the length returned by DisplayPrefix.
	displayLen = 12

	alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

var (
	// ErrMalformed means the string does not have the shape of a key of
	// the expected kind: wrong prefix, wrong length or a character outside
	// the base62 alphabet.
	ErrMalformed = errors.New("apikey: malformed API key")
	// ErrChecksum means the string has the shape of a key but its checksum
	// is wrong, so it was mistyped, truncated and padded, forged, or had its
	// prefix changed to that of another kind.
	ErrChecksum = errors.New("apikey: API key checksum mismatch")

	// errInvalidKind is returned by Generate on the zero Kind.
	errInvalidKind = errors.New("apikey: invalid key kind")
)

// Kind is a kind of key. The only valid kinds are [User] and
// [Provisioning]; Kind values are comparable with ==. The zero Kind is not
// a kind: it matches nothing, parses nothing and generates nothing.
type Kind struct {
	prefix string
	// sumPrefix says whether the checksum covers the prefix as well as the
	// random part (see the package documentation).
	sumPrefix bool
}

var (
	// User is the kind of user API keys, prefix "fgk_". Its checksum covers
	// the random part only, as it always has.
	User = Kind{prefix: Prefix}
	// Provisioning is the kind of device provisioning keys, prefix "fgp_".
	// Its checksum covers the prefix and the random part.
	Provisioning = Kind{prefix: provisioningPrefix, sumPrefix: true}
)

// isBase62 reports whether c is in the base62 alphabet.
var isBase62 = func() (t [256]bool) {
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = true
	}
	return t
}()

// crcTable is the shared IEEE table (crc32.MakeTable returns it for IEEE).
var crcTable = crc32.MakeTable(crc32.IEEE)

// Prefix returns the prefix that starts every key of kind k ("fgk_" or
// "fgp_"), or "" for the zero Kind.
func (k Kind) Prefix() string { return k.prefix }

// valid reports whether k is User or Provisioning rather than the zero
// Kind.
func (k Kind) valid() bool { return len(k.prefix) == prefixLen }

// Generate returns a fresh random key of kind k. It fails only if the
// system's secure random number generator fails, or if k is the zero Kind.
func (k Kind) Generate() (key string, err error) {
	if !k.valid() {
		return "", errInvalidKind
	}
	var raw [randBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return k.encode(&raw), nil
}

// Matches reports whether s starts with k's prefix. It is a cheap routing
// test (which kind of key, or a JWT?) and does not validate s; use
// [Kind.Parse] for that. It is false for the zero Kind.
func (k Kind) Matches(s string) bool {
	return k.valid() && len(s) >= len(k.prefix) && s[:len(k.prefix)] == k.prefix
}

// Parse checks that s is a well-formed key of kind k: it has k's prefix, is
// exactly Length bytes long, contains only base62 characters after the
// prefix, and its checksum (computed as documented for k) matches. It
// returns nil, ErrMalformed or ErrChecksum; every string is ErrMalformed
// for the zero Kind. It does not allocate and does not consult any storage:
// a nil result means only that s could be a key of kind k, not that it was
// ever issued.
func (k Kind) Parse(s string) error {
	if len(s) != Length || !k.Matches(s) {
		return ErrMalformed
	}
	for i := prefixLen; i < Length; i++ {
		if !isBase62[s[i]] {
			return ErrMalformed
		}
	}
	var want [sumLen]byte
	putChecksum(want[:], k.checksum(s[:prefixLen+randLen]))
	if string(want[:]) != s[prefixLen+randLen:] {
		return ErrChecksum
	}
	return nil
}

// checksum returns the checksum of a key of kind k, given head, the key's
// prefix and random part (prefixLen+randLen bytes).
func (k Kind) checksum(head string) uint32 {
	if k.sumPrefix {
		return checksum(head)
	}
	return checksum(head[prefixLen:])
}

// encode builds the key of kind k for the random bytes raw.
func (k Kind) encode(raw *[randBytes]byte) string {
	var buf [Length]byte
	copy(buf[:], k.prefix)
	body := buf[prefixLen : prefixLen+randLen]

	// Base62 by repeated division of the big-endian number in n by 62,
	// filling digits from the right. Digits beyond the number's length stay
	// '0', which gives the left padding.
	n := *raw
	for i := randLen - 1; i >= 0; i-- {
		var rem uint32
		for j := range n {
			cur := rem<<8 | uint32(n[j])
			n[j] = byte(cur / 62)
			rem = cur % 62
		}
		body[i] = alphabet[rem]
	}

	var sum uint32
	if k.sumPrefix {
		sum = checksum(buf[:prefixLen+randLen])
	} else {
		sum = checksum(body)
	}
	putChecksum(buf[prefixLen+randLen:], sum)
	return string(buf[:])
}

// checksum returns the CRC-32 (IEEE) of s without converting it, so that
// Parse does not allocate. It equals crc32.ChecksumIEEE([]byte(s)).
func checksum[T string | []byte](s T) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crcTable[byte(crc)^s[i]] ^ crc>>8
	}
	return ^crc
}

// putChecksum writes sum in base62 into dst (sumLen bytes), left padded
// with '0'.
func putChecksum(dst []byte, sum uint32) {
	for i := sumLen - 1; i >= 0; i-- {
		dst[i] = alphabet[sum%62]
		sum /= 62
	}
}

// encode builds the user key for the random bytes raw.
func encode(raw *[randBytes]byte) string { return User.encode(raw) }

// Generate returns a fresh random user key; it is User.Generate. It fails
// only if the system's secure random number generator fails.
func Generate() (key string, err error) { return User.Generate() }

// LooksLikeKey reports whether s starts with Prefix ("fgk_"); it is
// User.Matches. It is a cheap routing test (user API key or JWT?) and does
// not validate s; use Parse for that. It is false for provisioning keys:
// use Provisioning.Matches to route those.
func LooksLikeKey(s string) bool { return User.Matches(s) }

// Parse checks that s is a well-formed user key; it is User.Parse (see
// [Kind.Parse]). It returns nil, ErrMalformed or ErrChecksum, and
// ErrMalformed for a provisioning key. It does not allocate and does not
// consult any storage: a nil result means only that s could be a key, not
// that it was ever issued.
func Parse(s string) error { return User.Parse(s) }

// Hash returns the SHA-256 digest (32 bytes) of the whole key string, of
// either kind. Store this, never the key itself. Keys of different kinds
// have different prefixes, so their hashes never collide.
func Hash(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// DisplayPrefix returns the first 12 characters of key, of either kind (its
// prefix and 8 characters of the random part), which identify a key in
// lists without revealing enough of it to matter. A shorter string is
// returned whole.
func DisplayPrefix(key string) string {
	if len(key) < displayLen {
		return key
	}
	return key[:displayLen]
}
