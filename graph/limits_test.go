package graph_test

import (
	"testing"
	"time"

	. "fleetgate/internal/apitest"
	"fleetgate/internal/auth"
	"fleetgate/internal/ratelimit"
)

// TestConfiguredLimits: limits set by the operator (Deps.AbuseLimits, from
// the LIMIT_… variables) replace the defaults, each on its own.
func TestConfiguredLimits(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		deps := s.Deps
		deps.ResetMailsPerAddress = ratelimit.Rate{Limit: 1, Window: time.Hour}
		deps.LoginPerNameAndIP = ratelimit.Throttle{Free: 1, Base: time.Minute, Max: time.Hour}
		s = ServeDeps(t, deps)
		s.SignUp(t, "alice")
		anon := s.Client("")

		Must(RequestPasswordReset(ctx, anon, "alice@example.com"))(t)
		_, err := RequestPasswordReset(ctx, anon, "alice@example.com")
		WantCode(t, err, "RATE_LIMITED")
		// Another address has a window of its own, as before.
		Must(RequestPasswordReset(ctx, anon, "bob@example.com"))(t)

		_, err = Login(ctx, anon, LoginInput{UsernameOrEmail: "alice", Password: "wrong password"})
		WantCode(t, err, "UNAUTHENTICATED")
		_, err = Login(ctx, anon, LoginInput{UsernameOrEmail: "alice", Password: "wrong password"})
		WantCode(t, err, "UNAUTHENTICATED")
		_, err = Login(ctx, anon, LoginInput{UsernameOrEmail: "alice", Password: Password})
		WantCode(t, err, "RATE_LIMITED")
		if Ext(err, "retryAfter") != "60" {
			t.Fatalf("retryAfter %s, want the configured first wait of 60 s", Ext(err, "retryAfter"))
		}
	})
	if d := auth.DefaultAbuseLimits(); d.LoginPerNameAndIP.Free != 5 || d.ResetMailsPerAddress.Limit != 3 {
		t.Fatalf("defaults changed: %+v", d)
	}
}
