package graph_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetgate/ent/apikey"
	"fleetgate/ent/fleetvariable"
	"fleetgate/ent/provisioningkey"
	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
)

// withHook serves s's database again, with hook run before each root field
// of a mutation: the test changes the world between two fields of one
// request, deterministically.
func withHook(t *testing.T, s *Server, hook func(ctx context.Context, alias string)) *Server {
	deps := s.Deps
	deps.BeforeRootField = hook
	return ServeDeps(t, deps)
}

// before runs change once, when the root field alias is about to start.
func before(alias string, change func()) func(context.Context, string) {
	var once sync.Once
	return func(_ context.Context, a string) {
		if a == alias {
			once.Do(change)
		}
	}
}

func wantRefusedAt(t *testing.T, r Result, alias, code string) {
	t.Helper()
	e := r.ErrorAt(alias)
	if e == nil || e.Code() != code {
		t.Fatalf("%s: want %s, got %+v (errors %+v)", alias, code, e, r.Errors)
	}
}

// wantSucceeded checks the fields ran without error. Their data may be
// null all the same: a later non-null root field's error nulls it.
func wantSucceeded(t *testing.T, r Result, aliases ...string) {
	t.Helper()
	for _, a := range aliases {
		if r.ErrorAt(a) != nil {
			t.Fatalf("%s did not succeed: %+v", a, r.Errors)
		}
	}
}

func TestDemotionReachesLaterRootFields(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "d")
		owner := s.Client(f.Users[access.Administrator].Token)
		x := s.SignUp(t, "x_admin")
		m := Must(AddOrganizationMember(ctx, owner, AddOrganizationMemberInput{
			OrganizationId: f.OrgID, UsernameOrEmail: x.Username, Role: OrganizationRoleAdministrator,
		}))(t).AddOrganizationMember
		h := withHook(t, s, before("b", func() {
			Must(UpdateOrganizationMember(ctx, owner, UpdateOrganizationMemberInput{Id: m.Id, Role: OrganizationRoleMember}))(t)
		}))
		r := h.Do(t, x.Token, `mutation($app: ID!, $m: ID!) {
			a: setFleetVariable(input: {applicationId: $app, name: "A", value: "1"}) { id }
			b: updateOrganizationMember(input: {id: $m, role: ADMINISTRATOR}) { role }
		}`, map[string]any{"app": f.AppID, "m": m.Id})
		wantSucceeded(t, r, "a")
		wantRefusedAt(t, r, "b", "FORBIDDEN")
		if role := orgRole(t, s, dbID(t, f.OrgID), dbID(t, x.ID)); role != access.OrgMember {
			t.Fatalf("the demoted administrator is %s again", role)
		}
		wantFleetVariables(t, s, "A")
	})
}

func wantFleetVariables(t *testing.T, s *Server, want string) {
	t.Helper()
	names := Must(s.DB.FleetVariable.Query().Order(fleetvariable.ByName()).Select(fleetvariable.FieldName).Strings(ctx))(t)
	if got := strings.Join(names, ","); got != want {
		t.Fatalf("fleet variables %q, want %q", got, want)
	}
}

func TestDemotedDeveloperGetsNoGrantOrKey(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "g")
		admin := s.Client(f.Users[access.Administrator].Token)
		dev := f.Users[access.Developer]
		device := Must(RegisterDevice(ctx, s.Client(dev.Token), RegisterDeviceInput{ApplicationId: f.AppID, Name: "pi"}))(t).RegisterDevice
		h := withHook(t, s, before("b", func() {
			Must(UpdateApplicationMember(ctx, admin, UpdateApplicationMemberInput{Id: f.Memberships[access.Developer], Role: ApplicationRoleObserver}))(t)
		}))
		r := h.Do(t, dev.Token, `mutation($app: ID!, $device: ID!) {
			a: setDeviceTag(input: {deviceId: $device, key: "k", value: "v"}) { id }
			b: requestSshAccess(deviceId: $device) { token }
			c: downloadImageConfig(applicationId: $app) { provisioningKey }
		}`, map[string]any{"app": f.AppID, "device": device.Id})
		wantSucceeded(t, r, "a")
		wantRefusedAt(t, r, "b", "FORBIDDEN")
		wantRefusedAt(t, r, "c", "FORBIDDEN")
		if n := Must(s.DB.ProvisioningKey.Query().Where(provisioningkey.ApplicationID(dbID(t, f.AppID))).Count(ctx))(t); n != 0 {
			t.Fatalf("%d provisioning keys were made after the demotion", n)
		}
	})
}

