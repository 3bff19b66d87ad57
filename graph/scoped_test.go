package graph_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
)

// scopedKey creates, with me's session, an API key of scope and returns it.
func scopedKey(t *testing.T, s *Server, me Account, scope *access.Scope) string {
	t.Helper()
	return Must(CreateScopedApiKey(ctx, s.Client(me.Token), CreateApiKeyInput{Name: "scoped", Scope: scopeInput(scope)}))(t).CreateApiKey.Key
}

// scopeInput is scope as createApiKey takes it.
func scopeInput(scope *access.Scope) *ApiKeyScopeInput {
	if scope == nil {
		return nil
	}
	in := &ApiKeyScopeInput{}
	for _, id := range scope.ApplicationIDs {
		in.ApplicationIds = append(in.ApplicationIds, strconv.Itoa(id))
	}
	if scope.Permissions != nil {
		in.Permissions = []Permission{}
		for _, p := range scope.Permissions {
			in.Permissions = append(in.Permissions, Permission(p))
		}
	}
	if scope.ReadOnly {
		in.ReadOnly = ptr(true)
	}
	return in
}

var otherApps atomic.Int32

// otherApplication creates an application in me's personal organization
// and returns its id: a second application of the same owner.
func otherApplication(t *testing.T, s *Server, me Account) string {
	t.Helper()
	c := s.Client(me.Token)
	org := Must(Organization(ctx, c, me.Username))(t).Organization.Id
	return Must(CreateApplication(ctx, c, CreateApplicationInput{
		OrganizationId: org, Name: fmt.Sprintf("Other %d", otherApps.Add(1)), Type: ApplicationTypeEssentials,
	}))(t).CreateApplication.Id
}

// scopeFor returns a walker's scope that does not depend on the fleet.
func scopeFor(scope access.Scope) func(*testing.T, *Server, Fleet, Account) *access.Scope {
	return func(*testing.T, *Server, Fleet, Account) *access.Scope { return &scope }
}

// TestMatrixWalkScoped walks every @can field again with scoped API keys
// (README "Scoped API keys"): what a key may do is what both its owner's
// role and its scope allow; an application outside the scope is NOT_FOUND.
// Read-only keys of every subject; a key of each single permission, of the
// ADMINISTRATOR, who has them all, so that the scope alone decides; a PUSH
// key of the OPERATOR, whose role lacks PUSH (the scope never grants); and
// a DEVELOPER's keys for one of their two applications, the fleet or the
// other.
func TestMatrixWalkScoped(t *testing.T) {
	var walkers []walker
	for _, subject := range walkSubjects {
		walkers = append(walkers, walker{name: string(subject) + " read-only", subject: subject, scope: scopeFor(access.Scope{ReadOnly: true})})
	}
	for _, p := range access.Permissions() {
		walkers = append(walkers, walker{name: "ADMINISTRATOR " + string(p), subject: access.Administrator,
			scope: func(t *testing.T, _ *Server, f Fleet, _ Account) *access.Scope {
				return &access.Scope{ApplicationIDs: []int{dbID(t, f.AppID)}, Permissions: []access.Permission{p}}
			}})
	}
	walkers = append(walkers,
		walker{name: "OPERATOR PUSH", subject: access.Operator, scope: scopeFor(access.Scope{Permissions: []access.Permission{access.Push}})},
		walker{name: "DEVELOPER the fleet of two", subject: access.Developer,
			scope: func(t *testing.T, s *Server, f Fleet, me Account) *access.Scope {
				otherApplication(t, s, me)
				return &access.Scope{ApplicationIDs: []int{dbID(t, f.AppID)}}
			}},
		walker{name: "DEVELOPER the other of two", subject: access.Developer,
			scope: func(t *testing.T, s *Server, _ Fleet, me Account) *access.Scope {
				return &access.Scope{ApplicationIDs: []int{dbID(t, otherApplication(t, s, me))}}
			}},
	)
	walkMatrix(t, walkers)
}

