package policy_test

import (
	"context"
	"fmt"
	"testing"

	"fleetgate/ent"
	"fleetgate/ent/application"
	"fleetgate/ent/device"
	"fleetgate/internal/access"
	"fleetgate/internal/apitest"
	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
	"fleetgate/internal/viewer"
)

// asKey is a request context of u's API key of the given scope.
func (w world) asKey(u *ent.User, scope *access.Scope) context.Context {
	ctx := policy.WithRoleCache(context.Background(), w.db)
	return viewer.WithViewer(ctx, &viewer.Viewer{UserID: u.ID, Credential: viewer.APIKey, Scope: scope})
}

// TestScopeNarrowsInSQL: a scoped key of the administrator sees only the
// applications of its scope, and what belongs to them, in SQL (counts,
// edges); the role check refuses what the scope does not allow, and every
// application outside it is NOT_FOUND; updates by predicate change nothing
// the scope excludes; the account's rows are not there for it.
func TestScopeNarrowsInSQL(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		w := arrange(t, s.DB)
		sys := policy.System(context.Background())
		other := apitest.Must(s.DB.Application.Create().SetName("Other").SetSlug("org/other").SetType(application.TypeESSENTIALS).SetOrganization(w.org).Save(sys))(t)
		for i, app := range []*ent.Application{w.app, other} {
			apitest.Must(s.DB.Device.Create().SetApplication(app).SetName(app.Name).SetUUID(fmt.Sprintf("%032x", i)).Save(sys))(t)
		}
		apitest.Must(s.DB.ApiKey.Create().SetUserID(w.admin.ID).SetName("k").SetPrefix("fgk_x").SetHash([]byte("h")).Save(sys))(t)

		ctx := w.asKey(w.admin, &access.Scope{ApplicationIDs: []int{other.ID}, Permissions: []access.Permission{access.Tags}})
		if ids := apitest.Must(s.DB.Application.Query().IDs(ctx))(t); len(ids) != 1 || ids[0] != other.ID {
			t.Errorf("the key sees applications %v, want only %d", ids, other.ID)
		}
		if n := apitest.Must(s.DB.Device.Query().Count(ctx))(t); n != 1 {
			t.Errorf("the key sees %d devices, want 1", n)
		}
		if n := apitest.Must(s.DB.Organization.Query().QueryApplications().QueryDevices().Count(ctx))(t); n != 1 {
			t.Errorf("the key sees %d devices through edges, want 1", n)
		}
		for name, n := range map[string]int{
			"API keys":                 apitest.Must(s.DB.ApiKey.Query().Count(ctx))(t),
			"organization memberships": apitest.Must(s.DB.OrganizationMembership.Query().Count(ctx))(t),
			"security events":          apitest.Must(s.DB.SecurityEvent.Query().Count(ctx))(t),
		} {
			if n != 0 {
				t.Errorf("the key sees %d %s of the account", n, name)
			}
		}

		wantCode(t, policy.Check(ctx, w.app, access.Tags), fault.NotFound)
		if err := policy.Check(ctx, other, access.Tags); err != nil {
			t.Errorf("TAGS on the scope's application: %v", err)
		}
		wantCode(t, policy.Check(ctx, other, access.Variables), fault.Forbidden)
		readOnly := w.asKey(w.admin, &access.Scope{ReadOnly: true})
		for _, p := range access.Permissions() {
			wantCode(t, policy.Check(readOnly, w.app, p), fault.Forbidden)
		}
		// The scope never grants: the developer's key with every
		// permission still lacks ADD_MEMBERS.
		wantCode(t, policy.Check(w.asKey(w.dev, &access.Scope{}), w.app, access.AddMembers), fault.Forbidden)

		// A rename by predicate (TAGS) reaches only the scope's devices;
		// a read-only key renames none.
		if n := apitest.Must(s.DB.Device.Update().SetName("renamed").Save(ctx))(t); n != 1 {
			t.Errorf("the TAGS key renamed %d devices, want 1", n)
		}
		if n, err := s.DB.Device.Update().SetName("again").Save(readOnly); err == nil && n != 0 {
			t.Errorf("the read-only key renamed %d devices", n)
		}
		if n := apitest.Must(s.DB.Device.Query().Where(device.Name("renamed"), device.ApplicationID(other.ID)).Count(sys))(t); n != 1 {
			t.Errorf("%d of the scope's devices renamed", n)
		}
	})
}
