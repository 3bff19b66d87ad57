package auth_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"fleetgate/internal/access"
	"fleetgate/internal/apitest"
	"fleetgate/internal/auth"
	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
)

// asRequest is as with the request's role cache, which scopes are checked
// against.
func asRequest(core *auth.Service, s *apitest.Server, sess *auth.Session) context.Context {
	return policy.WithRoleCache(as(core, sess), s.Deps.DB)
}

// TestScopedKeyAuthenticates: a scoped key authenticates as its owner with
// its scope, repeats dropped; an unscoped key with none. A scope naming an
// application the owner has no role on is refused and makes no key.
func TestScopedKeyAuthenticates(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		core, _ := newCore(s)
		ctx := context.Background()
		alice, err := core.SignUp(ctx, "alice", "alice@example.com", password)
		if err != nil {
			t.Fatal(err)
		}
		f := s.NewFleet(t, "sc")
		app := apitest.Must(s.DB.Application.Query().OnlyID(policy.System(ctx)))(t)
		_, _, err = core.CreateAPIKey(asRequest(core, s, alice), "ci", nil, nil, &access.Scope{ApplicationIDs: []int{app}})
		wantCode(t, err, fault.BadUserInput, "scope")

		dev, err := core.Login(ctx, f.Users[access.Developer].Username, password, nil)
		if err != nil {
			t.Fatal(err)
		}
		given := &access.Scope{ApplicationIDs: []int{app, app}, Permissions: []access.Permission{access.Push, access.Push}}
		key, _, err := core.CreateAPIKey(asRequest(core, s, dev), "ci", nil, nil, given)
		if err != nil {
			t.Fatal(err)
		}
		v, u, err := core.Authenticate(ctx, "Bearer "+key)
		want := &access.Scope{ApplicationIDs: []int{app}, Permissions: []access.Permission{access.Push}}
		if err != nil || u.ID != dev.User.ID || !reflect.DeepEqual(v.Scope, want) {
			t.Fatalf("scoped key: %+v %v, scope %+v, want %+v", v, err, v.Scope, want)
		}
		full, _, err := core.CreateAPIKey(asRequest(core, s, dev), "full", nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v, _, err := core.Authenticate(ctx, "Bearer "+full); err != nil || v.Scope != nil {
			t.Fatalf("unscoped key: %+v %v", v, err)
		}
	})
}

// TestRotationGrace: after a rotation the old secret authenticates until
// the grace ends and not at its end; the new one throughout; another
// rotation ends the old one at once.
func TestRotationGrace(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		core, now := newCore(s)
		sess, err := core.SignUp(context.Background(), "alice", "alice@example.com", password)
		if err != nil {
			t.Fatal(err)
		}
		authenticates := func(key string) bool {
			_, _, err := core.Authenticate(context.Background(), "Bearer "+key)
			if err != nil && !fault.Is(err, fault.Unauthenticated) {
				t.Fatal(err)
			}
			return err == nil
		}
		old, k, err := core.CreateAPIKey(asRequest(core, s, sess), "ci", nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, grace := range []int{-1, 7*24*3600 + 1} {
			_, _, err := core.RotateAPIKey(asRequest(core, s, sess), k.ID, grace)
			wantCode(t, err, fault.BadUserInput, "graceSeconds")
		}
		next, rotated, err := core.RotateAPIKey(asRequest(core, s, sess), k.ID, 60)
		if err != nil {
			t.Fatal(err)
		}
		if rotated.ID != k.ID || rotated.Name != "ci" || next == old {
			t.Fatalf("rotated %+v into %+v", k, rotated)
		}
		start := *now
		*now = start.Add(59 * time.Second)
		if !authenticates(old) || !authenticates(next) {
			t.Fatal("within the grace a secret fails")
		}
		*now = start.Add(60 * time.Second)
		if authenticates(old) || !authenticates(next) {
			t.Fatal("at the end of the grace the old secret still works, or the new one fails")
		}
		*now = start
		third, _, err := core.RotateAPIKey(asRequest(core, s, sess), k.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if authenticates(old) || authenticates(next) || !authenticates(third) {
			t.Fatal("a rotation without grace left an old secret working")
		}

		// An expired key stays expired: no new secret for it.
		soon := start.Add(time.Minute)
		_, short, err := core.CreateAPIKey(asRequest(core, s, sess), "short", nil, &soon, nil)
		if err != nil {
			t.Fatal(err)
		}
		*now = soon.Add(time.Second)
		_, _, err = core.RotateAPIKey(asRequest(core, s, sess), short.ID, 0)
		wantCode(t, err, fault.BadUserInput, "id")
	})
}
