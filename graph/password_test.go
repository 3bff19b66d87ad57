package graph_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"fleetgate/ent/organization"
	"fleetgate/ent/outboxmail"
	"fleetgate/ent/securityevent"
	"fleetgate/ent/user"
	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
	"fleetgate/internal/clientip"
	"fleetgate/internal/ratelimit"
)

// linkToken follows the reset link in a mail: the token it carries.
func linkToken(t *testing.T, s *Server, m Mail) string {
	t.Helper()
	return s.LinkToken(t, m, "/password-reset")
}

func TestPasswordResetByMail(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice := s.SignUp(t, "alice")
		s.SignUp(t, "bob")
		s, box := s.WithMailbox(t)
		s, c := withClock(t, s, time.Now())
		anon := s.Client("")

		// Unknown addresses get the same answer and no mail.
		if !Must(RequestPasswordReset(ctx, anon, "nobody@example.com"))(t).RequestPasswordReset {
			t.Fatal("false for an unknown address")
		}
		Must(RequestPasswordReset(ctx, anon, " ALICE@example.com "))(t)
		m := box.Next() // the queue keeps order: nothing came for nobody@
		if m.To != "alice@example.com" || !strings.Contains(m.Subject, "Reset") {
			t.Fatalf("mail %+v", m)
		}
		tok := linkToken(t, s, m)

		// Refusals: a weak password, a made-up token.
		_, err := ResetPassword(ctx, anon, ResetPasswordInput{Token: tok, NewPassword: "alice123"})
		if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != "newPassword" {
			t.Fatalf("weak password: %v", err)
		}
		_, err = ResetPassword(ctx, anon, ResetPasswordInput{Token: strings.Repeat("A", 43), NewPassword: "a brand new passphrase"})
		WantCode(t, err, "BAD_USER_INPUT")

		Must(ResetPassword(ctx, anon, ResetPasswordInput{Token: tok, NewPassword: "a brand new passphrase"}))(t)
		if m := box.Next(); m.To != "alice@example.com" || !strings.Contains(m.Subject, "was reset") {
			t.Fatalf("notice %+v", m)
		}
		// Every session ended; the link is spent; the new password works.
		_, err = Me(ctx, s.Client(alice.Token), nil, nil)
		WantCode(t, err, "UNAUTHENTICATED")
		_, err = ResetPassword(ctx, anon, ResetPasswordInput{Token: tok, NewPassword: "yet another passphrase"})
		WantCode(t, err, "BAD_USER_INPUT")
		_, err = Login(ctx, anon, LoginInput{UsernameOrEmail: "alice", Password: Password})
		WantCode(t, err, "UNAUTHENTICATED")
		Must(Login(ctx, anon, LoginInput{UsernameOrEmail: "alice", Password: "a brand new passphrase"}))(t)
		if n := Must(s.DB.SecurityEvent.Query().Where(securityevent.KindEQ(securityevent.KindPASSWORD_RESET)).Count(ctx))(t); n != 1 {
			t.Fatalf("%d PASSWORD_RESET events", n)
		}

		// A newer link replaces an older one; links expire after an hour.
		Must(RequestPasswordReset(ctx, anon, "bob@example.com"))(t)
		older := linkToken(t, s, box.Next())
		Must(RequestPasswordReset(ctx, anon, "bob@example.com"))(t)
		newer := linkToken(t, s, box.Next())
		_, err = ResetPassword(ctx, anon, ResetPasswordInput{Token: older, NewPassword: "bobs new passphrase"})
		WantCode(t, err, "BAD_USER_INPUT")
		c.Advance(61 * time.Minute)
		_, err = ResetPassword(ctx, anon, ResetPasswordInput{Token: newer, NewPassword: "bobs new passphrase"})
		WantCode(t, err, "BAD_USER_INPUT")
		// alice's link is not bob's: a token belongs to its account only.
		Must(RequestPasswordReset(ctx, anon, "alice@example.com"))(t)
		aliceTok := linkToken(t, s, box.Next())
		Must(ResetPassword(ctx, anon, ResetPasswordInput{Token: aliceTok, NewPassword: "bobs new passphrase"}))(t)
		box.Next()
		_, err = Login(ctx, anon, LoginInput{UsernameOrEmail: "bob", Password: "bobs new passphrase"})
		WantCode(t, err, "UNAUTHENTICATED")

		// Per address: three mails an hour.
		for range 3 {
			Must(RequestPasswordReset(ctx, anon, "bob@example.com"))(t)
		}
		_, err = RequestPasswordReset(ctx, anon, "bob@example.com")
		if Code(err) != "RATE_LIMITED" || Ext(err, "retryAfter") == "" {
			t.Fatalf("fourth mail within the hour: %v", err)
		}
		box.Next()
		box.Next()
		box.Next()
		box.Empty()
	})
}

