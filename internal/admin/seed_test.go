package admin_test

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"fleetgate/ent"
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/organization"
	"fleetgate/ent/user"
	"fleetgate/internal/admin"
	"fleetgate/internal/apitest"
	"fleetgate/internal/policy"
)

// seeded runs seed with args and returns its assignments, checking that
// every line of its output is a comment or a shell-safe assignment, as
// eval "$(fleetgate seed)" needs.
func seeded(t *testing.T, s *apitest.Server, args ...string) map[string]string {
	t.Helper()
	var out bytes.Buffer
	if err := admin.Run(context.Background(), s.DB, append([]string{"seed"}, args...), &out); err != nil {
		t.Fatalf("seed %v: %v\n%s", args, err, out.String())
	}
	assignment := regexp.MustCompile(`^(FLEETGATE_SEED_[A-Z_]+)=([A-Za-z0-9_-]+)$`)
	vars := map[string]string{}
	for line := range strings.Lines(out.String()) {
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, "#") {
			continue
		}
		m := assignment.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("neither a comment nor a shell-safe assignment: %q", line)
		}
		vars[m[1]] = m[2]
	}
	for _, name := range []string{"FLEETGATE_SEED_USERNAME", "FLEETGATE_SEED_PASSWORD", "FLEETGATE_SEED_API_KEY"} {
		if vars[name] == "" {
			t.Fatalf("no %s in\n%s", name, out.String())
		}
	}
	return vars
}

// rowCounts is the number of rows of each seeded kind.
func rowCounts(t *testing.T, db *ent.Client) [6]int {
	t.Helper()
	sys := policy.System(context.Background())
	return [6]int{
		apitest.Must(db.User.Query().Count(sys))(t),
		apitest.Must(db.Organization.Query().Count(sys))(t),
		apitest.Must(db.OrganizationMembership.Query().Count(sys))(t),
		apitest.Must(db.Application.Query().Count(sys))(t),
		apitest.Must(db.ApplicationMembership.Query().Count(sys))(t),
		apitest.Must(db.Device.Query().Count(sys))(t) + apitest.Must(db.ApiKey.Query().Count(sys))(t),
	}
}

// TestSeed: a small shape, signed in to through the real endpoint with the
// printed password and API key, has the shape asked for; a second seed is
// refused and changes nothing.
func TestSeed(t *testing.T) {
	ctx := context.Background()
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		vars := seeded(t, s, "--users", "12", "--organizations", "3", "--applications-per-org", "7",
			"--members-per-app", "4", "--devices-per-app", "3", "--keys-per-user", "2")
		// 3 organizations (one administrator each), 21 applications of 4
		// members, 63 devices and 24 API keys.
		if got, want := rowCounts(t, s.DB), [6]int{12, 3, 3, 21, 84, 63 + 24}; got != want {
			t.Fatalf("rows %v, want %v", got, want)
		}
		sys := policy.System(ctx)
		if n := apitest.Must(s.DB.Organization.Query().Where(organization.PlanEQ(organization.PlanPAID)).Count(sys))(t); n != 3 {
			t.Fatalf("%d organizations on the PAID plan, want 3", n)
		}

		login := apitest.Must(apitest.Login(ctx, s.Client(""), apitest.LoginInput{
			UsernameOrEmail: vars["FLEETGATE_SEED_USERNAME"], Password: vars["FLEETGATE_SEED_PASSWORD"]}))(t)
		if login.Login.User.Username != "user1" {
			t.Fatalf("signed in as %s", login.Login.User.Username)
		}
		// user1 is a member of every tenth application (1, 11, 21), with
		// the roles in turn, and each application has 4 members.
		apps := apitest.Must(apitest.ApplicationsWithMembers(ctx, s.Client(login.Login.Token)))(t).Applications
		var got []string
		for _, e := range apps.Edges {
			app := e.Node
			if app.Members.TotalCount != 4 || len(app.Members.Edges) != 4 {
				t.Errorf("%s: %d members, want 4", app.Slug, app.Members.TotalCount)
			}
			for _, m := range app.Members.Edges {
				if m.Node.User.Username == "user1" {
					got = append(got, app.Slug+" "+string(m.Node.Role))
				}
			}
		}
		slices.Sort(got)
		want := []string{"org1/app-1 DEVELOPER", "org2/app-11 OPERATOR", "org3/app-21 OBSERVER"}
		if apps.TotalCount != 3 || !slices.Equal(got, want) {
			t.Fatalf("user1's applications: %d, %v; want %v", apps.TotalCount, got, want)
		}

		// The printed API key authenticates user1, who administers no
		// organization nor is a member of one.
		me := apitest.Must(apitest.Me(ctx, s.Client(vars["FLEETGATE_SEED_API_KEY"]), nil, nil))(t).Me
		if me.Username != "user1" || me.Organizations.TotalCount != 0 {
			t.Fatalf("API key: %s in %d organizations", me.Username, me.Organizations.TotalCount)
		}

		before := rowCounts(t, s.DB)
		var out bytes.Buffer
		err := admin.Run(ctx, s.DB, []string{"seed", "--users", "2", "--organizations", "0"}, &out)
		if err == nil || !strings.Contains(err.Error(), "empty database") {
			t.Fatalf("seeding a database with users: %v", err)
		}
		if after := rowCounts(t, s.DB); after != before || out.Len() != 0 {
			t.Fatalf("a refused seed wrote: rows %v, then %v; output %q", before, after, out.String())
		}
	})
}

