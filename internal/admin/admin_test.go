package admin_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"fleetgate/ent/organization"
	"fleetgate/internal/admin"
	"fleetgate/internal/apitest"
	"fleetgate/internal/policy"
)

func TestSetPlan(t *testing.T) {
	ctx := context.Background()
	sys := policy.System(ctx)
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		s.SignUp(t, "alice")
		var out bytes.Buffer
		if err := admin.Run(ctx, s.DB, []string{"org", "set-plan", "Alice", "paid"}, &out); err != nil {
			t.Fatal(err)
		}
		org := apitest.Must(s.DB.Organization.Query().Where(organization.Handle("alice")).Only(sys))(t)
		if org.Plan != organization.PlanPAID || !strings.Contains(out.String(), "PAID") {
			t.Fatalf("plan %s, output %q", org.Plan, out.String())
		}
		refused := [][]string{
			{"org", "set-plan", "alice", "GOLD"},
			{"org", "set-plan", "nobody", "FREE"},
			{"org", "set-plan", "alice"},
			{"user", "delete", "alice"},
		}
		for _, args := range refused {
			if err := admin.Run(ctx, s.DB, args, &out); err == nil {
				t.Errorf("%v: want an error", args)
			}
		}
		org = apitest.Must(s.DB.Organization.Query().Where(organization.Handle("alice")).Only(sys))(t)
		if org.Plan != organization.PlanPAID {
			t.Fatalf("a refused command changed the plan to %s", org.Plan)
		}
	})
}