// accountOperations are every root field, and every field of User but id
// and username, that reads or changes the account rather than
// applications, as a request a scoped key might send (README "Scoped API
// keys"). apiKey is the id of one of the key owner's keys, org one of their
// organizations, app an application in it.
func accountOperations(apiKey, org, app, orgMember string) map[string]string {
	return map[string]string{
		"Query.apiKeys":                     `{ apiKeys { id } }`,
		"Query.exportMyData":                `{ exportMyData }`,
		"Query.organization":                `{ organization(handle: "x") { id } }`,
		"User.email":                        `{ me { email } }`,
		"User.emailVerified":                `{ me { emailVerified } }`,
		"User.hasPassword":                  `{ me { hasPassword } }`,
		"User.createdAt":                    `{ me { createdAt } }`,
		"User.securityEvents":               `{ me { securityEvents { totalCount } } }`,
		"User.organizations":                `{ me { organizations { totalCount } } }`,
		"User.identities":                   `{ me { identities { id } } }`,
		"User.twoFactorEnabled":             `{ me { twoFactorEnabled } }`,
		"User.recoveryCodesRemaining":       `{ me { recoveryCodesRemaining } }`,
		"User.sessions":                     `{ me { sessions { totalCount } } }`,
		"Mutation.revokeSession":            `mutation { revokeSession(id: "1") }`,
		"Mutation.refreshToken":             `mutation { refreshToken { token } }`,
		"Mutation.resendVerificationEmail":  `mutation { resendVerificationEmail }`,
		"Mutation.changeEmail":              `mutation { changeEmail(input: {newEmail: "new@example.com", password: "` + Password + `"}) }`,
		"Mutation.signOutEverywhere":        `mutation { signOutEverywhere }`,
		"Mutation.createApiKey":             `mutation { createApiKey(input: {name: "more"}) { key } }`,
		"Mutation.rotateApiKey":             `mutation { rotateApiKey(id: "` + apiKey + `") { key } }`,
		"Mutation.revokeApiKeys":            `mutation { revokeApiKeys(ids: ["` + apiKey + `"]) }`,
		"Mutation.changePassword":           `mutation { changePassword(input: {currentPassword: "` + Password + `", newPassword: "a whole new password"}) { token } }`,
		"Mutation.setPassword":              `mutation { setPassword(input: {newPassword: "a whole new password"}) { id } }`,
		"Mutation.deleteAccount":            `mutation { deleteAccount(password: "` + Password + `") }`,
		"Mutation.linkIdentity":             `mutation { linkIdentity(provider: "github") }`,
		"Mutation.unlinkIdentity":           `mutation { unlinkIdentity(id: "1") }`,
		"Mutation.beginTwoFactorSetup":      `mutation { beginTwoFactorSetup { secret } }`,
		"Mutation.confirmTwoFactorSetup":    `mutation { confirmTwoFactorSetup(code: "123456") { recoveryCodes } }`,
		"Mutation.disableTwoFactor":         `mutation { disableTwoFactor(password: "` + Password + `") { id } }`,
		"Mutation.regenerateRecoveryCodes":  `mutation { regenerateRecoveryCodes(password: "` + Password + `") { recoveryCodes } }`,
		"Mutation.createOrganization":       `mutation { createOrganization(input: {name: "Mine", handle: "scoped_org"}) { id } }`,
		"Mutation.addOrganizationMember":    `mutation { addOrganizationMember(input: {organizationId: "` + org + `", usernameOrEmail: "nobody", role: MEMBER}) { id } }`,
		"Mutation.updateOrganizationMember": `mutation { updateOrganizationMember(input: {id: "` + orgMember + `", role: MEMBER}) { id } }`,
		"Mutation.removeOrganizationMember": `mutation { removeOrganizationMember(id: "` + orgMember + `") }`,
		"Mutation.createApplication":        `mutation { createApplication(input: {organizationId: "` + org + `", name: "More", type: STARTER}) { id } }`,
		"Mutation.leaveApplication":         `mutation { leaveApplication(applicationId: "` + app + `") }`,
	}
}

// notAccountFields are the root and User fields a scoped key may use: those
// that need no credential, and those that act on applications (each @can
// field besides, walked by TestMatrixWalkScoped).
var notAccountFields = []string{
	"Query.authProviders", "Mutation.signUp", "Mutation.login", "Mutation.verifyTwoFactor",
	"Mutation.requestPasswordReset", "Mutation.resetPassword", "Mutation.exchangeLoginCode", "Mutation.verifyEmail",
	"Query.me", "User.id", "User.username", "Query.node", "Query.nodes", "Query.applications", "Query.application",
}

