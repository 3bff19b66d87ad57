package graph_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/Khan/genqlient/graphql"

	"fleetgate/graph"
	. "fleetgate/internal/apitest"
	"fleetgate/internal/auth"
)

// TestMemberEmailsOnlyToWhoTypedThem: the email harvest (add anyone to
// one's own organization by username, read back their address) gets no
// address. An administrator who added a member by address sees that
// address from then on; nobody else does, a fellow administrator of the
// same organization included.
func TestMemberEmailsOnlyToWhoTypedThem(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		// Members are added by verified addresses only.
		s, box := s.WithMailbox(t)
		carol, erin := s.SignUpVerified(t, box, "carol"), s.SignUpVerified(t, box, "erin")
		alice, bob, dave := s.SignUp(t, "alice"), s.SignUp(t, "bob"), s.SignUp(t, "dave")
		ac := s.Client(alice.Token)
		org := Must(Organization(ctx, ac, "alice"))(t).Organization.Id
		add := func(who string, role OrganizationRole) *string {
			return Must(AddOrganizationMemberEmail(ctx, ac, AddOrganizationMemberInput{
				OrganizationId: org, UsernameOrEmail: who, Role: role,
			}))(t).AddOrganizationMember.User.Email
		}
		if email := add("bob", OrganizationRoleMember); email != nil {
			t.Fatalf("adding by username reads the address %q", *email)
		}
		if email := add(" Carol@Example.COM ", OrganizationRoleMember); email == nil || *email != carol.Email {
			t.Fatalf("adding by address shows %v, want %s", deref(email), carol.Email)
		}
		add("dave", OrganizationRoleAdministrator)
		app := Must(CreateApplication(ctx, ac, CreateApplicationInput{OrganizationId: org, Name: "Shared", Type: ApplicationTypeStarter}))(t).CreateApplication
		if email := Must(AddApplicationMember(ctx, ac, AddApplicationMemberInput{
			ApplicationId: app.Id, UsernameOrEmail: erin.Email, Role: ApplicationRoleDeveloper,
		}))(t).AddApplicationMember.User.Email; email == nil || *email != erin.Email {
			t.Fatalf("adding to an application by address shows %v", deref(email))
		}
		// Typing an address she knows already changes nothing.
		Must(AddApplicationMember(ctx, ac, AddApplicationMemberInput{ApplicationId: app.Id, UsernameOrEmail: carol.Email, Role: ApplicationRoleDeveloper}))(t)

		// The addresses each viewer reads on the organization's and the
		// application's member lists, in later requests.
		emails := func(c graphql.Client) map[string]string {
			out := map[string]string{}
			for _, e := range Must(Organization(ctx, c, "alice"))(t).Organization.Members.Edges {
				if e.Node.User.Email != nil {
					out[e.Node.User.Username] = *e.Node.User.Email
				}
			}
			if a, err := Application(ctx, c, app.Slug); err == nil {
				for _, e := range a.Application.Members.Edges {
					if e.Node.User.Email != nil {
						out[e.Node.User.Username] = *e.Node.User.Email
					}
				}
			}
			return out
		}
		for _, c := range []struct {
			viewer Account
			want   map[string]string
		}{
			{alice, map[string]string{"alice": alice.Email, "carol": carol.Email, "erin": erin.Email}},
			{dave, map[string]string{"dave": dave.Email}}, // an administrator too, who typed no address
			{bob, map[string]string{"bob": bob.Email}},
			{carol, map[string]string{"carol": carol.Email}},
		} {
			if got := emails(s.Client(c.viewer.Token)); !maps.Equal(got, c.want) {
				t.Errorf("%s reads the addresses %v, want %v", c.viewer.Username, got, c.want)
			}
		}

		// The export says who sees the account's address, and whose it sees.
		var doc struct{ EmailVisibleTo, KnowsEmailOf []string }
		for _, c := range []struct {
			viewer           Account
			visibleTo, knows []string
		}{
			{alice, nil, []string{"carol", "erin"}},
			{carol, []string{"alice"}, nil},
			{bob, nil, nil},
		} {
			raw := Must(ExportMyData(ctx, s.Client(c.viewer.Token)))(t).ExportMyData
			doc.EmailVisibleTo, doc.KnowsEmailOf = nil, nil
			if err := json.Unmarshal([]byte(raw), &doc); err != nil {
				t.Fatal(err)
			}
			slices.Sort(doc.KnowsEmailOf)
			if !slices.Equal(doc.EmailVisibleTo, c.visibleTo) || !slices.Equal(doc.KnowsEmailOf, c.knows) {
				t.Errorf("%s's export: emailVisibleTo %v knowsEmailOf %v, want %v and %v",
					c.viewer.Username, doc.EmailVisibleTo, doc.KnowsEmailOf, c.visibleTo, c.knows)
			}
		}
	})
}

