package model

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

func TestUnmarshalID(t *testing.T) {
	for _, ok := range []any{"0", "5", "4294967297", strconv.Itoa(math.MaxInt), 7, int64(8), json.Number("9")} {
		if _, err := UnmarshalID(ok); err != nil {
			t.Errorf("%#v refused: %v", ok, err)
		}
	}
	for _, bad := range []any{"", "+5", "-5", "05", "0005", " 5", "5 ", "1e3", "0x10", "٣", "99999999999999999999",
		"9223372036854775808", -1, int64(-1), 1.5, true, nil, json.Number("05")} {
		if _, err := UnmarshalID(bad); err != errBadID {
			t.Errorf("%#v: got %v, want %v", bad, err, errBadID)
		}
	}
}

func FuzzUnmarshalID(f *testing.F) {
	for _, s := range []string{"1", "0", "01", "+1", "abc", "4294967297"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := UnmarshalID(s)
		if err != nil {
			return
		}
		// Accepted IDs are canonical: they print back as they came.
		if strconv.Itoa(id) != s {
			t.Fatalf("%q accepted as %d", s, id)
		}
	})
}
