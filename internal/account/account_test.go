package account

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"fleetgate/internal/fault"
	"fleetgate/internal/text"
)

// checkFault fails unless err is a BAD_USER_INPUT fault on field with
// message want.
func checkFault(t *testing.T, err error, field, want string) {
	t.Helper()
	e, ok := fault.As(err)
	if !ok {
		t.Fatalf("err = %v; want a *fault.Error", err)
	}
	if e.Code != fault.BadUserInput || e.Field != field || e.Message != want {
		t.Fatalf("err = {%s %q %q}; want {%s %q %q}", e.Code, e.Field, e.Message, fault.BadUserInput, field, want)
	}
}

func TestNormalizeUsername(t *testing.T) {
	const (
		spaces  = "username must not start or end with a space"
		length  = "username must be 3 to 32 characters"
		charset = "username may contain only letters a-z, digits and underscores"
	)
	tests := []struct {
		name, field, in string
		want, wantErr   string
	}{
		{"mixed case", "username", "Alice_01", "alice_01", ""},
		{"shortest", "username", "abc", "abc", ""},
		{"longest", "username", strings.Repeat("a", 32), strings.Repeat("a", 32), ""},
		{"digits and underscores", "username", "_0_9_", "_0_9_", ""},
		{"reserved with suffix is fine", "username", "admin_2", "admin_2", ""},
		{"empty", "username", "", "", length},
		{"too short", "username", "ab", "", length},
		{"too long", "username", strings.Repeat("a", 33), "", length},
		{"leading space", "username", " bob", "", spaces},
		{"trailing space", "username", "bob ", "", spaces},
		{"trailing newline", "username", "bob\n", "", spaces},
		{"inner space", "username", "bo b", "", charset},
		{"hyphen", "username", "bob-1", "", charset},
		{"dot", "username", "bob.1", "", charset},
		{"accented", "username", "bób", "", charset},
		{"kelvin sign lowercases to k", "username", "\u212Aate", "", charset},
		{"cyrillic a", "username", "\u0430lice", "", charset},
		{"NUL", "username", "bo\x00b", "", charset},
		{"invalid UTF-8", "username", "bo\xffb", "", charset},
		{"reserved", "username", "admin", "", `username "admin" is reserved`},
		{"reserved any case", "username", "ROOT", "", `username "root" is reserved`},
		{"reserved with underscore", "username", "well_known", "", `username "well_known" is reserved`},
		{"caller's field name", "handle", "ab", "", "handle must be 3 to 32 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeUsername(tt.field, tt.in)
			if tt.wantErr != "" {
				checkFault(t, err, tt.field, tt.wantErr)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeUsername(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestReservedSorted(t *testing.T) {
	if !slices.IsSorted(reserved) {
		t.Fatal("reserved must be sorted: NormalizeUsername binary-searches it")
	}
	for _, r := range reserved {
		if r != strings.ToLower(r) {
			t.Errorf("reserved %q is not lowercase and can never match", r)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	const invalid = "enter a valid email address"
	local64 := strings.Repeat("a", 64)
	label63 := strings.Repeat("b", 63)
	// 64 + 1 + 63 + 1 + 63 + 1 + 57 + 4 = 254 bytes.
	longest := local64 + "@" + label63 + "." + label63 + "." + strings.Repeat("c", 57) + ".com"
	tests := []struct {
		name, field, in string
		want            string // "" means refused
	}{
		{"trim and lowercase", "email", " Bob@Example.COM ", "bob@example.com"},
		{"short", "email", "a@b.co", "a@b.co"},
		{"dots, plus and subdomains", "email", "first.last+tag@mail.sub.example.org", "first.last+tag@mail.sub.example.org"},
		{"atext symbols", "email", "o'brien!#$%&*/=?^_`{|}~-@example.com", "o'brien!#$%&*/=?^_`{|}~-@example.com"},
		{"hyphen and digits in domain", "email", "x@my-host2.example", "x@my-host2.example"},
		{"numeric label not last", "email", "x@123.example", "x@123.example"},
		{"64-char local part", "email", local64 + "@example.com", local64 + "@example.com"},
		{"254 chars", "email", longest, longest},
		{"empty", "email", "", ""},
		{"spaces only", "email", "   ", ""},
		{"no at", "email", "bob.example.com", ""},
		{"no domain", "email", "bob@", ""},
		{"no local part", "email", "@example.com", ""},
		{"no dot in domain", "email", "bob@localhost", ""},
		{"two ats", "email", "bob@example@example.com", ""},
		{"double at", "email", "bob@@example.com", ""},
		{"display name", "email", "Bob <bob@example.com>", ""},
		{"angle brackets", "email", "<bob@example.com>", ""},
		{"comment", "email", "bob(work)@example.com", ""},
		{"trailing comment", "email", "bob@example.com(work)", ""},
		{"quoted local part", "email", `"bob"@example.com`, ""},
		{"quoted local part with at", "email", `"b@b"@example.com`, ""},
		{"leading dot", "email", ".bob@example.com", ""},
		{"trailing dot in local", "email", "bob.@example.com", ""},
		{"double dot in local", "email", "bo..b@example.com", ""},
		{"empty label", "email", "bob@example..com", ""},
		{"leading dot in domain", "email", "bob@.example.com", ""},
		{"trailing dot in domain", "email", "bob@example.com.", ""},
		{"label starts with hyphen", "email", "bob@-example.com", ""},
		{"label ends with hyphen", "email", "bob@example-.com", ""},
		{"underscore in domain", "email", "bob@exa_mple.com", ""},
		{"64-char label", "email", "bob@" + strings.Repeat("b", 64) + ".com", ""},
		{"IP address", "email", "bob@192.168.0.1", ""},
		{"domain literal", "email", "bob@[192.168.0.1]", ""},
		{"65-char local part", "email", "a" + local64 + "@example.com", ""},
		{"255 chars", "email", "a" + longest, ""},
		{"inner space", "email", "bo b@example.com", ""},
		{"tab", "email", "bob\t@example.com", ""},
		{"control character", "email", "bob\x01@example.com", ""},
		{"DEL", "email", "bob\x7f@example.com", ""},
		{"NUL", "email", "bob@example.com\x00", ""},
		{"invalid UTF-8", "email", "bob\xff@example.com", ""},
		{"non-ASCII local part", "email", "bøb@example.com", ""},
		{"non-ASCII domain", "email", "bob@exämple.com", ""},
		{"kelvin sign in domain", "email", "bob@\u212Aexample.com", ""},
		{"caller's field name", "newEmail", "nope", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeEmail(tt.field, tt.in)
			if tt.want == "" {
				checkFault(t, err, tt.field, invalid)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeEmail(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
			}
		})
	}
	if len(longest) != 254 {
		t.Fatalf("longest is %d bytes; the test needs 254", len(longest))
	}
}

var usernameRE = regexp.MustCompile(`^[a-z0-9_]{3,32}$`)

func FuzzNormalizeUsername(f *testing.F) {
	for _, s := range []string{"Alice_01", "abc", "ab", " bob", "ADMIN", "bób", "\u212Aate", "bo\x00b", "\xff\xfe\xfd", strings.Repeat("Z", 33)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeUsername("username", s)
		if err != nil {
			if e, ok := fault.As(err); !ok || e.Code != fault.BadUserInput || e.Field != "username" {
				t.Fatalf("NormalizeUsername(%q) returned %#v; want a BAD_USER_INPUT fault on field username", s, err)
			}
			return
		}
		if !usernameRE.MatchString(got) || text.Line.Check(got) != nil {
			t.Fatalf("NormalizeUsername(%q) = %q, which does not match %s", s, got, usernameRE)
		}
		if !strings.EqualFold(got, s) {
			t.Fatalf("NormalizeUsername(%q) = %q, not the same name", s, got)
		}
		if again, err := NormalizeUsername("username", got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{" Bob@Example.COM ", "a@b.co", "first.last+tag@sub.example.org", "Bob <bob@example.com>",
		`"b@b"@example.com`, "bob(work)@example.com", "bob@example..com", "bob@-x.com", "bøb@example.com", "bob@\u212Aexample.com",
		"bob@example.com\x00", "bob\xff@example.com", "bob@[192.168.0.1]", "=?utf-8?q?bob?=@example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail("email", s)
		if err != nil {
			if e, ok := fault.As(err); !ok || e.Code != fault.BadUserInput || e.Field != "email" {
				t.Fatalf("NormalizeEmail(%q) returned %#v; want a BAD_USER_INPUT fault on field email", s, err)
			}
			return
		}
		if !utf8.ValidString(got) || got != strings.ToLower(got) || len(got) > maxEmail || strings.Count(got, "@") != 1 {
			t.Fatalf("NormalizeEmail(%q) = %q: not a valid, lowercase, short, single-@ address", s, got)
		}
		if local, _, _ := strings.Cut(got, "@"); len(local) > maxLocalPart {
			t.Fatalf("NormalizeEmail(%q) = %q: local part over %d bytes", s, got, maxLocalPart)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r <= ' ' || r > '~' }) || text.Line.Check(got) != nil {
			t.Fatalf("NormalizeEmail(%q) = %q: contains a space, control or non-ASCII character", s, got)
		}
		if again, err := NormalizeEmail("email", got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}

func TestUsernameFrom(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{[]string{"octocat"}, "octocat"},
		{[]string{"Ada-Lovelace"}, "ada_lovelace"},
		{[]string{"", "Ada Lovelace", "ada"}, "ada_lovelace"},
		{[]string{"José Müller"}, "jos_m_ller"},
		{[]string{"--x--", "ab", "bob.smith"}, "bob_smith"},
		{[]string{"admin"}, "user"},
		{[]string{"李", "!!"}, "user"},
		{[]string{"averyveryveryverylongnamethatgoesonandon"}, "averyveryveryverylongnamethat"[:28]},
	} {
		got := UsernameFrom(tc.names...)
		if got != tc.want {
			t.Errorf("UsernameFrom(%q) = %q, want %q", tc.names, got, tc.want)
		}
		if _, err := NormalizeUsername("username", got+"_12"); err != nil {
			t.Errorf("%q with a suffix is not a username: %v", got, err)
		}
	}
}
