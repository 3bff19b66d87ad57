// Package text is the one rule for the text fleetgate accepts (README
// "Limits"). Every string input must be storable: valid UTF-8 without NUL,
// because PostgreSQL text can hold neither (SQLite would store both, so the
// two databases would disagree). Beyond that, text is of two kinds: a Line
// (names, handles, keys) holds no control or invisible characters at all,
// and Multiline free text (descriptions, notes, values) may also hold tabs
// and line breaks.
package text

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"fleetgate/internal/fault"
)

// Storable reports whether s is valid UTF-8 without NUL: what every string
// input must be.
func Storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// Kind is a kind of text, with its own set of allowed characters.
type Kind int

const (
	// Line is one line of visible text: no control characters (C0, DEL,
	// C1), no line or paragraph separators, and no format characters
	// (bidirectional overrides, zero-width spaces, byte-order marks), which
	// could make a name look like another. Zero-width (non-)joiners stay:
	// emoji sequences and several scripts need them.
	Line Kind = iota
	// Multiline is free text: no control characters except tab, line feed
	// and carriage return. Format characters stay (right-to-left writing
	// uses direction marks).
	Multiline
)

var (
	errEncoding = errors.New("must be valid UTF-8 text without NUL characters")
	errLine     = errors.New("must be one line without control or invisible characters")
	errControl  = errors.New("must not contain control characters other than tabs and line breaks")
)

// Check returns nil if s is text of kind k, else what is wrong with it.
// It fits ent's field validators.
func (k Kind) Check(s string) error {
	if !Storable(s) {
		return errEncoding
	}
	for _, r := range s {
		if !k.allows(r) {
			if k == Line {
				return errLine
			}
			return errControl
		}
	}
	return nil
}

func (k Kind) allows(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return k == Multiline && (r == '\t' || r == '\n' || r == '\r')
	case k == Multiline:
		return true
	case r == '\u200c' || r == '\u200d': // zero-width non-joiner, joiner
		return true
	default:
		return !unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
	}
}

// Clean returns s without surrounding white space if that is text of kind
// k of min to max characters; otherwise BAD_USER_INPUT on field.
func (k Kind) Clean(field, s string, min, max int) (string, error) {
	s = strings.TrimSpace(s)
	if err := k.Check(s); err != nil {
		return "", Invalid(field, err)
	}
	if n := utf8.RuneCountInString(s); n < min || n > max {
		if min == 0 {
			return "", fault.Input(field, "%s must be at most %d characters", field, max)
		}
		return "", fault.Input(field, "%s must be %d–%d characters", field, min, max)
	}
	return s, nil
}

// Input returns BAD_USER_INPUT on field unless s is storable.
func Input(field, s string) error {
	if Storable(s) {
		return nil
	}
	return Invalid(field, errEncoding)
}

// Invalid is BAD_USER_INPUT on field for what Check found.
func Invalid(field string, err error) error {
	return fault.Input(field, "%s %v", field, err)
}
