package graph_test

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/Khan/genqlient/graphql"

	"fleetgate/ent"
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/organization"
	"fleetgate/ent/organizationmembership"
	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
)

// madeUpIDs exist nowhere: beyond every table's range, before it, past its
// last row, and the largest int64.
var madeUpIDs = []string{"999999999999", "0", "4294967296999", "8589934592999", "17179869184999", "9223372036854775807"}

// TestIDORSweep: a signed-up user B with no relation to A's objects tries
// every id in the database that is not B's through every path that takes an
// id, a handle or a slug. Each one is NOT_FOUND (or null, or missing from a
// list), never FORBIDDEN, never done, and says no more than an id that does
// not exist; afterwards the database is unchanged. A's application and
// organization members see what they share with A and nothing else, and
// email addresses only as SPEC.md §4 allows.
func TestIDORSweep(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		// A's world: a personal and a created organization (PAID, for an
		// observer), an application shared with a developer and an
		// observer and one shared with nobody, an organization member, an
		// API key.
		alice := s.SignUp(t, "alice")
		carol, dave, erin := s.SignUp(t, "carol"), s.SignUp(t, "dave"), s.SignUp(t, "erin")
		ac := s.Client(alice.Token)
		acme := Must(CreateOrganization(ctx, ac, CreateOrganizationInput{Name: "Acme", Handle: "acme"}))(t).CreateOrganization
		Must(s.DB.Organization.Update().Where(organization.Handle("acme")).SetPlan(organization.PlanPAID).Save(ctx))(t)
		app := Must(CreateApplication(ctx, ac, CreateApplicationInput{OrganizationId: acme.Id, Name: "Secret Fleet", Type: ApplicationTypeEssentials}))(t).CreateApplication
		carolM := Must(AddApplicationMember(ctx, ac, AddApplicationMemberInput{ApplicationId: app.Id, UsernameOrEmail: "carol", Role: ApplicationRoleDeveloper}))(t).AddApplicationMember.Id
		erinM := Must(AddApplicationMember(ctx, ac, AddApplicationMemberInput{ApplicationId: app.Id, UsernameOrEmail: "erin", Role: ApplicationRoleObserver}))(t).AddApplicationMember.Id
		daveM := Must(AddOrganizationMember(ctx, ac, AddOrganizationMemberInput{OrganizationId: acme.Id, UsernameOrEmail: "dave", Role: OrganizationRoleMember}))(t).AddOrganizationMember.Id
		Must(CreateApiKey(ctx, ac, CreateApiKeyInput{Name: "alice's key"}))(t)
		// Shared with nobody: hidden from erin and dave although they see acme.
		unshared := Must(CreateApplication(ctx, ac, CreateApplicationInput{OrganizationId: acme.Id, Name: "Unshared", Type: ApplicationTypeStarter}))(t).CreateApplication

		// B owns one object of most types, to check that B's own ids still
		// resolve and that B's ids of the wrong type are refused.
		bob := s.SignUp(t, "bob")
		bc := s.Client(bob.Token)
		bobOrg := Must(Organization(ctx, bc, "bob"))(t).Organization.Id
		bobApp := Must(CreateApplication(ctx, bc, CreateApplicationInput{OrganizationId: bobOrg, Name: "Own", Type: ApplicationTypeStarter}))(t).CreateApplication
		bobKey := Must(CreateApiKey(ctx, bc, CreateApiKeyInput{Name: "bob's key"}))(t).CreateApiKey.ApiKey.Id

		bobID := dbID(t, bob.ID)
		all := allIDs(t, s)
		own, foreign := map[string]string{}, map[string]string{} // id → type
		for id, typ := range all {
			if ownedBy(t, s, typ, id, bobID) {
				own[id] = typ
			} else {
				foreign[id] = typ
			}
		}
		for _, typ := range []string{"User", "ApiKey", "Organization", "OrganizationMembership", "Application", "ApplicationMembership", "SecurityEvent", "SigningKey"} {
			if !slices.Contains(slices.Collect(maps.Values(foreign)), typ) {
				t.Fatalf("the arrangement left A without a %s", typ)
			}
		}
		before := dbState(t, s)

		// node and nodes: only B's own objects resolve.
		for id, typ := range foreign {
			n, err := SweepNode(ctx, bc, id)
			if Code(err) != "NOT_FOUND" {
				t.Errorf("node(%s %s) for B: %+v, %v", typ, id, n, err)
			}
		}
		for _, id := range madeUpIDs {
			_, err := SweepNode(ctx, bc, id)
			if Code(err) != "NOT_FOUND" {
				t.Errorf("node(%s) (made up): %v", id, err)
			}
		}
		// Malformed ids are refused as input, in words that name no parser.
		for _, id := range []string{"-1", "+5", "05", "abc", "99999999999999999999"} {
			_, err := SweepNode(ctx, bc, id)
			if Code(err) != "BAD_USER_INPUT" || !strings.Contains(err.Error(), "not a valid ID") || strings.Contains(err.Error(), "strconv") {
				t.Errorf("node(%q): %v", id, err)
			}
		}
		for id, typ := range own {
			n := Must(SweepNode(ctx, bc, id))(t).Node
			if n == nil || *(*n).GetTypename() != typ || (*n).GetId() != id {
				t.Errorf("B's own %s %s resolves to %+v", typ, id, n)
			}
		}
		ids := append(slices.Sorted(maps.Keys(foreign)), madeUpIDs...)
		ids = append(ids, slices.Sorted(maps.Keys(own))...)
		for start := 0; start < len(ids); start += 100 {
			batch := ids[start:min(start+100, len(ids))]
			got := Must(SweepNodes(ctx, bc, batch))(t).Nodes
			if len(got) != len(batch) {
				t.Fatalf("nodes: %d answers for %d ids", len(got), len(batch))
			}
			for i, id := range batch {
				_, mine := own[id]
				if mine != (got[i] != nil) {
					t.Errorf("nodes: id %s (%s) gives %+v", id, all[id], got[i])
				}
			}
		}

		// All or none: a foreign key beside B's own revokes neither.
		for _, id := range slices.Sorted(maps.Keys(foreign)) {
			if foreign[id] == "ApiKey" {
				_, err := RevokeApiKeys(ctx, bc, []string{bobKey, id})
				WantCode(t, err, "NOT_FOUND")
			}
		}

		// By handle and slug, and through every filter of applications.
		for _, handle := range []string{"acme", "ACME", "alice", "carol"} {
			_, err := Organization(ctx, bc, handle)
			WantCode(t, err, "NOT_FOUND")
		}
		for _, slug := range []string{app.Slug, strings.ToUpper(app.Slug)} {
			_, err := Application(ctx, bc, slug)
			WantCode(t, err, "NOT_FOUND")
		}
		paid := PlanPaid
		for i, where := range []ApplicationWhereInput{
			{Id: &app.Id},
			{IdIn: []string{app.Id, carolM, acme.Id}},
			{IdNEQ: &bobApp.Id},
			{HasOrganizationWith: []OrganizationWhereInput{{Handle: &acme.Handle}}},
			{HasOrganizationWith: []OrganizationWhereInput{{Plan: &paid}}},
			{NameContains: ptr("Secret")},
			{SlugHasPrefix: ptr("acme/")},
			{Or: []ApplicationWhereInput{{Id: &app.Id}, {NameContainsFold: ptr("secret")}}},
			{Not: &ApplicationWhereInput{Id: &bobApp.Id}},
		} {
			list := Must(Applications(ctx, bc, nil, nil, &where))(t).Applications
			if list.TotalCount != 0 || len(list.Edges) != 0 {
				t.Errorf("B's applications(where #%d) lists %+v", i, list)
			}
		}
		if list := Must(Applications(ctx, bc, nil, nil, nil))(t).Applications; list.TotalCount != 1 || list.Edges[0].Node.Id != bobApp.Id {
			t.Errorf("B's applications: %+v", list)
		}
		for _, e := range Must(Me(ctx, bc, nil, nil))(t).Me.Organizations.Edges {
			if e.Node.Id != bobOrg {
				t.Errorf("B belongs to %s", e.Node.Handle)
			}
		}

		// The mirror: erin, an OBSERVER of A's application, sees it, its
		// members and its organization, but none of A's other objects.
		ec := s.Client(erin.Token)
		seen := Must(Application(ctx, ec, app.Slug))(t).Application
		if seen.Members.TotalCount != 2 || seen.MyRole != ApplicationRoleObserver {
			t.Errorf("erin's view of the application: %+v", seen)
		}
		for _, id := range []string{app.Id, carolM, erinM, carol.ID, acme.Id} {
			if _, err := SweepNode(ctx, ec, id); err != nil {
				t.Errorf("erin: node(%s %s): %v", all[id], id, err)
			}
		}
		for id, typ := range foreign {
			private := typ == "OrganizationMembership" || typ == "ApiKey" || typ == "SecurityEvent" ||
				typ == "Organization" && id != acme.Id
			if !private || ownedBy(t, s, typ, id, dbID(t, erin.ID)) {
				continue
			}
			_, err := SweepNode(ctx, ec, id)
			if Code(err) != "NOT_FOUND" {
				t.Errorf("erin: node(%s %s) = %v, want NOT_FOUND", typ, id, err)
			}
		}
		for _, id := range []string{dave.ID, daveM, unshared.Id} { // none shared with erin
			_, err := SweepNode(ctx, ec, id)
			WantCode(t, err, "NOT_FOUND")
		}
		_, err := Application(ctx, ec, unshared.Slug)
		WantCode(t, err, "NOT_FOUND")
		if list := Must(Applications(ctx, ec, nil, nil, nil))(t).Applications; list.TotalCount != 1 || list.Edges[0].Node.Id != app.Id {
			t.Errorf("erin's applications: %+v", list)
		}
		// Through the organization: erin sees the shared application only,
		// dave, an organization member, neither.
		for u, want := range map[Account]int{erin: 1, dave: 0} {
			org := Must(Organization(ctx, s.Client(u.Token), acme.Handle))(t).Organization
			if org.Applications.TotalCount != want || len(org.Applications.Edges) != want {
				t.Errorf("%s sees %+v of acme's applications, want %d", u.Username, org.Applications, want)
			}
		}

		// Every mutation that takes an id, with every id that is not B's
		// and B's own ids of other types; and, for an organization member
		// and an application member of A's, with every id node() hides
		// from them: NOT_FOUND, whatever the type. Nothing changes.
		type sweeper struct {
			who    Account
			hidden map[string]string
		}
		hiddenFromBob := maps.Clone(foreign)
		for _, id := range madeUpIDs {
			hiddenFromBob[id] = "made up"
		}
		sweepers := []sweeper{{bob, hiddenFromBob}}
		for _, u := range []Account{dave, erin} { // carol sees what erin sees
			hidden := map[string]string{}
			for _, id := range slices.Sorted(maps.Keys(all)) {
				if _, err := SweepNode(ctx, s.Client(u.Token), id); Code(err) == "NOT_FOUND" {
					hidden[id] = all[id]
				} else if err != nil {
					t.Errorf("%s: node(%s %s): %v", u.Username, all[id], id, err)
				}
			}
			sweepers = append(sweepers, sweeper{u, hidden})
		}
		t.Run("mutations", func(t *testing.T) {
			for _, u := range sweepers {
				for _, m := range idMutations(s.Client(u.who.Token), u.who.Username) {
					t.Run(u.who.Username+"/"+m.name, func(t *testing.T) {
						// Every attempt fails and writes nothing: safe side by side.
						t.Parallel()
						wrongType := map[string]string{}
						if u.who == bob {
							for id, typ := range own {
								if typ != m.takes {
									wrongType[id] = "B's own " + typ
								}
							}
						}
						m.sweep(t, u.who.Username, u.hidden, wrongType)
					})
				}
			}
		})
		if after := dbState(t, s); after != before {
			t.Errorf("the attempts changed the database:\n%s", diffLines(before, after))
		}

		// Email addresses: a member's own, and all of them to the
		// organization's administrator; nobody else's to anyone else.
		emails := func(c graphql.Client) map[string]*string {
			out := map[string]*string{}
			// dave, an organization member only, does not see the application.
			if a, err := Application(ctx, c, app.Slug); err == nil {
				for _, e := range a.Application.Members.Edges {
					out[e.Node.User.Username] = e.Node.User.Email
				}
			}
			for _, e := range Must(Organization(ctx, c, "acme"))(t).Organization.Members.Edges {
				out[e.Node.User.Username] = e.Node.User.Email
			}
			for _, id := range []string{carol.ID, erin.ID, dave.ID, carolM, erinM, daveM} {
				n, err := SweepEmail(ctx, c, id)
				if err != nil || n.Node == nil {
					continue // not visible at all: covered above
				}
				switch n := (*n.Node).(type) {
				case *SweepEmailNodeUser:
					out[n.Username] = n.Email
				case *SweepEmailNodeApplicationMembership:
					out[n.User.Username] = n.User.Email
				case *SweepEmailNodeOrganizationMembership:
					out[n.User.Username] = n.User.Email
				}
			}
			return out
		}
		for _, viewer := range []Account{alice, carol, dave, erin} {
			for username, email := range emails(s.Client(viewer.Token)) {
				want := viewer == alice || username == viewer.Username
				if (email != nil) != want {
					t.Errorf("%s reads %s's email: %v, want visible=%v", viewer.Username, username, deref(email), want)
				} else if email != nil && *email != username+"@example.com" {
					t.Errorf("%s reads %s's email as %q", viewer.Username, username, *email)
				}
			}
		}
	})
}

