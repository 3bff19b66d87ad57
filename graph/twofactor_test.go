package graph_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	pqtotp "github.com/pquerna/otp/totp"

	"fleetgate/ent/ratelimit"
	. "fleetgate/internal/apitest"
	"fleetgate/internal/qrtest"
)

// code computes the authenticator app's code for secret at t, without our
// own TOTP package.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := pqtotp.GenerateCodeCustom(secret, at, pqtotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clock is a server clock the test moves by hand.
type clock struct{ now atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *clock) Set(t time.Time)         { c.now.Store(t.UnixNano()) }
func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }
func newClock(t time.Time) *clock        { c := &clock{}; c.Set(t); return c }

// withClock restarts s's API on the same database with a hand-moved clock.
func withClock(t *testing.T, s *Server, start time.Time) (*Server, *clock) {
	c := newClock(start)
	deps := s.Deps
	deps.Now = c.Now
	return ServeDeps(t, deps), c
}

// enable turns 2FA on for the account and returns the secret, recovery
// codes and the new session token.
func enable(t *testing.T, s *Server, c *clock, token string) (secret string, codes []string, session string) {
	t.Helper()
	setup := Must(BeginTwoFactorSetup(ctx, s.Client(token)))(t).BeginTwoFactorSetup
	got := Must(ConfirmTwoFactorSetup(ctx, s.Client(token), code(t, setup.Secret, c.Now())))(t).ConfirmTwoFactorSetup
	return setup.Secret, got.RecoveryCodes, got.Session.Token
}

func TestTwoFactorPairingLoginVerify(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		s, c := withClock(t, s, time.Now().Truncate(30*time.Second).Add(5*time.Second))

		setup := Must(BeginTwoFactorSetup(ctx, s.Client(a.Token)))(t).BeginTwoFactorSetup
		if !strings.HasPrefix(setup.OtpauthUrl, "otpauth://totp/fleetgate:alice?") || !strings.Contains(setup.OtpauthUrl, "secret="+setup.Secret) ||
			!strings.HasPrefix(setup.QrCodePng, "data:image/png;base64,") || len(setup.Secret) != 32 {
			t.Fatalf("setup %+v", setup)
		}
		// The QR code an app scans is the otpauth URL.
		if text, _ := qrtest.Decode(t, setup.QrCodePng); text != setup.OtpauthUrl {
			t.Fatalf("QR code reads %q, want %q", text, setup.OtpauthUrl)
		}
		// Until confirmed, 2FA is off; a second begin replaces the secret.
		if Must(TwoFactorStatus(ctx, s.Client(a.Token)))(t).Me.TwoFactorEnabled {
			t.Fatal("on before confirmation")
		}
		setup2 := Must(BeginTwoFactorSetup(ctx, s.Client(a.Token)))(t).BeginTwoFactorSetup
		_, err := ConfirmTwoFactorSetup(ctx, s.Client(a.Token), code(t, setup.Secret, c.Now()))
		WantCode(t, err, "BAD_USER_INPUT")
		_, err = ConfirmTwoFactorSetup(ctx, s.Client(a.Token), "12345")
		WantCode(t, err, "BAD_USER_INPUT")

		confirmed := Must(ConfirmTwoFactorSetup(ctx, s.Client(a.Token), code(t, setup2.Secret, c.Now())))(t).ConfirmTwoFactorSetup
		if len(confirmed.RecoveryCodes) != 10 || confirmed.Session == nil {
			t.Fatalf("confirmed %+v", confirmed)
		}
		seen := map[string]bool{}
		for _, rc := range confirmed.RecoveryCodes {
			if len(rc) != 11 || rc[5] != '-' || seen[rc] {
				t.Fatalf("recovery code %q", rc)
			}
			seen[rc] = true
		}
		// The secret is sealed at rest (AES-GCM under SECRET_KEY).
		stored := Must(s.DB.User.Query().Only(ctx))(t).TotpSecret
		if len(stored) == 0 || strings.Contains(string(stored), setup2.Secret) {
			t.Fatalf("stored secret %q", stored)
		}
		// Every other session ended; the returned one works.
		_, err = Me(ctx, s.Client(a.Token), nil, nil)
		WantCode(t, err, "UNAUTHENTICATED")
		status := Must(TwoFactorStatus(ctx, s.Client(confirmed.Session.Token)))(t).Me
		if !status.TwoFactorEnabled || status.RecoveryCodesRemaining != 10 {
			t.Fatalf("status %+v", status)
		}

		// Login now owes the second factor; the pending token is limited.
		c.Advance(30 * time.Second)
		login, err := LoginWithDetails(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password})
		if err != nil || !login.Login.TwoFactorRequired || login.Login.User.Email != nil || !login.Login.User.TwoFactorEnabled {
			t.Fatalf("pending login must hide the email: %+v, %v", login, err)
		}
		p := s.Client(login.Login.Token)
		me := Must(LimitedMe(ctx, p))(t).Me
		if me.Username != "alice" || !me.TwoFactorEnabled {
			t.Fatalf("limited me %+v", me)
		}
		for name, call := range map[string]func() error{
			"me.email":       func() error { _, err := Me(ctx, p, nil, nil); return err },
			"applications":   func() error { _, err := Applications(ctx, p, nil, nil, nil); return err },
			"apiKeys":        func() error { _, err := ApiKeys(ctx, p); return err },
			"refreshToken":   func() error { _, err := RefreshToken(ctx, p); return err },
			"beginSetup":     func() error { _, err := BeginTwoFactorSetup(ctx, p); return err },
			"securityEvents": func() error { _, err := SecurityEvents(ctx, p); return err },
		} {
			if err := call(); Code(err) != "TWO_FACTOR_REQUIRED" {
				t.Errorf("%s with a pending token: %v", name, err)
			}
		}
		_, err = VerifyTwoFactor(ctx, p, VerifyTwoFactorInput{Code: ptr("000000")})
		WantCode(t, err, "BAD_USER_INPUT")
		_, err = VerifyTwoFactor(ctx, p, VerifyTwoFactorInput{})
		WantCode(t, err, "BAD_USER_INPUT")
		full := Must(VerifyTwoFactor(ctx, p, VerifyTwoFactorInput{Code: ptr(code(t, setup2.Secret, c.Now()))}))(t).VerifyTwoFactor
		if full.TwoFactorRequired || full.User.Email == nil {
			t.Fatalf("verified %+v", full)
		}
		Must(Applications(ctx, s.Client(full.Token), nil, nil, nil))(t)
		// A full session cannot verify again; API keys never owe a factor.
		_, err = VerifyTwoFactor(ctx, s.Client(full.Token), VerifyTwoFactorInput{Code: ptr("123456")})
		WantCode(t, err, "BAD_USER_INPUT")
		key := Must(CreateApiKey(ctx, s.Client(full.Token), CreateApiKeyInput{Name: "ci"}))(t).CreateApiKey.Key
		Must(Me(ctx, s.Client(key), nil, nil))(t)
	})
}