func TestPasswordChangeEndsTheRestOfARequest(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		u := s.SignUp(t, "victim")
		stolen := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: u.Username, Password: Password}))(t).Login.Token
		h := withHook(t, s, before("b", func() {
			Must(ChangePassword(ctx, s.Client(u.Token), ChangePasswordInput{CurrentPassword: Password, NewPassword: "a brand new passphrase"}))(t)
		}))
		r := h.Do(t, stolen, `mutation {
			a: createOrganization(input: {name: "Decoy", handle: "decoy_org"}) { id }
			b: createApiKey(input: {name: "persist"}) { key }
		}`, nil)
		wantSucceeded(t, r, "a")
		wantRefusedAt(t, r, "b", "UNAUTHENTICATED")
		if n := Must(s.DB.ApiKey.Query().Where(apikey.UserID(dbID(t, u.ID))).Count(ctx))(t); n != 0 {
			t.Fatalf("the stolen session made %d API keys after the password changed", n)
		}
	})
}

func TestRevokedKeyAndDeletedAccountStopMidRequest(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "r")
		dev := f.Users[access.Developer]
		key := Must(CreateApiKey(ctx, s.Client(dev.Token), CreateApiKeyInput{Name: "ci"}))(t).CreateApiKey
		h := withHook(t, s, before("b", func() {
			Must(RevokeApiKeys(ctx, s.Client(dev.Token), []string{key.ApiKey.Id}))(t)
		}))
		const twoVariables = `mutation($app: ID!) {
			a: setFleetVariable(input: {applicationId: $app, name: "A", value: "1"}) { id }
			b: setFleetVariable(input: {applicationId: $app, name: "B", value: "2"}) { id }
		}`
		r := h.Do(t, key.Key, twoVariables, map[string]any{"app": f.AppID})
		wantSucceeded(t, r, "a")
		wantRefusedAt(t, r, "b", "UNAUTHENTICATED")
		wantFleetVariables(t, s, "A")

		op := f.Users[access.Operator]
		h = withHook(t, s, before("b", func() {
			Must(DeleteAccount(ctx, s.Client(op.Token), Password))(t)
		}))
		device := Must(RegisterDevice(ctx, s.Client(op.Token), RegisterDeviceInput{ApplicationId: f.AppID, Name: "pi"}))(t).RegisterDevice
		r = h.Do(t, op.Token, `mutation($device: ID!) {
			a: setDeviceTag(input: {deviceId: $device, key: "a", value: "1"}) { id }
			b: setDeviceTag(input: {deviceId: $device, key: "b", value: "2"}) { id }
		}`, map[string]any{"device": device.Id})
		wantSucceeded(t, r, "a")
		wantRefusedAt(t, r, "b", "UNAUTHENTICATED")
	})
}

// A request that outlives its deadline is stopped: the root fields after
// it are skipped with TIMEOUT, nothing of theirs is written.
func TestRequestDeadline(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "t")
		deps := s.Deps
		deps.RequestTimeout = 50 * time.Millisecond
		deps.BeforeRootField = func(ctx context.Context, alias string) {
			if alias == "b" {
				<-ctx.Done() // field a took all the time there was
			}
		}
		h := ServeDeps(t, deps)
		r := h.Do(t, f.Users[access.Developer].Token, `mutation($app: ID!) {
			a: setFleetVariable(input: {applicationId: $app, name: "A", value: "1"}) { id }
			b: setFleetVariable(input: {applicationId: $app, name: "B", value: "2"}) { id }
			c: setFleetVariable(input: {applicationId: $app, name: "C", value: "3"}) { id }
		}`, map[string]any{"app": f.AppID})
		if e := r.ErrorAt("b"); e == nil || e.Code() != "TIMEOUT" || !strings.Contains(e.Message, "out of time") {
			t.Fatalf("b: want TIMEOUT, got %+v", r.Errors)
		}
		wantFleetVariables(t, s, "A")
	})
}