// idMutation is a mutation that takes an id of type takes.
type idMutation struct {
	name, takes string
	do          func(id string) error
}

// idMutations lists every mutation that takes an id, as the client (whose
// username is self: adding oneself is the likely attack) would send it.
func idMutations(c graphql.Client, self string) []idMutation {
	return []idMutation{
		{"revokeApiKeys", "ApiKey", func(id string) error { _, err := RevokeApiKeys(ctx, c, []string{id}); return err }},
		{"deleteApplication", "Application", func(id string) error { _, err := DeleteApplication(ctx, c, id); return err }},
		{"addApplicationMember", "Application", func(id string) error {
			_, err := AddApplicationMember(ctx, c, AddApplicationMemberInput{ApplicationId: id, UsernameOrEmail: self, Role: ApplicationRoleDeveloper})
			return err
		}},
		{"updateApplicationMember", "ApplicationMembership", func(id string) error {
			_, err := UpdateApplicationMember(ctx, c, UpdateApplicationMemberInput{Id: id, Role: ApplicationRoleDeveloper})
			return err
		}},
		{"removeApplicationMember", "ApplicationMembership", func(id string) error { _, err := RemoveApplicationMember(ctx, c, id); return err }},
		{"leaveApplication", "Application", func(id string) error { _, err := LeaveApplication(ctx, c, id); return err }},
		{"addOrganizationMember", "Organization", func(id string) error {
			_, err := AddOrganizationMember(ctx, c, AddOrganizationMemberInput{OrganizationId: id, UsernameOrEmail: self, Role: OrganizationRoleAdministrator})
			return err
		}},
		{"updateOrganizationMember", "OrganizationMembership", func(id string) error {
			_, err := UpdateOrganizationMember(ctx, c, UpdateOrganizationMemberInput{Id: id, Role: OrganizationRoleAdministrator})
			return err
		}},
		{"removeOrganizationMember", "OrganizationMembership", func(id string) error { _, err := RemoveOrganizationMember(ctx, c, id); return err }},
		{"createApplication", "Organization", func(id string) error {
			_, err := CreateApplication(ctx, c, CreateApplicationInput{OrganizationId: id, Name: "pwned", Type: ApplicationTypeStarter})
			return err
		}},
	}
}

