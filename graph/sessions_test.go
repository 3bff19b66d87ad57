package graph_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	entsession "fleetgate/ent/session"
	"fleetgate/internal/auth"
	"fleetgate/internal/policy"
	"fleetgate/internal/token"

	"fleetgate/ent/user"
	. "fleetgate/internal/apitest"
)

// listedSession is an entry of me.sessions.
type listedSession = MySessionsMeUserSessionsSessionConnectionEdgesSessionEdgeNodeSession

// sessionsOf lists the sessions of token's user, as that token sees them.
func sessionsOf(t *testing.T, s *Server, token string) []listedSession {
	t.Helper()
	var out []listedSession
	for _, e := range Must(MySessions(ctx, s.Client(token)))(t).Me.Sessions.Edges {
		out = append(out, *e.Node)
	}
	return out
}

// sessionIDs are the ids of sessions, in order.
func sessionIDs(sessions []listedSession) []string {
	var ids []string
	for _, x := range sessions {
		ids = append(ids, x.Id)
	}
	return ids
}

// current is the id of the session marked current.
func current(t *testing.T, sessions []listedSession) string {
	t.Helper()
	id := ""
	for _, x := range sessions {
		if x.Current {
			if id != "" {
				t.Fatalf("two sessions are current: %+v", sessions)
			}
			id = x.Id
		}
	}
	return id
}

func login(t *testing.T, s *Server, username string) string {
	t.Helper()
	return Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: username, Password: Password}))(t).Login.Token
}

// wantRefused checks that token no longer authenticates anything.
func wantRefused(t *testing.T, s *Server, token, why string) {
	t.Helper()
	if _, err := MeIdentity(ctx, s.Client(token)); Code(err) != "UNAUTHENTICATED" {
		t.Errorf("%s: me answers %v, want UNAUTHENTICATED", why, err)
	}
}

// wantWorks checks that token authenticates.
func wantWorks(t *testing.T, s *Server, token, why string) {
	t.Helper()
	if _, err := MeIdentity(ctx, s.Client(token)); err != nil {
		t.Errorf("%s: me answers %v", why, err)
	}
}

// TestSessionsListed: signUp and each login begin a session, listed newest
// first with where and how it signed in; the caller's own is current; a
// user sees only their own, and node(id) of another's is NOT_FOUND.
func TestSessionsListed(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		second := login(t, s, "alice")
		b := s.SignUp(t, "bob")

		got := sessionsOf(t, s, second)
		if len(got) != 2 {
			t.Fatalf("alice has %d sessions, want 2: %+v", len(got), got)
		}
		if got[0].CreatedAt.Before(got[1].CreatedAt) {
			t.Errorf("not newest first: %+v", got)
		}
		if current(t, got) != got[0].Id {
			t.Errorf("the login's session is not current: %+v", got)
		}
		for _, x := range got {
			if x.SignInMethod != "password" || x.ClientAddress != "127.0.0.1" || x.UserAgent != "Go-http-client/1.1" {
				t.Errorf("session %+v: want password, 127.0.0.1, Go-http-client/1.1", x)
			}
		}
		if fromFirst := sessionsOf(t, s, a.Token); current(t, fromFirst) != got[1].Id {
			t.Errorf("from the sign-up's token, current is not its session: %+v", fromFirst)
		}
		bobs := sessionsOf(t, s, b.Token)
		if len(bobs) != 1 || slices.Contains(sessionIDs(got), bobs[0].Id) {
			t.Errorf("bob's sessions: %+v", bobs)
		}
		if _, err := SweepNode(ctx, s.Client(b.Token), got[0].Id); Code(err) != "NOT_FOUND" {
			t.Errorf("node(alice's session) for bob: %v, want NOT_FOUND", err)
		}
		if n := Must(SweepNode(ctx, s.Client(second), got[0].Id))(t).Node; n == nil || *(*n).GetTypename() != "Session" {
			t.Errorf("node(own session): %+v", n)
		}

		// The User-Agent is kept, cut to 256 characters.
		body := `{"query":"mutation { login(input: {usernameOrEmail: \"alice\", password: \"` + Password + `\"}) { token } }"}`
		if resp := s.PostWith(map[string]string{"User-Agent": strings.Repeat("é", 300)}, body); ResponseCode(t, resp) != "" {
			t.Fatal("login with a long User-Agent failed")
		}
		if newest := sessionsOf(t, s, second)[0]; newest.UserAgent != strings.Repeat("é", 256) {
			t.Errorf("a 300-character User-Agent is kept as %d characters", len([]rune(newest.UserAgent)))
		}
		// Invalid UTF-8 and control characters are dropped.
		if resp := s.PostWith(map[string]string{"User-Agent": "odd\xff\tagent"}, body); ResponseCode(t, resp) != "" {
			t.Fatal("login with an odd User-Agent failed")
		}
		if newest := sessionsOf(t, s, second)[0]; newest.UserAgent != "oddagent" {
			t.Errorf("User-Agent kept as %q, want \"oddagent\"", newest.UserAgent)
		}
	})
}

