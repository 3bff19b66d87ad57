package apitest

import (
	"context"
	"strings"
	"testing"

	"fleetgate/ent/organization"
	"fleetgate/internal/access"
	"fleetgate/internal/policy"
)

// Fleet is an application shared with one member of every role, arranged
// through the API: Admin administers its organization (plan PAID), the
// others are application members.
type Fleet struct {
	OrgID, OrgHandle string
	AppID, Slug      string
	// Users by effective role on the application.
	Users map[access.Role]Account
	// Memberships by role: the ApplicationMembership ids (none for
	// ADMINISTRATOR, whose role comes from the organization).
	Memberships map[access.Role]string
}

// NewFleet signs up prefix_admin, prefix_developer, prefix_operator and
// prefix_observer and arranges their fleet (organization prefix_org,
// application "Fleet", type ESSENTIALS).
func (s *Server) NewFleet(t testing.TB, prefix string) Fleet {
	t.Helper()
	ctx := context.Background()
	f := Fleet{Users: map[access.Role]Account{}, Memberships: map[access.Role]string{}}
	for _, name := range access.Role("").Values() {
		role := access.Role(name)
		f.Users[role] = s.SignUp(t, prefix+"_"+strings.ToLower(name))
	}
	admin := s.Client(f.Users[access.Administrator].Token)
	org := Must(CreateOrganization(ctx, admin, CreateOrganizationInput{Name: prefix + " org", Handle: prefix + "_org"}))(t).CreateOrganization
	f.OrgID, f.OrgHandle = org.Id, org.Handle
	// Plans change only through the operator's command; this is its write.
	Must(s.DB.Organization.Update().Where(organization.Handle(org.Handle)).
		SetPlan(organization.PlanPAID).Save(policy.System(ctx)))(t)
	app := Must(CreateApplication(ctx, admin, CreateApplicationInput{
		OrganizationId: org.Id, Name: "Fleet", Type: ApplicationTypeEssentials,
	}))(t).CreateApplication
	f.AppID, f.Slug = app.Id, app.Slug
	for _, role := range []access.Role{access.Developer, access.Operator, access.Observer} {
		m := Must(AddApplicationMember(ctx, admin, AddApplicationMemberInput{
			ApplicationId: app.Id, UsernameOrEmail: f.Users[role].Username, Role: ApplicationRole(role),
		}))(t).AddApplicationMember
		f.Memberships[role] = m.Id
	}
	return f
}