// sweep sends m with every hidden id and every visible id of the wrong type
// (id → what it is): each must be NOT_FOUND; for hidden
// ids, word for word the refusal of an id that does not exist in the same
// table, so the answer never tells that they exist.
func (m idMutation) sweep(t *testing.T, who string, hidden, wrongType map[string]string) {
	t.Helper()
	targets := maps.Clone(hidden)
	maps.Copy(targets, wrongType)
	absent := map[string]string{} // ghost id → its refusal
	for _, id := range slices.Sorted(maps.Keys(targets)) {
		err := m.do(id)
		if Code(err) != "NOT_FOUND" {
			t.Errorf("%s: %s(%s %s) = %q, want NOT_FOUND (%v)", who, m.name, targets[id], id, Code(err), err)
			continue
		}
		if _, ok := hidden[id]; !ok {
			continue
		}
		g := ghost(id)
		if _, ok := absent[g]; !ok {
			absent[g] = fmt.Sprint(m.do(g))
		}
		if got := err.Error(); got != absent[g] {
			t.Errorf("%s: %s(%s %s) says %q, but of an id that does not exist %q", who, m.name, targets[id], id, got, absent[g])
		}
	}
}

// ghost is an id in the same table as id that no row has.
func ghost(id string) string {
	n, err := strconv.Atoi(id)
	if err != nil || n < 0 {
		return id
	}
	return strconv.Itoa(n>>32<<32 + 999_999)
}

