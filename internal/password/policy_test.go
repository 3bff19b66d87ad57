package password

import (
	"strings"
	"testing"
	"unicode/utf8"

	"fleetgate/internal/fault"
)

func TestValidate(t *testing.T) {
	const (
		tooShort = "password must be at least 8 characters"
		tooLong  = "password must be at most 256 characters"
		badUTF8  = "password must be valid UTF-8 text"
		hasUser  = "password must not contain your username"
		hasEmail = "password must not contain your email address"
		common   = "this password is too common; choose another"
	)
	tests := []struct {
		name, field, password, username, email string
		want                                   string // "" means accepted
	}{
		{"ok passphrase", "password", "correct horse battery staple", "alice", "alice@example.com", ""},
		{"ok exactly 8", "password", "xq7!pz#w", "", "", ""},
		{"ok 8 runes of 2 bytes", "password", "éèêëéèêë", "", "", ""},
		{"ok exactly 256", "password", strings.Repeat("xq7!", 64), "", "", ""},
		{"ok no composition rules", "password", "purplemonkeydishwasher", "bob", "bob@example.com", ""},
		{"ok empty username and email", "password", "tzbkqmwfhv", "", "", ""},
		{"ok short local part", "password", "bobcat-tzbkqmw", "", "bo@example.com", ""},
		{"empty", "password", "", "", "", tooShort},
		{"7 chars", "password", "xq7!pz#", "", "", tooShort},
		{"7 runes in 14 bytes", "password", "éèêëéèê", "", "", tooShort},
		{"257 chars", "password", strings.Repeat("x", 257), "", "", tooLong},
		{"invalid UTF-8", "password", "tzbkqmwf\xff\xfe", "", "", badUTF8},
		{"equals username", "password", "alice_smith", "alice_smith", "", hasUser},
		{"contains username", "password", "my-alice-pw-99", "alice", "", hasUser},
		{"contains username other case", "password", "My-ALICE-pw-99", "Alice", "", hasUser},
		{"equals email", "password", "Alice@Example.com", "", "alice@example.com", hasEmail},
		{"contains email", "password", "xx-alice@example.com-xx", "", "alice@example.com", hasEmail},
		{"contains local part", "password", "zz-BOB.SMITH-zz", "", "bob.smith@example.com", hasEmail},
		{"contains 3-char local part", "password", "bobcat-tzbkqmw", "", "bob@example.com", hasEmail},
		{"common", "password", "password", "", "", common},
		{"common other case", "password", "PassWord1", "", "", common},
		{"common keyboard", "password", "qwertyuiop", "", "", common},
		{"common iloveyou", "password", "iloveyou", "", "", common},
		{"caller's field name", "newPassword", "short", "", "", tooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.field, tt.password, tt.username, tt.email)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate(%q) = %v; want nil", tt.password, err)
				}
				return
			}
			e, ok := fault.As(err)
			if !ok {
				t.Fatalf("Validate(%q) = %v; want a *fault.Error", tt.password, err)
			}
			if e.Code != fault.BadUserInput || e.Field != tt.field || e.Message != tt.want {
				t.Fatalf("Validate(%q) = {%s %q %q}; want {%s %q %q}",
					tt.password, e.Code, e.Field, e.Message, fault.BadUserInput, tt.field, tt.want)
			}
		})
	}
}

// TestCommonList checks the embedded list's invariants: every entry is
// reachable (lowercase and long enough to get past the length check) and the
// comment header is skipped.
func TestCommonList(t *testing.T) {
	set := commonPasswords()
	if len(set) < 1000 {
		t.Fatalf("only %d common passwords loaded", len(set))
	}
	for _, pw := range []string{"password", "12345678", "qwertyuiop", "iloveyou"} {
		if _, ok := set[pw]; !ok {
			t.Errorf("%q missing from the common list", pw)
		}
	}
	for pw := range set {
		if strings.HasPrefix(pw, "#") || pw != strings.ToLower(pw) || utf8.RuneCountInString(pw) < minLength {
			t.Errorf("unreachable entry %q", pw)
		}
	}
}

func FuzzValidatePassword(f *testing.F) {
	f.Add("correct horse battery staple", "alice", "alice@example.com")
	f.Add("password", "", "")
	f.Add("éèêëéèê", "bob", "bob@example.com")
	f.Add("xx-Alice-xx", "ALICE", "")
	f.Add("tzbkqmwf\xff", "", "")
	f.Add("bob.smith-1234", "", "Bob.Smith@example.com")
	f.Fuzz(func(t *testing.T, password, username, email string) {
		err := Validate("password", password, username, email)
		if err != nil {
			if e, ok := fault.As(err); !ok || e.Code != fault.BadUserInput || e.Field != "password" {
				t.Fatalf("Validate returned %#v; want a BAD_USER_INPUT fault on field password", err)
			}
			return
		}
		if !utf8.ValidString(password) {
			t.Fatalf("accepted invalid UTF-8 %q", password)
		}
		if n := utf8.RuneCountInString(password); n < minLength || n > maxLength {
			t.Fatalf("accepted %d-rune password %q", n, password)
		}
		if username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)) {
			t.Fatalf("accepted %q containing username %q", password, username)
		}
		if email != "" && strings.Contains(strings.ToLower(password), strings.ToLower(email)) {
			t.Fatalf("accepted %q containing email %q", password, email)
		}
	})
}
