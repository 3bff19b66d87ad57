package graph_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"fleetgate/ent/application"
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/organization"
	"fleetgate/ent/organizationmembership"
	"fleetgate/ent/securityevent"
	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
)

// guardedFields reads the SDL and returns every field carrying @can, as
// "Type.field", with the permission it names.
func guardedFields(t *testing.T) map[string]access.Permission {
	t.Helper()
	paths, err := filepath.Glob("../schema/*.graphql")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no SDL under ../schema (%v)", err)
	}
	var sources []*ast.Source
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, &ast.Source{Name: p, Input: string(b)})
	}
	schema, gerr := gqlparser.LoadSchema(sources...)
	if gerr != nil {
		t.Fatalf("load SDL: %v", gerr)
	}
	out := map[string]access.Permission{}
	for _, def := range schema.Types {
		if def.BuiltIn || def.Kind != ast.Object && def.Kind != ast.Interface {
			continue
		}
		for _, f := range def.Fields {
			for _, d := range f.Directives.ForNames("can") {
				arg := d.Arguments.ForName("permission")
				if arg == nil || arg.Value == nil {
					t.Fatalf("%s.%s: @can without a permission", def.Name, f.Name)
				}
				p := access.Permission(arg.Value.Raw)
				if !slices.Contains(access.Permissions(), p) {
					t.Fatalf("%s.%s: @can(%s) names no permission of internal/access", def.Name, f.Name, p)
				}
				out[def.Name+"."+f.Name] = p
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("the SDL guards no field with @can: the directive or its parsing is gone")
	}
	return out
}

// walkSubjects: one user per effective role, and a signed-up stranger.
var walkSubjects = []access.Role{access.Administrator, access.Developer, access.Operator, access.Observer, outsider}

// outsider stands for the signed-up user without any role on the fleet.
const outsider access.Role = "NON_MEMBER"

// walkCase is one subject about to act on its own fresh fleet.
type walkCase struct {
	s       *Server
	f       Fleet
	subject access.Role
	c       graphql.Client // the subject's client
	newbie  Account        // signed up, member of nothing, for adding
}

// others returns the membership the subject acts on: the OPERATOR's, or,
// for the OPERATOR itself, the OBSERVER's (never the subject's own, which
// removeApplicationMember allows to anyone as leaving).
func (w walkCase) others() string {
	if w.subject == access.Operator {
		return w.f.Memberships[access.Observer]
	}
	return w.f.Memberships[access.Operator]
}

// guardedOp exercises one @can field. do performs it as the subject and
// checks the answer when it succeeds; done reports, from the database,
// whether its effect is there.
type guardedOp struct {
	perm access.Permission // what SPEC.md §4 says guards the field
	do   func(t *testing.T, w walkCase) error
	done func(t *testing.T, w walkCase) bool
}

// guardedOps covers every @can field of the SDL; a field added with @can
// must be added here (TestMatrixWalk fails until it is).
var guardedOps = map[string]guardedOp{
	"Mutation.addApplicationMember": {
		perm: access.AddMembers,
		do: func(t *testing.T, w walkCase) error {
			r, err := AddApplicationMember(ctx, w.c, AddApplicationMemberInput{
				ApplicationId: w.f.AppID, UsernameOrEmail: w.newbie.Username, Role: ApplicationRoleDeveloper,
			})
			if err == nil {
				if m := r.AddApplicationMember; m.User.Id != w.newbie.ID || m.Role != ApplicationRoleDeveloper || m.Application.Id != w.f.AppID {
					t.Errorf("added %+v", m)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			return Must(w.s.DB.ApplicationMembership.Query().Where(
				applicationmembership.ApplicationID(dbID(t, w.f.AppID)),
				applicationmembership.UserID(dbID(t, w.newbie.ID)),
				applicationmembership.RoleEQ(access.Developer)).Exist(ctx))(t)
		},
	},
	"Mutation.updateApplicationMember": {
		perm: access.AddMembers,
		do: func(t *testing.T, w walkCase) error {
			r, err := UpdateApplicationMember(ctx, w.c, UpdateApplicationMemberInput{Id: w.others(), Role: ApplicationRoleDeveloper})
			if err == nil {
				if m := r.UpdateApplicationMember; m.Id != w.others() || m.Role != ApplicationRoleDeveloper {
					t.Errorf("updated %+v", m)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			m := Must(w.s.DB.ApplicationMembership.Get(ctx, dbID(t, w.others())))(t)
			return m.Role == access.Developer
		},
	},
	"Mutation.removeApplicationMember": {
		perm: access.AddMembers,
		do: func(t *testing.T, w walkCase) error {
			r, err := RemoveApplicationMember(ctx, w.c, w.others())
			if err == nil && r.RemoveApplicationMember != w.others() {
				t.Errorf("removed %s, want %s", r.RemoveApplicationMember, w.others())
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			return !Must(w.s.DB.ApplicationMembership.Query().Where(
				applicationmembership.ID(dbID(t, w.others()))).Exist(ctx))(t)
		},
	},
	"Mutation.deleteApplication": {
		perm: access.DeleteApplication,
		do: func(t *testing.T, w walkCase) error {
			r, err := DeleteApplication(ctx, w.c, w.f.AppID)
			if err == nil && r.DeleteApplication != w.f.AppID {
				t.Errorf("deleted %s, want %s", r.DeleteApplication, w.f.AppID)
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			app := dbID(t, w.f.AppID)
			gone := !Must(w.s.DB.Application.Query().Where(application.ID(app)).Exist(ctx))(t)
			members := Must(w.s.DB.ApplicationMembership.Query().Where(applicationmembership.ApplicationID(app)).Count(ctx))(t)
			if gone && members != 0 {
				t.Errorf("application deleted but %d memberships remain", members)
			}
			return gone
		},
	},
}

// TestMatrixWalk walks every role, and a non-member, over every @can field of
// the SDL, each on a fleet of its own, and compares what happens with
// internal/access: allowed is done, refused is FORBIDDEN with nothing
// changed, no role is NOT_FOUND with nothing changed.
func TestMatrixWalk(t *testing.T) {
	guarded := guardedFields(t)
	var fields []string
	for field, perm := range guarded {
		op, ok := guardedOps[field]
		switch {
		case !ok:
			t.Errorf("%s carries @can(%s) but TestMatrixWalk does not exercise it: add it to guardedOps", field, perm)
		case op.perm != perm:
			t.Errorf("%s carries @can(%s); SPEC.md §4 says %s", field, perm, op.perm)
		default:
			fields = append(fields, field)
		}
	}
	for field := range guardedOps {
		if _, ok := guarded[field]; !ok {
			t.Errorf("guardedOps names %s, which carries no @can in the SDL", field)
		}
	}
	sort.Strings(fields)
	if t.Failed() {
		t.FailNow()
	}

	Run(t, func(t *testing.T, s *Server) {
		stranger := s.SignUp(t, "walk_stranger")
		newbie := s.SignUp(t, "walk_newbie")
		var n atomic.Int32
		for _, field := range fields {
			op, perm := guardedOps[field], guarded[field]
			for _, subject := range walkSubjects {
				t.Run(field+"/"+string(subject), func(t *testing.T) {
					// Independent fleets, and state compared per fleet:
					// safe to run side by side.
					t.Parallel()
					f := s.NewFleet(t, fmt.Sprintf("w%d", n.Add(1)))
					who := stranger
					if subject != outsider {
						who = f.Users[subject]
					}
					w := walkCase{s: s, f: f, subject: subject, c: s.Client(who.Token), newbie: newbie}
					if op.done(t, w) {
						t.Fatalf("%s's effect is there before it ran", field)
					}
					before := fleetState(t, s, f)
					err := op.do(t, w)
					want := "FORBIDDEN"
					switch {
					case subject == outsider:
						want = "NOT_FOUND"
					case subject.Allows(perm):
						if err != nil {
							t.Fatalf("%s has %s, but %s failed: %v", subject, perm, field, err)
						}
						if !op.done(t, w) {
							t.Fatalf("%s succeeded for %s, but its effect is not in the database", field, subject)
						}
						return
					}
					// Not fatal: a wrong answer is worse with a change behind it.
					if Code(err) != want {
						t.Errorf("%s without %s: %s = %q, want %s (%v)", subject, perm, field, Code(err), want, err)
					}
					if after := fleetState(t, s, f); after != before {
						t.Errorf("a refused %s changed the fleet:\nbefore:\n%s\nafter:\n%s", field, before, after)
					}
				})
			}
		}
	})
}

// TestMatrixWalkReads: every role reads the application and its members, and
// finds it among its applications; a non-member finds it nowhere.
func TestMatrixWalkReads(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "r")
		stranger := s.SignUp(t, "r_stranger")
		wantMembers := []string{f.Users[access.Developer].Username, f.Users[access.Observer].Username, f.Users[access.Operator].Username}
		for _, role := range walkSubjects {
			c := s.Client(stranger.Token)
			if role != outsider {
				c = s.Client(f.Users[role].Token)
			}
			byID := &ApplicationWhereInput{Id: &f.AppID}
			if role == outsider {
				_, err := Application(ctx, c, f.Slug)
				WantCode(t, err, "NOT_FOUND")
				_, err = SweepNode(ctx, c, f.AppID)
				WantCode(t, err, "NOT_FOUND")
				for _, where := range []*ApplicationWhereInput{nil, byID} {
					if n := Must(Applications(ctx, c, nil, nil, where))(t).Applications.TotalCount; n != 0 {
						t.Errorf("a non-member lists %d applications (where %+v)", n, where)
					}
				}
				continue
			}
			app := Must(Application(ctx, c, f.Slug))(t).Application
			if app.Id != f.AppID || app.MyRole != ApplicationRole(role) || app.IsShared != (role != access.Administrator) {
				t.Errorf("%s reads %+v", role, app)
			}
			var perms []access.Permission
			for _, p := range app.MyPermissions {
				perms = append(perms, access.Permission(p))
			}
			if !slices.Equal(perms, role.Permissions()) {
				t.Errorf("%s: myPermissions %v, the matrix says %v", role, perms, role.Permissions())
			}
			var members []string
			for _, e := range app.Members.Edges {
				members = append(members, e.Node.User.Username)
			}
			sort.Strings(members)
			if app.Members.TotalCount != 3 || !slices.Equal(members, wantMembers) {
				t.Errorf("%s reads members %v (total %d), want %v", role, members, app.Members.TotalCount, wantMembers)
			}
			for _, where := range []*ApplicationWhereInput{nil, byID} {
				list := Must(Applications(ctx, c, nil, nil, where))(t).Applications
				if list.TotalCount != 1 || len(list.Edges) != 1 || list.Edges[0].Node.Id != f.AppID {
					t.Errorf("%s lists %+v (where %+v)", role, list, where)
				}
			}
			if n := Must(SweepNode(ctx, c, f.AppID))(t).Node; n == nil || *(*n).GetTypename() != "Application" {
				t.Errorf("%s: node(application) = %+v", role, n)
			}
		}
	})
}

// TestMatrixWalkOwnMembership: a member's own membership is no way around
// the matrix. Changing its role (raising oneself) needs ADD_MEMBERS like any
// other; removing it is leaving, which every member may do.
func TestMatrixWalkOwnMembership(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "o")
		for _, role := range []access.Role{access.Developer, access.Operator, access.Observer} {
			c, own := s.Client(f.Users[role].Token), f.Memberships[role]
			raise := ApplicationRoleDeveloper
			if role == access.Developer {
				raise = ApplicationRoleOperator // no higher membership role exists
			}
			before := fleetState(t, s, f)
			_, err := UpdateApplicationMember(ctx, c, UpdateApplicationMemberInput{Id: own, Role: raise})
			if role.Allows(access.AddMembers) {
				t.Fatalf("%s has ADD_MEMBERS: this test needs another subject", role)
			}
			WantCode(t, err, "FORBIDDEN")
			if after := fleetState(t, s, f); after != before {
				t.Errorf("%s changed their own role:\nbefore:\n%s\nafter:\n%s", role, before, after)
			}
			if got := Must(RemoveApplicationMember(ctx, c, own))(t).RemoveApplicationMember; got != own {
				t.Errorf("%s left through %s, want %s", role, got, own)
			}
			if Must(s.DB.ApplicationMembership.Query().Where(applicationmembership.ID(dbID(t, own))).Exist(ctx))(t) {
				t.Errorf("%s's membership is still there after leaving", role)
			}
			_, err = Application(ctx, c, f.Slug)
			WantCode(t, err, "NOT_FOUND")
		}
	})
}

// fleetState renders everything a guarded operation could change in f: its
// organization, application, both kinds of membership and its users'
// security events, read past the privacy rules. Scoped to f so that parallel subtests do not disturb it.
func fleetState(t *testing.T, s *Server, f Fleet) string {
	t.Helper()
	var b strings.Builder
	org := Must(s.DB.Organization.Get(ctx, dbID(t, f.OrgID)))(t)
	fmt.Fprintf(&b, "org %d %s %s %s\n", org.ID, org.Handle, org.Name, org.Plan)
	for _, m := range Must(s.DB.OrganizationMembership.Query().
		Where(organizationmembership.OrganizationID(org.ID)).Order(organizationmembership.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "org member %d user %d %s\n", m.ID, m.UserID, m.Role)
	}
	for _, a := range Must(s.DB.Application.Query().
		Where(application.OrganizationID(org.ID)).Order(application.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "app %d %s %s %s\n", a.ID, a.Slug, a.Name, a.Type)
	}
	for _, m := range Must(s.DB.ApplicationMembership.Query().
		Where(applicationmembership.HasApplicationWith(application.HasOrganizationWith(organization.ID(org.ID)))).
		Order(applicationmembership.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "app member %d app %d user %d %s\n", m.ID, m.ApplicationID, m.UserID, m.Role)
	}
	// A refusal records nothing on the members' accounts either.
	var users []int
	for _, u := range f.Users {
		users = append(users, dbID(t, u.ID))
	}
	for _, e := range Must(s.DB.SecurityEvent.Query().
		Where(securityevent.UserIDIn(users...)).Order(securityevent.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "event %d user %d %s %s\n", e.ID, e.UserID, e.Kind, e.Detail)
	}
	return b.String()
}

// dbID is the database id behind a GraphQL ID.
func dbID(t *testing.T, id string) int {
	t.Helper()
	return Must(strconv.Atoi(id))(t)
}