// allIDs is every row id in the database, with the GraphQL type it would
// resolve to ("SigningKey" is stored but is not a Node).
func allIDs(t *testing.T, s *Server) map[string]string {
	t.Helper()
	out := map[string]string{}
	add := func(typ string) func([]int, error) {
		return func(ids []int, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				out[strconv.Itoa(id)] = typ
			}
		}
	}
	add("User")(s.DB.User.Query().IDs(ctx))
	add("ApiKey")(s.DB.ApiKey.Query().IDs(ctx))
	add("Organization")(s.DB.Organization.Query().IDs(ctx))
	add("OrganizationMembership")(s.DB.OrganizationMembership.Query().IDs(ctx))
	add("Application")(s.DB.Application.Query().IDs(ctx))
	add("ApplicationMembership")(s.DB.ApplicationMembership.Query().IDs(ctx))
	add("SecurityEvent")(s.DB.SecurityEvent.Query().IDs(ctx))
	add("SigningKey")(s.DB.SigningKey.Query().IDs(ctx))
	return out
}

// ownedBy reports whether the row belongs to the user: the user, their keys
// and events, organizations they belong to and memberships there,
// applications they have a role on and memberships there.
func ownedBy(t *testing.T, s *Server, typ, id string, userID int) bool {
	t.Helper()
	n := dbID(t, id)
	switch typ {
	case "User":
		return n == userID
	case "ApiKey":
		return Must(s.DB.ApiKey.Get(ctx, n))(t).UserID == userID
	case "SecurityEvent":
		return Must(s.DB.SecurityEvent.Get(ctx, n))(t).UserID == userID
	case "Organization":
		return orgRole(t, s, n, userID) != ""
	case "OrganizationMembership":
		m := Must(s.DB.OrganizationMembership.Get(ctx, n))(t)
		return ownedBy(t, s, "Organization", strconv.Itoa(m.OrganizationID), userID)
	case "Application":
		a := Must(s.DB.Application.Get(ctx, n))(t)
		member := Must(s.DB.ApplicationMembership.Query().Where(
			applicationmembership.ApplicationID(a.ID), applicationmembership.UserID(userID)).Exist(ctx))(t)
		return member || orgRole(t, s, a.OrganizationID, userID) == access.OrgAdministrator
	case "ApplicationMembership":
		m := Must(s.DB.ApplicationMembership.Get(ctx, n))(t)
		return ownedBy(t, s, "Application", strconv.Itoa(m.ApplicationID), userID)
	}
	return false
}

