package access

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Scope narrows what an API key may do below its owner's roles (README
// "Scoped API keys"). It can only take away: what the key may do on an
// application is what the owner's live role allows and the scope allows.
// A nil *Scope is no scope (the owner's full user-level access).
type Scope struct {
	// ApplicationIDs are the only applications the key sees; none listed
	// means every application the owner has a role on.
	ApplicationIDs []int `json:"applicationIds"`
	// Permissions are the matrix columns the key may use; nil means every
	// one the owner's role grants.
	Permissions []Permission `json:"permissions"`
	// ReadOnly allows no permission at all.
	ReadOnly bool `json:"readOnly"`
}

// Covers reports whether the application is one the key may see.
func (s *Scope) Covers(applicationID int) bool {
	return s == nil || len(s.ApplicationIDs) == 0 || slices.Contains(s.ApplicationIDs, applicationID)
}

// Allows reports whether the scope lets the key use p (where the owner's
// role grants it too).
func (s *Scope) Allows(p Permission) bool {
	return s == nil || !s.ReadOnly && (s.Permissions == nil || slices.Contains(s.Permissions, p))
}

// Ceiling is role's permissions that the scope leaves.
func (s *Scope) Ceiling(role Role) []Permission {
	var out []Permission
	for _, p := range role.Permissions() {
		if s.Allows(p) {
			out = append(out, p)
		}
	}
	return out
}

// String describes the scope for people: security events and notices.
func (s *Scope) String() string {
	if s == nil {
		return "unscoped"
	}
	var parts []string
	if len(s.ApplicationIDs) == 0 {
		parts = append(parts, "every application")
	} else {
		ids := make([]string, len(s.ApplicationIDs))
		for i, id := range s.ApplicationIDs {
			ids[i] = strconv.Itoa(id)
		}
		parts = append(parts, "applications "+strings.Join(ids, ", "))
	}
	switch {
	case s.ReadOnly:
		parts = append(parts, "read-only")
	case s.Permissions == nil:
		parts = append(parts, "every permission of the owner's role")
	default:
		names := make([]string, len(s.Permissions))
		for i, p := range s.Permissions {
			names[i] = string(p)
		}
		parts = append(parts, "permissions "+strings.Join(names, ", "))
	}
	return fmt.Sprintf("scoped: %s", strings.Join(parts, "; "))
}