// TestScopedKeyAccountRefused: a scoped key is refused every field of the
// account, FORBIDDEN with words that say the key is scoped, and changes
// nothing; the same fields work with an unscoped key or a session as
// before (their own tests). Every root and User field of the SDL is either
// such an account field, a @can field, or listed as neither, so a new
// field must be placed.
func TestScopedKeyAccountRefused(t *testing.T) {
	guarded := guardedFields(t)
	account := accountOperations("", "", "", "")
	schema := loadSDL(t)
	for _, typ := range []string{"Query", "Mutation", "User"} {
		for _, f := range schema.Types[typ].Fields {
			name := typ + "." + f.Name
			_, isAccount := account[name]
			_, isGuarded := guarded[name]
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if !isAccount && !isGuarded && !slices.Contains(notAccountFields, name) {
				t.Errorf("%s is neither an account field (accountOperations), a @can field, nor in notAccountFields: decide what a scoped API key may do with it", name)
			}
		}
	}
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "acct")
		admin := f.Users[access.Administrator]
		c := s.Client(admin.Token)
		own := Must(CreateScopedApiKey(ctx, c, CreateApiKeyInput{Name: "own"}))(t).CreateApiKey.ApiKey.Id
		orgMember := Must(AddOrganizationMember(ctx, c, AddOrganizationMemberInput{
			OrganizationId: f.OrgID, UsernameOrEmail: f.Users[access.Observer].Username, Role: OrganizationRoleMember,
		}))(t).AddOrganizationMember.Id
		key := scopedKey(t, s, admin, &access.Scope{ApplicationIDs: []int{dbID(t, f.AppID)}})
		before := dbState(t, s)
		ops := accountOperations(own, f.OrgID, f.AppID, orgMember)
		for _, name := range slices.Sorted(maps.Keys(ops)) {
			r := s.Do(t, key, ops[name], nil)
			if len(r.Errors) != 1 || r.Errors[0].Code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "scoped") {
				t.Errorf("%s with a scoped key: %+v, want FORBIDDEN saying the key is scoped", name, r.Errors)
			}
		}
		if after := dbState(t, s); after != before {
			t.Errorf("the refused account operations changed the database:\n%s", diffLines(before, after))
		}
		// What is not the account still works: who the key's owner is.
		if me := Must(MyUsername(ctx, s.Client(key)))(t).Me; me.Username != admin.Username || me.Id != admin.ID {
			t.Errorf("me with a scoped key: %+v", me)
		}
	})
}