func TestTwoFactorReplayAndRecoveryCodes(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		s, c := withClock(t, s, time.Now().Truncate(30*time.Second).Add(5*time.Second))
		secret, codes, _ := enable(t, s, c, a.Token)
		pendingLogin := func() *Account {
			t.Helper()
			login, err := Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password})
			if err != nil || !login.Login.TwoFactorRequired {
				t.Fatalf("login: %+v %v", login, err)
			}
			return &Account{Token: login.Login.Token}
		}
		verify := func(in VerifyTwoFactorInput) error {
			_, err := VerifyTwoFactor(ctx, s.Client(pendingLogin().Token), in)
			return err
		}
		// The code that confirmed the setup is spent: same step refused.
		if err := verify(VerifyTwoFactorInput{Code: ptr(code(t, secret, c.Now()))}); Code(err) != "BAD_USER_INPUT" {
			t.Fatalf("replayed setup code: %v", err)
		}
		c.Advance(30 * time.Second)
		now := code(t, secret, c.Now())
		if err := verify(VerifyTwoFactorInput{Code: &now}); err != nil {
			t.Fatal(err)
		}
		// Replays: the same code, and the previous step's (still within
		// the ±1 skew), are refused.
		WantCode(t, verify(VerifyTwoFactorInput{Code: &now}), "BAD_USER_INPUT")
		WantCode(t, verify(VerifyTwoFactorInput{Code: ptr(code(t, secret, c.Now().Add(-30*time.Second)))}), "BAD_USER_INPUT")

		// Two requests with one fresh code at once: exactly one wins.
		c.Advance(30 * time.Second)
		concurrent := func(in VerifyTwoFactorInput) (wins int) {
			tokens := []string{pendingLogin().Token, pendingLogin().Token, pendingLogin().Token}
			var wg sync.WaitGroup
			var won atomic.Int32
			for _, tok := range tokens {
				wg.Go(func() {
					if _, err := VerifyTwoFactor(ctx, s.Client(tok), in); err == nil {
						won.Add(1)
					}
				})
			}
			wg.Wait()
			return int(won.Load())
		}
		if n := concurrent(VerifyTwoFactorInput{Code: ptr(code(t, secret, c.Now()))}); n != 1 {
			t.Fatalf("%d concurrent verifications of one code succeeded", n)
		}
		if n := concurrent(VerifyTwoFactorInput{RecoveryCode: ptr(strings.ToUpper(codes[0]))}); n != 1 {
			t.Fatalf("%d concurrent redemptions of one recovery code succeeded", n)
		}
		WantCode(t, verify(VerifyTwoFactorInput{RecoveryCode: &codes[0]}), "BAD_USER_INPUT")
		// Without the hyphen is the same code.
		if err := verify(VerifyTwoFactorInput{RecoveryCode: ptr(strings.ReplaceAll(codes[1], "-", ""))}); err != nil {
			t.Fatal(err)
		}
		full := Must(VerifyTwoFactor(ctx, s.Client(pendingLogin().Token), VerifyTwoFactorInput{RecoveryCode: &codes[2]}))(t).VerifyTwoFactor
		if n := Must(TwoFactorStatus(ctx, s.Client(full.Token)))(t).Me.RecoveryCodesRemaining; n != 7 {
			t.Fatalf("%d recovery codes left, want 7", n)
		}
		kinds := map[SecurityEventKind]int{}
		for _, e := range Must(SecurityEvents(ctx, s.Client(full.Token)))(t).Me.SecurityEvents.Edges {
			kinds[e.Node.Kind]++
		}
		if kinds[SecurityEventKindTwoFactorEnabled] != 1 || kinds[SecurityEventKindRecoveryCodeUsed] != 3 {
			t.Fatalf("events %v", kinds)
		}
	})
}