// TestRevokeSession: revoking one session ends its tokens at once, refresh
// included; the others keep working; it is recorded; another user's session
// or an ended one is NOT_FOUND.
func TestRevokeSession(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		laptop, phone := login(t, s, "alice"), login(t, s, "alice")
		b := s.SignUp(t, "bob")
		listed := sessionsOf(t, s, laptop)
		phoneID := listed[0].Id // newest first
		if len(listed) != 3 || current(t, listed) != listed[1].Id {
			t.Fatalf("sessions: %+v", listed)
		}

		if _, err := RevokeSession(ctx, s.Client(b.Token), phoneID); Code(err) != "NOT_FOUND" {
			t.Errorf("bob revoking alice's session: %v, want NOT_FOUND", err)
		}
		wantWorks(t, s, phone, "after bob's attempt")

		if got := Must(RevokeSession(ctx, s.Client(laptop), phoneID))(t).RevokeSession; got != phoneID {
			t.Errorf("revokeSession answered %s, want %s", got, phoneID)
		}
		wantRefused(t, s, phone, "the revoked session")
		if _, err := RefreshToken(ctx, s.Client(phone)); Code(err) != "UNAUTHENTICATED" {
			t.Errorf("refresh of the revoked session: %v, want UNAUTHENTICATED", err)
		}
		wantWorks(t, s, laptop, "the revoking session")
		wantWorks(t, s, a.Token, "the sign-up's session")
		if ids := sessionIDs(sessionsOf(t, s, laptop)); len(ids) != 2 || slices.Contains(ids, phoneID) {
			t.Errorf("after revoking: %v", ids)
		}
		if _, err := RevokeSession(ctx, s.Client(laptop), phoneID); Code(err) != "NOT_FOUND" {
			t.Errorf("revoking it again: %v, want NOT_FOUND", err)
		}
		events := Must(SecurityEvents(ctx, s.Client(laptop)))(t).Me.SecurityEvents.Edges
		if len(events) == 0 || events[0].Node.Kind != "SESSION_REVOKED" || !strings.Contains(events[0].Node.Detail, "password from 127.0.0.1") {
			t.Errorf("newest security event: %+v, want SESSION_REVOKED", events[0].Node)
		}

		// Refreshing keeps the session: same id, still current, the old
		// token of it still valid until it expires.
		refreshed := Must(RefreshToken(ctx, s.Client(laptop)))(t).RefreshToken.Token
		after := sessionsOf(t, s, refreshed)
		if len(after) != 2 || current(t, after) != listed[1].Id {
			t.Errorf("after refreshing: %+v, want the laptop's session current", after)
		}
		// Revoking one's own session is signing out: both its tokens end.
		Must(RevokeSession(ctx, s.Client(refreshed), listed[1].Id))(t)
		wantRefused(t, s, refreshed, "the refreshed token of a revoked session")
		wantRefused(t, s, laptop, "the first token of a revoked session")
		wantWorks(t, s, a.Token, "the sign-up's session")
	})
}

