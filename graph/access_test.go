package graph_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/Khan/genqlient/graphql"

	"fleetgate/ent/organization"
	"fleetgate/ent/organizationmembership"
	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
)

func TestFleetReadsForEveryRole(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f")
		for role, u := range f.Users {
			app := Must(Application(ctx, s.Client(u.Token), f.Slug))(t).Application
			if app.MyRole != ApplicationRole(role) || app.IsShared != (role != access.Administrator) {
				t.Errorf("%s sees myRole %s isShared %v", role, app.MyRole, app.IsShared)
			}
			if app.Members.TotalCount != 3 {
				t.Errorf("%s sees %d members", role, app.Members.TotalCount)
			}
		}
	})
}

func TestOrganizations(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s, box := s.WithMailbox(t)
		bob := s.SignUpVerified(t, box, "bob") // added by address below, which must be verified
		alice, carol := s.SignUp(t, "alice"), s.SignUp(t, "carol")
		ac, bc := s.Client(alice.Token), s.Client(bob.Token)

		org := Must(CreateOrganization(ctx, ac, CreateOrganizationInput{Name: " Acme Inc. ", Handle: "Acme"}))(t).CreateOrganization
		if org.Handle != "acme" || org.Name != "Acme Inc." || org.Plan != PlanFree || *org.MyRole != OrganizationRoleAdministrator {
			t.Fatalf("created %+v", org)
		}
		// Handles share the username namespace, and are checked like usernames.
		for _, c := range []struct{ handle, name, code, field string }{
			{"ACME", "x", "CONFLICT", "handle"},
			{"bob", "x", "CONFLICT", "handle"},
			{"admin", "x", "BAD_USER_INPUT", "handle"},
			{"a-b", "x", "BAD_USER_INPUT", "handle"},
			{"fine_handle", " ", "BAD_USER_INPUT", "name"},
			{"fine_handle", strings.Repeat("n", 101), "BAD_USER_INPUT", "name"},
		} {
			_, err := CreateOrganization(ctx, ac, CreateOrganizationInput{Name: c.name, Handle: c.handle})
			if Code(err) != c.code || Ext(err, "field") != c.field {
				t.Errorf("handle %q name %q: got %s on %q (%v)", c.handle, c.name, Code(err), Ext(err, "field"), err)
			}
		}
		_, err := SignUp(ctx, s.Client(""), SignUpInput{Username: "acme", Email: "acme@example.com", Password: Password})
		WantCode(t, err, "CONFLICT")

		// Members: by username or email, signed up, once.
		_, err = AddOrganizationMember(ctx, ac, AddOrganizationMemberInput{OrganizationId: org.Id, UsernameOrEmail: "nobody@example.com", Role: OrganizationRoleMember})
		WantCode(t, err, "NOT_FOUND")
		if !strings.Contains(err.Error(), "must sign up") {
			t.Errorf("not signed up: %v", err)
		}
		bm := Must(AddOrganizationMember(ctx, ac, AddOrganizationMemberInput{OrganizationId: org.Id, UsernameOrEmail: "BOB@example.com", Role: OrganizationRoleMember}))(t).AddOrganizationMember
		_, err = AddOrganizationMember(ctx, ac, AddOrganizationMemberInput{OrganizationId: org.Id, UsernameOrEmail: "bob", Role: OrganizationRoleAdministrator})
		WantCode(t, err, "CONFLICT")

		// A member sees the organization but changes nothing; a stranger
		// does not see it at all.
		seen := Must(Organization(ctx, bc, "acme"))(t).Organization
		if *seen.MyRole != OrganizationRoleMember || seen.Members.TotalCount != 2 {
			t.Fatalf("member's view: %+v", seen)
		}
		for _, e := range seen.Members.Edges {
			if e.Node.User.Username == "alice" && e.Node.User.Email != nil {
				t.Errorf("a member sees another member's email")
			}
		}
		_, err = AddOrganizationMember(ctx, bc, AddOrganizationMemberInput{OrganizationId: org.Id, UsernameOrEmail: "carol", Role: OrganizationRoleMember})
		WantCode(t, err, "FORBIDDEN")
		_, err = UpdateOrganizationMember(ctx, bc, UpdateOrganizationMemberInput{Id: bm.Id, Role: OrganizationRoleAdministrator})
		WantCode(t, err, "FORBIDDEN")
		_, err = Organization(ctx, s.Client(carol.Token), "acme")
		WantCode(t, err, "NOT_FOUND")
		_, err = AddOrganizationMember(ctx, s.Client(carol.Token), AddOrganizationMemberInput{OrganizationId: org.Id, UsernameOrEmail: "carol", Role: OrganizationRoleAdministrator})
		WantCode(t, err, "NOT_FOUND")
		// The administrator sees her own address and the one she added bob by.
		for _, e := range Must(Organization(ctx, ac, "acme"))(t).Organization.Members.Edges {
			if e.Node.User.Email == nil {
				t.Errorf("the administrator does not see %s's email", e.Node.User.Username)
			}
		}

		// The last administrator can be neither demoted nor removed, nor leave.
		am := adminMembership(t, s, ac, "acme", "alice")
		_, err = UpdateOrganizationMember(ctx, ac, UpdateOrganizationMemberInput{Id: am, Role: OrganizationRoleMember})
		WantCode(t, err, "CONFLICT")
		_, err = RemoveOrganizationMember(ctx, ac, am)
		WantCode(t, err, "CONFLICT")
		// With a second administrator, the first may step down.
		Must(UpdateOrganizationMember(ctx, ac, UpdateOrganizationMemberInput{Id: bm.Id, Role: OrganizationRoleAdministrator}))(t)
		Must(UpdateOrganizationMember(ctx, ac, UpdateOrganizationMemberInput{Id: am, Role: OrganizationRoleMember}))(t)
		_, err = RemoveOrganizationMember(ctx, bc, bm.Id)
		WantCode(t, err, "CONFLICT")
		// A member leaves through their own membership.
		if got := Must(RemoveOrganizationMember(ctx, ac, am))(t).RemoveOrganizationMember; got != am {
			t.Fatalf("removed %s, want %s", got, am)
		}
		_, err = Organization(ctx, ac, "acme")
		WantCode(t, err, "NOT_FOUND")

		events := Must(SecurityEvents(ctx, ac))(t).Me.SecurityEvents.Edges
		if len(events) == 0 || events[0].Node.Kind != SecurityEventKindMembershipChanged || !strings.Contains(events[0].Node.Detail, "left organization acme") {
			t.Fatalf("alice's latest event: %+v", events)
		}
		events = Must(SecurityEvents(ctx, bc))(t).Me.SecurityEvents.Edges
		if !strings.Contains(events[0].Node.Detail, "role in organization acme changed to ADMINISTRATOR by alice") {
			t.Fatalf("bob's latest event: %+v", events[0])
		}
	})
}

