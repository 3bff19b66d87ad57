package policy_test

import (
	"context"
	"testing"

	"fleetgate/ent"
	"fleetgate/ent/application"
	"fleetgate/ent/applicationmembership"
	"fleetgate/internal/access"
	"fleetgate/internal/apitest"
	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
	"fleetgate/internal/viewer"
)

// world is stored state: an organization administered by admin with one
// application shared with dev (DEVELOPER); org member mem (MEMBER) has no
// role on the application; stranger has nothing.
type world struct {
	db                        *ent.Client
	org                       *ent.Organization
	app                       *ent.Application
	devMembership             *ent.ApplicationMembership
	admin, dev, mem, stranger *ent.User
}

func arrange(t *testing.T, db *ent.Client) world {
	ctx := policy.System(context.Background())
	user := func(name string) *ent.User {
		return apitest.Must(db.User.Create().SetUsername(name).SetEmail(name + "@example.com").Save(ctx))(t)
	}
	w := world{db: db, admin: user("admin1"), dev: user("dev"), mem: user("mem"), stranger: user("stranger")}
	w.org = apitest.Must(db.Organization.Create().SetName("Org").SetHandle("org").Save(ctx))(t)
	apitest.Must(db.OrganizationMembership.Create().SetOrganization(w.org).SetUser(w.admin).SetRole(access.OrgAdministrator).Save(ctx))(t)
	apitest.Must(db.OrganizationMembership.Create().SetOrganization(w.org).SetUser(w.mem).SetRole(access.OrgMember).Save(ctx))(t)
	w.app = apitest.Must(db.Application.Create().SetName("App").SetSlug("org/app").SetType(application.TypeESSENTIALS).SetOrganization(w.org).Save(ctx))(t)
	w.devMembership = apitest.Must(db.ApplicationMembership.Create().SetApplication(w.app).SetUser(w.dev).SetRole(access.Developer).Save(ctx))(t)
	return w
}

// as is a request context of u, as the API builds it.
func (w world) as(u *ent.User) context.Context {
	ctx := policy.WithRoleCache(context.Background(), w.db)
	return viewer.WithViewer(ctx, &viewer.Viewer{UserID: u.ID, Credential: viewer.Session})
}

func wantCode(t *testing.T, err error, code fault.Code) {
	t.Helper()
	if f, ok := fault.As(err); !ok || f.Code != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func TestReadsAreFiltered(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		w := arrange(t, s.DB)
		for _, c := range []struct {
			who                *ent.User
			apps, orgs, member int
		}{
			{w.admin, 1, 1, 1},
			{w.dev, 1, 1, 1}, // the organization shows through the shared application
			{w.mem, 0, 1, 0},
			{w.stranger, 0, 0, 0},
		} {
			ctx := w.as(c.who)
			apps := apitest.Must(s.DB.Application.Query().Count(ctx))(t)
			orgs := apitest.Must(s.DB.Organization.Query().Count(ctx))(t)
			members := apitest.Must(s.DB.ApplicationMembership.Query().Count(ctx))(t)
			if apps != c.apps || orgs != c.orgs || members != c.member {
				t.Errorf("%s sees %d apps, %d orgs, %d app memberships; want %d, %d, %d",
					c.who.Username, apps, orgs, members, c.apps, c.orgs, c.member)
			}
			// Through edges of visible objects too.
			if orgs > 0 {
				via := apitest.Must(s.DB.Organization.Query().QueryApplications().QueryMembers().Count(ctx))(t)
				if via != c.member {
					t.Errorf("%s sees %d memberships through edges", c.who.Username, via)
				}
			}
		}
		// Without a viewer nothing is visible: the query fails.
		_, err := s.DB.Application.Query().Count(context.Background())
		wantCode(t, err, fault.Unauthenticated)
		// Organization memberships: members see the organization's.
		if n := apitest.Must(s.DB.OrganizationMembership.Query().Count(w.as(w.dev)))(t); n != 0 {
			t.Errorf("an application member sees %d organization memberships", n)
		}
	})
}