// TestRevokedOnEveryInstance: two servers on one database; a session revoked
// through one is refused by the other at once.
func TestRevokedOnEveryInstance(t *testing.T) {
	Run(t, func(t *testing.T, one *Server) {
		other := Serve(t, one.DB)
		a := one.SignUp(t, "alice")
		phone := login(t, other, "alice")
		wantWorks(t, one, phone, "a session begun on the other instance")
		wantWorks(t, other, a.Token, "a session begun on the first instance")
		phoneID := sessionsOf(t, one, phone)[0].Id
		Must(RevokeSession(ctx, one.Client(a.Token), phoneID))(t)
		wantRefused(t, other, phone, "revoked on the first instance, used on the other")
		wantRefused(t, one, phone, "revoked, on the same instance")
		wantWorks(t, other, a.Token, "the session that revoked")
	})
}

// TestSignOutEverywhereKeepCurrent: keepCurrent ends every other session;
// without it (or with null) every one ends.
func TestSignOutEverywhereKeepCurrent(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		laptop, phone := login(t, s, "alice"), login(t, s, "alice")
		b := s.SignUp(t, "bob")
		keep := true
		Must(SignOutEverywhereKeeping(ctx, s.Client(laptop), &keep))(t)
		wantWorks(t, s, laptop, "the session kept")
		wantRefused(t, s, phone, "another session")
		wantRefused(t, s, a.Token, "the sign-up's session")
		wantWorks(t, s, b.Token, "another user's session")
		if got := sessionsOf(t, s, laptop); len(got) != 1 || !got[0].Current {
			t.Errorf("after keepCurrent: %+v", got)
		}
		tablet := login(t, s, "alice")
		Must(SignOutEverywhereKeeping(ctx, s.Client(tablet), nil))(t)
		wantRefused(t, s, tablet, "the caller's own, without keepCurrent")
		wantRefused(t, s, laptop, "the one kept before")
		if n := s.DB.Session.Query().Where(entsession.UserID(atoi(t, a.ID))).CountX(ctx); n != 0 {
			t.Errorf("%d session rows left", n)
		}
		wantWorks(t, s, b.Token, "another user's session")
	})
}

// TestSessionTimeouts: with a frozen clock, a session ends after the idle
// timeout without use, and at its maximum age however much it is used or
// refreshed; then refreshToken is UNAUTHENTICATED. lastUsedAt is written at
// most once per resolution.
func TestSessionTimeouts(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s.SignUp(t, "alice")
		start := time.Now().UTC().Truncate(time.Second)
		c := newClock(start)
		deps := s.Deps
		deps.Now = c.Now
		deps.Sessions = auth.SessionLimits{IdleTimeout: time.Hour, MaxAge: 3 * time.Hour}
		s = ServeDeps(t, deps)

		idle := login(t, s, "alice")
		idleSession := current(t, sessionsOf(t, s, idle))
		busy := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login
		if want := start.Add(3 * time.Hour); !busy.ExpiresAt.Equal(want) {
			t.Errorf("expiresAt %v, want the session's maximum age %v", busy.ExpiresAt, want)
		}
		row := func() time.Time {
			return s.DB.Session.Query().Where(entsession.UserID(atoi(t, busy.User.Id))).Order(entsession.ByID()).AllX(ctx)[2].LastUsedAt // after the sign-up's and idle's
		}

		c.Advance(30 * time.Second)
		wantWorks(t, s, busy.Token, "30 s in")
		if !row().Equal(start) {
			t.Errorf("lastUsedAt written within the minute: %v", row())
		}
		c.Advance(31 * time.Second)
		wantWorks(t, s, busy.Token, "61 s in")
		if got := row(); !got.Equal(start.Add(61 * time.Second)) {
			t.Errorf("lastUsedAt %v, want %v", got, start.Add(61*time.Second))
		}
		for range 3 { // used every 50 minutes: never idle for an hour
			c.Advance(50 * time.Minute)
			wantWorks(t, s, busy.Token, "in use")
		}
		wantRefused(t, s, idle, "unused for over an hour")
		if _, err := RefreshToken(ctx, s.Client(idle)); Code(err) != "UNAUTHENTICATED" {
			t.Errorf("refresh of an idle session: %v", err)
		}
		if ids := sessionIDs(sessionsOf(t, s, busy.Token)); len(ids) != 1 {
			t.Errorf("the idle session is still listed: %v", ids)
		}
		// Nor is it found by its id, before the sweep deletes it as after.
		if _, err := SweepNode(ctx, s.Client(busy.Token), idleSession); Code(err) != "NOT_FOUND" {
			t.Errorf("node(id) of the idle session: %v", err)
		}
		Must(SweepNode(ctx, s.Client(busy.Token), current(t, sessionsOf(t, s, busy.Token))))(t)

		// 2h31m in: refreshed, the token still ends at 3h.
		refreshed := Must(RefreshToken(ctx, s.Client(busy.Token)))(t).RefreshToken
		if want := start.Add(3 * time.Hour); !refreshed.ExpiresAt.Equal(want) {
			t.Errorf("refreshed expiresAt %v, want %v", refreshed.ExpiresAt, want)
		}
		c.Advance(28 * time.Minute)
		wantWorks(t, s, refreshed.Token, "2h59m in")
		c.Advance(2 * time.Minute)
		wantRefused(t, s, refreshed.Token, "past the maximum age")
		if _, err := RefreshToken(ctx, s.Client(refreshed.Token)); Code(err) != "UNAUTHENTICATED" {
			t.Errorf("refresh past the maximum age: %v", err)
		}

		// Ended sessions are pruned; a live one stays.
		fresh := login(t, s, "alice")
		if n, err := auth.PruneSessions(ctx, s.DB, deps.Sessions, c.Now()); err != nil || n != 3 {
			t.Errorf("pruned %d, %v; want the 3 ended sessions (the sign-up's, idle, busy)", n, err)
		}
		wantWorks(t, s, fresh, "a live session after pruning")
	})
}