// adminMembership is the id of username's membership of the organization.
func adminMembership(t *testing.T, s *Server, c graphql.Client, handle, username string) string {
	t.Helper()
	for _, e := range Must(Organization(ctx, c, handle))(t).Organization.Members.Edges {
		if e.Node.User.Username == username {
			return e.Node.Id
		}
	}
	t.Fatalf("%s is not a member of %s", username, handle)
	return ""
}

func TestCreateApplication(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice, bob, carol := s.SignUp(t, "alice"), s.SignUp(t, "bob"), s.SignUp(t, "carol")
		ac := s.Client(alice.Token)
		org := Must(Organization(ctx, ac, "alice"))(t).Organization
		Must(AddOrganizationMember(ctx, ac, AddOrganizationMemberInput{OrganizationId: org.Id, UsernameOrEmail: "bob", Role: OrganizationRoleMember}))(t)

		app := Must(CreateApplication(ctx, ac, CreateApplicationInput{OrganizationId: org.Id, Name: "  My Fleet_2 ", Type: ApplicationTypeStarter}))(t).CreateApplication
		if app.Slug != "alice/my-fleet-2" || app.Name != "My Fleet_2" || app.MyRole != ApplicationRoleAdministrator || app.IsShared ||
			len(app.MyPermissions) != len(access.Permissions()) || app.Organization.Handle != "alice" {
			t.Fatalf("created %+v", app)
		}
		for _, c := range []struct{ name, code string }{
			{"my fleet 2", "CONFLICT"},
			{"--", "BAD_USER_INPUT"},
			{"", "BAD_USER_INPUT"},
			{strings.Repeat("x", 65), "BAD_USER_INPUT"},
		} {
			_, err := CreateApplication(ctx, ac, CreateApplicationInput{OrganizationId: org.Id, Name: c.name, Type: ApplicationTypeEssentials})
			if Code(err) != c.code || Ext(err, "field") != "name" {
				t.Errorf("name %q: %v", c.name, err)
			}
		}
		// Only administrators of the organization create applications.
		_, err := CreateApplication(ctx, s.Client(bob.Token), CreateApplicationInput{OrganizationId: org.Id, Name: "b", Type: ApplicationTypeStarter})
		WantCode(t, err, "FORBIDDEN")
		_, err = CreateApplication(ctx, s.Client(carol.Token), CreateApplicationInput{OrganizationId: org.Id, Name: "c", Type: ApplicationTypeStarter})
		WantCode(t, err, "NOT_FOUND")
		// An organization member without a membership of the application
		// does not see it.
		_, err = Application(ctx, s.Client(bob.Token), app.Slug)
		WantCode(t, err, "NOT_FOUND")
		if n := Must(Applications(ctx, s.Client(bob.Token), nil, nil, nil))(t).Applications.TotalCount; n != 0 {
			t.Fatalf("bob lists %d applications", n)
		}
		// Nor through the organization's edge.
		if n := Must(Organization(ctx, s.Client(bob.Token), "alice"))(t).Organization.Applications.TotalCount; n != 0 {
			t.Fatalf("bob sees %d of the organization's applications", n)
		}
		if n := Must(s.DB.Application.Query().Count(ctx))(t); n != 1 {
			t.Fatalf("%d applications stored", n)
		}
	})
}

