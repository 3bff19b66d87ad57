package auth_test

import (
	"context"
	"testing"
	"time"

	"fleetgate/internal/apitest"
	"fleetgate/internal/auth"
	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
)

// TestSessionRules: the session rules without GraphQL (README "Sessions"):
// each sign-in begins a session its token names, revoking one ends its
// token only, and a session unused past the idle timeout ends and is pruned.
func TestSessionRules(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		core, now := newCoreWith(s, auth.SessionLimits{IdleTimeout: time.Hour, MaxAge: 2 * time.Hour})
		ctx := context.Background()
		first, err := core.SignUp(ctx, "alice", "alice@example.com", password)
		if err != nil {
			t.Fatal(err)
		}
		second, err := core.Login(ctx, "alice", password, nil)
		if err != nil {
			t.Fatal(err)
		}
		sessionOf := func(sess *auth.Session) int {
			t.Helper()
			v, _, err := core.Authenticate(ctx, "Bearer "+sess.Token)
			if err != nil || v.SessionID == 0 {
				t.Fatalf("authenticate: %+v, %v", v, err)
			}
			return v.SessionID
		}
		firstID, secondID := sessionOf(first), sessionOf(second)
		if firstID == secondID {
			t.Fatalf("two sign-ins share session %d", firstID)
		}
		live := func() int {
			t.Helper()
			return core.LiveSessions(first.User).CountX(policy.System(ctx))
		}
		if n := live(); n != 2 {
			t.Fatalf("%d live sessions, want 2", n)
		}

		if _, err := core.RevokeSession(as(core, second), firstID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := core.Authenticate(ctx, "Bearer "+first.Token); err == nil {
			t.Error("the revoked session still authenticates")
		}
		sessionOf(second)
		_, err = core.RevokeSession(as(core, second), firstID)
		wantCode(t, err, fault.NotFound, "")

		*now = now.Add(61 * time.Minute)
		if _, _, err := core.Authenticate(ctx, "Bearer "+second.Token); err == nil {
			t.Error("a session idle for over an hour still authenticates")
		}
		if n := live(); n != 0 {
			t.Errorf("%d live sessions after the idle timeout, want 0", n)
		}
		if n, err := auth.PruneSessions(ctx, s.DB, auth.SessionLimits{IdleTimeout: time.Hour, MaxAge: 2 * time.Hour}, *now); err != nil || n != 1 {
			t.Errorf("pruned %d, %v; want the idle session", n, err)
		}
	})
}