// TestScopedKeyCreation: a scope only narrows. Listing an application the
// owner has no role on, or a permission their role there lacks, is refused
// (BAD_USER_INPUT on scope) and creates nothing; the scope is kept as
// given, shown by apiKeys, named in the security event and the notice mail.
func TestScopedKeyCreation(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "mk")
		dev := f.Users[access.Developer]
		c := s.Client(dev.Token)
		stranger := s.SignUp(t, "mk_stranger")
		foreign := otherApplication(t, s, stranger)
		app := dbID(t, f.AppID)
		for name, scope := range map[string]access.Scope{
			"another's application":   {ApplicationIDs: []int{dbID(t, foreign)}},
			"a made-up application":   {ApplicationIDs: []int{app + 999_999}},
			"a permission not held":   {ApplicationIDs: []int{app}, Permissions: []access.Permission{access.AddMembers}},
			"one of two not held":     {ApplicationIDs: []int{app}, Permissions: []access.Permission{access.Push, access.DeleteApplication}},
			"no permissions":          {Permissions: []access.Permission{}},
			"read-only, with some":    {ReadOnly: true, Permissions: []access.Permission{access.Push}},
			"fleet and another's app": {ApplicationIDs: []int{app, dbID(t, foreign)}},
		} {
			_, err := CreateScopedApiKey(ctx, c, CreateApiKeyInput{Name: name, Scope: scopeInput(&scope)})
			if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != "scope" {
				t.Errorf("%s: %v, want BAD_USER_INPUT on scope", name, err)
			}
		}
		if keys := Must(ScopedApiKeys(ctx, c))(t).ApiKeys; len(keys) != 0 {
			t.Fatalf("refused scopes created %d keys", len(keys))
		}

		scope := &access.Scope{ApplicationIDs: []int{app, app}, Permissions: []access.Permission{access.Push}}
		created := Must(CreateScopedApiKey(ctx, c, CreateApiKeyInput{Name: "ci", Scope: scopeInput(scope)}))(t).CreateApiKey.ApiKey
		want := &ScopedApiKeyFieldsScopeApiKeyScope{ApplicationIds: []string{f.AppID}, Permissions: []Permission{PermissionPush}}
		if fmt.Sprint(created.Scope) != fmt.Sprint(want) {
			t.Errorf("created scope %+v, want %+v", created.Scope, want)
		}
		Must(CreateScopedApiKey(ctx, c, CreateApiKeyInput{Name: "full"}))(t)
		Must(CreateScopedApiKey(ctx, c, CreateApiKeyInput{Name: "reader", Scope: scopeInput(&access.Scope{ReadOnly: true})}))(t)
		got := map[string]string{}
		for _, k := range Must(ScopedApiKeys(ctx, c))(t).ApiKeys {
			got[k.Name] = fmt.Sprint(k.Scope)
		}
		wantListed := map[string]string{
			"ci":     fmt.Sprint(want),
			"full":   fmt.Sprint((*ScopedApiKeyFieldsScopeApiKeyScope)(nil)),
			"reader": fmt.Sprint(&ScopedApiKeyFieldsScopeApiKeyScope{ApplicationIds: []string{}, ReadOnly: true}),
		}
		if !maps.Equal(got, wantListed) {
			t.Errorf("apiKeys lists scopes %v, want %v", got, wantListed)
		}
		events := Must(SecurityEvents(ctx, c))(t).Me.SecurityEvents.Edges
		var details []string
		for _, e := range events {
			if e.Node.Kind == SecurityEventKindApiKeyCreated {
				details = append(details, e.Node.Detail)
			}
		}
		slices.Sort(details)
		wantDetails := []string{"ci (scoped: applications " + strconv.Itoa(app) + "; permissions PUSH)", "full",
			"reader (scoped: every application; read-only)"}
		if !slices.Equal(details, wantDetails) {
			t.Errorf("security events %q, want %q", details, wantDetails)
		}
		var export struct {
			APIKeys []struct {
				Name  string
				Scope *access.Scope
			}
		}
		if err := json.Unmarshal([]byte(Must(ExportMyData(ctx, c))(t).ExportMyData), &export); err != nil {
			t.Fatal(err)
		}
		exported := map[string]string{}
		for _, k := range export.APIKeys {
			exported[k.Name] = k.Scope.String()
		}
		wantExported := map[string]string{"ci": "scoped: applications " + strconv.Itoa(app) + "; permissions PUSH", "full": "unscoped",
			"reader": "scoped: every application; read-only"}
		if !maps.Equal(exported, wantExported) {
			t.Errorf("exportMyData shows scopes %v, want %v", exported, wantExported)
		}
	})
}

// TestScopedKeyNotice: the mail telling the owner of a new key names its scope.
func TestScopedKeyNotice(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s, box := s.WithMailbox(t)
		u := s.SignUp(t, "notice")
		if m := box.Next(); !strings.Contains(m.Subject, "Verify") {
			t.Fatalf("expected the sign-up's verification mail first, got %+v", m)
		}
		scopedKey(t, s, u, &access.Scope{ReadOnly: true})
		m := box.Next()
		if !strings.Contains(m.Subject, "API key") || !strings.Contains(m.Text, "scoped: every application; read-only") {
			t.Errorf("the notice does not name the scope: %+v", m)
		}
	})
}