// TestResetLimitKeysHoldNoAddress: the per-address limit of reset mails is
// kept under a digest, for addresses with an account and without, as are
// the login limits of a name.
func TestResetLimitKeysHoldNoAddress(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s.SignUp(t, "alice")
		anon := s.Client("")
		addresses := []string{"alice@example.com", "nobody@example.com"}
		for _, address := range addresses {
			Must(RequestPasswordReset(ctx, anon, address))(t)
			_, err := Login(ctx, anon, LoginInput{UsernameOrEmail: address, Password: "wrong password"})
			WantCode(t, err, "UNAUTHENTICATED")
		}
		rows := Must(s.DB.RateLimit.Query().All(ctx))(t)
		if len(rows) == 0 {
			t.Fatal("no rate limits stored")
		}
		for _, r := range rows {
			if strings.Contains(r.Key, "example.com") {
				t.Errorf("rate-limit key %q holds an address", r.Key)
			}
		}
	})
}

// TestResetKeepsTwoFactor: a reset password does not turn 2FA off or let
// a login past it.
func TestResetKeepsTwoFactor(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice := s.SignUp(t, "alice")
		s, box := s.WithMailbox(t)
		s, c := withClock(t, s, time.Now().Truncate(30*time.Second).Add(5*time.Second))
		enable(t, s, c, alice.Token)
		Must(RequestPasswordReset(ctx, s.Client(""), "alice@example.com"))(t)
		tok := linkToken(t, s, box.Next())
		Must(ResetPassword(ctx, s.Client(""), ResetPasswordInput{Token: tok, NewPassword: "a brand new passphrase"}))(t)
		login := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: "a brand new passphrase"}))(t).Login
		if !login.TwoFactorRequired {
			t.Fatal("a reset password let the login past two-factor authentication")
		}
		_, err := Applications(ctx, s.Client(login.Token), nil, nil, nil)
		WantCode(t, err, "TWO_FACTOR_REQUIRED")
	})
}

func TestChangeAndSetPassword(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice := s.SignUp(t, "alice")
		s, box := s.WithMailbox(t)
		other := Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "alice", Password: Password}))(t).Login.Token
		c := s.Client(alice.Token)

		_, err := ChangePassword(ctx, c, ChangePasswordInput{CurrentPassword: "wrong", NewPassword: "a brand new passphrase"})
		if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != "currentPassword" {
			t.Fatalf("wrong current password: %v", err)
		}
		_, err = ChangePassword(ctx, c, ChangePasswordInput{CurrentPassword: Password, NewPassword: "password"})
		if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != "newPassword" {
			t.Fatalf("common new password: %v", err)
		}
		changed := Must(ChangePassword(ctx, c, ChangePasswordInput{CurrentPassword: Password, NewPassword: "a brand new passphrase"}))(t).ChangePassword
		for _, old := range []string{alice.Token, other} {
			_, err := Me(ctx, s.Client(old), nil, nil)
			WantCode(t, err, "UNAUTHENTICATED")
		}
		Must(Me(ctx, s.Client(changed.Token), nil, nil))(t)
		if m := box.Next(); m.To != "alice@example.com" || !strings.Contains(m.Subject, "changed") {
			t.Fatalf("notice %+v", m)
		}
		// setPassword is for accounts without one only.
		_, err = SetPassword(ctx, s.Client(changed.Token), SetPasswordInput{NewPassword: "another passphrase"})
		if Code(err) != "BAD_USER_INPUT" || !strings.Contains(err.Error(), "changePassword") {
			t.Fatalf("setPassword with a password: %v", err)
		}
		// An account from social login has no password.
		social := s.SignUp(t, "carol")
		Must(s.DB.User.Update().Where(user.Username("carol")).SetPasswordHash("").Save(ctx))(t)
		_, err = DeleteAccount(ctx, s.Client(social.Token), "anything")
		WantCode(t, err, "PASSWORD_REQUIRED")
		_, err = ChangePassword(ctx, s.Client(social.Token), ChangePasswordInput{CurrentPassword: "", NewPassword: "a passphrase of her own"})
		WantCode(t, err, "PASSWORD_REQUIRED")
		set := Must(SetPassword(ctx, s.Client(social.Token), SetPasswordInput{NewPassword: "a passphrase of her own"}))(t).SetPassword
		if !set.HasPassword {
			t.Fatal("no password after setPassword")
		}
		Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "carol", Password: "a passphrase of her own"}))(t)
	})
}

