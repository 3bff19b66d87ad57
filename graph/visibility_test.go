package graph_test

import (
	"context"
	"strings"
	"testing"

	"fleetgate/ent/application"
	"fleetgate/ent/organization"
	"fleetgate/ent/user"
	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
	"fleetgate/internal/policy"
)

// TestAccountOrganizationsAsTheOwnerSeesThem: me.organizations, and the
// organizations of a sign-in's user, list the account's organizations with
// what is below them filtered for the owner: an organization member with a
// role on one application does not see another, its members, devices or
// variables, as organization(handle:) does not show them.
func TestAccountOrganizationsAsTheOwnerSeesThem(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		sys := policy.System(context.Background())
		f := s.NewFleet(t, "ao")
		secret := hiddenApplication(t, s, f, "ao_stranger")
		dev := f.Users[access.Developer]
		uid := Must(s.DB.User.Query().Where(user.Username(dev.Username)).Only(sys))(t).ID
		org := Must(s.DB.Organization.Query().Where(organization.Handle(f.OrgHandle)).Only(sys))(t)
		Must(s.DB.OrganizationMembership.Create().SetUserID(uid).SetOrganization(org).SetRole(access.OrgMember).Save(sys))(t)
		secretApp := Must(s.DB.Application.Query().Where(application.Slug(secret.Slug)).Only(sys))(t)
		Must(s.DB.Device.Create().SetUUID(strings.Repeat("ab", 16)).SetName("secret-device").SetApplication(secretApp).Save(sys))(t)
		Must(s.DB.FleetVariable.Create().SetApplicationID(secretApp.ID).SetName("DB_PASSWORD").SetValue("hunter2").Save(sys))(t)

		const below = `applications(first: 5) { edges { node { slug members(first: 5) { edges { node { role user { username } } } }
		  devices(first: 5) { totalCount edges { node { name uuid } } } fleetVariables { name value } } } }`
		// A sign-in's answer is nested two levels deeper: less below.
		const shallow = `applications(first: 3) { edges { node { slug devices(first: 3) { edges { node { name } } } fleetVariables { name value } } } }`
		for name, r := range map[string]Result{
			"me":     s.Do(t, dev.Token, `{ me { organizations(first: 5) { edges { node { handle `+below+` } } } } }`, nil),
			"login":  s.Do(t, "", `mutation($u: String!, $p: String!) { login(input: {usernameOrEmail: $u, password: $p}) { user { organizations(first: 2) { edges { node { handle `+shallow+` } } } } } }`, map[string]any{"u": dev.Username, "p": Password}),
			"handle": s.Do(t, dev.Token, `query($h: String!) { organization(handle: $h) { `+below+` } }`, map[string]any{"h": f.OrgHandle}),
		} {
			var answer strings.Builder
			for _, v := range r.Data {
				answer.Write(v)
			}
			if r.Errors != nil || !strings.Contains(answer.String(), f.Slug) {
				t.Fatalf("%s: %s %v; want the developer's application", name, answer.String(), r.Errors)
			}
			for _, hidden := range []string{secret.Slug, "ao_stranger", "secret-device", "hunter2"} {
				if strings.Contains(answer.String(), hidden) {
					t.Errorf("%s shows %q, of an application the developer has no role on", name, hidden)
				}
			}
		}
	})
}

// TestMembersOfVisibleApplicationsOnly: through root fields resolved
// concurrently, aliased and paginated member eager loads (the members of
// the applications just shown are not filtered again: README "What a
// request costs"), node() and nodes(), a developer and an observer see the
// members of their application only.
func TestMembersOfVisibleApplicationsOnly(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "rc")
		secret := hiddenApplication(t, s, f, "rc_stranger")
		q := `query($id: ID!, $sid: ID!, $slug: String!) {
		  a: applications(first: 5) { edges { node { slug x: members(first: 1) { totalCount edges { node { user { username } } } } y: members(last: 2) { edges { node { user { username } } } } } } }
		  b: applications(first: 1) { edges { node { members(first: 1) { pageInfo { hasNextPage } edges { node { user { username } } } } } } }
		  c: node(id: $id) { ... on Application { members { edges { node { user { username } } } } } }
		  d: nodes(ids: [$id, $sid]) { ... on Application { slug members { edges { node { user { username } } } } } }
		  e: application(slug: $slug) { members { edges { node { user { username } } } } }
		  f: organization(handle: "rc_org") { applications { edges { node { members { edges { node { user { username } } } } } } } }
		}`
		for _, cred := range []string{f.Users[access.Developer].Token, f.Users[access.Observer].Token} {
			r := s.Do(t, cred, q, map[string]any{"id": f.AppID, "sid": secret.Id, "slug": secret.Slug})
			var all strings.Builder
			for k, v := range r.Data {
				all.WriteString(k + "=" + string(v) + "\n")
			}
			if strings.Contains(all.String(), "rc_stranger") {
				t.Errorf("a hidden application's member is shown")
			}
		}
	})
}

// TestSignInAnswerWithOwnScopedKey: a login whose request carries a scoped
// API key of the same user answers the account's sessions, events and
// organizations, as one without a credential does: the key reads no
// account rows, but the answer is the signed-in account's.
func TestSignInAnswerWithOwnScopedKey(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "sk")
		admin := f.Users[access.Administrator]
		key := scopedKey(t, s, admin, &access.Scope{ReadOnly: true})
		q := `mutation($u: String!, $p: String!) { login(input: {usernameOrEmail: $u, password: $p}) { user {
		  sessions { totalCount } securityEvents { totalCount } organizations { totalCount } } } }`
		vars := map[string]any{"u": admin.Username, "p": Password}
		plain := s.Do(t, "", q, vars)
		withKey := s.Do(t, key, q, vars)
		for name, r := range map[string]Result{"no credential": plain, "own scoped key": withKey} {
			answer := string(r.Data["login"])
			if r.Errors != nil || strings.Contains(answer, `"totalCount":0`) || !strings.Contains(answer, `"organizations":{"totalCount":2}`) {
				t.Errorf("%s: %s %v", name, answer, r.Errors)
			}
		}
	})
}

// hiddenApplication is a second application of f's organization, whose one
// member is a new user named member: no other user of f has a role on it.
func hiddenApplication(t *testing.T, s *Server, f Fleet, member string) CreateApplicationCreateApplication {
	t.Helper()
	admin := s.Client(f.Users[access.Administrator].Token)
	secret := Must(CreateApplication(context.Background(), admin, CreateApplicationInput{
		OrganizationId: f.OrgID, Name: "Secret", Type: ApplicationTypeEssentials,
	}))(t).CreateApplication
	Must(AddApplicationMember(context.Background(), admin, AddApplicationMemberInput{
		ApplicationId: secret.Id, UsernameOrEmail: s.SignUp(t, member).Username, Role: ApplicationRole(access.Developer),
	}))(t)
	return secret
}