// TestSessionTokenChecks: a session token must name a live session of its
// own user.
func TestSessionTokenChecks(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		b := s.SignUp(t, "bob")
		bobsSession := sessionsOf(t, s, b.Token)[0].Id
		now := time.Now()
		forge := func(userID, sid string, pending bool) string {
			return Must(s.Tokens.IssueSession(token.Session{UserID: userID, IssuedAt: now, AuthTime: now, SessionID: sid, Pending: pending}))(t)
		}
		wantRefused(t, s, forge(a.ID, bobsSession, false), "alice's token naming bob's session")
		wantRefused(t, s, forge(a.ID, "", false), "a token without sid")
		wantRefused(t, s, forge(a.ID, "x1", false), "a malformed sid")
		wantRefused(t, s, forge(b.ID, bobsSession, true), "a pending token with a sid")
		wantWorks(t, s, forge(b.ID, bobsSession, false), "bob's token of his own session (the check above is not vacuous)")

		aliceSession := atoi(t, sessionsOf(t, s, a.Token)[0].Id)
		s.DB.Session.DeleteOneID(aliceSession).ExecX(ctx)
		wantRefused(t, s, a.Token, "a token whose session row is gone")
		if _, err := RefreshToken(ctx, s.Client(a.Token)); Code(err) != "UNAUTHENTICATED" {
			t.Errorf("refresh of a token whose session row is gone: %v", err)
		}

		// Deleting the account deletes its sessions.
		Must(DeleteAccount(ctx, s.Client(b.Token), Password))(t)
		if n := s.DB.Session.Query().Where(entsession.UserID(atoi(t, b.ID))).CountX(ctx); n != 0 {
			t.Errorf("%d sessions left of a deleted account", n)
		}
	})
}

