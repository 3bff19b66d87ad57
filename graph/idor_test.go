package graph_test

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"

	"fleetgate/ent"
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/organization"
	"fleetgate/ent/organizationmembership"
	"fleetgate/ent/provisioningkey"
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
// email addresses only as README "Accounts and sessions" allows.
//
// The fleet side too: A's applications hold one of every fleet object, and
// B tries each id in each id argument of every fleet mutation (B's own ids
// of other types as well); B's provisioning key registers nothing outside
// B's application and is refused everything else; A's OBSERVER reads the
// fleet and may change none of it (FORBIDDEN).
func TestIDORSweep(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		// A's world: a personal and a created organization (PAID, for an
		// observer), an application shared with a developer and an
		// observer and one shared with nobody, an organization member, an
		// API key.
		s, box := s.WithMailbox(t)
		dave := s.SignUpVerified(t, box, "dave") // added by address, which must be verified
		alice := s.SignUp(t, "alice")
		carol, erin := s.SignUp(t, "carol"), s.SignUp(t, "erin")
		ac := s.Client(alice.Token)
		acme := Must(CreateOrganization(ctx, ac, CreateOrganizationInput{Name: "Acme", Handle: "acme"}))(t).CreateOrganization
		Must(s.DB.Organization.Update().Where(organization.Handle("acme")).SetPlan(organization.PlanPAID).Save(ctx))(t)
		app := Must(CreateApplication(ctx, ac, CreateApplicationInput{OrganizationId: acme.Id, Name: "Secret Fleet", Type: ApplicationTypeEssentials}))(t).CreateApplication
		carolM := Must(AddApplicationMember(ctx, ac, AddApplicationMemberInput{ApplicationId: app.Id, UsernameOrEmail: "carol", Role: ApplicationRoleDeveloper}))(t).AddApplicationMember.Id
		erinM := Must(AddApplicationMember(ctx, ac, AddApplicationMemberInput{ApplicationId: app.Id, UsernameOrEmail: "erin", Role: ApplicationRoleObserver}))(t).AddApplicationMember.Id
		daveM := Must(AddOrganizationMember(ctx, ac, AddOrganizationMemberInput{OrganizationId: acme.Id, UsernameOrEmail: dave.Email, Role: OrganizationRoleMember}))(t).AddOrganizationMember.Id
		Must(CreateApiKey(ctx, ac, CreateApiKeyInput{Name: "alice's key"}))(t)
		// Shared with nobody: hidden from erin and dave although they see acme.
		unshared := Must(CreateApplication(ctx, ac, CreateApplicationInput{OrganizationId: acme.Id, Name: "Unshared", Type: ApplicationTypeStarter}))(t).CreateApplication
		// One of every fleet object in both applications, a provisioning
		// key each; recovery codes (two-factor on) and a password reset.
		aFleet := arrangeFleet(t, s, ac, app.Id, "a")
		uFleet := arrangeFleet(t, s, ac, unshared.Id, "u")
		setup := Must(BeginTwoFactorSetup(ctx, ac))(t).BeginTwoFactorSetup
		confirmed := Must(ConfirmTwoFactorSetup(ctx, ac, code(t, setup.Secret, time.Now())))(t).ConfirmTwoFactorSetup
		if len(confirmed.RecoveryCodes) == 0 || confirmed.Session == nil {
			t.Fatalf("two-factor setup gave %+v", confirmed)
		}
		alice.Token = confirmed.Session.Token // the others ended
		ac = s.Client(alice.Token)
		Must(RequestPasswordReset(ctx, s.Client(""), alice.Email))(t)

		// B owns one object of most types, to check that B's own ids still
		// resolve and that B's ids of the wrong type are refused.
		bob := s.SignUp(t, "bob")
		bc := s.Client(bob.Token)
		bobOrg := Must(Organization(ctx, bc, "bob"))(t).Organization.Id
		bobApp := Must(CreateApplication(ctx, bc, CreateApplicationInput{OrganizationId: bobOrg, Name: "Own", Type: ApplicationTypeStarter}))(t).CreateApplication
		bobKey := Must(CreateApiKey(ctx, bc, CreateApiKeyInput{Name: "bob's key"}))(t).CreateApiKey.ApiKey.Id
		bFleet := arrangeFleet(t, s, bc, bobApp.Id, "b")

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
		for _, typ := range append([]string{"User", "ApiKey", "Organization", "OrganizationMembership", "Application", "ApplicationMembership", "SecurityEvent",
			"SigningKey", "RecoveryCode", "PasswordReset", "RateLimit", "KnownEmail", "Session"}, fleetTypes...) {
			if !slices.Contains(slices.Collect(maps.Values(foreign)), typ) {
				t.Fatalf("the arrangement left A without a %s", typ)
			}
		}
		for _, typ := range fleetTypes {
			if typ != "ProvisioningKey" && !slices.Contains(slices.Collect(maps.Values(own)), typ) {
				t.Fatalf("the arrangement left B without a %s", typ)
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
		for _, slug := range []string{app.Slug, strings.ToUpper(app.Slug), unshared.Slug} {
			_, err := Application(ctx, bc, slug)
			WantCode(t, err, "NOT_FOUND")
			_, err = FleetContents(ctx, bc, slug)
			WantCode(t, err, "NOT_FOUND")
		}
		// B's own fleet lists B's objects, and only B's.
		if got := fleetRead(t, Must(FleetContents(ctx, bc, bobApp.Slug))(t).Application); !sameApplication(t, s, got, bobApp.Id) {
			t.Errorf("B's fleet reads objects of another: %v", got)
		} else {
			for typ, id := range bFleet.ids {
				if typ != "ProvisioningKey" && got[id] != typ {
					t.Errorf("B's fleet does not read B's %s %s: %v", typ, id, got)
				}
			}
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
			{HasDevicesWith: []DeviceWhereInput{{Uuid: &aFleet.uuid}}},
			{HasDevicesWith: []DeviceWhereInput{{Id: ptr(aFleet.ids["Device"])}}},
			{HasDevicesWith: []DeviceWhereInput{{NameHasPrefix: ptr("a-")}}},
			{HasDevicesWith: []DeviceWhereInput{{Or: []DeviceWhereInput{{Uuid: &aFleet.uuid}, {Uuid: &uFleet.uuid}}}}},
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
		_, err = FleetContents(ctx, ec, unshared.Slug)
		WantCode(t, err, "NOT_FOUND")
		// erin reads the shared application's fleet, all of it and
		// nothing of another's, by node and through the application.
		read := fleetRead(t, Must(FleetContents(ctx, ec, app.Slug))(t).Application)
		if !sameApplication(t, s, read, app.Id) {
			t.Errorf("erin's view of the fleet strays out of it: %v", read)
		}
		for typ, id := range aFleet.ids {
			if typ == "ProvisioningKey" {
				continue // never shown
			}
			if read[id] != typ {
				t.Errorf("erin does not read the fleet's %s %s: %v", typ, id, read)
			}
			n, err := SweepNode(ctx, ec, id)
			if err != nil || n.Node == nil || *(*n.Node).GetTypename() != typ {
				t.Errorf("erin: node(%s %s): %+v, %v", typ, id, n, err)
			}
		}
		for typ, id := range uFleet.ids {
			_, err := SweepNode(ctx, ec, id)
			if Code(err) != "NOT_FOUND" {
				t.Errorf("erin: node(unshared %s %s) = %v, want NOT_FOUND", typ, id, err)
			}
		}
		// … and may change none of it: every fleet mutation, on what it
		// takes, is FORBIDDEN (the application exists for her); on any
		// other object of the fleet, FORBIDDEN or NOT_FOUND.
		fleetOf := maps.Clone(aFleet.ids)
		fleetOf["Application"] = app.Id
		for _, m := range fleetMutations(ec, "", aFleet.ids["Release"]) {
			for typ, id := range fleetOf {
				err := m.do(id)
				if code := Code(err); code != "FORBIDDEN" && (typ == m.takes || code != "NOT_FOUND") {
					t.Errorf("erin (OBSERVER): %s(%s %s) = %q (%v), want FORBIDDEN", m.name, typ, id, code, err)
				}
			}
		}
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
		wrongTypeFor := func(takes string) map[string]string {
			out := map[string]string{}
			for id, typ := range own {
				if typ != takes {
					out[id] = "B's own " + typ
				}
			}
			return out
		}
		// B tries every mutation with every id. A's members, to keep the
		// sweep quick, try the fleet mutations with the fleet side's ids
		// (applications and what is in them) and the others with the
		// others' (B's sweep crosses the two).
		fleetSide := map[string]bool{"Application": true}
		for _, typ := range fleetTypes {
			fleetSide[typ] = true
		}
		isFleetMutation := map[string]bool{}
		for _, m := range fleetMutations(nil, "-", "-") {
			isFleetMutation[m.name] = true
		}
		// B's provisioning key registers devices in B's application only.
		key := s.Client(bFleet.key)
		t.Run("mutations", func(t *testing.T) {
			for _, u := range sweepers {
				ownApp, release := "", "" // both redundant for A's members
				if u.who == bob {
					ownApp, release = bobApp.Id, aFleet.ids["Release"]
				}
				for _, m := range idMutations(s.Client(u.who.Token), u.who.Username, ownApp, release) {
					t.Run(u.who.Username+"/"+m.name, func(t *testing.T) {
						// Every attempt fails and writes nothing: safe side by side.
						t.Parallel()
						hidden, wrongType := u.hidden, map[string]string{}
						if u.who == bob {
							wrongType = wrongTypeFor(m.takes)
						} else {
							hidden = maps.Clone(hidden)
							maps.DeleteFunc(hidden, func(_, typ string) bool {
								return fleetSide[typ] != (isFleetMutation[m.name] || typ == "Application")
							})
						}
						m.sweep(t, u.who.Username, hidden, wrongType)
					})
				}
			}
			t.Run("provisioning key/registerDevice", func(t *testing.T) {
				t.Parallel()
				m := fleetMutations(key, "", "")[0]
				if m.name != "registerDevice" {
					t.Fatalf("%s is not registerDevice", m.name)
				}
				m.sweep(t, "B's provisioning key", hiddenFromBob, wrongTypeFor(m.takes))
			})
		})
		// Anything else with the key is FORBIDDEN, whatever it names: B's
		// own objects or A's.
		for _, op := range provisioningRefusals(key, bob, bobApp.Slug, own, bFleet, aFleet) {
			if err := op.do(); Code(err) != "FORBIDDEN" {
				t.Errorf("B's provisioning key: %s = %q (%v), want FORBIDDEN", op.name, Code(err), err)
			}
		}
		if after := dbState(t, s); after != before {
			t.Errorf("the attempts changed the database:\n%s", diffLines(before, after))
		}
		// What anyone may call without credentials, the key neither opens
		// nor changes: the same answer as without it. (After the snapshot:
		// a failed sign-in is recorded.)
		anon := s.Client("")
		for name, op := range map[string]func(graphql.Client) error{
			"signUp (taken)": func(c graphql.Client) error {
				_, err := SignUp(ctx, c, SignUpInput{Username: "bob", Email: "bob.again@example.com", Password: "a device signing up"})
				return err
			},
			"login (wrong password)": func(c graphql.Client) error {
				_, err := Login(ctx, c, LoginInput{UsernameOrEmail: "bob", Password: "not bob's password"})
				return err
			},
			"requestPasswordReset (unknown address)": func(c graphql.Client) error {
				_, err := RequestPasswordReset(ctx, c, "nobody@example.com")
				return err
			},
			"resetPassword (made-up token)": func(c graphql.Client) error {
				_, err := ResetPassword(ctx, c, ResetPasswordInput{Token: strings.Repeat("A", 43), NewPassword: "a device resetting"})
				return err
			},
		} {
			if withKey, without := fmt.Sprint(op(key)), fmt.Sprint(op(anon)); withKey != without {
				t.Errorf("B's provisioning key: %s says %q, without credentials %q", name, withKey, without)
			}
		}

		// Email addresses: a member's own, and dave's to alice, who added
		// him by it (carol and erin she added by username); nobody else's
		// to anyone else.
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
				want := username == viewer.Username || viewer == alice && username == "dave"
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
// username is self: adding oneself is the likely attack) would send it;
// with fleetMutations(c, ownApp, release).
func idMutations(c graphql.Client, self, ownApp, release string) []idMutation {
	return append([]idMutation{
		{"revokeApiKeys", "ApiKey", func(id string) error { _, err := RevokeApiKeys(ctx, c, []string{id}); return err }},
		{"revokeSession", "Session", func(id string) error { _, err := RevokeSession(ctx, c, id); return err }},
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
	}, fleetMutations(c, ownApp, release)...)
}

// fleetMutations lists every mutation of the fleet side (schema/
// fleet.graphql) with the id in each id argument in turn, registerDevice
// first. requestFleetAction names two: the application (with PURGE_ALL,
// and, when release is set, with PIN_RELEASE of it), and, when ownApp is an
// application the client may act on, the release it pins there.
func fleetMutations(c graphql.Client, ownApp, release string) []idMutation {
	ms := []idMutation{
		{"registerDevice", "Application", func(id string) error {
			_, err := RegisterDevice(ctx, c, RegisterDeviceInput{ApplicationId: id, Name: "pwned"})
			return err
		}},
		{"removeDevice", "Device", func(id string) error { _, err := RemoveDevice(ctx, c, id); return err }},
		{"updateDevice", "Device", func(id string) error {
			_, err := UpdateDevice(ctx, c, UpdateDeviceInput{Id: id, Name: ptr("pwned"), Note: ptr("pwned")})
			return err
		}},
		{"requestDeviceAction", "Device", func(id string) error {
			_, err := RequestDeviceAction(ctx, c, DeviceActionInput{DeviceId: id, Action: DeviceActionKindPurgeData})
			return err
		}},
		{"setDeviceTag", "Device", func(id string) error {
			_, err := SetDeviceTag(ctx, c, SetDeviceTagInput{DeviceId: id, Key: "site", Value: "pwned"})
			return err
		}},
		{"removeDeviceTag", "DeviceTag", func(id string) error { _, err := RemoveDeviceTag(ctx, c, id); return err }},
		{"setDeviceVariable", "Device", func(id string) error {
			_, err := SetDeviceVariable(ctx, c, SetDeviceVariableInput{DeviceId: id, Name: "MODE", Value: "pwned"})
			return err
		}},
		{"removeDeviceVariable", "DeviceVariable", func(id string) error { _, err := RemoveDeviceVariable(ctx, c, id); return err }},
		{"requestSshAccess", "Device", func(id string) error { _, err := RequestSshAccess(ctx, c, id); return err }},
		{"createRelease", "Application", func(id string) error {
			_, err := CreateRelease(ctx, c, CreateReleaseInput{ApplicationId: id, Commit: "badc0de"})
			return err
		}},
		{"setFleetVariable", "Application", func(id string) error {
			_, err := SetFleetVariable(ctx, c, SetFleetVariableInput{ApplicationId: id, Name: "REGION", Value: "pwned"})
			return err
		}},
		{"removeFleetVariable", "FleetVariable", func(id string) error { _, err := RemoveFleetVariable(ctx, c, id); return err }},
		{"setConfigVariable", "Application", func(id string) error {
			_, err := SetConfigVariable(ctx, c, SetConfigVariableInput{ApplicationId: id, Name: "FLEETGATE_LOG_LEVEL", Value: "pwned"})
			return err
		}},
		{"removeConfigVariable", "ConfigVariable", func(id string) error { _, err := RemoveConfigVariable(ctx, c, id); return err }},
		{"downloadImageConfig", "Application", func(id string) error { _, err := DownloadImageConfig(ctx, c, id); return err }},
		{"requestFleetAction", "Application", func(id string) error {
			_, err := RequestFleetAction(ctx, c, FleetActionInput{ApplicationId: id, Action: FleetActionKindPurgeAll})
			return err
		}},
	}
	if release != "" {
		ms = append(ms, idMutation{"requestFleetAction(PIN_RELEASE)", "Application", func(id string) error {
			_, err := RequestFleetAction(ctx, c, FleetActionInput{ApplicationId: id, Action: FleetActionKindPinRelease, ReleaseId: &release})
			return err
		}})
	}
	if ownApp != "" {
		ms = append(ms, idMutation{"requestFleetAction(releaseId)", "Release", func(id string) error {
			_, err := RequestFleetAction(ctx, c, FleetActionInput{ApplicationId: ownApp, Action: FleetActionKindPinRelease, ReleaseId: &id})
			return err
		}})
	}
	return ms
}

// fleetTypes are the types of fleetObjects.ids: every fleet-side type.
var fleetTypes = []string{"Device", "DeviceTag", "DeviceVariable", "FleetVariable", "ConfigVariable",
	"Release", "DeviceAction", "FleetAction", "ProvisioningKey"}

// fleetObjects is one object of every fleet-side type in an application.
type fleetObjects struct {
	app  string            // the application
	ids  map[string]string // type → id; the ProvisioningKey's from the database
	uuid string            // the device's
	key  string            // the provisioning key
}

// id is the object of type typ ("Application" too).
func (f fleetObjects) id(typ string) string {
	if typ == "Application" {
		return f.app
	}
	return f.ids[typ]
}

// arrangeFleet puts one of every fleet object in the application, through
// the API as c, and registers a device with the provisioning key
// (device names start with prefix + "-").
func arrangeFleet(t *testing.T, s *Server, c graphql.Client, appID, prefix string) fleetObjects {
	t.Helper()
	f := fleetObjects{app: appID, ids: map[string]string{}}
	dev := Must(RegisterDevice(ctx, c, RegisterDeviceInput{ApplicationId: appID, Name: prefix + "-device"}))(t).RegisterDevice
	f.ids["Device"], f.uuid = dev.Id, dev.Uuid
	Must(UpdateDevice(ctx, c, UpdateDeviceInput{Id: dev.Id, Note: ptr(prefix + "'s")}))(t)
	f.ids["DeviceTag"] = Must(SetDeviceTag(ctx, c, SetDeviceTagInput{DeviceId: dev.Id, Key: "site", Value: prefix}))(t).SetDeviceTag.Id
	f.ids["DeviceVariable"] = Must(SetDeviceVariable(ctx, c, SetDeviceVariableInput{DeviceId: dev.Id, Name: "MODE", Value: prefix}))(t).SetDeviceVariable.Id
	f.ids["FleetVariable"] = Must(SetFleetVariable(ctx, c, SetFleetVariableInput{ApplicationId: appID, Name: "REGION", Value: prefix}))(t).SetFleetVariable.Id
	f.ids["ConfigVariable"] = Must(SetConfigVariable(ctx, c, SetConfigVariableInput{ApplicationId: appID, Name: "FLEETGATE_LOG_LEVEL", Value: prefix}))(t).SetConfigVariable.Id
	rel := Must(CreateRelease(ctx, c, CreateReleaseInput{ApplicationId: appID, Commit: "c0ffee1", Note: ptr(prefix)}))(t).CreateRelease.Id
	f.ids["Release"] = rel
	f.ids["DeviceAction"] = Must(RequestDeviceAction(ctx, c, DeviceActionInput{DeviceId: dev.Id, Action: DeviceActionKindIdentify}))(t).RequestDeviceAction.Id
	f.ids["FleetAction"] = Must(RequestFleetAction(ctx, c, FleetActionInput{ApplicationId: appID, Action: FleetActionKindPinRelease, ReleaseId: &rel}))(t).RequestFleetAction.Id
	f.key = Must(DownloadImageConfig(ctx, c, appID))(t).DownloadImageConfig.ProvisioningKey
	f.ids["ProvisioningKey"] = strconv.Itoa(Must(s.DB.ProvisioningKey.Query().Where(provisioningkey.ApplicationID(dbID(t, appID))).OnlyID(ctx))(t))
	Must(RegisterDevice(ctx, s.Client(f.key), RegisterDeviceInput{ApplicationId: appID, Name: prefix + "-booted"}))(t)
	return f
}

// fleetRead is every object of a fleet as read through the application
// (id → type).
func fleetRead(t *testing.T, a *FleetContentsApplication) map[string]string {
	t.Helper()
	out := map[string]string{}
	if a == nil {
		t.Error("the application reads as null")
		return out
	}
	for _, e := range a.Devices.Edges {
		out[e.Node.Id] = "Device"
		if e.Node.Application.Id != a.Id {
			t.Errorf("device %s of application %s lists under %s", e.Node.Id, e.Node.Application.Id, a.Id)
		}
		for _, x := range e.Node.Tags {
			out[x.Id] = "DeviceTag"
		}
		for _, x := range e.Node.Variables {
			out[x.Id] = "DeviceVariable"
		}
		for _, x := range e.Node.PendingActions.Edges {
			out[x.Node.Id] = "DeviceAction"
		}
	}
	for _, e := range a.Releases.Edges {
		out[e.Node.Id] = "Release"
	}
	for _, x := range a.FleetVariables {
		out[x.Id] = "FleetVariable"
	}
	for _, x := range a.ConfigVariables {
		out[x.Id] = "ConfigVariable"
	}
	for _, e := range a.FleetActions.Edges {
		out[e.Node.Id] = "FleetAction"
		if r := e.Node.Release; r != nil {
			out[r.Id] = "Release"
		}
	}
	return out
}

// sameApplication reports whether every object read (id → type) is stored
// as that type in the application.
func sameApplication(t *testing.T, s *Server, read map[string]string, appID string) bool {
	t.Helper()
	for id, typ := range read {
		if fleetApplication(t, s, typ, dbID(t, id)) != dbID(t, appID) {
			return false
		}
	}
	return true
}

// fleetApplication is the application a fleet-side row belongs to (0 if
// there is no such row of that type).
func fleetApplication(t *testing.T, s *Server, typ string, n int) int {
	t.Helper()
	var app int
	var err error
	switch typ {
	case "Device":
		app, err = appOf(s.DB.Device.Get(ctx, n))(func(x *ent.Device) int { return x.ApplicationID })
	case "DeviceTag":
		app, err = appOf(s.DB.DeviceTag.Get(ctx, n))(func(x *ent.DeviceTag) int { return x.ApplicationID })
	case "DeviceVariable":
		app, err = appOf(s.DB.DeviceVariable.Get(ctx, n))(func(x *ent.DeviceVariable) int { return x.ApplicationID })
	case "FleetVariable":
		app, err = appOf(s.DB.FleetVariable.Get(ctx, n))(func(x *ent.FleetVariable) int { return x.ApplicationID })
	case "ConfigVariable":
		app, err = appOf(s.DB.ConfigVariable.Get(ctx, n))(func(x *ent.ConfigVariable) int { return x.ApplicationID })
	case "Release":
		app, err = appOf(s.DB.Release.Get(ctx, n))(func(x *ent.Release) int { return x.ApplicationID })
	case "DeviceAction":
		app, err = appOf(s.DB.DeviceAction.Get(ctx, n))(func(x *ent.DeviceAction) int { return x.ApplicationID })
	case "FleetAction":
		app, err = appOf(s.DB.FleetAction.Get(ctx, n))(func(x *ent.FleetAction) int { return x.ApplicationID })
	case "ProvisioningKey":
		app, err = appOf(s.DB.ProvisioningKey.Get(ctx, n))(func(x *ent.ProvisioningKey) int { return x.ApplicationID })
	default:
		t.Fatalf("%s is not a fleet-side type", typ)
	}
	if ent.IsNotFound(err) {
		return 0
	}
	return Must(app, err)(t)
}

// appOf applies application to a row once it has been read.
func appOf[T any](x T, err error) func(application func(T) int) (int, error) {
	return func(application func(T) int) (int, error) {
		if err != nil {
			return 0, err
		}
		return application(x), nil
	}
}

// refusal is a request that must be refused.
type refusal struct {
	name string
	do   func() error
}

// provisioningRefusals is every operation but registerDevice, sent with a
// provisioning key (of bob's application bobSlug): each fleet mutation on
// bob's own objects and on A's (a), and every other query and mutation
// that needs a caller, on bob's own objects (own: id → type).
func provisioningRefusals(key graphql.Client, bob Account, bobSlug string, own map[string]string, b, a fleetObjects) []refusal {
	var out []refusal
	for _, m := range fleetMutations(key, b.app, a.ids["Release"])[1:] {
		for _, f := range []struct {
			whose string
			objs  fleetObjects
		}{{"B's", b}, {"A's", a}} {
			id := f.objs.id(m.takes)
			out = append(out, refusal{fmt.Sprintf("%s(%s %s %s)", m.name, f.whose, m.takes, id), func() error { return m.do(id) }})
		}
	}
	ownOf := func(typ string) string {
		for _, id := range slices.Sorted(maps.Keys(own)) {
			if own[id] == typ {
				return id
			}
		}
		return madeUpIDs[0]
	}
	org, device := ownOf("Organization"), b.ids["Device"]
	errOf := func(_ any, err error) error { return err }
	return append(out, []refusal{
		{"me", func() error { return errOf(Me(ctx, key, nil, nil)) }},
		{"limited me", func() error { return errOf(LimitedMe(ctx, key)) }},
		{"me.securityEvents", func() error { return errOf(SecurityEvents(ctx, key)) }},
		{"two-factor status", func() error { return errOf(TwoFactorStatus(ctx, key)) }},
		{"apiKeys", func() error { return errOf(ApiKeys(ctx, key)) }},
		{"exportMyData", func() error { return errOf(ExportMyData(ctx, key)) }},
		{"applications", func() error { return errOf(Applications(ctx, key, nil, nil, nil)) }},
		{"applications with members", func() error { return errOf(ApplicationsWithMembers(ctx, key)) }},
		{"application(own slug)", func() error { return errOf(Application(ctx, key, bobSlug)) }},
		{"application(own slug) fleet", func() error { return errOf(FleetContents(ctx, key, bobSlug)) }},
		{"organization(own handle)", func() error { return errOf(Organization(ctx, key, bob.Username)) }},
		{"node(own device)", func() error { return errOf(Node(ctx, key, device)) }},
		{"node(own device) typename", func() error { return errOf(SweepNode(ctx, key, device)) }},
		{"nodes(own objects)", func() error { return errOf(SweepNodes(ctx, key, slices.Collect(maps.Values(b.ids)))) }},
		{"node(B) email", func() error { return errOf(SweepEmail(ctx, key, bob.ID)) }},
		{"createApiKey", func() error { return errOf(CreateApiKey(ctx, key, CreateApiKeyInput{Name: "device"})) }},
		{"revokeApiKeys", func() error { return errOf(RevokeApiKeys(ctx, key, []string{ownOf("ApiKey")})) }},
		{"refreshToken", func() error { return errOf(RefreshToken(ctx, key)) }},
		{"signOutEverywhere", func() error { return errOf(SignOutEverywhere(ctx, key)) }},
		{"createOrganization", func() error {
			return errOf(CreateOrganization(ctx, key, CreateOrganizationInput{Name: "Devices", Handle: "devices"}))
		}},
		{"addOrganizationMember", func() error {
			return errOf(AddOrganizationMember(ctx, key, AddOrganizationMemberInput{OrganizationId: org, UsernameOrEmail: "alice", Role: OrganizationRoleAdministrator}))
		}},
		{"updateOrganizationMember", func() error {
			return errOf(UpdateOrganizationMember(ctx, key, UpdateOrganizationMemberInput{Id: ownOf("OrganizationMembership"), Role: OrganizationRoleMember}))
		}},
		{"removeOrganizationMember", func() error { return errOf(RemoveOrganizationMember(ctx, key, ownOf("OrganizationMembership"))) }},
		{"createApplication", func() error {
			return errOf(CreateApplication(ctx, key, CreateApplicationInput{OrganizationId: org, Name: "Devices", Type: ApplicationTypeStarter}))
		}},
		{"deleteApplication", func() error { return errOf(DeleteApplication(ctx, key, b.app)) }},
		{"addApplicationMember", func() error {
			return errOf(AddApplicationMember(ctx, key, AddApplicationMemberInput{ApplicationId: b.app, UsernameOrEmail: "alice", Role: ApplicationRoleDeveloper}))
		}},
		{"updateApplicationMember", func() error {
			return errOf(UpdateApplicationMember(ctx, key, UpdateApplicationMemberInput{Id: ownOf("ApplicationMembership"), Role: ApplicationRoleDeveloper}))
		}},
		{"removeApplicationMember", func() error { return errOf(RemoveApplicationMember(ctx, key, ownOf("ApplicationMembership"))) }},
		{"leaveApplication", func() error { return errOf(LeaveApplication(ctx, key, b.app)) }},
		{"beginTwoFactorSetup", func() error { return errOf(BeginTwoFactorSetup(ctx, key)) }},
		{"confirmTwoFactorSetup", func() error { return errOf(ConfirmTwoFactorSetup(ctx, key, "123456")) }},
		// A key is no session owing a second factor, nor any session: refused
		// like the rest, not answered "this session needs no second factor".
		{"verifyTwoFactor", func() error { return errOf(VerifyTwoFactor(ctx, key, VerifyTwoFactorInput{Code: ptr("123456")})) }},
		{"disableTwoFactor", func() error { return errOf(DisableTwoFactor(ctx, key, Password)) }},
		{"regenerateRecoveryCodes", func() error { return errOf(RegenerateRecoveryCodes(ctx, key, Password)) }},
		{"changePassword", func() error {
			return errOf(ChangePassword(ctx, key, ChangePasswordInput{CurrentPassword: Password, NewPassword: "a device took over"}))
		}},
		{"setPassword", func() error { return errOf(SetPassword(ctx, key, SetPasswordInput{NewPassword: "a device took over"})) }},
		{"deleteAccount", func() error { return errOf(DeleteAccount(ctx, key, Password)) }},
	}...)
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
// resolve to (SigningKey, RecoveryCode, PasswordReset, RateLimit and
// KnownEmail are stored but are not Nodes).
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
	add("Device")(s.DB.Device.Query().IDs(ctx))
	add("DeviceTag")(s.DB.DeviceTag.Query().IDs(ctx))
	add("DeviceVariable")(s.DB.DeviceVariable.Query().IDs(ctx))
	add("FleetVariable")(s.DB.FleetVariable.Query().IDs(ctx))
	add("ConfigVariable")(s.DB.ConfigVariable.Query().IDs(ctx))
	add("Release")(s.DB.Release.Query().IDs(ctx))
	add("DeviceAction")(s.DB.DeviceAction.Query().IDs(ctx))
	add("FleetAction")(s.DB.FleetAction.Query().IDs(ctx))
	add("ProvisioningKey")(s.DB.ProvisioningKey.Query().IDs(ctx))
	add("RecoveryCode")(s.DB.RecoveryCode.Query().IDs(ctx))
	add("PasswordReset")(s.DB.PasswordReset.Query().IDs(ctx))
	add("RateLimit")(s.DB.RateLimit.Query().IDs(ctx))
	add("KnownEmail")(s.DB.KnownEmail.Query().IDs(ctx))
	add("Session")(s.DB.Session.Query().IDs(ctx))
	return out
}

// ownedBy reports whether the row belongs to the user: the user, their keys
// and events, organizations they belong to and memberships there,
// applications they have a role on and memberships and fleets there.
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
	case "Session":
		return Must(s.DB.Session.Get(ctx, n))(t).UserID == userID
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
	case "Device", "DeviceTag", "DeviceVariable", "FleetVariable", "ConfigVariable", "Release", "DeviceAction", "FleetAction", "ProvisioningKey":
		return ownedBy(t, s, "Application", strconv.Itoa(fleetApplication(t, s, typ, n)), userID)
	}
	// Not Nodes: nobody reaches them by id.
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
// lastUsedAt, which use updates, nor the rate limits, which failures
// count), in id order.
func dbState(t *testing.T, s *Server) string {
	t.Helper()
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	for _, u := range Must(s.DB.User.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("user %d %s %s %s valid after %d totp %x pending %x step %d", u.ID, u.Username, u.Email, u.PasswordHash,
			u.SessionsValidAfter.UnixMilli(), u.TotpSecret, u.TotpPendingSecret, u.TotpLastStep)
	}
	for _, c := range Must(s.DB.RecoveryCode.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("recovery code %d user %d %x used %v", c.ID, c.UserID, c.Hash, c.UsedAt)
	}
	for _, r := range Must(s.DB.PasswordReset.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("password reset %d user %d %x until %d", r.ID, r.UserID, r.Hash, r.ExpiresAt.UnixMilli())
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
	for _, k := range Must(s.DB.KnownEmail.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("known email %d user %d known by %d", k.ID, k.UserID, k.KnownByID)
	}
	for _, x := range Must(s.DB.Session.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("session %d user %d %s", x.ID, x.UserID, x.SignInMethod)
	}
	for _, e := range Must(s.DB.SecurityEvent.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("event %d user %d %s %s", e.ID, e.UserID, e.Kind, e.Detail)
	}
	for _, d := range Must(s.DB.Device.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("device %d app %d %s %q %q", d.ID, d.ApplicationID, d.UUID, d.Name, d.Note)
	}
	for _, x := range Must(s.DB.DeviceTag.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("device tag %d app %d device %d %q=%q", x.ID, x.ApplicationID, x.DeviceID, x.Key, x.Value)
	}
	for _, x := range Must(s.DB.DeviceVariable.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("device variable %d app %d device %d %s=%q", x.ID, x.ApplicationID, x.DeviceID, x.Name, x.Value)
	}
	for _, x := range Must(s.DB.FleetVariable.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("fleet variable %d app %d %s=%q", x.ID, x.ApplicationID, x.Name, x.Value)
	}
	for _, x := range Must(s.DB.ConfigVariable.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("config variable %d app %d %s=%q", x.ID, x.ApplicationID, x.Name, x.Value)
	}
	for _, r := range Must(s.DB.Release.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("release %d app %d %s %q by %s", r.ID, r.ApplicationID, r.Commit, r.Note, walkRef(r.RequestedByID))
	}
	for _, a := range Must(s.DB.DeviceAction.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("device action %d app %d device %d %s by %s", a.ID, a.ApplicationID, a.DeviceID, a.Action, walkRef(a.RequestedByID))
	}
	for _, a := range Must(s.DB.FleetAction.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("fleet action %d app %d %s release %s by %s", a.ID, a.ApplicationID, a.Action, walkRef(a.ReleaseID), walkRef(a.RequestedByID))
	}
	for _, k := range Must(s.DB.ProvisioningKey.Query().Order(ent.Asc("id")).All(ctx))(t) {
		line("provisioning key %d app %d %x by %s", k.ID, k.ApplicationID, k.Hash, walkRef(k.RequestedByID))
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
