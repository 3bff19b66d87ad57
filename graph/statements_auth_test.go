package graph_test

import (
	"testing"

	. "fleetgate/internal/apitest"
)

// TestAuthenticationStatements pins what signing in costs the database
// (README "Performance"): me with an API key or a session token is one
// statement, the credential's check and the row me answers with together
// (a session token's session row with its user); a login is at most 8 once
// its rate-limit rows exist.
func TestAuthenticationStatements(t *testing.T) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			s, statements := StartCounting(t, b)
			alice := s.SignUp(t, "alice")
			key := Must(CreateApiKey(ctx, s.Client(alice.Token), CreateApiKeyInput{Name: "script"}))(t).CreateApiKey.Key
			Must(MeIdentity(ctx, s.Client(key)))(t) // the key's first use is recorded: a write

			for name, credential := range map[string]string{"API key": key, "session token": alice.Token} {
				statements.Reset()
				me := Must(MeIdentity(ctx, s.Client(credential)))(t).Me
				if me.Username != "alice" || me.Id != alice.ID {
					t.Fatalf("%s: me is %+v", name, me)
				}
				if n := statements.Count(); n != 1 {
					t.Errorf("me with a %s ran %d statements, want 1", name, n)
				}
			}

			login := func() int64 {
				statements.Reset()
				Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t)
				return statements.Count()
			}
			first := login() // creates the address's and the name's rows
			if n := login(); n > 8 {
				t.Errorf("a login ran %d statements, want at most 8 (the first one: %d)", n, first)
			}
		})
	}
}