// TestScopedKeyFollowsOwnerRole: the owner's role is read live. A PUSH key
// of a DEVELOPER pushes; demoted to OPERATOR, the key cannot; removed, the
// application vanishes from the key's view, NOT_FOUND everywhere; a new
// role brings it back, as far as the scope allows.
func TestScopedKeyFollowsOwnerRole(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "dm")
		dev := f.Users[access.Developer]
		admin := s.Client(f.Users[access.Administrator].Token)
		key := s.Client(scopedKey(t, s, dev, &access.Scope{ApplicationIDs: []int{dbID(t, f.AppID)}, Permissions: []access.Permission{access.Push}}))
		push := func(commit string) error {
			_, err := CreateRelease(ctx, key, CreateReleaseInput{ApplicationId: f.AppID, Commit: commit})
			return err
		}
		if err := push("aaaaaaa"); err != nil {
			t.Fatalf("a DEVELOPER's PUSH key cannot push: %v", err)
		}
		_, err := SetFleetVariable(ctx, key, SetFleetVariableInput{ApplicationId: f.AppID, Name: "A", Value: "1"})
		WantCode(t, err, "FORBIDDEN")
		perms := Must(ScopedApplication(ctx, key, f.Slug))(t).Application.MyPermissions
		if !slices.Equal(perms, []Permission{PermissionPush}) {
			t.Errorf("the key's myPermissions: %v", perms)
		}

		Must(UpdateApplicationMember(ctx, admin, UpdateApplicationMemberInput{Id: f.Memberships[access.Developer], Role: ApplicationRoleOperator}))(t)
		WantCode(t, push("bbbbbbb"), "FORBIDDEN")
		if perms := Must(ScopedApplication(ctx, key, f.Slug))(t).Application.MyPermissions; len(perms) != 0 {
			t.Errorf("demoted, the key's myPermissions: %v", perms)
		}

		Must(RemoveApplicationMember(ctx, admin, f.Memberships[access.Developer]))(t)
		WantCode(t, push("ccccccc"), "NOT_FOUND")
		_, err = ScopedApplication(ctx, key, f.Slug)
		WantCode(t, err, "NOT_FOUND")
		_, err = SweepNode(ctx, key, f.AppID)
		WantCode(t, err, "NOT_FOUND")
		if n := Must(Applications(ctx, key, nil, nil, nil))(t).Applications.TotalCount; n != 0 {
			t.Errorf("removed, the key lists %d applications", n)
		}

		Must(AddApplicationMember(ctx, admin, AddApplicationMemberInput{ApplicationId: f.AppID, UsernameOrEmail: dev.Username, Role: ApplicationRoleDeveloper}))(t)
		if err := push("ddddddd"); err != nil {
			t.Errorf("a DEVELOPER again, the key cannot push: %v", err)
		}
		n := Must(s.DB.Release.Query().Count(ctx))(t)
		if n != 2 {
			t.Errorf("%d releases, want the 2 allowed", n)
		}
	})
}