// TestPasswordAndTwoFactorEndOtherSessions: changing the password and
// turning 2FA on keep the caller's session (with a new token) and end every
// other; a pending login has no session until its second factor; turning
// 2FA off ends every other session too, and the caller's goes on.
func TestPasswordAndTwoFactorEndOtherSessions(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		s, c := withClock(t, s, time.Now().Truncate(30*time.Second).Add(5*time.Second))
		phone := login(t, s, "alice")
		mine := current(t, sessionsOf(t, s, a.Token))

		changed := Must(ChangePassword(ctx, s.Client(a.Token), ChangePasswordInput{CurrentPassword: Password, NewPassword: "a whole new password"}))(t).ChangePassword.Token
		wantRefused(t, s, phone, "another session after a password change")
		wantRefused(t, s, a.Token, "the caller's old token after a password change")
		if got := sessionsOf(t, s, changed); len(got) != 1 || current(t, got) != mine {
			t.Fatalf("after changing the password: %+v, want only the caller's session %s", got, mine)
		}

		other := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: "a whole new password"}))(t).Login.Token
		secret, codes, enabled := enable(t, s, c, changed)
		wantRefused(t, s, other, "another session after turning 2FA on")
		if got := sessionsOf(t, s, enabled); len(got) != 1 || current(t, got) != mine {
			t.Fatalf("after turning 2FA on: %+v, want only the caller's session %s", got, mine)
		}

		pending := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: "a whole new password"}))(t).Login.Token
		if got := sessionsOf(t, s, enabled); len(got) != 1 {
			t.Errorf("a pending login is listed: %+v", got)
		}
		c.Advance(30 * time.Second)
		verified := Must(VerifyTwoFactor(ctx, s.Client(pending), VerifyTwoFactorInput{Code: ptr(code(t, secret, c.Now()))}))(t).VerifyTwoFactor.Token
		if got := sessionsOf(t, s, verified); len(got) != 2 || got[0].SignInMethod != "totp" || !got[0].Current {
			t.Errorf("after verifying: %+v, want a current totp session first", got)
		}
		pending = Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: "a whole new password"}))(t).Login.Token
		recovered := Must(VerifyTwoFactor(ctx, s.Client(pending), VerifyTwoFactorInput{RecoveryCode: &codes[0]}))(t).VerifyTwoFactor.Token
		if got := sessionsOf(t, s, recovered); len(got) != 3 || got[0].SignInMethod != "recovery_code" {
			t.Errorf("after a recovery code: %+v", got)
		}

		Must(DisableTwoFactor(ctx, s.Client(enabled), "a whole new password"))(t)
		for name, tok := range map[string]string{"the totp session": verified, "the recovery code's": recovered} {
			wantRefused(t, s, tok, name+" after turning 2FA off")
		}
		if got := sessionsOf(t, s, enabled); len(got) != 1 || !got[0].Current {
			t.Errorf("after turning 2FA off the caller's session alone is left: %+v", got)
		}
	})
}

// TestExportHasSessions: exportMyData lists the sessions, without any token.
func TestExportHasSessions(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		login(t, s, "alice")
		raw := Must(ExportMyData(ctx, s.Client(a.Token)))(t).ExportMyData
		var doc struct {
			Sessions []map[string]any
		}
		if err := json.Unmarshal([]byte(raw), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Sessions) != 2 {
			t.Fatalf("export has %d sessions, want 2: %s", len(doc.Sessions), raw)
		}
		for _, x := range doc.Sessions {
			if x["signInMethod"] != "password" || x["clientAddress"] != "127.0.0.1" || x["createdAt"] == nil || x["lastUsedAt"] == nil {
				t.Errorf("exported session %v", x)
			}
		}
		if strings.Contains(raw, "eyJ") {
			t.Error("the export holds a token")
		}
	})
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSignInAnswerHoldsTheAccountsRows: the user of a sign-in's answer is
// the signed-in user's to read, rows of the account included, though the
// request itself carried no credential.
func TestSignInAnswerHoldsTheAccountsRows(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		rows := `user { sessions { totalCount } securityEvents { totalCount } identities { id } organizations { totalCount } }`
		up := s.Do(t, "", `mutation { signUp(input: {username: "ada", email: "ada@example.com", password: "`+Password+`"}) { token `+rows+` } }`, nil)
		in := s.Do(t, "", `mutation { login(input: {usernameOrEmail: "ada", password: "`+Password+`"}) { token `+rows+` } }`, nil)
		for name, r := range map[string]Result{"signUp": up, "login": in} {
			if data := string(r.Data[name]); len(r.Errors) != 0 || !strings.Contains(data, `"organizations":{"totalCount":1}`) || !strings.Contains(data, `"token":"ey`) {
				t.Errorf("%s: errors %+v, data %s", name, r.Errors, data)
			}
		}
		if data := string(in.Data["login"]); !strings.Contains(data, `"sessions":{"totalCount":2}`) {
			t.Errorf("login's answer lists %s, want both sessions", data)
		}
	})
}

