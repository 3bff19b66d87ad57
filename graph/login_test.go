package graph_test

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fleetgate/ent/user"
	. "fleetgate/internal/apitest"
	"fleetgate/internal/clientip"
	"fleetgate/internal/token"
)

// behindProxy restarts s's API trusting the test client as a proxy, so
// that ClientFrom sets the client address.
func behindProxy(t *testing.T, s *Server) *Server {
	deps := s.Deps
	deps.ClientIPs = Must(clientip.Parse("127.0.0.1"))(t)
	return ServeDeps(t, deps)
}

// loginCode logs in and returns the error code ("" on success) and the
// answer's device token ("" if none).
func loginCode(t *testing.T, s *Server, from, name, password, device string) (code, deviceToken string) {
	t.Helper()
	in := LoginInput{UsernameOrEmail: name, Password: password}
	if device != "" {
		in.DeviceToken = &device
	}
	resp, err := Login(ctx, s.ClientFrom("", from), in)
	if err != nil {
		if Code(err) == "" {
			t.Fatalf("login %s from %s: %v", name, from, err)
		}
		return Code(err), ""
	}
	if resp.Login.DeviceToken != nil {
		deviceToken = *resp.Login.DeviceToken
	}
	return "", deviceToken
}

// TestLoginBurstFromOneAddress: a burst of concurrent logins with distinct
// names from one address gets no more password checks than the address's
// limit allows: each attempt is counted before its password is hashed.
func TestLoginBurstFromOneAddress(t *testing.T) {
	const n = 120
	Run(t, func(t *testing.T, s *Server) {
		start := make(chan struct{})
		var unauthenticated, limited atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, err := Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: fmt.Sprintf("nobody%03d", i), Password: "wrong password"})
				switch Code(err) {
				case "UNAUTHENTICATED":
					unauthenticated.Add(1)
				case "RATE_LIMITED":
					limited.Add(1)
				default:
					t.Errorf("login %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		// 50 free failures, and the 51st, which blocks the address.
		if unauthenticated.Load() != 51 || limited.Load() != n-51 {
			t.Fatalf("%d passwords checked, %d refused of %d; want 51 checked", unauthenticated.Load(), limited.Load(), n)
		}
	})
}

// TestOwnSuccessesDoNotClearTheAddress: successes from an address are not
// failures, however many; but signing in to an account of one's own
// between guesses does not clear the address's failures either.
func TestOwnSuccessesDoNotClearTheAddress(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s.SignUp(t, "mallory")
		for i := range 60 {
			if code, _ := loginCode(t, s, "", "mallory", Password, ""); code != "" {
				t.Fatalf("success %d: %s", i+1, code)
			}
		}
		guess := func(i int) string {
			code, _ := loginCode(t, s, "", fmt.Sprintf("nobody%02d", i), "wrong password", "")
			return code
		}
		for i := range 50 {
			if code := guess(i); code != "UNAUTHENTICATED" {
				t.Fatalf("guess %d: %s", i+1, code)
			}
			if code, _ := loginCode(t, s, "", "mallory", Password, ""); code != "" {
				t.Fatalf("own login after guess %d: %s", i+1, code)
			}
		}
		if code := guess(50); code != "UNAUTHENTICATED" { // the 51st failure blocks the address
			t.Fatalf("guess 51: %s", code)
		}
		for _, name := range []string{"nobody99", "mallory"} {
			if code, _ := loginCode(t, s, "", name, Password, ""); code != "RATE_LIMITED" {
				t.Fatalf("%s after 51 failures from the address: %q", name, code)
			}
		}
	})
}

