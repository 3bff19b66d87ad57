// Package secretbox encrypts small secrets at rest (for example TOTP secrets)
// with AES-256-GCM from the standard library.
//
// A sealed value is
//
//	version (1 byte, currently 1) || nonce (12 random bytes) || GCM ciphertext and 16-byte tag
//
// The version byte lets the format change later; it is also authenticated
// (it is prepended to the additional data given to GCM), so it cannot be
// swapped without detection. Callers should pass additional data naming the
// row a ciphertext belongs to (e.g. "totp:user:42") so that a sealed value
// copied to another row fails to open.
//
// Nonces are random, so one key should seal well under 2^32 values (the usual
// bound for random 96-bit GCM nonces); that is far beyond what an account
// service stores.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the size of a key in bytes (AES-256).
const KeySize = 32

const (
	version1  = 1
	nonceSize = 12
	tagSize   = 16
	overhead  = 1 + nonceSize + tagSize
)

var (
	// ErrUnsupportedVersion is returned by Open for a value whose version
	// byte this code does not know.
	ErrUnsupportedVersion = errors.New("secretbox: unsupported format version")
	// ErrInvalid is returned by Open for a value that is too short, was
	// tampered with, or was sealed with another key or other additional data.
	ErrInvalid = errors.New("secretbox: message too short or authentication failed")
)

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box using key, which must be exactly 32 bytes (AES-256-GCM).
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secretbox: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts and authenticates plaintext, binding it to additionalData
// (which is authenticated but neither encrypted nor included in the result).
// Every call uses a fresh random nonce, so sealing the same plaintext twice
// gives different results.
func (b *Box) Seal(plaintext, additionalData []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, overhead+len(plaintext))
	out[0] = version1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("secretbox: reading random nonce: %w", err)
	}
	return b.aead.Seal(out, out[1:1+nonceSize], plaintext, versionedAD(version1, additionalData)), nil
}

// Open checks and decrypts a value made by Seal with the same key and the
// same additionalData. It returns ErrUnsupportedVersion or ErrInvalid
// otherwise.
func (b *Box) Open(sealed, additionalData []byte) ([]byte, error) {
	if len(sealed) < 1 {
		return nil, ErrInvalid
	}
	if sealed[0] != version1 {
		return nil, ErrUnsupportedVersion
	}
	if len(sealed) < overhead {
		return nil, ErrInvalid
	}
	nonce := sealed[1 : 1+nonceSize]
	plaintext, err := b.aead.Open(nil, nonce, sealed[1+nonceSize:], versionedAD(version1, additionalData))
	if err != nil {
		return nil, ErrInvalid
	}
	if plaintext == nil {
		plaintext = []byte{}
	}
	return plaintext, nil
}

func versionedAD(version byte, ad []byte) []byte {
	out := make([]byte, 0, 1+len(ad))
	out = append(out, version)
	return append(out, ad...)
}
