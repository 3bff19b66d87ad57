package access

import (
	"slices"
	"testing"
)

// TestScopeOnlyNarrows: under any scope a role keeps a subset of its own
// permissions, and exactly those the scope names.
func TestScopeOnlyNarrows(t *testing.T) {
	scopes := map[string]*Scope{
		"none":      nil,
		"empty":     {},
		"read-only": {ReadOnly: true},
		"push":      {Permissions: []Permission{Push}},
		"push+ssh":  {Permissions: []Permission{Push, SSHAccess}},
		"no perms":  {Permissions: []Permission{}},
		// ReadOnly wins over a list, so a key never writes by mistake.
		"read-only push": {ReadOnly: true, Permissions: []Permission{Push}},
	}
	for name, s := range scopes {
		for _, r := range Role("").Values() {
			role := Role(r)
			got := s.Ceiling(role)
			for _, p := range Permissions() {
				want := role.Allows(p) && (s == nil || !s.ReadOnly && (s.Permissions == nil || slices.Contains(s.Permissions, p)))
				if slices.Contains(got, p) != want {
					t.Errorf("%s scope, %s × %s: ceiling %v", name, role, p, got)
				}
			}
		}
	}
	if got := (&Scope{Permissions: []Permission{Push}}).Ceiling(Operator); len(got) != 0 {
		t.Errorf("a PUSH scope gave OPERATOR %v", got)
	}
}

func TestScopeCovers(t *testing.T) {
	for _, tc := range []struct {
		s    *Scope
		id   int
		want bool
	}{
		{nil, 7, true},
		{&Scope{}, 7, true},
		{&Scope{ApplicationIDs: []int{7}}, 7, true},
		{&Scope{ApplicationIDs: []int{7}}, 8, false},
		{&Scope{ApplicationIDs: []int{7, 9}}, 9, true},
	} {
		if got := tc.s.Covers(tc.id); got != tc.want {
			t.Errorf("%v covers %d: %v", tc.s, tc.id, got)
		}
	}
}

func TestScopeString(t *testing.T) {
	for s, want := range map[*Scope]string{
		nil: "unscoped",
		{}:  "scoped: every application; every permission of the owner's role",
		{ApplicationIDs: []int{3, 4}, ReadOnly: true}:               "scoped: applications 3, 4; read-only",
		{ApplicationIDs: []int{3}, Permissions: []Permission{Push}}: "scoped: applications 3; permissions PUSH",
	} {
		if got := s.String(); got != want {
			t.Errorf("%+v: %q, want %q", s, got, want)
		}
	}
}
