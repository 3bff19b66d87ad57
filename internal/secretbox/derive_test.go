package secretbox

import (
	"bytes"
	"testing"
)

func TestDeriveKey(t *testing.T) {
	master := bytes.Repeat([]byte{7}, KeySize)
	a, b := DeriveKey(master, "one"), DeriveKey(master, "two")
	if len(a) != KeySize || bytes.Equal(a, b) || bytes.Equal(a, master) {
		t.Fatalf("keys %x %x", a, b)
	}
	if !bytes.Equal(a, DeriveKey(master, "one")) {
		t.Fatal("not deterministic")
	}
	sealed, err := ForPurpose(master, "one").Seal([]byte("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ForPurpose(master, "two").Open(sealed, nil); err == nil {
		t.Fatal("a box of another purpose opened it")
	}
}
