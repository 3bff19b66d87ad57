package access

import (
	"errors"
	"io"
)

// Permission is one column of the role matrix: something beyond reading
// that a role may do to an application.
type Permission string

// The permissions, in the seed's column order.
const (
	AddMembers        Permission = "ADD_MEMBERS"
	DeleteApplication Permission = "DELETE_APPLICATION"
	AddRemoveDevice   Permission = "ADD_REMOVE_DEVICE"
	DeviceActions     Permission = "DEVICE_ACTIONS"
	Tags              Permission = "TAGS"
	Variables         Permission = "VARIABLES"
	SSHAccess         Permission = "SSH_ACCESS"
	Push              Permission = "PUSH"
	Configuration     Permission = "CONFIGURATION"
	FleetActions      Permission = "FLEET_ACTIONS"
)

// Permissions lists every permission in column order.
func Permissions() []Permission {
	return []Permission{AddMembers, DeleteApplication, AddRemoveDevice, DeviceActions,
		Tags, Variables, SSHAccess, Push, Configuration, FleetActions}
}

// matrix is the role table of README "Organizations, applications and members" (the seed's "Member types"), one
// row per role. Every role may read the application and everything in it;
// a row lists what the role may do beyond that.
var matrix = map[Role][]Permission{
	Administrator: {AddMembers, DeleteApplication, AddRemoveDevice, DeviceActions, Tags, Variables, SSHAccess, Push, Configuration, FleetActions},
	Developer:     {AddRemoveDevice, DeviceActions, Tags, Variables, SSHAccess, Push, Configuration, FleetActions},
	Operator:      {AddRemoveDevice, DeviceActions, Tags, Variables, SSHAccess},
	Observer:      {},
}

// Effective is a user's role on an application: ADMINISTRATOR when they
// administer its organization, otherwise their application membership role
// (member is "" without one). "" means no role: the application does not
// exist for them.
func Effective(org OrgRole, member Role) Role {
	if org == OrgAdministrator {
		return Administrator
	}
	return member
}

// Allows reports whether the role grants permission. No role grants nothing.
func (r Role) Allows(p Permission) bool {
	for _, granted := range matrix[r] {
		if granted == p {
			return true
		}
	}
	return false
}

// Permissions lists what the role grants, in column order.
func (r Role) Permissions() []Permission {
	return append([]Permission{}, matrix[r]...)
}

// The plan rules (README "Organizations, applications and members"): which roles an
// application membership may carry. Each refusal names its rule.
var (
	ErrAdministratorByOrganization = errors.New("ADMINISTRATOR is not a membership role: administrators of the organization administer its applications, so add the user to the organization as ADMINISTRATOR")
	ErrPaidPlanRole                = errors.New("OBSERVER and OPERATOR can only be assigned on organizations with the PAID plan; DEVELOPER is available on any plan")
	ErrStarterDeveloperOnly        = errors.New("STARTER applications allow only the DEVELOPER role")
)

// Assignable reports whether an application membership may carry role, on
// an application of a PAID organization (paid) and of type STARTER
// (starter). The error says which rule refused.
func Assignable(role Role, paid, starter bool) error {
	switch {
	case role == Administrator:
		return ErrAdministratorByOrganization
	case starter && role != Developer:
		return ErrStarterDeveloperOnly
	case !paid && (role == Observer || role == Operator):
		return ErrPaidPlanRole
	}
	return nil
}

// MarshalGQL writes the permission as a GraphQL enum value.
func (p Permission) MarshalGQL(w io.Writer) { marshalEnum(w, p) }

// UnmarshalGQL reads a GraphQL enum value.
func (p *Permission) UnmarshalGQL(v any) error {
	names := make([]string, 0, len(Permissions()))
	for _, q := range Permissions() {
		names = append(names, string(q))
	}
	return unmarshalEnum(p, v, names)
}