// TestRotateApiKey: rotation gives a key a new secret and keeps the rest;
// the old secret works through the grace and not a moment after (a frozen
// clock), on its own or with no grace at all; a second rotation ends the
// first's old secret at once. Only the owner's session rotates, and only
// within 0..7 days of grace.
func TestRotateApiKey(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s, clock := withClock(t, s, time.Now())
		f := s.NewFleet(t, "rot")
		dev := f.Users[access.Developer]
		c := s.Client(dev.Token)
		scope := &access.Scope{ApplicationIDs: []int{dbID(t, f.AppID)}, Permissions: []access.Permission{access.Push}}
		created := Must(CreateScopedApiKey(ctx, c, CreateApiKeyInput{Name: "ci", Description: ptr("pushes"), Scope: scopeInput(scope)}))(t).CreateApiKey
		var commits atomic.Int32
		works := func(key string) bool {
			commit := fmt.Sprintf("%07x", commits.Add(1))
			_, err := CreateRelease(ctx, s.Client(key), CreateReleaseInput{ApplicationId: f.AppID, Commit: commit})
			if err != nil && Code(err) != "UNAUTHENTICATED" {
				t.Fatalf("the key failed otherwise: %v", err)
			}
			return err == nil
		}

		for _, grace := range []int{-1, 604801} {
			_, err := RotateApiKey(ctx, c, created.ApiKey.Id, &grace)
			if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != "graceSeconds" {
				t.Errorf("graceSeconds %d: %v", grace, err)
			}
		}
		for name, client := range map[string]string{"the key itself": created.Key, "another user": f.Users[access.Administrator].Token} {
			_, err := RotateApiKey(ctx, s.Client(client), created.ApiKey.Id, nil)
			if want := map[string]string{"the key itself": "FORBIDDEN", "another user": "NOT_FOUND"}[name]; Code(err) != want {
				t.Errorf("rotation by %s: %v, want %s", name, err, want)
			}
		}
		if !works(created.Key) {
			t.Fatal("refused rotations ended the key")
		}

		hour := 3600
		first := Must(RotateApiKey(ctx, c, created.ApiKey.Id, &hour))(t).RotateApiKey
		k := first.ApiKey
		if k.Id != created.ApiKey.Id || k.Name != "ci" || k.Description != "pushes" || fmt.Sprint(k.Scope) != fmt.Sprint(created.ApiKey.Scope) ||
			first.Key == created.Key || k.Prefix == created.ApiKey.Prefix || !strings.HasPrefix(first.Key, k.Prefix) {
			t.Errorf("rotated %+v from %+v", first, created)
		}
		clock.Advance(time.Hour - time.Second)
		if !works(created.Key) || !works(first.Key) {
			t.Error("within the grace, a secret fails")
		}
		clock.Advance(time.Second)
		if works(created.Key) {
			t.Error("the old secret works after its grace")
		}
		if !works(first.Key) {
			t.Error("the new secret fails")
		}

		// Without grace, and a rotation within another's grace, by a
		// session signed in again (rotating needs a recent sign-in).
		c = s.Client(Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: dev.Username, Password: Password}))(t).Login.Token)
		later := Must(RotateApiKey(ctx, c, k.Id, &hour))(t).RotateApiKey.Key
		last := Must(RotateApiKey(ctx, c, k.Id, nil))(t).RotateApiKey.Key
		if works(first.Key) || works(later) || !works(last) {
			t.Error("a rotation without grace left an old secret working, or the new one failing")
		}

		var rotations []string
		for _, e := range Must(SecurityEvents(ctx, c))(t).Me.SecurityEvents.Edges {
			if e.Node.Kind == SecurityEventKindApiKeyRotated {
				rotations = append(rotations, e.Node.Detail)
			}
		}
		found := false
		for _, r := range rotations {
			if !strings.HasPrefix(r, "ci (scoped: applications "+strconv.Itoa(dbID(t, f.AppID))+"; permissions PUSH); ") {
				t.Errorf("a rotation event does not name the key and its scope: %q", r)
			}
			found = found || strings.HasSuffix(r, "the old secret stopped working at once")
		}
		if len(rotations) != 3 {
			t.Errorf("rotation events: %q", rotations)
		}
		if !found {
			t.Errorf("no rotation event says the old secret stopped at once: %q", rotations)
		}
	})
}