// TestSeedRefusesBadFlags: each refusal names its rule, and writes nothing.
func TestSeedRefusesBadFlags(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		refused := map[string][]string{
			"--users must be at least 1":             {"--users", "0"},
			"must not be negative":                   {"--organizations", "-1"},
			"--keys-per-user must be 1 to 100":       {"--keys-per-user", "101"},
			"administrator other than user1":         {"--users", "1", "--organizations", "1", "--applications-per-org", "0"},
			"--members-per-app must be 1 to --users": {"--users", "5", "--members-per-app", "4"},
			"--members-per-app must be 1 to":         {"--users", "5", "--members-per-app", "0"},
			"seed takes flags only":                  {"--users", "5", "now"},
			"not defined":                            {"--user", "5"},
			"invalid value":                          {"--users", "many"},
		}
		for want, args := range refused {
			var out bytes.Buffer
			err := admin.Run(context.Background(), s.DB, append([]string{"seed"}, args...), &out)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%v: %v, want an error saying %q", args, err, want)
			}
		}
		if got := rowCounts(t, s.DB); got != [6]int{} {
			t.Fatalf("refused seeds wrote rows: %v", got)
		}
	})
}

// TestSeedDefaultShape: the benchmark's shape (README "Operating"), on
// SQLite.
func TestSeedDefaultShape(t *testing.T) {
	ctx := context.Background()
	sys := policy.System(ctx)
	s := apitest.Start(t, apitest.Backends()[0])
	vars := seeded(t, s)
	if got, want := rowCounts(t, s.DB), [6]int{1000, 100, 100, 2000, 20000, 40000 + 2000}; got != want {
		t.Fatalf("rows %v, want %v", got, want)
	}
	type members struct {
		ApplicationID int `json:"application_id"`
		Count         int `json:"count"`
	}
	var perApp []members
	err := s.DB.ApplicationMembership.Query().GroupBy(applicationmembership.FieldApplicationID).
		Aggregate(ent.Count()).Scan(sys, &perApp)
	if err != nil {
		t.Fatal(err)
	}
	if len(perApp) != 2000 || slices.ContainsFunc(perApp, func(m members) bool { return m.Count != 10 }) {
		t.Fatalf("members per application: %v", perApp)
	}
	admins := apitest.Must(s.DB.User.Query().Where(user.Username("user1"), user.HasOrganizationMemberships()).Exist(sys))(t)
	apps := apitest.Must(apitest.Applications(ctx, s.Client(vars["FLEETGATE_SEED_API_KEY"]), nil, nil, nil))(t)
	if admins || apps.Applications.TotalCount != 200 {
		t.Fatalf("user1: in an organization %v, member of %d applications, want none and 200", admins, apps.Applications.TotalCount)
	}
}