func TestPlanRules(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice := s.SignUp(t, "alice")
		for _, name := range []string{"bob", "carol", "dave"} {
			s.SignUp(t, name)
		}
		ac := s.Client(alice.Token)
		org := Must(Organization(ctx, ac, "alice"))(t).Organization // FREE
		create := func(name string, typ ApplicationType) string {
			return Must(CreateApplication(ctx, ac, CreateApplicationInput{OrganizationId: org.Id, Name: name, Type: typ}))(t).CreateApplication.Id
		}
		essentials, starter := create("essentials", ApplicationTypeEssentials), create("starter", ApplicationTypeStarter)
		add := func(app, user string, role ApplicationRole) (string, error) {
			m, err := AddApplicationMember(ctx, ac, AddApplicationMemberInput{ApplicationId: app, UsernameOrEmail: user, Role: role})
			if err != nil {
				return "", err
			}
			return m.AddApplicationMember.Id, nil
		}
		refused := func(err error, rule error) {
			t.Helper()
			if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != "role" || !strings.Contains(err.Error(), rule.Error()) {
				t.Fatalf("want the rule %q, got %v", rule, err)
			}
		}
		// FREE: DEVELOPER only.
		_, err := add(essentials, "bob", ApplicationRoleObserver)
		refused(err, access.ErrPaidPlanRole)
		_, err = add(essentials, "bob", ApplicationRoleOperator)
		refused(err, access.ErrPaidPlanRole)
		_, err = add(essentials, "bob", ApplicationRoleAdministrator)
		refused(err, access.ErrAdministratorByOrganization)
		bob := Must(add(essentials, "bob", ApplicationRoleDeveloper))(t)

		// PAID: every membership role, except on STARTER applications.
		Must(s.DB.Organization.Update().Where(organization.Handle("alice")).SetPlan(organization.PlanPAID).Save(ctx))(t)
		Must(add(essentials, "carol", ApplicationRoleObserver))(t)
		_, err = add(starter, "dave", ApplicationRoleOperator)
		refused(err, access.ErrStarterDeveloperOnly)
		dave := Must(add(starter, "dave", ApplicationRoleDeveloper))(t)

		// Changing a role obeys the same rules.
		Must(UpdateApplicationMember(ctx, ac, UpdateApplicationMemberInput{Id: bob, Role: ApplicationRoleOperator}))(t)
		_, err = UpdateApplicationMember(ctx, ac, UpdateApplicationMemberInput{Id: dave, Role: ApplicationRoleObserver})
		refused(err, access.ErrStarterDeveloperOnly)
		_, err = UpdateApplicationMember(ctx, ac, UpdateApplicationMemberInput{Id: bob, Role: ApplicationRoleAdministrator})
		refused(err, access.ErrAdministratorByOrganization)
		Must(s.DB.Organization.Update().Where(organization.Handle("alice")).SetPlan(organization.PlanFREE).Save(ctx))(t)
		_, err = UpdateApplicationMember(ctx, ac, UpdateApplicationMemberInput{Id: bob, Role: ApplicationRoleObserver})
		refused(err, access.ErrPaidPlanRole)

		roles := map[string]ApplicationRole{}
		for _, e := range Must(Application(ctx, ac, "alice/essentials"))(t).Application.Members.Edges {
			roles[e.Node.User.Username] = e.Node.Role
		}
		if roles["bob"] != ApplicationRoleOperator || roles["carol"] != ApplicationRoleObserver || len(roles) != 2 {
			t.Fatalf("members after refusals: %v", roles)
		}
	})
}

