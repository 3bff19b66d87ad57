package text_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"fleetgate/internal/fault"
	"fleetgate/internal/text"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		s               string
		line, multiline bool
	}{
		{"Greenhouse 2", true, true},
		{"Café 日本語 ١٢٣", true, true},
		{"👨\u200d👩\u200d👧", true, true}, // joiners make one emoji
		{"می\u200cخواهم", true, true},   // the non-joiner is part of Persian spelling
		{"", true, true},
		{"a\x00b", false, false},
		{"\xff", false, false},
		{"a\xc3", false, false}, // a truncated sequence
		{"\xed\xa0\x80", false, false},
		{"a\tb", false, true},
		{"a\nb\r\nc", false, true},
		{"a\x01b", false, false},
		{"\x1b[31mred", false, false},
		{"a\x7fb", false, false},
		{"a\u0085b", false, false}, // C1 next line
		{"a\u009bb", false, false}, // C1 control sequence introducer
		{"abc\u202edcba", false, true},
		{"ab\u2066c\u2069", false, true},
		{"a\u200bb", false, true},
		{"\ufeffname", false, true},
		{"a\u00adb", false, true},
		{"a\u2028b", false, true},
	} {
		if got := text.Line.Check(c.s) == nil; got != c.line {
			t.Errorf("Line.Check(%q) accepts: %v, want %v", c.s, got, c.line)
		}
		if got := text.Multiline.Check(c.s) == nil; got != c.multiline {
			t.Errorf("Multiline.Check(%q) accepts: %v, want %v", c.s, got, c.multiline)
		}
	}
}

func TestClean(t *testing.T) {
	for _, c := range []struct {
		kind     text.Kind
		s        string
		min, max int
		want     string
		message  string // of the refusal
	}{
		{text.Line, "  Greenhouse\t", 1, 10, "Greenhouse", ""},
		{text.Line, "Grün", 1, 4, "Grün", ""}, // characters, not bytes
		{text.Line, "Grüner", 1, 5, "", "name must be 1–5 characters"},
		{text.Line, " \n ", 1, 5, "", "name must be 1–5 characters"},
		{text.Line, "a\x00", 1, 5, "", "name must be valid UTF-8 text without NUL characters"},
		{text.Line, "a\nb", 1, 5, "", "name must be one line without control or invisible characters"},
		{text.Multiline, "\n one\n two \n", 0, 10, "one\n two", ""},
		{text.Multiline, "", 0, 10, "", ""},
		{text.Multiline, "elevenchars", 0, 10, "", "name must be at most 10 characters"},
		{text.Multiline, "bell\a", 0, 10, "", "name must not contain control characters other than tabs and line breaks"},
	} {
		got, err := c.kind.Clean("name", c.s, c.min, c.max)
		if c.message == "" {
			if err != nil || got != c.want {
				t.Errorf("Clean(%q) = %q, %v; want %q", c.s, got, err, c.want)
			}
			continue
		}
		f, ok := fault.As(err)
		if !ok || f.Code != fault.BadUserInput || f.Field != "name" || f.Message != c.message {
			t.Errorf("Clean(%q): %#v, want BAD_USER_INPUT on name: %s", c.s, err, c.message)
		}
	}
}

func TestInput(t *testing.T) {
	for s, ok := range map[string]bool{"": true, "é\n\x01": true, "\x00": false, "\xc0\x80": false} {
		err := text.Input("where", s)
		if (err == nil) != ok || (err != nil && !fault.Is(err, fault.BadUserInput)) {
			t.Errorf("Input(%q): %v", s, err)
		}
	}
}

// FuzzClean pins what Clean promises of whatever it accepts, for both kinds.
func FuzzClean(f *testing.F) {
	for _, s := range []string{
		"", "Greenhouse", "  padded  ", "a\x00b", "\xff\xfe", "line\nbreak", "tab\there", "\r\n",
		"\x1b[2J", "\u0085x\u0085", "\u202eevil", "zero\u200bwidth", "\ufeff", "👨\u200d👩", "ǅ", "\u00a0nbsp\u00a0",
		strings.Repeat("é", 60),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if text.Line.Check(s) == nil && text.Multiline.Check(s) != nil {
			t.Fatalf("%q is a line but not multiline text", s)
		}
		if (text.Input("f", s) == nil) != text.Storable(s) {
			t.Fatalf("Input and Storable disagree on %q", s)
		}
		for _, k := range []text.Kind{text.Line, text.Multiline} {
			for _, bounds := range [][2]int{{0, 50}, {1, 10}} {
				out, err := k.Clean("f", s, bounds[0], bounds[1])
				if err != nil {
					if f, ok := fault.As(err); !ok || f.Code != fault.BadUserInput || f.Field != "f" {
						t.Fatalf("Clean(%q) failed with %#v, not BAD_USER_INPUT on f", s, err)
					}
					continue
				}
				if !text.Storable(s) {
					t.Fatalf("Clean accepted unstorable %q", s)
				}
				if !utf8.ValidString(out) || strings.IndexByte(out, 0) >= 0 {
					t.Fatalf("Clean(%q) = %q: not storable", s, out)
				}
				if n := utf8.RuneCountInString(out); n < bounds[0] || n > bounds[1] {
					t.Fatalf("Clean(%q) = %q: %d characters, outside %v", s, out, n, bounds)
				}
				if strings.TrimSpace(out) != out || !strings.Contains(s, out) {
					t.Fatalf("Clean(%q) = %q: not s trimmed", s, out)
				}
				for _, r := range out {
					if unicode.IsControl(r) && (k == text.Line || r != '\t' && r != '\n' && r != '\r') {
						t.Fatalf("Clean(%q) = %q holds control character %U", s, out, r)
					}
					if k == text.Line && unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) && r != '\u200c' && r != '\u200d' {
						t.Fatalf("Clean(%q) = %q holds invisible character %U", s, out, r)
					}
				}
				if again, err := k.Clean("f", out, bounds[0], bounds[1]); err != nil || again != out {
					t.Fatalf("Clean is not idempotent: %q, then %q, %v", out, again, err)
				}
			}
		}
	})
}