func TestDeleteAccount(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f") // f_administrator alone administers f_org
		s, _ = s.WithMailbox(t) // mail through the outbox, which the deletion empties of theirs
		admin := f.Users[access.Administrator]
		ac := s.Client(admin.Token)
		// Something of everything under f_org, and a shared organization
		// with another administrator, which must survive.
		dev := Must(RegisterDevice(ctx, ac, RegisterDeviceInput{ApplicationId: f.AppID, Name: "d"}))(t).RegisterDevice
		Must(SetDeviceTag(ctx, ac, SetDeviceTagInput{DeviceId: dev.Id, Key: "k", Value: "v"}))(t)
		Must(CreateApiKey(ctx, ac, CreateApiKeyInput{Name: "k"}))(t)
		shared := Must(CreateOrganization(ctx, ac, CreateOrganizationInput{Name: "Shared", Handle: "shared"}))(t).CreateOrganization
		Must(AddOrganizationMember(ctx, ac, AddOrganizationMemberInput{OrganizationId: shared.Id, UsernameOrEmail: f.Users[access.Developer].Username, Role: OrganizationRoleAdministrator}))(t)
		Must(CreateApplication(ctx, ac, CreateApplicationInput{OrganizationId: shared.Id, Name: "kept", Type: ApplicationTypeStarter}))(t)

		count := func() map[string]int {
			return map[string]int{
				"users": Must(s.DB.User.Query().Count(ctx))(t), "orgs": Must(s.DB.Organization.Query().Count(ctx))(t),
				"orgMembers": Must(s.DB.OrganizationMembership.Query().Count(ctx))(t), "apps": Must(s.DB.Application.Query().Count(ctx))(t),
				"appMembers": Must(s.DB.ApplicationMembership.Query().Count(ctx))(t), "devices": Must(s.DB.Device.Query().Count(ctx))(t),
				"tags": Must(s.DB.DeviceTag.Query().Count(ctx))(t), "keys": Must(s.DB.ApiKey.Query().Count(ctx))(t),
				"knownEmails": Must(s.DB.KnownEmail.Query().Count(ctx))(t),
				"theirMail":   Must(s.DB.OutboxMail.Query().Where(outboxmail.Recipient(admin.Email)).Count(ctx))(t),
			}
		}
		before := count()
		if before["theirMail"] == 0 {
			t.Fatal("no mail to the account in the outbox (the new key's notice)")
		}
		_, err := DeleteAccount(ctx, ac, "wrong password")
		if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != "password" {
			t.Fatalf("wrong password: %v", err)
		}
		if got := count(); !equalCounts(got, before) {
			t.Fatalf("a refused delete changed %v to %v", before, got)
		}
		Must(DeleteAccount(ctx, ac, Password))(t)
		after := count()
		// Gone: the user, their personal organization and f_org (with its
		// application, 3 memberships, device and tag), their 3
		// organization memberships, their key, their knowing the developer's
		// address. The shared organization and its application stay.
		want := map[string]int{"users": before["users"] - 1, "orgs": before["orgs"] - 2, "orgMembers": before["orgMembers"] - 3,
			"apps": before["apps"] - 1, "appMembers": before["appMembers"] - 3, "devices": 0, "tags": 0, "keys": before["keys"] - 1,
			"knownEmails": 0, "theirMail": 0}
		if !equalCounts(after, want) {
			t.Fatalf("after delete %v, want %v (before %v)", after, want, before)
		}
		if !Must(s.DB.Organization.Query().Where(organization.Handle("shared")).Exist(ctx))(t) {
			t.Fatal("an organization with another administrator was deleted")
		}
		_, err = Me(ctx, ac, nil, nil)
		WantCode(t, err, "UNAUTHENTICATED")
		// The username and email are free again.
		s.SignUp(t, admin.Username)
	})
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

func TestExportMyData(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f")
		dev := f.Users[access.Developer]
		dc := s.Client(dev.Token)
		key := Must(CreateApiKey(ctx, dc, CreateApiKeyInput{Name: "ci key"}))(t).CreateApiKey.Key
		Must(CreateRelease(ctx, dc, CreateReleaseInput{ApplicationId: f.AppID, Commit: "abcdef1"}))(t)
		raw := Must(ExportMyData(ctx, dc))(t).ExportMyData
		var doc struct {
			Account struct {
				Username, Email string
				HasPassword     bool
			}
			Organizations, Applications []struct{ Name, Role string }
			APIKeys                     []struct{ Name string }
			SecurityEvents              []struct{ Kind string }
			Requested                   []struct{ Kind, What string }
		}
		if err := json.Unmarshal([]byte(raw), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Account.Username != dev.Username || doc.Account.Email != dev.Email || !doc.Account.HasPassword ||
			len(doc.Organizations) != 1 || len(doc.Applications) != 1 || doc.Applications[0].Name != f.Slug ||
			doc.Applications[0].Role != "DEVELOPER" || len(doc.APIKeys) != 1 || doc.APIKeys[0].Name != "ci key" ||
			len(doc.SecurityEvents) < 2 || len(doc.Requested) != 1 || doc.Requested[0].What != "abcdef1" {
			t.Fatalf("export %s", raw)
		}
		u := Must(s.DB.User.Query().Where(user.Username(dev.Username)).Only(ctx))(t)
		for _, secret := range []string{u.PasswordHash, "argon2", key, key[:20]} {
			if strings.Contains(raw, secret) {
				t.Fatalf("export contains a secret (%q)", secret)
			}
		}
	})
}

