package graph_test

import (
	"fmt"
	"testing"

	"fleetgate/ent"
	"fleetgate/ent/organization"
	"fleetgate/ent/user"
	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
)

// TestListingStatementsAreBounded pins that the viewer's roles are loaded
// once per request and edges are loaded per list, not per item: listing 100
// applications with their members costs as many SQL statements as listing 1.
func TestListingStatementsAreBounded(t *testing.T) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			s, statements := StartCounting(t, b)
			viewer := s.SignUp(t, "viewer")
			owner := s.SignUp(t, "sharer")
			dev := s.SignUp(t, "dev")
			ownerOrg := Must(s.DB.Organization.Query().Where(organization.Handle("sharer")).Only(ctx))(t)
			viewerOrg := Must(s.DB.Organization.Query().Where(organization.Handle("viewer")).Only(ctx))(t)
			uid := func(a Account) int { return Must(s.DB.User.Query().Where(user.Username(a.Username)).OnlyID(ctx))(t) }
			viewerID, devID, ownerID := uid(viewer), uid(dev), uid(owner)

			// addApps adds n applications: alternately owned by the viewer's
			// organization and shared with the viewer by another one, each
			// with two members.
			created := 0
			addApps := func(n int) {
				for range n {
					created++
					org, viaMembership := viewerOrg, created%2 == 0
					if viaMembership {
						org = ownerOrg
					}
					app := Must(s.DB.Application.Create().SetName(fmt.Sprint("app ", created)).
						SetSlug(fmt.Sprintf("%s/app-%d", org.Handle, created)).
						SetType("ESSENTIALS").SetOrganization(org).Save(ctx))(t)
					members := []*ent.ApplicationMembershipCreate{
						s.DB.ApplicationMembership.Create().SetApplication(app).SetUserID(devID).SetRole(access.Developer),
					}
					if viaMembership {
						members = append(members, s.DB.ApplicationMembership.Create().SetApplication(app).SetUserID(viewerID).SetRole(access.Developer))
					} else {
						members = append(members, s.DB.ApplicationMembership.Create().SetApplication(app).SetUserID(ownerID).SetRole(access.Developer))
					}
					Must(s.DB.ApplicationMembership.CreateBulk(members...).Save(ctx))(t)
				}
			}
			list := func() int64 {
				statements.Reset()
				got := Must(ApplicationsWithMembers(ctx, s.Client(viewer.Token)))(t).Applications
				if got.TotalCount != created || len(got.Edges) != created {
					t.Fatalf("listed %d of %d applications", len(got.Edges), created)
				}
				for _, e := range got.Edges {
					if e.Node.Members.TotalCount != 2 || len(e.Node.Members.Edges) != 2 || e.Node.Members.Edges[0].Node.User.Username == "" {
						t.Fatalf("%s: members %+v", e.Node.Slug, e.Node.Members)
					}
				}
				return statements.Count()
			}

			addApps(2)
			few := list()
			addApps(98)
			many := list()
			if many != few {
				t.Fatalf("listing 2 applications ran %d statements, 100 ran %d: some are per item", few, many)
			}
			// Authentication, the viewer's roles (2), the applications,
			// their count, organizations, members, member counts, users.
			if many > 9 {
				t.Fatalf("listing ran %d statements, want at most 9", many)
			}
		})
	}
}