// TestDeviceTokenBeatsLockout: wrong passwords for alice from many
// addresses block her name, but not a client she has signed in on before.
func TestDeviceTokenBeatsLockout(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice := s.SignUp(t, "alice")
		bob := Must(SignUp(ctx, s.Client(""), SignUpInput{Username: "bob", Email: "bob@example.com", Password: Password}))(t).SignUp
		if bob.DeviceToken == nil {
			t.Fatal("sign-up handed out no device token")
		}
		s = behindProxy(t, s)
		code, home := loginCode(t, s, "198.51.100.1", "alice", Password, "")
		if code != "" || home == "" {
			t.Fatalf("login at home: %q, device token %q", code, home)
		}

		// The attack: one wrong password from each of 51 addresses.
		for i := 1; i <= 51; i++ {
			if code, _ := loginCode(t, s, "203.0.113."+strconv.Itoa(i), "alice", "wrong password", ""); code != "UNAUTHENTICATED" {
				t.Fatalf("guess %d: %q", i, code)
			}
		}
		if code, _ := loginCode(t, s, "192.0.2.1", "alice", Password, ""); code != "RATE_LIMITED" {
			t.Fatalf("without a device token the ceiling holds: %q", code)
		}

		// Signed-in before: let in, from anywhere, with a fresh token.
		code, fresh := loginCode(t, s, "203.0.113.1", "alice", Password, home)
		if code != "" || fresh == "" || fresh == home {
			t.Fatalf("owner with a device token: %q, new token %v", code, fresh != home)
		}

		// What is not a device token of alice's counts as none.
		aliceID := Must(s.DB.User.Query().Where(user.Username("alice")).OnlyID(ctx))(t)
		expired, _, err := s.Tokens.IssueDevice(strconv.Itoa(aliceID), time.Now().Add(-token.DeviceLifetime-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		tampered := []byte(fresh)
		tampered[len(tampered)-2] ^= 1
		for name, device := range map[string]string{
			"bob's":     *bob.DeviceToken,
			"tampered":  string(tampered),
			"expired":   expired,
			"a session": alice.Token,
			"garbage":   "not a token",
		} {
			if code, _ := loginCode(t, s, "192.0.2.2", "alice", Password, device); code != "RATE_LIMITED" {
				t.Errorf("with %s device token: %q, want the ceiling", name, code)
			}
		}
		// Nor is a device token a credential.
		_, err = Me(ctx, s.Client(fresh), nil, nil)
		WantCode(t, err, "UNAUTHENTICATED")

		// A device token's own failures are limited: 5 free, the 6th
		// blocks it, even for the right password. Other tokens go on.
		for i := range 6 {
			if code, _ := loginCode(t, s, "192.0.2."+strconv.Itoa(10+i), "alice", "wrong password", fresh); code != "UNAUTHENTICATED" {
				t.Fatalf("wrong password %d with a device token: %q", i+1, code)
			}
		}
		if code, _ := loginCode(t, s, "198.51.100.1", "alice", Password, fresh); code != "RATE_LIMITED" {
			t.Fatalf("device token after 6 failures: %q", code)
		}
		if code, _ := loginCode(t, s, "198.51.100.1", "alice", Password, home); code != "" {
			t.Fatalf("another device token of alice's: %q", code)
		}
	})
}

// TestDeviceTokenAfterSecondFactor: with two-factor authentication on, the
// device token comes with the full session, not with the password alone,
// and it lets the owner past a blocked name to the second factor.
func TestDeviceTokenAfterSecondFactor(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		s, c := withClock(t, behindProxy(t, s), time.Now().Truncate(30*time.Second).Add(5*time.Second))
		secret, _, _ := enable(t, s, c, a.Token)

		pending := Must(Login(ctx, s.ClientFrom("", "198.51.100.1"), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login
		if !pending.TwoFactorRequired || pending.DeviceToken != nil {
			t.Fatalf("pending login %+v", pending)
		}
		c.Advance(30 * time.Second)
		full := Must(VerifyTwoFactor(ctx, s.Client(pending.Token), VerifyTwoFactorInput{Code: ptr(code(t, secret, c.Now()))}))(t).VerifyTwoFactor
		if full.DeviceToken == nil {
			t.Fatal("verifyTwoFactor handed out no device token")
		}

		for i := 1; i <= 51; i++ {
			loginCode(t, s, "203.0.113."+strconv.Itoa(i), "alice", "wrong password", "")
		}
		if code, _ := loginCode(t, s, "192.0.2.1", "alice", Password, ""); code != "RATE_LIMITED" {
			t.Fatalf("without a device token: %q", code)
		}
		again := Must(Login(ctx, s.ClientFrom("", "192.0.2.1"), LoginInput{UsernameOrEmail: "alice", Password: Password, DeviceToken: full.DeviceToken}))(t).Login
		if !again.TwoFactorRequired || again.DeviceToken != nil {
			t.Fatalf("login with a device token %+v", again)
		}
	})
}