// TestMemberLookupsAreThrottled: every lookup of an account to add counts
// against the caller's member lookups limit before the lookup, found or not,
// each alias of one request apart; over the limit the answer is
// RATE_LIMITED, for both member forms, and other callers are unaffected.
func TestMemberLookupsAreThrottled(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice, carol := s.SignUp(t, "alice"), s.SignUp(t, "carol")
		s.SignUp(t, "bob")
		ac := s.Client(alice.Token)
		org := Must(Organization(ctx, ac, "alice"))(t).Organization.Id
		app := Must(CreateApplication(ctx, ac, CreateApplicationInput{OrganizationId: org, Name: "Probed", Type: ApplicationTypeStarter}))(t).CreateApplication

		// limit+1 probes, in requests of as many aliases as one may hold:
		// bob (added), bob again (a CONFLICT), then addresses nobody has.
		limit := auth.DefaultAbuseLimits().MemberLookups.Limit
		codes := map[string]string{}
		for start := 0; start <= limit; start += graph.MaxAliases {
			var q strings.Builder
			q.WriteString("mutation {")
			for i := start; i <= limit && i < start+graph.MaxAliases; i++ {
				who := fmt.Sprintf("nobody%d@example.com", i)
				if i < 2 {
					who = "bob"
				}
				fmt.Fprintf(&q, " p%d: addApplicationMember(input: {applicationId: %q, usernameOrEmail: %q, role: DEVELOPER}) { id }", i, app.Id, who)
			}
			q.WriteString(" }")
			for _, e := range s.Do(t, alice.Token, q.String(), nil).Errors {
				alias := fmt.Sprint(e.Path[0])
				codes[alias] = e.Code()
				if e.Code() == "RATE_LIMITED" && e.Extensions["retryAfter"] == nil {
					t.Errorf("%s: RATE_LIMITED without retryAfter", alias)
				}
			}
		}
		for i := range limit + 1 {
			want := "NOT_FOUND"
			switch i {
			case 0:
				want = "" // added
			case 1:
				want = "CONFLICT"
			case limit:
				want = "RATE_LIMITED"
			}
			if alias := fmt.Sprintf("p%d", i); codes[alias] != want {
				t.Errorf("%s: %q, want %q", alias, codes[alias], want)
			}
		}
		// The same counter limits both forms, whoever is looked up.
		_, err := AddApplicationMember(ctx, ac, AddApplicationMemberInput{ApplicationId: app.Id, UsernameOrEmail: "carol", Role: ApplicationRoleDeveloper})
		WantCode(t, err, "RATE_LIMITED")
		_, err = AddOrganizationMember(ctx, ac, AddOrganizationMemberInput{OrganizationId: org, UsernameOrEmail: "carol", Role: OrganizationRoleMember})
		WantCode(t, err, "RATE_LIMITED")
		// Another caller is not.
		cc := s.Client(carol.Token)
		carolOrg := Must(Organization(ctx, cc, "carol"))(t).Organization.Id
		Must(AddOrganizationMember(ctx, cc, AddOrganizationMemberInput{OrganizationId: carolOrg, UsernameOrEmail: "bob", Role: OrganizationRoleMember}))(t)
	})
}
