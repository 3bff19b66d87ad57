// Package account normalizes and validates usernames and email addresses.
//
// Both are unique keys, so each has exactly one stored form: lowercase, so
// that "Alice" and "alice" cannot be two accounts. Only ASCII is accepted,
// which rules out look-alike characters (Cyrillic "а", the Kelvin sign that
// lowercases to "k") and keeps lowercasing exact. Errors are fault.Input
// errors for the field name the caller gives.
package account

import (
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"fleetgate/internal/fault"
)

// Username length limits, in characters.
const (
	minUsername = 3
	maxUsername = 32
)

// reserved usernames could pass for the service itself, or clash with routes.
// Sorted; exact match after lowercasing.
var reserved = []string{
	"abuse", "admin", "administrator", "anonymous", "api", "auth", "billing",
	"everyone", "fleetgate", "graphql", "guest", "help", "hostmaster", "info",
	"login", "logout", "mail", "me", "moderator", "no_reply", "noreply", "null",
	"oauth", "official", "owner", "password_reset", "postmaster", "root",
	"security", "settings", "signup", "staff", "status", "superuser", "support",
	"system", "test", "undefined", "user", "users", "webmaster", "well_known",
	"www",
}

// NormalizeUsername returns s lowercased, if it is 3–32 characters of ASCII
// letters, digits and underscores and not reserved. Organization handles
// share the rule (and the namespace). Surrounding spaces are
// refused rather than trimmed, so the user sees exactly the name they get.
func NormalizeUsername(field, s string) (string, error) {
	if strings.TrimSpace(s) != s {
		return "", fault.Input(field, "%s must not start or end with a space", field)
	}
	if n := utf8.RuneCountInString(s); n < minUsername || n > maxUsername {
		return "", fault.Input(field, "%s must be %d to %d characters", field, minUsername, maxUsername)
	}
	// Byte-wise, so invalid UTF-8, NUL and every non-ASCII character fail.
	for i := range len(s) {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return "", fault.Input(field, "%s may contain only letters a-z, digits and underscores", field)
		}
	}
	s = strings.ToLower(s)
	if _, found := slices.BinarySearch(reserved, s); found {
		return "", fault.Input(field, "%s %q is reserved", field, s)
	}
	return s, nil
}

// Email length limits, in bytes (RFC 5321).
const (
	maxEmail      = 254
	maxLocalPart  = 64
	maxEmailLabel = 63
)

// NormalizeEmail returns s trimmed and lowercased, if it is a plain
// local@domain address: no display name, angle brackets, comments or quoting,
// printable ASCII only, and a domain of at least two dot-separated labels.
func NormalizeEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxEmail {
		return "", invalidEmail(field)
	}
	// Printable ASCII only: no controls, NUL, whitespace, non-ASCII or
	// invalid UTF-8.
	for i := range len(s) {
		if s[i] <= ' ' || s[i] > '~' {
			return "", invalidEmail(field)
		}
	}
	s = strings.ToLower(s)
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > maxLocalPart || strings.Contains(domain, "@") || !validDomain(domain) {
		return "", invalidEmail(field)
	}
	// net/mail checks the local part's syntax (dot-atom: no leading, trailing
	// or doubled dots). Requiring its result to equal the input refuses the
	// forms it would rewrite: quoted local parts, comments, "<...>".
	if addr, err := mail.ParseAddress(s); err != nil || addr.Name != "" || addr.Address != s {
		return "", invalidEmail(field)
	}
	return s, nil
}

func invalidEmail(field string) error {
	return fault.Input(field, "enter a valid email address")
}

// validDomain reports whether d is two or more labels of [a-z0-9-], each
// 1–63 characters and not starting or ending with '-'. The top-level label
// must not be all digits, which refuses bare IP addresses.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > maxEmailLabel || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := range len(l) {
			if c := l[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// UsernameFrom makes a valid username out of the first of names (a
// provider's handle, a display name, an address's local part) that has
// enough letters or digits: lowercased, other characters turned into
// underscores, cut to leave room for a suffix that makes it unique; "user"
// followed by digits when none will do. It says nothing of whether the
// name is taken.
func UsernameFrom(names ...string) string {
	const room = maxUsername - 4 // for "_999"
	for _, name := range names {
		var b strings.Builder
		for i := range len(name) {
			c := name[i]
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				b.WriteByte(c)
			case 'A' <= c && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
			case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
				b.WriteByte('_')
			}
		}
		s := strings.TrimRight(b.String(), "_")
		if len(s) > room {
			s = strings.TrimRight(s[:room], "_")
		}
		if _, err := NormalizeUsername("username", s); err == nil {
			return s
		}
	}
	return "user"
}