func orgRole(t *testing.T, s *Server, orgID, userID int) access.OrgRole {
	t.Helper()
	m, err := s.DB.OrganizationMembership.Query().Where(
		organizationmembership.OrganizationID(orgID), organizationmembership.UserID(userID)).Only(ctx)
	if ent.IsNotFound(err) {
		return ""
	}
	return Must(m, err)(t).Role
}

// dbState renders every stored row a request could change (not
// lastUsedAt, which use updates), in id order.
func dbState(t *testing.T, s *Server) string {
	t.Helper()
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	for _, u := range Must(s.DB.User.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("user %d %s %s %s", u.ID, u.Username, u.Email, u.PasswordHash)
	}
	for _, k := range Must(s.DB.ApiKey.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("api key %d user %d %s %s %x %v", k.ID, k.UserID, k.Name, k.Prefix, k.Hash, k.ExpiresAt)
	}
	for _, o := range Must(s.DB.Organization.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("org %d %s %s %s", o.ID, o.Handle, o.Name, o.Plan)
	}
	for _, m := range Must(s.DB.OrganizationMembership.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("org member %d org %d user %d %s", m.ID, m.OrganizationID, m.UserID, m.Role)
	}
	for _, a := range Must(s.DB.Application.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("app %d org %d %s %s %s", a.ID, a.OrganizationID, a.Slug, a.Name, a.Type)
	}
	for _, m := range Must(s.DB.ApplicationMembership.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("app member %d app %d user %d %s", m.ID, m.ApplicationID, m.UserID, m.Role)
	}
	for _, e := range Must(s.DB.SecurityEvent.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("event %d user %d %s %s", e.ID, e.UserID, e.Kind, e.Detail)
	}
	return b.String()
}

// diffLines lists the lines only in before (-) and only in after (+).
func diffLines(before, after string) string {
	var b strings.Builder
	bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
	for _, l := range bl {
		if !slices.Contains(al, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range al {
		if !slices.Contains(bl, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
