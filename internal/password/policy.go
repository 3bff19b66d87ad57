package password

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"

	"fleetgate/internal/fault"
)

// Length limits, in characters (runes). The maximum keeps hashing cheap to
// request while leaving room for passphrases.
const (
	minLength = 8
	maxLength = 256
)

// Validate checks a new password against the policy and returns a
// fault.Input error for field naming the rule it breaks. username and email
// are the account's own; either may be empty.
func Validate(field, password, username, email string) error {
	if !utf8.ValidString(password) {
		return fault.Input(field, "password must be valid UTF-8 text")
	}
	switch n := utf8.RuneCountInString(password); {
	case n < minLength:
		return fault.Input(field, "password must be at least %d characters", minLength)
	case n > maxLength:
		return fault.Input(field, "password must be at most %d characters", maxLength)
	}
	lower := strings.ToLower(password)
	if username != "" && strings.Contains(lower, strings.ToLower(username)) {
		return fault.Input(field, "password must not contain your username")
	}
	if email != "" {
		email = strings.ToLower(email)
		local := email
		if i := strings.LastIndexByte(email, '@'); i >= 0 {
			local = email[:i]
		}
		// Very short local parts ("jo") would refuse too many good passwords.
		if strings.Contains(lower, email) || utf8.RuneCountInString(local) >= 3 && strings.Contains(lower, local) {
			return fault.Input(field, "password must not contain your email address")
		}
	}
	if _, ok := commonPasswords()[lower]; ok {
		return fault.Input(field, "this password is too common; choose another")
	}
	return nil
}

// commonList is the most common passwords of at least minLength characters,
// lowercased, one per line; lines starting with '#' are comments.
//
//go:embed common-passwords.txt
var commonList string

// commonPasswords builds the lookup set on first use, so that programs that
// never validate a password do not pay for it.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, strings.Count(commonList, "\n"))
	for line := range strings.Lines(commonList) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			set[line] = struct{}{}
		}
	}
	return set
})
