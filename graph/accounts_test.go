package graph_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"fleetgate/ent/user"
	. "fleetgate/internal/apitest"
	"fleetgate/internal/policy"
	"fleetgate/internal/token"
)

// ctx arranges and inspects stored state directly, past the privacy rules,
// as the admin command does; the API under test never sees it.
var ctx = policy.System(context.Background())

func TestSignUpLoginMeRefresh(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		signed := Must(SignUp(ctx, s.Client(""), SignUpInput{
			Username: "Alice_1", Email: " Alice@Example.COM ", Password: Password,
		}))(t)
		if got := signed.SignUp; got.User.Username != "alice_1" || *got.User.Email != "alice@example.com" || got.TwoFactorRequired {
			t.Fatalf("sign-up payload: %+v", got)
		}
		if d := time.Until(signed.SignUp.ExpiresAt); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour {
			t.Fatalf("token lifetime %v, want 7 days", d)
		}

		me := Must(Me(ctx, s.Client(signed.SignUp.Token), nil, nil))(t).Me
		if me.Username != "alice_1" || *me.Email != "alice@example.com" || !me.HasPassword {
			t.Fatalf("me: %+v", me)
		}
		orgs := me.Organizations.Edges
		if len(orgs) != 1 || orgs[0].Node.Handle != "alice_1" || orgs[0].Node.Plan != PlanFree || *orgs[0].Node.MyRole != OrganizationRoleAdministrator {
			t.Fatalf("personal organization: %+v", orgs)
		}

		for _, name := range []string{"alice_1", "ALICE_1", "alice@example.com", " Alice@EXAMPLE.com"} {
			login := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: name, Password: Password}))(t)
			if login.Login.User.Id != me.Id {
				t.Fatalf("login as %q: got user %s", name, login.Login.User.Id)
			}
		}

		first := Must(s.Tokens.ParseSession(signed.SignUp.Token, time.Now()))(t)
		if !first.Expires.Equal(signed.SignUp.ExpiresAt) {
			t.Fatalf("expiresAt %v differs from the token's exp %v", signed.SignUp.ExpiresAt, first.Expires)
		}
		refreshed := Must(RefreshToken(ctx, s.Client(signed.SignUp.Token)))(t).RefreshToken
		second := Must(s.Tokens.ParseSession(refreshed.Token, time.Now()))(t)
		if !second.AuthTime.Equal(first.AuthTime) || second.IssuedAt.Before(first.IssuedAt) {
			t.Fatalf("refresh must keep auth_time: first %+v, refreshed %+v", first, second)
		}
		Must(Me(ctx, s.Client(refreshed.Token), nil, nil))(t)
	})
}

func TestSignUpRefusesInvalidInput(t *testing.T) {
	long := strings.Repeat("x", 257)
	cases := []struct {
		name, username, email, password, field string
	}{
		{"short username", "ab", "ab@example.com", Password, "username"},
		{"long username", strings.Repeat("a", 33), "a@example.com", Password, "username"},
		{"username with a dash", "al-ice", "alice@example.com", Password, "username"},
		{"username with a space", "al ice", "alice@example.com", Password, "username"},
		{"reserved username", "Admin", "admin@example.com", Password, "username"},
		{"reserved username root", "root", "root@example.com", Password, "username"},
		{"email without domain", "alice", "alice@", Password, "email"},
		{"email with display name", "alice", "Alice <alice@example.com>", Password, "email"},
		{"email without dot in domain", "alice", "alice@localhost", Password, "email"},
		{"empty email", "alice", "", Password, "email"},
		{"short password", "alice", "alice@example.com", "2short", "password"},
		{"long password", "alice", "alice@example.com", long, "password"},
		{"common password", "alice", "alice@example.com", "password123", "password"},
		{"password containing username", "alice", "a@example.com", "xx-ALICE-secret-xx", "password"},
		{"password containing email", "bob", "alice.smith@example.com", "my alice.smith@example.com!", "password"},
	}
	Run(t, func(t *testing.T, s *Server) {
		for _, c := range cases {
			_, err := SignUp(ctx, s.Client(""), SignUpInput{Username: c.username, Email: c.email, Password: c.password})
			if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != c.field {
				t.Errorf("%s: want BAD_USER_INPUT on %s, got %v (code %q field %q)", c.name, c.field, err, Code(err), Ext(err, "field"))
			}
		}
		if n := Must(s.DB.User.Query().Count(ctx))(t); n != 0 {
			t.Fatalf("refused sign-ups left %d users", n)
		}
	})
}

