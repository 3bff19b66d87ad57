// Package access holds who may do what: the application roles, the
// organization roles and, in matrix.go, the role → permission table of
// README "Organizations, applications and members". The @can directive and ent privacy rules both read it, so a
// rule changes in one place only.
package access

import (
	"io"
	"strings"

	"fleetgate/internal/fault"
)

// Role is a user's effective role on an application. Application memberships
// store DEVELOPER, OPERATOR or OBSERVER; ADMINISTRATOR comes from
// administering the owning organization.
type Role string

// The application roles, strongest first.
const (
	Administrator Role = "ADMINISTRATOR"
	Developer     Role = "DEVELOPER"
	Operator      Role = "OPERATOR"
	Observer      Role = "OBSERVER"
)

// Values lists the roles; ent uses it for the enum column.
func (Role) Values() []string {
	return []string{string(Administrator), string(Developer), string(Operator), string(Observer)}
}

// MarshalGQL writes the role as a GraphQL enum value.
func (r Role) MarshalGQL(w io.Writer) { marshalEnum(w, r) }

// UnmarshalGQL reads a GraphQL enum value.
func (r *Role) UnmarshalGQL(v any) error { return unmarshalEnum(r, v, Role("").Values()) }

// OrgRole is a user's role in an organization.
type OrgRole string

// The organization roles.
const (
	OrgAdministrator OrgRole = "ADMINISTRATOR"
	OrgMember        OrgRole = "MEMBER"
)

// Values lists the organization roles; ent uses it for the enum column.
func (OrgRole) Values() []string { return []string{string(OrgAdministrator), string(OrgMember)} }

// MarshalGQL writes the role as a GraphQL enum value.
func (r OrgRole) MarshalGQL(w io.Writer) { marshalEnum(w, r) }

// UnmarshalGQL reads a GraphQL enum value.
func (r *OrgRole) UnmarshalGQL(v any) error { return unmarshalEnum(r, v, OrgRole("").Values()) }

// marshalEnum writes an enum value, a GraphQL name that needs no escaping,
// in quotes without building the quoted string: a nested listing writes a
// role per member (README "Performance").
func marshalEnum[T ~string](w io.Writer, v T) {
	io.WriteString(w, `"`)
	io.WriteString(w, string(v))
	io.WriteString(w, `"`)
}

func unmarshalEnum[T ~string](dst *T, v any, allowed []string) error {
	s, ok := v.(string)
	if !ok {
		return fault.New(fault.BadUserInput, "an enum value is a name, not a %T", v)
	}
	for _, a := range allowed {
		if s == a {
			*dst = T(s)
			return nil
		}
	}
	return fault.New(fault.BadUserInput, "%q is not one of %s", s, strings.Join(allowed, ", "))
}