// TestIDORSweepScopedKey: the IDOR sweep with a scoped key of the owner of
// two applications, scoped to one (In). Every id of the other (Out), of
// its members and fleet, of the owner's account (keys, events,
// organization memberships) and of anyone else is NOT_FOUND by node, in
// lists and filters, and in every mutation that takes an id, word for word
// as an id that does not exist; the account's mutations are FORBIDDEN
// whatever they name; nothing changes.
func TestIDORSweepScopedKey(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice, carol, dave := s.SignUp(t, "alice"), s.SignUp(t, "carol"), s.SignUp(t, "dave")
		ac := s.Client(alice.Token)
		org := Must(Organization(ctx, ac, "alice"))(t).Organization.Id
		newApp := func(name string) CreateApplicationCreateApplication {
			return Must(CreateApplication(ctx, ac, CreateApplicationInput{OrganizationId: org, Name: name, Type: ApplicationTypeEssentials}))(t).CreateApplication
		}
		in, out := newApp("In"), newApp("Out")
		Must(AddApplicationMember(ctx, ac, AddApplicationMemberInput{ApplicationId: in.Id, UsernameOrEmail: "carol", Role: ApplicationRoleDeveloper}))(t)
		Must(AddApplicationMember(ctx, ac, AddApplicationMemberInput{ApplicationId: out.Id, UsernameOrEmail: "dave", Role: ApplicationRoleDeveloper}))(t)
		Must(AddOrganizationMember(ctx, ac, AddOrganizationMemberInput{OrganizationId: org, UsernameOrEmail: "carol", Role: OrganizationRoleMember}))(t)
		inFleet := arrangeFleet(t, s, ac, in.Id, "in")
		outFleet := arrangeFleet(t, s, ac, out.Id, "out")
		Must(CreateApiKey(ctx, ac, CreateApiKeyInput{Name: "alice's full key"}))(t)
		bob := s.SignUp(t, "bob")
		arrangeFleet(t, s, s.Client(bob.Token), otherApplication(t, s, bob), "b")
		key := s.Client(scopedKey(t, s, alice, &access.Scope{ApplicationIDs: []int{dbID(t, in.Id)}}))

		inID := dbID(t, in.Id)
		all := allIDs(t, s)
		visible, hidden := map[string]string{}, map[string]string{}
		for id, typ := range all {
			n := dbID(t, id)
			sees := false
			switch typ {
			case "User":
				sees = id == alice.ID || id == carol.ID // carol shares In
			case "Organization":
				sees = id == org // In's owner
			case "Application":
				sees = n == inID
			case "ApplicationMembership":
				sees = Must(s.DB.ApplicationMembership.Get(ctx, n))(t).ApplicationID == inID
			default:
				sees = slices.Contains(fleetTypes, typ) && fleetApplication(t, s, typ, n) == inID
			}
			if sees {
				visible[id] = typ
			} else {
				hidden[id] = typ
			}
		}
		for _, typ := range []string{"User", "ApiKey", "SecurityEvent", "OrganizationMembership", "Application", "ApplicationMembership", "Device", "Release"} {
			if !slices.Contains(slices.Collect(maps.Values(hidden)), typ) {
				t.Fatalf("the arrangement hides no %s from the key", typ)
			}
		}
		if !slices.Contains(slices.Collect(maps.Values(hidden)), "User") || hidden[dave.ID] != "User" {
			t.Fatal("dave, of Out only, should be hidden")
		}
		before := dbState(t, s)

		for id, typ := range hidden {
			if _, err := SweepNode(ctx, key, id); Code(err) != "NOT_FOUND" {
				t.Errorf("node(%s %s) with the key: %v, want NOT_FOUND", typ, id, err)
			}
		}
		for id, typ := range visible {
			if typ == "ProvisioningKey" {
				continue // not shown by node to anyone
			}
			if n := Must(SweepNode(ctx, key, id))(t).Node; n == nil || *(*n).GetTypename() != typ {
				t.Errorf("node(%s %s) with the key: %+v", typ, id, n)
			}
		}
		for _, slug := range []string{out.Slug, "bob/other"} {
			_, err := ScopedApplication(ctx, key, slug)
			WantCode(t, err, "NOT_FOUND")
			_, err = FleetContents(ctx, key, slug)
			WantCode(t, err, "NOT_FOUND")
		}
		if read := fleetRead(t, Must(FleetContents(ctx, key, in.Slug))(t).Application); !sameApplication(t, s, read, in.Id) {
			t.Errorf("the key's view of In strays out of it: %v", read)
		}
		for i, where := range []*ApplicationWhereInput{
			nil,
			{IdIn: []string{in.Id, out.Id}},
			{HasDevicesWith: []DeviceWhereInput{{Or: []DeviceWhereInput{{Uuid: &inFleet.uuid}, {Uuid: &outFleet.uuid}}}}},
			{HasOrganizationWith: []OrganizationWhereInput{{Id: &org}}},
		} {
			list := Must(Applications(ctx, key, nil, nil, where))(t).Applications
			if list.TotalCount != 1 || len(list.Edges) != 1 || list.Edges[0].Node.Id != in.Id {
				t.Errorf("the key's applications(where #%d): %+v", i, list)
			}
		}

		account := map[string]bool{"revokeApiKeys": true, "revokeSession": true, "leaveApplication": true, "addOrganizationMember": true,
			"updateOrganizationMember": true, "removeOrganizationMember": true, "createApplication": true}
		t.Run("mutations", func(t *testing.T) {
			for _, m := range idMutations(key, alice.Username, "", "") {
				t.Run(m.name, func(t *testing.T) {
					// Every attempt fails and writes nothing: safe side by side.
					t.Parallel()
					if account[m.name] {
						for _, id := range []string{in.Id, out.Id, org, ghost(in.Id)} {
							if err := m.do(id); Code(err) != "FORBIDDEN" || !strings.Contains(err.Error(), "scoped") {
								t.Errorf("%s(%s) with the key: %v, want FORBIDDEN saying the key is scoped", m.name, id, err)
							}
						}
						return
					}
					m.sweep(t, "the scoped key", hidden, nil)
				})
			}
		})
		if after := dbState(t, s); after != before {
			t.Errorf("the attempts changed the database:\n%s", diffLines(before, after))
		}
	})
}