func TestSignUpRefusesTakenNames(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s.SignUp(t, "alice")
		// An organization handle takes the name too: usernames and handles
		// share one namespace.
		Must(s.DB.Organization.Create().SetName("Acme").SetHandle("acme").Save(ctx))(t)
		cases := []struct{ username, email, field string }{
			{"ALICE", "other@example.com", "username"},
			{"Alice", "alice2@example.com", "username"},
			{"acme", "acme@example.com", "username"},
			{"bob", "ALICE@example.com", "email"},
			{"bob", "alice@EXAMPLE.COM", "email"},
		}
		for _, c := range cases {
			_, err := SignUp(ctx, s.Client(""), SignUpInput{Username: c.username, Email: c.email, Password: Password})
			if Code(err) != "CONFLICT" || Ext(err, "field") != c.field {
				t.Errorf("%s/%s: want CONFLICT on %s, got %v", c.username, c.email, c.field, err)
			}
		}
		if n := Must(s.DB.User.Query().Count(ctx))(t); n != 1 {
			t.Fatalf("want 1 user, have %d", n)
		}
		if n := Must(s.DB.Organization.Query().Count(ctx))(t); n != 2 {
			t.Fatalf("refused sign-ups must not leave organizations behind: have %d", n)
		}
	})
}

func TestLoginFailuresLookAlike(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s.SignUp(t, "alice")
		attempts := []LoginInput{
			{UsernameOrEmail: "alice", Password: "wrong password here"},
			{UsernameOrEmail: "alice@example.com", Password: "wrong password here"},
			{UsernameOrEmail: "nobody", Password: Password},
			{UsernameOrEmail: "nobody@example.com", Password: Password},
			{UsernameOrEmail: "", Password: ""},
			{UsernameOrEmail: strings.Repeat("a", 300), Password: Password},
		}
		var first string
		for i, in := range attempts {
			_, err := Login(ctx, s.Client(""), in)
			WantCode(t, err, "UNAUTHENTICATED")
			if i == 0 {
				first = err.Error()
			} else if err.Error() != first {
				t.Fatalf("login failures differ: %q vs %q", err.Error(), first)
			}
		}
	})
}

func TestAccountWithoutPasswordCannotLogIn(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		Must(s.DB.User.Update().Where(user.Username("alice")).ClearPasswordHash().Save(ctx))(t)
		_, err := Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: ""})
		WantCode(t, err, "UNAUTHENTICATED")
		me := Must(Me(ctx, s.Client(a.Token), nil, nil))(t).Me
		if me.HasPassword {
			t.Fatal("hasPassword must be false")
		}
	})
}

func TestSessionTokenRefusals(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		id, _ := strconv.Atoi(a.ID)
		now := time.Now().UTC()
		// Forged tokens name alice's session, so that each is refused for
		// the reason its name says (a token without one always is).
		sid := Must(s.Tokens.ParseSession(a.Token, now))(t).SessionID
		sign := func(set *token.Set, issued time.Time, userID string) string {
			return Must(set.IssueSession(token.Session{UserID: userID, IssuedAt: issued, AuthTime: issued, SessionID: sid}))(t)
		}
		otherKey := Must(token.GenerateKey(now))(t)
		foreign := Must(token.NewSet(otherKey))(t)
		parts := strings.Split(a.Token, ".")
		tamperedPayload := strings.Join([]string{parts[0], flip(parts[1]), parts[2]}, ".")
		tamperedSig := strings.Join([]string{parts[0], parts[1], flip(parts[2])}, ".")

		refused := map[string]string{
			"no token":              "",
			"garbage":               "not-a-token",
			"expired":               sign(s.Tokens, now.Add(-token.SessionLifetime-time.Second), a.ID),
			"tampered payload":      tamperedPayload,
			"tampered signature":    tamperedSig,
			"signed by another key": sign(foreign, now, a.ID),
			"unknown user":          sign(s.Tokens, now, strconv.Itoa(id+1)),
			"not a user id":         sign(s.Tokens, now, "alice"),
		}
		// Sessions valid since long ago: only the expiry check can refuse
		// the expired token.
		Must(s.DB.User.UpdateOneID(id).SetSessionsValidAfter(now.Add(-30 * 24 * time.Hour)).Save(ctx))(t)
		for name, tok := range refused {
			_, err := Me(ctx, s.Client(tok), nil, nil)
			if Code(err) != "UNAUTHENTICATED" {
				t.Errorf("%s: want UNAUTHENTICATED, got %v", name, err)
			}
			if name == "expired" && (err == nil || !strings.Contains(err.Error(), "expired")) {
				t.Errorf("expired: the message must say so: %v", err)
			}
		}
		// Not the Bearer scheme.
		resp := s.PostWith(map[string]string{"Authorization": "Basic " + a.Token}, `{"query":"{ me { id } }"}`)
		if code := ResponseCode(t, resp); code != "UNAUTHENTICATED" {
			t.Errorf("Basic scheme: want UNAUTHENTICATED, got %q", code)
		}
		// The real token still works after all that.
		Must(Me(ctx, s.Client(a.Token), nil, nil))(t)
	})
}

