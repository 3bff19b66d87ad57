package graph_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
	"fleetgate/internal/policy"
)

// TestScopedConfigurationMintsNoProvisioningKey: downloadImageConfig hands
// out a key that registers devices, so a key scoped to CONFIGURATION alone
// (no ADD_REMOVE_DEVICE) gets none.
func TestScopedConfigurationMintsNoProvisioningKey(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "pk")
		admin := f.Users[access.Administrator]
		app := dbID(t, f.AppID)
		configOnly := s.Client(scopedKey(t, s, admin, &access.Scope{ApplicationIDs: []int{app}, Permissions: []access.Permission{access.Configuration}}))
		_, err := RegisterDevice(ctx, configOnly, RegisterDeviceInput{ApplicationId: f.AppID, Name: "direct"})
		WantCode(t, err, "FORBIDDEN")
		_, err = DownloadImageConfig(ctx, configOnly, f.AppID)
		WantCode(t, err, "FORBIDDEN")
		both := s.Client(scopedKey(t, s, admin, &access.Scope{ApplicationIDs: []int{app},
			Permissions: []access.Permission{access.Configuration, access.AddRemoveDevice}}))
		Must(DownloadImageConfig(ctx, both, f.AppID))(t)
	})
}

// TestScopedKeyReadsNoOrganizationRole: the owner's role in an organization
// is the account's, which a scoped key may not read.
func TestScopedKeyReadsNoOrganizationRole(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "om")
		key := scopedKey(t, s, f.Users[access.Administrator], &access.Scope{ReadOnly: true})
		r := s.Do(t, key, `query($s: String!) { application(slug: $s) { organization { handle myRole members { totalCount } } } }`, map[string]any{"s": f.Slug})
		if len(r.Errors) != 1 || r.Errors[0].Code() != "FORBIDDEN" || fmt.Sprint(r.Errors[0].Path) != "[application organization myRole]" {
			t.Fatalf("errors %+v", r.Errors)
		}
	})
}

// TestRotationWithoutGraceLeavesNoOldSecret: without grace the old secret
// is gone, not merely past a deadline an instance whose clock lags would
// still see ahead.
func TestRotationWithoutGraceLeavesNoOldSecret(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s, clock := withClock(t, s, time.Now())
		u := s.SignUp(t, "skew")
		c := s.Client(u.Token)
		created := Must(CreateScopedApiKey(ctx, c, CreateApiKeyInput{Name: "k"}))(t).CreateApiKey
		Must(RotateApiKey(ctx, c, created.ApiKey.Id, nil))(t)
		clock.Advance(-2 * time.Second) // an instance 2 s behind
		_, err := MyUsername(ctx, s.Client(created.Key))
		WantCode(t, err, "UNAUTHENTICATED")
	})
}

// TestRotationGraceBounds: graceSeconds outside 0..604800 is refused, also
// where seconds as nanoseconds would overflow.
func TestRotationGraceBounds(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		u := s.SignUp(t, "wrap")
		c := s.Client(u.Token)
		created := Must(CreateScopedApiKey(ctx, c, CreateApiKeyInput{Name: "k"}))(t).CreateApiKey
		for _, g := range []int{-1, 604801, 9223372037, 18446744074} {
			_, err := RotateApiKey(ctx, c, created.ApiKey.Id, &g)
			if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != "graceSeconds" {
				t.Errorf("graceSeconds %d: %v, want BAD_USER_INPUT on graceSeconds", g, err)
			}
		}
	})
}

// TestAPIKeyLimitUnderConcurrency: concurrent creations at 99 keys end at
// 100, not above.
func TestAPIKeyLimitUnderConcurrency(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		u := s.SignUp(t, "many")
		c := s.Client(u.Token)
		for i := range 99 {
			Must(CreateScopedApiKey(ctx, c, CreateApiKeyInput{Name: fmt.Sprint("k", i)}))(t)
		}
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				_, err := CreateScopedApiKey(ctx, c, CreateApiKeyInput{Name: fmt.Sprint("race", i)})
				if err != nil && Code(err) != "BAD_USER_INPUT" {
					t.Errorf("racing creation: %v", err)
				}
			})
		}
		wg.Wait()
		if n := Must(s.DB.ApiKey.Query().Count(policy.System(ctx)))(t); n != 100 {
			t.Errorf("%d API keys, want the most allowed, 100", n)
		}
	})
}

// TestRotationRefusals: an expired key is not rotated back to life; a
// session that signed in long ago must sign in again; a key revoked while
// its old secret is in grace stops with both secrets.
func TestRotationRefusals(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s, clock := withClock(t, s, time.Now())
		u := s.SignUp(t, "rot")
		c := s.Client(u.Token)
		soon := clock.Now().Add(time.Minute)
		expiring := Must(CreateScopedApiKey(ctx, c, CreateApiKeyInput{Name: "soon", ExpiresAt: &soon}))(t).CreateApiKey
		kept := Must(CreateScopedApiKey(ctx, c, CreateApiKeyInput{Name: "kept"}))(t).CreateApiKey
		grace := 3600
		rotated := Must(RotateApiKey(ctx, c, kept.ApiKey.Id, &grace))(t).RotateApiKey
		for _, k := range []string{kept.Key, rotated.Key} {
			Must(MyUsername(ctx, s.Client(k)))(t)
		}
		Must(RevokeApiKeys(ctx, c, []string{kept.ApiKey.Id}))(t)
		for _, k := range []string{kept.Key, rotated.Key} {
			_, err := MyUsername(ctx, s.Client(k))
			WantCode(t, err, "UNAUTHENTICATED")
		}

		clock.Advance(2 * time.Minute)
		_, err := RotateApiKey(ctx, c, expiring.ApiKey.Id, nil)
		if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != "id" {
			t.Fatalf("rotating an expired key: %v", err)
		}
		clock.Advance(20 * time.Minute) // past the recent sign-in a rotation needs
		other := Must(CreateScopedApiKey(ctx, s.Client(login(t, s, "rot")), CreateApiKeyInput{Name: "other"}))(t).CreateApiKey
		_, err = RotateApiKey(ctx, c, other.ApiKey.Id, nil)
		WantCode(t, err, "FORBIDDEN")
	})
}