func TestTwoFactorThrottle(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		s, c := withClock(t, s, time.Now().Truncate(30*time.Second).Add(5*time.Second))
		secret, _, _ := enable(t, s, c, a.Token)
		c.Advance(30 * time.Second)
		p := s.Client(Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login.Token)
		wrong := VerifyTwoFactorInput{Code: ptr("000000")}
		for i := range 5 {
			_, err := VerifyTwoFactor(ctx, p, wrong)
			if Code(err) != "BAD_USER_INPUT" {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		// Now throttled, even with the right code; the wait doubles.
		right := VerifyTwoFactorInput{Code: ptr(code(t, secret, c.Now()))}
		_, err := VerifyTwoFactor(ctx, p, right)
		WantCode(t, err, "RATE_LIMITED")
		first := Ext(err, "retryAfter")
		c.Advance(time.Minute)
		_, err = VerifyTwoFactor(ctx, p, wrong)
		WantCode(t, err, "BAD_USER_INPUT")
		_, err = VerifyTwoFactor(ctx, p, wrong)
		WantCode(t, err, "RATE_LIMITED")
		if second := Ext(err, "retryAfter"); len(second) < len(first) || second <= first && len(second) == len(first) {
			t.Fatalf("wait did not grow: %s then %s", first, second)
		}
		// A success resets it (a new login: pending tokens last 10 minutes).
		c.Advance(2 * time.Minute)
		right = VerifyTwoFactorInput{Code: ptr(code(t, secret, c.Now()))}
		Must(VerifyTwoFactor(ctx, p, right))(t)
		for _, row := range Must(s.DB.RateLimit.Query().Where(ratelimit.KeyHasPrefix("2fa:")).All(ctx))(t) {
			if row.Count != 0 || row.BlockedUntil != nil {
				t.Fatalf("2FA throttle after a success: %d failures, blocked until %v", row.Count, row.BlockedUntil)
			}
		}
		p2 := s.Client(Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login.Token)
		_, err = VerifyTwoFactor(ctx, p2, wrong)
		WantCode(t, err, "BAD_USER_INPUT")
	})
}

func TestDisableAndRegenerate(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		s, c := withClock(t, s, time.Now().Truncate(30*time.Second).Add(5*time.Second))
		_, codes, session := enable(t, s, c, a.Token)
		_, err := RegenerateRecoveryCodes(ctx, s.Client(session), "wrong password")
		if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != "password" {
			t.Fatalf("wrong password: %v", err)
		}
		fresh := Must(RegenerateRecoveryCodes(ctx, s.Client(session), Password))(t).RegenerateRecoveryCodes
		if len(fresh.RecoveryCodes) != 10 || fresh.Session != nil || fresh.RecoveryCodes[0] == codes[0] {
			t.Fatalf("regenerated %+v", fresh)
		}
		p := s.Client(Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login.Token)
		_, err = VerifyTwoFactor(ctx, p, VerifyTwoFactorInput{RecoveryCode: &codes[0]})
		WantCode(t, err, "BAD_USER_INPUT") // the old codes are gone

		_, err = DisableTwoFactor(ctx, s.Client(session), "wrong password")
		WantCode(t, err, "BAD_USER_INPUT")
		_, err = DisableTwoFactor(ctx, p, Password) // pending tokens change nothing
		WantCode(t, err, "TWO_FACTOR_REQUIRED")
		Must(DisableTwoFactor(ctx, s.Client(session), Password))(t)
		// The caller's session goes on; a pending login opens nothing any
		// more, and login needs no code.
		Must(Me(ctx, s.Client(session), nil, nil))(t)
		_, err = VerifyTwoFactor(ctx, p, VerifyTwoFactorInput{RecoveryCode: &fresh.RecoveryCodes[0]})
		WantCode(t, err, "BAD_USER_INPUT") // two-factor authentication is not on
		login := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login
		if login.TwoFactorRequired {
			t.Fatal("2FA still on")
		}
		if n := Must(s.DB.RecoveryCode.Query().Count(ctx))(t); n != 0 {
			t.Fatalf("%d recovery codes left after disabling", n)
		}
		events := Must(SecurityEvents(ctx, s.Client(login.Token)))(t).Me.SecurityEvents.Edges
		if events[1].Node.Kind != SecurityEventKindTwoFactorDisabled {
			t.Fatalf("events %+v", events)
		}
	})
}

