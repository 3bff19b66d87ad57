package secretbox

import (
	"crypto/hkdf"
	"crypto/sha256"
)

// DeriveKey is a KeySize key for one purpose, derived from the master key
// (SECRET_KEY) with HKDF-SHA256, so that a key used for one thing reveals
// nothing about another.
func DeriveKey(master []byte, purpose string) []byte {
	key, err := hkdf.Key(sha256.New, master, nil, purpose, KeySize)
	if err != nil {
		panic(err) // only for lengths HKDF-SHA256 cannot give; KeySize is not one
	}
	return key
}

// ForPurpose is the Box of the key derived from master for purpose.
func ForPurpose(master []byte, purpose string) *Box {
	b, err := New(DeriveKey(master, purpose))
	if err != nil {
		panic(err) // DeriveKey always gives KeySize bytes
	}
	return b
}