func TestWritesFollowTheMatrix(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		w := arrange(t, s.DB)
		// Past the @can directive, the rules still refuse.
		wantCode(t, s.DB.Application.DeleteOne(w.app).Exec(w.as(w.dev)), fault.Forbidden)
		wantCode(t, s.DB.Application.DeleteOne(w.app).Exec(w.as(w.stranger)), fault.NotFound)
		wantCode(t, s.DB.Application.DeleteOne(w.app).Exec(w.as(w.mem)), fault.NotFound)
		wantCode(t, s.DB.ApplicationMembership.Create().SetApplication(w.app).SetUser(w.stranger).
			SetRole(access.Developer).Exec(w.as(w.dev)), fault.Forbidden)
		wantCode(t, s.DB.ApplicationMembership.UpdateOne(w.devMembership).SetRole(access.Observer).Exec(w.as(w.dev)), fault.Forbidden)
		wantCode(t, s.DB.Application.Create().SetName("B").SetSlug("org/b").SetType(application.TypeSTARTER).
			SetOrganization(w.org).Exec(w.as(w.mem)), fault.Forbidden)
		wantCode(t, s.DB.Application.Create().SetName("B").SetSlug("org/b").SetType(application.TypeSTARTER).
			SetOrganization(w.org).Exec(w.as(w.stranger)), fault.NotFound)
		wantCode(t, s.DB.OrganizationMembership.Create().SetOrganization(w.org).SetUser(w.stranger).
			SetRole(access.OrgAdministrator).Exec(w.as(w.mem)), fault.Forbidden)
		// Changes by predicate are fleetgate's own, never a user's.
		if _, err := s.DB.Application.Delete().Where(application.ID(w.app.ID)).Exec(w.as(w.admin)); err == nil {
			t.Fatal("a predicate delete on behalf of a user went through")
		}
		if n := apitest.Must(s.DB.Application.Query().Count(policy.System(context.Background())))(t); n != 1 {
			t.Fatalf("%d applications left after refused deletes", n)
		}
		// Allowed: a member leaves; the administrator deletes.
		if err := s.DB.ApplicationMembership.DeleteOne(w.devMembership).Exec(w.as(w.dev)); err != nil {
			t.Fatalf("leaving: %v", err)
		}
		if err := s.DB.Application.DeleteOne(w.app).Exec(w.as(w.admin)); err != nil {
			t.Fatalf("administrator's delete: %v", err)
		}
	})
}

// TestSeesEmailOf: one's own address, and those one knows (as when adding
// a member by address); administering alone shows none.
func TestSeesEmailOf(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		w := arrange(t, s.DB)
		apitest.Must(s.DB.KnownEmail.Create().SetUser(w.dev).SetKnownBy(w.admin).Save(policy.System(context.Background())))(t)
		for _, c := range []struct {
			viewer, of *ent.User
			want       bool
		}{
			{w.admin, w.dev, true},
			{w.admin, w.mem, false},
			{w.admin, w.admin, true},
			{w.admin, w.stranger, false},
			{w.dev, w.admin, false},
			{w.dev, w.mem, false},
			{w.dev, w.dev, true},
			{w.stranger, w.admin, false},
		} {
			if got := apitest.Must(policy.SeesEmailOf(w.as(c.viewer), c.of.ID))(t); got != c.want {
				t.Errorf("%s sees %s's email: %v, want %v", c.viewer.Username, c.of.Username, got, c.want)
			}
		}
	})
}

// TestMembersOfVisibleApplications: the members eager-loaded with the
// applications a viewer sees are theirs without the visibility predicate
// again; every other query of memberships in the same request is still
// filtered: one of a hidden application, by its id or filter, the
// memberships of a member eager-loaded below those members, and an eager
// load under a query that was not filtered for the viewer.
func TestMembersOfVisibleApplications(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		w := arrange(t, s.DB)
		sys := policy.System(context.Background())
		other := apitest.Must(s.DB.Organization.Create().SetName("Other").SetHandle("other").Save(sys))(t)
		hidden := apitest.Must(s.DB.Application.Create().SetName("Hidden").SetSlug("other/hidden").SetType(application.TypeESSENTIALS).SetOrganization(other).Save(sys))(t)
		hiddenMembership := apitest.Must(s.DB.ApplicationMembership.Create().SetApplication(hidden).SetUser(w.stranger).SetRole(access.Developer).Save(sys))(t)
		apitest.Must(s.DB.ApplicationMembership.Create().SetApplication(w.app).SetUser(w.stranger).SetRole(access.Observer).Save(sys))(t)

		ctx := w.as(w.dev)
		apps := apitest.Must(s.DB.Application.Query().WithMembers(func(q *ent.ApplicationMembershipQuery) {
			q.WithUser(func(q *ent.UserQuery) { q.WithApplicationMemberships() })
		}).All(ctx))(t)
		if len(apps) != 1 || apps[0].ID != w.app.ID || len(apps[0].Edges.Members) != 2 {
			t.Fatalf("dev sees %+v", apps)
		}
		for _, m := range apps[0].Edges.Members {
			for _, of := range m.Edges.User.Edges.ApplicationMemberships {
				if of.ApplicationID != w.app.ID {
					t.Errorf("below the members, dev sees %s's membership of application %d", m.Edges.User.Username, of.ApplicationID)
				}
			}
		}
		if n := apitest.Must(s.DB.ApplicationMembership.Query().Count(ctx))(t); n != 2 {
			t.Errorf("after the eager load, dev counts %d memberships, want 2", n)
		}
		if _, err := s.DB.ApplicationMembership.Get(ctx, hiddenMembership.ID); !ent.IsNotFound(err) {
			t.Errorf("dev reads a hidden application's membership: %v", err)
		}
		// The system's query of every application is not the viewer's: an
		// eager load below it in the viewer's request stays filtered.
		all := apitest.Must(s.DB.Application.Query().WithMembers().All(policy.System(ctx)))(t)
		if len(all) != 2 {
			t.Fatalf("the system sees %d applications", len(all))
		}
		if n := apitest.Must(s.DB.ApplicationMembership.Query().Where(applicationmembership.ApplicationID(hidden.ID)).Count(ctx))(t); n != 0 {
			t.Errorf("dev counts %d memberships of the hidden application", n)
		}
	})
}