func TestLoginThrottleAndFailedSignIns(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice := s.SignUp(t, "alice")
		for _, name := range []string{"alice", "nobody"} {
			for i := range 5 {
				_, err := Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: name, Password: "wrong password"})
				if Code(err) != "UNAUTHENTICATED" {
					t.Fatalf("%s failure %d: %v", name, i+1, err)
				}
			}
			// The 6th failure blocks the name, known or not: even the
			// right password waits.
			Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: name, Password: "wrong password"})
			_, err := Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: name, Password: Password})
			if Code(err) != "RATE_LIMITED" || Ext(err, "retryAfter") == "" {
				t.Fatalf("%s after 6 failures: %v", name, err)
			}
		}
		// Other names are not blocked.
		s.SignUp(t, "bob")
		Must(Login(ctx, s.Client(""), LoginInput{UsernameOrEmail: "bob", Password: Password}))(t)
		events := Must(SecurityEvents(ctx, s.Client(alice.Token)))(t).Me.SecurityEvents.Edges
		failed := 0
		for _, e := range events {
			if e.Node.Kind == SecurityEventKindSignInFailed {
				failed++
			}
		}
		if failed != 6 {
			t.Fatalf("%d failed sign-ins recorded, want 6", failed)
		}
	})
}

func TestSignUpsPerClientAddress(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		deps := s.Deps
		deps.SignUpsPerIP = ratelimit.Rate{Limit: 2, Window: time.Hour}
		deps.ClientIPs = Must(clientip.Parse("127.0.0.1"))(t) // the test client poses as a proxy
		s = ServeDeps(t, deps)
		signUp := func(name, from string) string {
			body := `{"query":"mutation { signUp(input: {username: \"` + name + `\", email: \"` + name + `@example.com\", password: \"correct horse battery staple\"}) { token } }"}`
			return ResponseCode(t, s.PostWith(map[string]string{"X-Forwarded-For": from}, body))
		}
		if signUp("user1", "198.51.100.1") != "" || signUp("user2", "198.51.100.1") != "" {
			t.Fatal("refused within the limit")
		}
		if code := signUp("user3", "198.51.100.1"); code != "RATE_LIMITED" {
			t.Fatalf("third sign-up from one address: %q", code)
		}
		if code := signUp("user3", "198.51.100.2"); code != "" {
			t.Fatalf("another address: %q", code)
		}
	})
}

// TestSecurityNotices: the owner hears by mail of a new API key and of
// two-factor authentication turned off.
func TestSecurityNotices(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice := s.SignUp(t, "alice")
		s, box := s.WithMailbox(t)
		s, c := withClock(t, s, time.Now().Truncate(30*time.Second).Add(5*time.Second))
		Must(CreateApiKey(ctx, s.Client(alice.Token), CreateApiKeyInput{Name: "deploy bot"}))(t)
		if m := box.Next(); m.To != "alice@example.com" || !strings.Contains(m.Text, `"deploy bot"`) {
			t.Fatalf("API key notice %+v", m)
		}
		_, _, session := enable(t, s, c, alice.Token)
		Must(DisableTwoFactor(ctx, s.Client(session), Password))(t)
		if m := box.Next(); m.To != "alice@example.com" || !strings.Contains(m.Subject, "Two-factor authentication was turned off") {
			t.Fatalf("2FA notice %+v", m)
		}
		box.Empty()
	})
}

// TestStrangerCannotLockOwnerOut: wrong guesses from one address block that
// address's attempts on the name, not the owner's from elsewhere.
func TestStrangerCannotLockOwnerOut(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s.SignUp(t, "alice")
		deps := s.Deps
		deps.ClientIPs = Must(clientip.Parse("127.0.0.1"))(t) // the test client poses as a proxy
		s = ServeDeps(t, deps)
		login := func(password, from string) string {
			body := `{"query":"mutation { login(input: {usernameOrEmail: \"alice\", password: \"` + password + `\"}) { token } }"}`
			return ResponseCode(t, s.PostWith(map[string]string{"X-Forwarded-For": from}, body))
		}
		for range 6 {
			login("wrong password", "203.0.113.9")
		}
		if code := login(Password, "203.0.113.9"); code != "RATE_LIMITED" {
			t.Fatalf("the guessing address: %q", code)
		}
		if code := login(Password, "198.51.100.4"); code != "" {
			t.Fatalf("the owner elsewhere: %q", code)
		}
	})
}