func flip(segment string) string {
	b := []byte(segment)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestSignOutEverywhere(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		b := s.SignUp(t, "bob")
		second := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login.Token
		refreshed := Must(RefreshToken(ctx, s.Client(a.Token)))(t).RefreshToken.Token

		if !Must(SignOutEverywhere(ctx, s.Client(second)))(t).SignOutEverywhere {
			t.Fatal("signOutEverywhere returned false")
		}
		for name, tok := range map[string]string{"sign-up token": a.Token, "login token": second, "refreshed token": refreshed} {
			_, err := Me(ctx, s.Client(tok), nil, nil)
			if Code(err) != "UNAUTHENTICATED" {
				t.Errorf("%s after signOutEverywhere: want UNAUTHENTICATED, got %v", name, err)
			}
			_, err = RefreshToken(ctx, s.Client(tok))
			if Code(err) != "UNAUTHENTICATED" {
				t.Errorf("%s cannot be refreshed after signOutEverywhere: got %v", name, err)
			}
		}
		// Other users keep their sessions; signing in again works at once.
		Must(Me(ctx, s.Client(b.Token), nil, nil))(t)
		fresh := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login.Token
		Must(Me(ctx, s.Client(fresh), nil, nil))(t)
	})
}

func TestRestartKeepsAccountsAndTokens(t *testing.T) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			first := Start(t, b)
			a := first.SignUp(t, "alice")
			restarted := Serve(t, first.DB)
			me := Must(Me(ctx, restarted.Client(a.Token), nil, nil))(t).Me
			if me.Username != "alice" {
				t.Fatalf("after restart: %+v", me)
			}
			Must(Login(ctx, restarted.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t)
			if string(first.Tokens.JWKS()) != string(restarted.Tokens.JWKS()) {
				t.Fatal("a restart must keep the signing keys")
			}
		})
	}
}

// Two sign-outs within one millisecond: a token issued between them (its iat
// clamped to the first one's sessionsValidAfter) must end with the second.
func TestSignOutTwiceInOneMillisecond(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		frozen := time.Now()
		deps := s.Deps
		deps.Now = func() time.Time { return frozen }
		s = ServeDeps(t, deps)
		a := s.SignUp(t, "alice")
		Must(SignOutEverywhere(ctx, s.Client(a.Token)))(t)
		between := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login.Token
		Must(Me(ctx, s.Client(between), nil, nil))(t)
		Must(SignOutEverywhere(ctx, s.Client(between)))(t)
		_, err := Me(ctx, s.Client(between), nil, nil)
		WantCode(t, err, "UNAUTHENTICATED")
	})
}

func TestPendingSessionIsRefused(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		now := time.Now()
		pending := s.Client(Must(s.Tokens.IssueSession(token.Session{UserID: a.ID, IssuedAt: now, AuthTime: now, Pending: true}))(t))
		checks := map[string]func() error{
			"me":                func() error { _, err := Me(ctx, pending, nil, nil); return err },
			"apiKeys":           func() error { _, err := ApiKeys(ctx, pending); return err },
			"createApiKey":      func() error { _, err := CreateApiKey(ctx, pending, CreateApiKeyInput{Name: "x"}); return err },
			"refreshToken":      func() error { _, err := RefreshToken(ctx, pending); return err },
			"signOutEverywhere": func() error { _, err := SignOutEverywhere(ctx, pending); return err },
		}
		for name, call := range checks {
			if err := call(); Code(err) != "TWO_FACTOR_REQUIRED" {
				t.Errorf("%s with a pending token: want TWO_FACTOR_REQUIRED, got %v", name, err)
			}
		}
	})
}

func TestNodeHidesOtherUsersObjects(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice := s.SignUp(t, "alice")
		bob := s.SignUp(t, "bob")
		bobOrg := Must(Me(ctx, s.Client(bob.Token), nil, nil))(t).Me.Organizations.Edges[0].Node.Id
		for name, id := range map[string]string{"bob": bob.ID, "bob's organization": bobOrg, "no object": "999999999"} {
			_, err := Node(ctx, s.Client(alice.Token), id)
			if Code(err) != "NOT_FOUND" {
				t.Errorf("node(%s) as alice: want NOT_FOUND, got %v", name, err)
			}
		}
		for _, id := range []string{bob.ID, bobOrg} {
			Must(Node(ctx, s.Client(bob.Token), id))(t)
		}
	})
}

// PostgreSQL rounds timestamps to microseconds: an instant just below a
// millisecond boundary must not push sessionsValidAfter past the iat of the
// token issued with it.
func TestSignUpJustBeforeAMillisecondBoundary(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		edge := time.Now().Truncate(time.Millisecond).Add(time.Millisecond - 300*time.Nanosecond)
		deps := s.Deps
		deps.Now = func() time.Time { return edge }
		s = ServeDeps(t, deps)
		Must(Me(ctx, s.Client(s.SignUp(t, "alice").Token), nil, nil))(t)
	})
}