func TestAddApplicationMember(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f")
		s, box := s.WithMailbox(t)
		admin := s.Client(f.Users[access.Administrator].Token)
		s.SignUpVerified(t, box, "erin") // added by address below, which must be verified
		add := func(who string, role ApplicationRole) error {
			_, err := AddApplicationMember(ctx, admin, AddApplicationMemberInput{ApplicationId: f.AppID, UsernameOrEmail: who, Role: role})
			return err
		}
		err := add("nobody", ApplicationRoleDeveloper)
		WantCode(t, err, "NOT_FOUND")
		if !strings.Contains(err.Error(), "must sign up") {
			t.Errorf("not signed up: %v", err)
		}
		WantCode(t, add(f.Users[access.Observer].Username, ApplicationRoleDeveloper), "CONFLICT")
		// The organization's administrator has the role already.
		WantCode(t, add(f.Users[access.Administrator].Username, ApplicationRoleDeveloper), "CONFLICT")
		if err := add("ERIN@example.com", ApplicationRoleObserver); err != nil {
			t.Fatal(err)
		}
		erin := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "erin", Password: Password}))(t).Login.Token
		app := Must(Application(ctx, s.Client(erin), f.Slug))(t).Application
		if app.MyRole != ApplicationRoleObserver || !app.IsShared || len(app.MyPermissions) != 0 || app.Organization.Handle != f.OrgHandle {
			t.Fatalf("erin's view: %+v", app)
		}
		// Members see each other's names, not addresses; the administrator
		// sees the address erin was added by, and no other.
		for _, e := range app.Members.Edges {
			if e.Node.User.Username != "erin" && e.Node.User.Email != nil {
				t.Errorf("an observer sees %s's email", e.Node.User.Username)
			}
		}
		for _, e := range Must(Application(ctx, admin, f.Slug))(t).Application.Members.Edges {
			if (e.Node.User.Email != nil) != (e.Node.User.Username == "erin") {
				t.Errorf("the administrator reads %s's email: %v", e.Node.User.Username, deref(e.Node.User.Email))
			}
		}
		// A shared application shows its organization, without its members.
		org := Must(Organization(ctx, s.Client(erin), f.OrgHandle))(t).Organization
		if org.MyRole != nil || org.Members.TotalCount != 0 || org.Applications.TotalCount != 1 {
			t.Fatalf("erin's view of the organization: %+v", org)
		}
		events := Must(SecurityEvents(ctx, s.Client(erin)))(t).Me.SecurityEvents.Edges
		want := "added to application " + f.Slug + " as OBSERVER by " + f.Users[access.Administrator].Username
		// Newest first: her sign-in, the membership, her verified address.
		if len(events) != 3 || events[1].Node.Kind != SecurityEventKindMembershipChanged || events[1].Node.Detail != want {
			t.Fatalf("erin's events %+v, want %q", events, want)
		}
	})
}

