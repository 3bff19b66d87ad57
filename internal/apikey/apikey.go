// Package apikey generates and validates fleetgate API keys.
//
// # Format
//
// A key is 53 ASCII characters (spaces below are only for readability):
//
//	fgk_ RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR CCCCCC
//	 4   43 characters: random part                6: checksum
//
// where:
//
//   - "fgk_" is a fixed prefix ([Prefix]).
//   - The random part is 32 bytes from crypto/rand (256 bits of entropy),
//     read as a big-endian unsigned integer and written in base62, left
//     padded with '0' to a fixed width of 43 characters (62^43 > 2^256, so
//     43 characters always suffice).
//   - The checksum is the CRC-32 (IEEE) of the 43 ASCII characters of the
//     random part, written in base62 and left padded with '0' to 6
//     characters (62^6 > 2^32).
//
// The base62 alphabet is "0-9A-Za-z": digits, then upper case, then lower
// case letters.
//
// # Why
//
// The prefix lets a server route a bearer credential to the API-key path
// rather than the JWT path with a cheap string test ([LooksLikeKey]), and
// lets people and secret scanners recognise a leaked fleetgate key (the same
// idea as GitHub's ghp_ tokens). The checksum lets [Parse] refuse mistyped,
// truncated or made-up keys before any database lookup: CRC-32 detects every
// single-character change, and a random string passes with probability about
// 2^-32. The checksum is not a secret and gives no security by itself; the
// security comes from the 256 random bits.
//
// Only a hash of a key is stored ([Hash], SHA-256 of the whole key string),
// under a unique index. Since keys carry 256 bits of entropy, a fast
// unsalted hash is appropriate (no password-style KDF is needed).
// [DisplayPrefix] gives the first 12 characters, which are safe to show in
// lists so people can tell keys apart.
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
	// Prefix starts every key.
	Prefix = "fgk_"
	// Length is the length of every key in bytes (all ASCII).
	Length = len(Prefix) + randLen + sumLen // 53

	randBytes = 32 // entropy in bytes
	randLen   = 43 // base62 digits for randBytes bytes: 62^43 > 2^256
	sumLen    = 6  // base62 digits for a CRC-32: 62^6 > 2^32

	// displayLen is the length returned by DisplayPrefix.
	displayLen = 12

	alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

var (
	// ErrMalformed means the string does not have the shape of a key:
	// wrong prefix, wrong length or a character outside the base62 alphabet.
	ErrMalformed = errors.New("apikey: malformed API key")
	// ErrChecksum means the string has the shape of a key but its checksum
	// is wrong, so it was mistyped, truncated and padded, or forged.
	ErrChecksum = errors.New("apikey: API key checksum mismatch")
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

// Generate returns a fresh random key. It fails only if the system's
// secure random number generator fails.
func Generate() (key string, err error) {
	var raw [randBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return encode(&raw), nil
}

// encode builds the key for the random bytes raw.
func encode(raw *[randBytes]byte) string {
	var buf [Length]byte
	copy(buf[:], Prefix)
	body := buf[len(Prefix) : len(Prefix)+randLen]

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

	putChecksum(buf[len(Prefix)+randLen:], checksum(string(body)))
	return string(buf[:])
}

// checksum returns the CRC-32 (IEEE) of s without converting it to []byte,
// so that Parse does not allocate. It equals crc32.ChecksumIEEE([]byte(s)).
func checksum(s string) uint32 {
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

// LooksLikeKey reports whether s starts with Prefix. It is a cheap routing
// test (API key or JWT?) and does not validate s; use Parse for that.
func LooksLikeKey(s string) bool {
	return len(s) >= len(Prefix) && s[:len(Prefix)] == Prefix
}

// Parse checks that s is a well-formed key: it has Prefix, is exactly
// Length bytes long, contains only base62 characters after the prefix, and
// its checksum matches. It returns nil, ErrMalformed or ErrChecksum. It does
// not allocate and does not consult any storage: a nil result means only
// that s could be a key, not that it was ever issued.
func Parse(s string) error {
	if len(s) != Length || !LooksLikeKey(s) {
		return ErrMalformed
	}
	for i := len(Prefix); i < Length; i++ {
		if !isBase62[s[i]] {
			return ErrMalformed
		}
	}
	var want [sumLen]byte
	putChecksum(want[:], checksum(s[len(Prefix):len(Prefix)+randLen]))
	if string(want[:]) != s[len(Prefix)+randLen:] {
		return ErrChecksum
	}
	return nil
}

// Hash returns the SHA-256 digest (32 bytes) of the whole key string. Store
// this, never the key itself.
func Hash(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// DisplayPrefix returns the first 12 characters of key (Prefix and 8
// characters of the random part), which identify a key in lists without
// revealing enough of it to matter. A shorter string is returned whole.
func DisplayPrefix(key string) string {
	if len(key) < displayLen {
		return key
	}
	return key[:displayLen]
}