// TestSignInRacingPasswordChangeIsNotListed: a login checked with the old
// password whose session row is written after a password change deleted
// the others gets a refused token, and its row is not listed as a live
// session; the session the change kept is.
func TestSignInRacingPasswordChangeIsNotListed(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		before := Must(s.DB.User.Query().Where(user.Username("alice")).Only(ctx))(t).SessionsValidAfter
		changed := Must(ChangePassword(ctx, s.Client(a.Token), ChangePasswordInput{CurrentPassword: Password, NewPassword: "a whole new password"}))(t).ChangePassword.Token
		// The row such a login leaves: begun under the old sessionsValidAfter.
		Must(s.DB.Session.Create().SetUserID(dbID(t, a.ID)).SetCreatedAt(time.Now()).SetLastUsedAt(time.Now()).
			SetValidAfter(before).SetSignInMethod("password").Save(ctx))(t)
		if got := sessionsOf(t, s, changed); len(got) != 1 || !got[0].Current {
			t.Fatalf("listed %+v, want the kept session alone", got)
		}
	})
}

// TestSessionUseWithOneConnection: recording a stale session's use needs a
// connection of its own after the session was read; with a pool of one
// connection the request still ends (the read's rows are closed first).
func TestSessionUseWithOneConnection(t *testing.T) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := Start(t, b)
			a := s.SignUp(t, "alice")
			sys := policy.System(context.Background())
			Must(s.DB.Session.Update().SetLastUsedAt(time.Now().UTC().Add(-5 * time.Minute)).Save(sys))(t)
			s.Deps.SQL.SetMaxOpenConns(1)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := MeIdentity(ctx, s.Client(a.Token))
			if err != nil {
				t.Fatalf("me with a stale session and one connection: %v", err)
			}
		})
	}
}

// TestClockInAnotherZone: a machine whose zone is named by its offset
// (Asia/Kathmandu's "+0545") keeps times in UTC like any other: sign-in,
// an API key's recorded use and expiry, sessions and their use all read
// back, on SQLite, which stores times as text, as on PostgreSQL.
func TestClockInAnotherZone(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		zone := time.FixedZone("+0545", 5*3600+45*60)
		start := time.Now().Truncate(time.Second)
		c := newClock(start)
		deps := s.Deps
		deps.Now = func() time.Time { return c.Now().In(zone) }
		s = ServeDeps(t, deps)
		alice := s.SignUp(t, "alice")
		expires := start.Add(time.Hour)
		key := Must(CreateApiKey(ctx, s.Client(alice.Token), CreateApiKeyInput{Name: "k", ExpiresAt: &expires}))(t).CreateApiKey
		Must(Me(ctx, s.Client(key.Key), nil, nil))(t)
		c.Advance(2 * time.Minute)
		Must(Me(ctx, s.Client(key.Key), nil, nil))(t)
		Must(Me(ctx, s.Client(alice.Token), nil, nil))(t)
		keys := Must(ApiKeys(ctx, s.Client(alice.Token)))(t).ApiKeys
		if len(keys) != 1 || keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(start.Add(2*time.Minute)) {
			t.Errorf("keys %+v, want one last used at %v", keys, start.Add(2*time.Minute))
		}
		if listed := sessionsOf(t, s, alice.Token); len(listed) != 1 || !listed[0].LastUsedAt.Equal(start.Add(2*time.Minute)) {
			t.Errorf("sessions %+v", listed)
		}
		c.Advance(time.Hour)
		_, err := Me(ctx, s.Client(key.Key), nil, nil)
		WantCode(t, err, "UNAUTHENTICATED")
	})
}