func TestLeaveApplication(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f")
		admin := s.Client(f.Users[access.Administrator].Token)
		observer := s.Client(f.Users[access.Observer].Token)
		operator := s.Client(f.Users[access.Operator].Token)

		// An observer may not remove others, but may remove themself (the
		// seed's trash can), which is leaving.
		_, err := RemoveApplicationMember(ctx, observer, f.Memberships[access.Operator])
		WantCode(t, err, "FORBIDDEN")
		Must(RemoveApplicationMember(ctx, observer, f.Memberships[access.Observer]))(t)
		_, err = Application(ctx, observer, f.Slug)
		WantCode(t, err, "NOT_FOUND")

		// leaveApplication; afterwards the application does not exist for
		// them, so they cannot add themselves back.
		if got := Must(LeaveApplication(ctx, operator, f.AppID))(t).LeaveApplication; got != f.AppID {
			t.Fatalf("left %s", got)
		}
		_, err = LeaveApplication(ctx, operator, f.AppID)
		WantCode(t, err, "NOT_FOUND")
		_, err = AddApplicationMember(ctx, operator, AddApplicationMemberInput{ApplicationId: f.AppID, UsernameOrEmail: f.Users[access.Operator].Username, Role: ApplicationRoleOperator})
		WantCode(t, err, "NOT_FOUND")
		events := Must(SecurityEvents(ctx, operator))(t).Me.SecurityEvents.Edges
		if events[0].Node.Detail != "left application "+f.Slug {
			t.Fatalf("operator's latest event %+v", events[0].Node)
		}
		// The administrator's role comes from the organization: nothing to leave.
		_, err = LeaveApplication(ctx, admin, f.AppID)
		WantCode(t, err, "BAD_USER_INPUT")
		// Only an administrator can restore access.
		Must(AddApplicationMember(ctx, admin, AddApplicationMemberInput{ApplicationId: f.AppID, UsernameOrEmail: f.Users[access.Operator].Username, Role: ApplicationRoleOperator}))(t)
		if Must(Application(ctx, operator, f.Slug))(t).Application.MyRole != ApplicationRoleOperator {
			t.Fatal("operator not restored")
		}
	})
}

// TestLastAdministratorUnderConcurrency: two administrators demoting each
// other at once must not leave the organization without one.
func TestLastAdministratorUnderConcurrency(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice, bob := s.SignUp(t, "alice"), s.SignUp(t, "bob")
		ac, bc := s.Client(alice.Token), s.Client(bob.Token)
		org := Must(Organization(ctx, ac, "alice"))(t).Organization
		bm := Must(AddOrganizationMember(ctx, ac, AddOrganizationMemberInput{OrganizationId: org.Id, UsernameOrEmail: "bob", Role: OrganizationRoleAdministrator}))(t).AddOrganizationMember.Id
		am := adminMembership(t, s, ac, "alice", "alice")
		errs := make(chan error, 2)
		start := make(chan struct{})
		for _, c := range []struct {
			client graphql.Client
			target string
		}{{ac, bm}, {bc, am}} {
			go func() {
				<-start
				_, err := UpdateOrganizationMember(ctx, c.client, UpdateOrganizationMemberInput{Id: c.target, Role: OrganizationRoleMember})
				errs <- err
			}()
		}
		close(start)
		var failed []string
		for range 2 {
			if err := <-errs; err != nil {
				failed = append(failed, Code(err))
			}
		}
		admins := Must(s.DB.OrganizationMembership.Query().Where(
			organizationmembership.OrganizationID(Must(strconv.Atoi(org.Id))(t)),
			organizationmembership.RoleEQ(access.OrgAdministrator)).Count(ctx))(t)
		if admins != 1 {
			t.Fatalf("%d administrators left (refusals %v)", admins, failed)
		}
		// The loser is refused: as the last administrator, or, having been
		// demoted first, as no longer an administrator.
		if len(failed) != 1 || failed[0] != "CONFLICT" && failed[0] != "FORBIDDEN" {
			t.Fatalf("refusals %v", failed)
		}
	})
}

// TestOtherUsersPrivateFields: of another user, only id and username (and
// email, for who added them by it) are visible.
func TestOtherUsersPrivateFields(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f")
		for _, field := range []string{"createdAt", "hasPassword", "emailVerified", "organizations { totalCount }", "securityEvents { totalCount }"} {
			for _, role := range []access.Role{access.Administrator, access.Observer} {
				query := `{"query": "{ application(slug: \"` + f.Slug + `\") { members { edges { node { user { username ` + field + ` } } } } } }"}`
				resp := s.PostWith(map[string]string{"Authorization": "Bearer " + f.Users[role].Token}, query)
				if code := ResponseCode(t, resp); code != "FORBIDDEN" {
					t.Errorf("%s reading other members' %s: code %q", role, field, code)
				}
			}
		}
		// The same fields of oneself are fine.
		me := `{"query": "{ me { createdAt hasPassword emailVerified organizations { totalCount } securityEvents { totalCount } } }"}`
		resp := s.PostWith(map[string]string{"Authorization": "Bearer " + f.Users[access.Observer].Token}, me)
		if code := ResponseCode(t, resp); code != "" {
			t.Fatalf("own fields: %s", code)
		}
	})
}