// TestRegeneratedCodesAreRecordedAndMailed: new recovery codes are a
// security event, and the owner is told by mail.
func TestRegeneratedCodesAreRecordedAndMailed(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		s, box := s.WithMailbox(t)
		s, c := withClock(t, s, time.Now().Truncate(30*time.Second).Add(5*time.Second))
		_, _, session := enable(t, s, c, a.Token)
		Must(RegenerateRecoveryCodes(ctx, s.Client(session), Password))(t)
		events := Must(SecurityEvents(ctx, s.Client(session)))(t).Me.SecurityEvents.Edges
		if len(events) == 0 || events[0].Node.Kind != SecurityEventKindRecoveryCodesRegenerated {
			t.Fatalf("events %+v", events)
		}
		if m := box.Next(); m.To != a.Email || !strings.Contains(m.Subject, "recovery codes") || !strings.Contains(m.Text, "alice") {
			t.Fatalf("notice %+v", m)
		}
		box.Empty()
	})
}

// TestPrivilegedOperationsNeedARecentSignIn: a session (or a stolen token,
// refreshed at will) that signed in long ago cannot pair an authenticator
// or mint an API key.
func TestPrivilegedOperationsNeedARecentSignIn(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		s, c := withClock(t, s, time.Now())
		c.Advance(16 * time.Minute)
		refreshed := Must(RefreshToken(ctx, s.Client(a.Token)))(t).RefreshToken.Token
		for _, tok := range []string{a.Token, refreshed} {
			_, err := BeginTwoFactorSetup(ctx, s.Client(tok))
			WantCode(t, err, "FORBIDDEN")
			_, err = CreateApiKey(ctx, s.Client(tok), CreateApiKeyInput{Name: "k"})
			WantCode(t, err, "FORBIDDEN")
		}
		fresh := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login.Token
		Must(CreateApiKey(ctx, s.Client(fresh), CreateApiKeyInput{Name: "k"}))(t)
		Must(BeginTwoFactorSetup(ctx, s.Client(fresh)))(t)
	})
}

// TestVerifyTwoFactorIsOneOf: VerifyTwoFactorInput is @oneOf. Written in
// the query, both fields or neither fail validation; sent as variables,
// which validation does not see, the resolver refuses them alike.
func TestVerifyTwoFactorIsOneOf(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		s, c := withClock(t, s, time.Now().Truncate(30*time.Second).Add(5*time.Second))
		secret, codes, _ := enable(t, s, c, a.Token)
		c.Advance(30 * time.Second)
		pending := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login.Token

		for _, literal := range []string{`{code: "123456", recoveryCode: "abcde-fghjk"}`, `{}`} {
			r := s.Do(t, pending, `mutation { verifyTwoFactor(input: `+literal+`) { token } }`, nil)
			if len(r.Errors) != 1 || r.Errors[0].Code() != "GRAPHQL_VALIDATION_FAILED" ||
				!strings.Contains(r.Errors[0].Message, `OneOf Input Object "VerifyTwoFactorInput" must specify exactly one key`) {
				t.Errorf("input %s: %+v", literal, r.Errors)
			}
		}
		const byVariables = `mutation($in: VerifyTwoFactorInput!) { verifyTwoFactor(input: $in) { token } }`
		for _, in := range []map[string]any{{"code": code(t, secret, c.Now()), "recoveryCode": codes[0]}, {}} {
			r := s.Do(t, pending, byVariables, map[string]any{"in": in})
			if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "input" ||
				r.Errors[0].Message != "give exactly one of code and recoveryCode" {
				t.Errorf("variables %v: %+v", in, r.Errors)
			}
		}
		// Refused before any code was checked: the recovery code sent works.
		r := s.Do(t, pending, byVariables, map[string]any{"in": map[string]any{"recoveryCode": codes[0]}})
		if len(r.Errors) != 0 {
			t.Fatalf("one field: %+v", r.Errors)
		}
	})
}
