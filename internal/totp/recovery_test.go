package totp

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

var recoveryShape = regexp.MustCompile(`^[abcdefghjkmnpqrstuvwxyz23456789]{5}-[abcdefghjkmnpqrstuvwxyz23456789]{5}$`)

func TestRecoveryAlphabet(t *testing.T) {
	if len(RecoveryAlphabet) != 31 {
		t.Errorf("alphabet has %d characters", len(RecoveryAlphabet))
	}
	if strings.ContainsAny(RecoveryAlphabet, "0o1il") {
		t.Error("alphabet has look-alikes")
	}
	seen := map[rune]bool{}
	for _, r := range RecoveryAlphabet {
		if seen[r] {
			t.Errorf("duplicate %q", r)
		}
		seen[r] = true
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, err := RecoveryCodes(RecoveryCodeCount)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 {
		t.Fatalf("%d codes", len(codes))
	}
	all := map[string]bool{}
	counts := map[byte]int{}
	for range 100 {
		codes, err := RecoveryCodes(RecoveryCodeCount)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range codes {
			if !recoveryShape.MatchString(c) {
				t.Fatalf("code %q has the wrong shape", c)
			}
			if all[c] {
				t.Fatalf("code %q repeated", c)
			}
			all[c] = true
			if n, ok := NormalizeRecoveryCode(c); !ok || n != c {
				t.Fatalf("code %q does not normalize to itself (%q, %v)", c, n, ok)
			}
			for i := 0; i < len(c); i++ {
				counts[c[i]]++
			}
		}
	}
	// 10,000 characters: every letter of the alphabet shows up (expected
	// ≈323 each), none far off.
	for i := 0; i < len(RecoveryAlphabet); i++ {
		n := counts[RecoveryAlphabet[i]]
		if n < 200 || n > 450 {
			t.Errorf("character %q drawn %d times out of 10000", RecoveryAlphabet[i], n)
		}
	}
	for _, n := range []int{0, -1, 101} {
		if _, err := RecoveryCodes(n); err == nil {
			t.Errorf("RecoveryCodes(%d) succeeded", n)
		}
	}
	if codes, err := RecoveryCodes(1); err != nil || len(codes) != 1 {
		t.Errorf("RecoveryCodes(1) = %v, %v", codes, err)
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	good := map[string]string{
		"abcde-fghjk":      "abcde-fghjk",
		"abcdefghjk":       "abcde-fghjk",
		"ABCDE-FGHJK":      "abcde-fghjk",
		"AbCdEfGhJk":       "abcde-fghjk",
		"  23456-789ab \n": "23456-789ab",
		"\t23456789AB":     "23456-789ab",
	}
	for in, want := range good {
		got, ok := NormalizeRecoveryCode(in)
		if !ok || got != want {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{
		"", "-", "abcde-fghj", "abcde-fghjkm", "abcdefghj", "abcdefghjkm",
		"abcd-efghjk", "abcdef-ghjk", "abcde--fghjk", "abcde fghjk", "abcde_fghjk",
		"abcde-fghj0", "abcde-fghjo", "abcde-fghj1", "abcde-fghjl", "abcde-fghji", "ABCDE-FGHJI",
		"abcde-fghj!", "abcde-fghj\x00", "abcde-fghj\u212a", // Kelvin sign lowercases to 'k' in Unicode
		"abcde-fghjé", "-abcdefghjk", "abcdefghjk-",
	} {
		if got, ok := NormalizeRecoveryCode(in); ok {
			t.Errorf("NormalizeRecoveryCode(%q) accepted as %q", in, got)
		}
	}
}

func TestHashRecoveryCode(t *testing.T) {
	code := "abcde-fghjk"
	h1 := HashRecoveryCode([]byte("pepper one"), code)
	if len(h1) != 32 {
		t.Fatalf("hash length %d", len(h1))
	}
	if !bytes.Equal(h1, HashRecoveryCode([]byte("pepper one"), code)) {
		t.Error("hash not deterministic")
	}
	if bytes.Equal(h1, HashRecoveryCode([]byte("pepper two"), code)) {
		t.Error("hash does not depend on the pepper")
	}
	if bytes.Equal(h1, HashRecoveryCode([]byte("pepper one"), "abcde-fghjm")) {
		t.Error("hash does not depend on the code")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("empty pepper did not panic")
			}
		}()
		HashRecoveryCode(nil, code)
	}()
}

func FuzzNormalizeRecoveryCode(f *testing.F) {
	for _, s := range []string{"", "abcde-fghjk", "ABCDEFGHJK", " abcde-fghjk ", "abcde fghjk", "\u212a", "abcde-fghj\u212a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := NormalizeRecoveryCode(s)
		if !ok {
			if n != "" {
				t.Fatalf("refused %q but returned %q", s, n)
			}
			return
		}
		if !recoveryShape.MatchString(n) {
			t.Fatalf("NormalizeRecoveryCode(%q) = %q, not canonical", s, n)
		}
		if again, ok := NormalizeRecoveryCode(n); !ok || again != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, again)
		}
		// Only case, surrounding space and the hyphen may differ.
		core := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
		if core != strings.ReplaceAll(n, "-", "") {
			t.Fatalf("%q normalized to unrelated %q", s, n)
		}
	})
}
