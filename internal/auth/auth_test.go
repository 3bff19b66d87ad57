package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp"
	pqtotp "github.com/pquerna/otp/totp"

	"fleetgate/internal/apitest"
	"fleetgate/internal/auth"
	"fleetgate/internal/fault"
	"fleetgate/internal/ratelimit"
)

const password = apitest.Password

// newCore is an authentication core over s's database, without the
// GraphQL API, on a clock the test moves by hand (TOTP codes change every
// 30 seconds). Each test uses it from one goroutine.
func newCore(s *apitest.Server) (*auth.Service, *time.Time) {
	return newCoreWith(s, auth.SessionLimits{})
}

// newCoreWith is newCore with the given session limits (zero: the defaults).
func newCoreWith(s *apitest.Server, sessions auth.SessionLimits) (*auth.Service, *time.Time) {
	now := time.Now()
	return auth.New(auth.Config{
		DB: s.Deps.DB, Passwords: s.Deps.Passwords, Tokens: s.Deps.Tokens, Log: s.Deps.Log,
		Now: func() time.Time { return now }, PublicURL: "http://fleetgate.test", SecretKey: s.Deps.SecretKey,
		AbuseLimits: auth.AbuseLimits{SignUpsPerIP: ratelimit.Rate{Limit: 1000, Window: time.Hour}}, Sessions: sessions,
	}), &now
}

// as is ctx carrying the credential of sess, as a request would.
func as(core *auth.Service, sess *auth.Session) context.Context {
	return core.WithAuthenticator(context.Background(), "Bearer "+sess.Token)
}

func wantCode(t *testing.T, err error, code fault.Code, field string) {
	t.Helper()
	f, ok := fault.As(err)
	if !ok || f.Code != code || f.Field != field {
		t.Fatalf("want %s on %q, got %#v (%v)", code, field, f, err)
	}
}

// TestPasswordFirstFactor: login goes through the password first factor,
// and a wrong password or an unknown account get the one same answer.
func TestPasswordFirstFactor(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		core, _ := newCore(s)
		ctx := context.Background()
		signedUp, err := core.SignUp(ctx, "alice", "alice@example.com", password)
		if err != nil {
			t.Fatal(err)
		}
		if signedUp.Method != auth.MethodPassword || signedUp.DeviceToken == nil || signedUp.TwoFactorRequired {
			t.Fatalf("signUp: %+v", signedUp)
		}
		for _, name := range []string{"alice", " Alice@Example.com "} {
			sess, err := core.Login(ctx, name, password, nil)
			if err != nil {
				t.Fatalf("login as %q: %v", name, err)
			}
			if sess.Method != auth.MethodPassword || sess.User.Username != "alice" || sess.DeviceToken == nil {
				t.Fatalf("login as %q: %+v", name, sess)
			}
			v, u, err := core.Authenticate(ctx, "Bearer "+sess.Token)
			if err != nil || v.UserID != u.ID || u.Username != "alice" {
				t.Fatalf("authenticate: %v %v %v", v, u, err)
			}
		}
		for _, c := range []struct{ name, password string }{{"alice", "wrong password"}, {"nobody", password}} {
			_, err := core.Login(ctx, c.name, c.password, nil)
			if f, ok := fault.As(err); !ok || f.Code != fault.Unauthenticated || f.Message != "incorrect username, email or password" {
				t.Fatalf("login %q/%q: got %v", c.name, c.password, err)
			}
		}
	})
}

// TestSecondFactors: each second factor completes a pending login once,
// and records how the person signed in.
func TestSecondFactors(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		core, now := newCore(s)
		signedUp, err := core.SignUp(context.Background(), "alice", "alice@example.com", password)
		if err != nil {
			t.Fatal(err)
		}
		setup, err := core.BeginTwoFactorSetup(as(core, signedUp))
		if err != nil {
			t.Fatal(err)
		}
		code := func() *string {
			c, err := pqtotp.GenerateCodeCustom(setup.Secret, *now, pqtotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			if err != nil {
				t.Fatal(err)
			}
			return &c
		}
		recoveryCodes, confirmed, err := core.ConfirmTwoFactorSetup(as(core, signedUp), *code())
		if err != nil {
			t.Fatal(err)
		}
		if confirmed.Method != auth.MethodTOTP || len(recoveryCodes) == 0 {
			t.Fatalf("confirm: %+v, %d codes", confirmed, len(recoveryCodes))
		}
		wrong := "000000"
		if *code() == wrong {
			wrong = "111111"
		}
		for _, c := range []struct {
			name               string
			code, recoveryCode func() *string
			want               auth.Method
			wantErr            fault.Code
			field              string
		}{
			{name: "totp", code: code, want: auth.MethodTOTP},
			{name: "totp code already used", code: code, wantErr: fault.BadUserInput, field: "code"},
			{name: "wrong totp code", code: func() *string { return &wrong }, wantErr: fault.BadUserInput, field: "code"},
			{name: "recovery code", recoveryCode: func() *string { return &recoveryCodes[0] }, want: auth.MethodRecoveryCode},
			{name: "recovery code already used", recoveryCode: func() *string { return &recoveryCodes[0] }, wantErr: fault.BadUserInput, field: "recoveryCode"},
			{name: "both", code: code, recoveryCode: func() *string { return &recoveryCodes[1] }, wantErr: fault.BadUserInput, field: "input"},
			{name: "neither", wantErr: fault.BadUserInput, field: "input"},
		} {
			t.Run(c.name, func(t *testing.T) {
				if c.name == "totp" {
					*now = now.Add(30 * time.Second) // the setup's code is spent
				}
				pending, err := core.Login(context.Background(), "alice", password, nil)
				if err != nil || !pending.TwoFactorRequired || pending.DeviceToken != nil {
					t.Fatalf("login: %+v %v", pending, err)
				}
				var code, recoveryCode *string
				if c.code != nil {
					code = c.code()
				}
				if c.recoveryCode != nil {
					recoveryCode = c.recoveryCode()
				}
				sess, err := core.VerifyTwoFactor(as(core, pending), code, recoveryCode)
				if c.wantErr != "" {
					wantCode(t, err, c.wantErr, c.field)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if sess.Method != c.want || sess.TwoFactorRequired || sess.DeviceToken == nil {
					t.Fatalf("verify: %+v", sess)
				}
			})
		}
	})
}
