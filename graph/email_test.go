package graph_test

import (
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
	"time"

	. "fleetgate/internal/apitest"
)

// verifyLink is the token of the verification link m carries, to want.
func verifyLink(t *testing.T, s *Server, m Mail, want string) string {
	t.Helper()
	if m.To != want {
		t.Fatalf("mail to %s, want %s: %+v", m.To, want, m)
	}
	return s.LinkToken(t, m, "/verify-email")
}

// eventsOf is the caller's security events, newest first, as kind: detail.
func eventsOf(t *testing.T, s *Server, token string) []string {
	t.Helper()
	var out []string
	for _, e := range Must(SecurityEvents(ctx, s.Client(token)))(t).Me.SecurityEvents.Edges {
		out = append(out, string(e.Node.Kind)+": "+e.Node.Detail)
	}
	return out
}

func TestEmailVerification(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s, box := s.WithMailbox(t)
		s, c := withClock(t, s, time.Now())
		anon := s.Client("")
		alice := s.SignUp(t, "alice")
		ac := s.Client(alice.Token)
		first := verifyLink(t, s, box.Next(), alice.Email)
		if me := Must(MyEmail(ctx, ac))(t).Me; me.EmailVerified || deref(me.Email) != alice.Email {
			t.Fatalf("after sign-up: %+v", me)
		}

		// Made-up, tampered, empty and oversized tokens are refused alike.
		flipped := []byte(first)
		flipped[0] ^= 1
		for _, tok := range []string{strings.Repeat("A", 43), string(flipped), "", strings.Repeat("x", 10000)} {
			_, err := VerifyEmail(ctx, anon, tok)
			if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != "token" {
				t.Fatalf("token %.10q: %v", tok, err)
			}
		}

		// A new link replaces the old one.
		Must(ResendVerificationEmail(ctx, ac))(t)
		second := verifyLink(t, s, box.Next(), alice.Email)
		_, err := VerifyEmail(ctx, anon, first)
		WantCode(t, err, "BAD_USER_INPUT")
		// A link lasts 24 hours.
		c.Advance(24*time.Hour + time.Second)
		_, err = VerifyEmail(ctx, anon, second)
		WantCode(t, err, "BAD_USER_INPUT")
		Must(ResendVerificationEmail(ctx, ac))(t)
		third := verifyLink(t, s, box.Next(), alice.Email)
		c.Advance(24*time.Hour - time.Second)

		// Following it needs no credential; the answer shows no private field.
		if got := Must(VerifyEmail(ctx, anon, third))(t).VerifyEmail; got.Id != alice.ID {
			t.Fatalf("verified %+v", got)
		}
		_, err = VerifyEmail(ctx, anon, third) // once
		WantCode(t, err, "BAD_USER_INPUT")
		if me := Must(MyEmail(ctx, ac))(t).Me; !me.EmailVerified {
			t.Fatalf("after the link: %+v", me)
		}
		if ev := eventsOf(t, s, alice.Token); len(ev) == 0 || ev[0] != "EMAIL_VERIFIED: "+alice.Email {
			t.Fatalf("events %q", ev)
		}
		_, err = ResendVerificationEmail(ctx, ac)
		WantCode(t, err, "CONFLICT")

		// Another session following bob's link verifies bob, and sees
		// neither his address nor whether it is verified.
		bob := s.SignUp(t, "bob")
		bobLink := verifyLink(t, s, box.Next(), bob.Email)
		got, err := VerifyOwnEmail(ctx, ac, bobLink)
		if Code(err) != "FORBIDDEN" || got == nil || got.VerifyEmail.Email != nil {
			t.Fatalf("alice follows bob's link: %+v, %v", got, err)
		}
		if me := Must(MyEmail(ctx, s.Client(bob.Token)))(t).Me; !me.EmailVerified {
			t.Fatalf("bob after the link: %+v", me)
		}

		// Resending needs a session, and is limited per account.
		carol := s.SignUp(t, "carol")
		verifyLink(t, s, box.Next(), carol.Email)
		key := Must(CreateApiKey(ctx, s.Client(carol.Token), CreateApiKeyInput{Name: "ci"}))(t).CreateApiKey.Key
		box.Next() // the key's notice
		_, err = ResendVerificationEmail(ctx, s.Client(key))
		WantCode(t, err, "FORBIDDEN")
		_, err = ResendVerificationEmail(ctx, anon)
		WantCode(t, err, "UNAUTHENTICATED")
		for range 5 {
			Must(ResendVerificationEmail(ctx, s.Client(carol.Token)))(t)
			verifyLink(t, s, box.Next(), carol.Email)
		}
		_, err = ResendVerificationEmail(ctx, s.Client(carol.Token))
		WantCode(t, err, "RATE_LIMITED")
		box.Empty()
	})
}

// TestMembersByVerifiedAddress: an unverified address may belong to
// somebody else, so nobody is added by one (nor learns that it has an
// account).
func TestMembersByVerifiedAddress(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s, box := s.WithMailbox(t)
		alice := s.SignUp(t, "alice")
		verifyLink(t, s, box.Next(), alice.Email)
		bob := s.SignUp(t, "bob")
		bobLink := verifyLink(t, s, box.Next(), bob.Email)
		ac := s.Client(alice.Token)
		org := Must(Organization(ctx, ac, "alice"))(t).Organization.Id
		add := AddOrganizationMemberInput{OrganizationId: org, UsernameOrEmail: bob.Email, Role: OrganizationRoleMember}
		_, err := AddOrganizationMemberEmail(ctx, ac, add)
		WantCode(t, err, "NOT_FOUND")
		if !strings.Contains(err.Error(), "verified email address") {
			t.Errorf("unverified: %v", err)
		}
		Must(VerifyEmail(ctx, s.Client(""), bobLink))(t)
		if m := Must(AddOrganizationMemberEmail(ctx, ac, add))(t).AddOrganizationMember; deref(m.User.Email) != bob.Email {
			t.Fatalf("added %+v", m)
		}
	})
}

func TestChangeEmail(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s, box := s.WithMailbox(t)
		anon := s.Client("")
		alice := s.SignUp(t, "alice")
		Must(VerifyEmail(ctx, anon, verifyLink(t, s, box.Next(), alice.Email)))(t)
		bob := s.SignUp(t, "bob")
		verifyLink(t, s, box.Next(), bob.Email)
		ac := s.Client(alice.Token)
		change := func(c Account, address, password string) error {
			_, err := ChangeEmail(ctx, s.Client(c.Token), ChangeEmailInput{NewEmail: address, Password: password})
			return err
		}

		for _, bad := range []struct{ address, password, code, field string }{
			{"alice.new@example.com", "wrong password", "BAD_USER_INPUT", "password"},
			{" ALICE@example.com ", Password, "BAD_USER_INPUT", "newEmail"},
			{"not an address", Password, "BAD_USER_INPUT", "newEmail"},
			{strings.Repeat("a", 250) + "@example.com", Password, "BAD_USER_INPUT", "newEmail"},
			{bob.Email, Password, "CONFLICT", "newEmail"},
		} {
			if err := change(alice, bad.address, bad.password); Code(err) != bad.code || Ext(err, "field") != bad.field {
				t.Errorf("%q: %v, want %s on %s", bad.address, err, bad.code, bad.field)
			}
		}
		_, err := ChangeEmail(ctx, anon, ChangeEmailInput{NewEmail: "x@example.com", Password: Password})
		WantCode(t, err, "UNAUTHENTICATED")

		// bob adds alice by her address, and so sees it; she has a reset
		// link pending.
		bobOrg := Must(Organization(ctx, s.Client(bob.Token), "bob"))(t).Organization.Id
		Must(AddOrganizationMemberEmail(ctx, s.Client(bob.Token), AddOrganizationMemberInput{OrganizationId: bobOrg, UsernameOrEmail: alice.Email, Role: OrganizationRoleMember}))(t)
		Must(RequestPasswordReset(ctx, anon, alice.Email))(t)
		reset := linkToken(t, s, box.Next())

		// The link goes to the new address; nothing changes until it is
		// followed, and a newer request replaces it.
		if err := change(alice, " Alice.New@Example.COM ", Password); err != nil {
			t.Fatal(err)
		}
		replaced := verifyLink(t, s, box.Next(), "alice.new@example.com")
		if err := change(alice, "alice2@example.com", Password); err != nil {
			t.Fatal(err)
		}
		link := verifyLink(t, s, box.Next(), "alice2@example.com")
		if me := Must(MyEmail(ctx, ac))(t).Me; deref(me.Email) != alice.Email || !me.EmailVerified {
			t.Fatalf("before the link: %+v", me)
		}
		_, err = VerifyEmail(ctx, anon, replaced)
		WantCode(t, err, "BAD_USER_INPUT")

		got := Must(VerifyOwnEmail(ctx, ac, link))(t).VerifyEmail
		if deref(got.Email) != "alice2@example.com" || !got.EmailVerified {
			t.Fatalf("after the link: %+v", got)
		}
		// The old address is told, with no link in the notice.
		notice := box.Next()
		if notice.To != alice.Email || !strings.Contains(notice.Text, "alice2@example.com") || strings.Contains(notice.Text, "token") {
			t.Fatalf("notice %+v", notice)
		}
		ev := eventsOf(t, s, alice.Token)
		if len(ev) < 3 || ev[0] != "EMAIL_CHANGED: alice@example.com → alice2@example.com" ||
			ev[1] != "EMAIL_CHANGE_REQUESTED: alice2@example.com" || ev[2] != "EMAIL_CHANGE_REQUESTED: alice.new@example.com" {
			t.Fatalf("events %q", ev)
		}
		// What was bound to the old address ends with it: the reset link,
		// and bob's view of an address he never typed.
		_, err = ResetPassword(ctx, anon, ResetPasswordInput{Token: reset, NewPassword: "a brand new passphrase"})
		WantCode(t, err, "BAD_USER_INPUT")
		for _, e := range Must(Organization(ctx, s.Client(bob.Token), "bob"))(t).Organization.Members.Edges {
			if e.Node.User.Username == "alice" && e.Node.User.Email != nil {
				t.Fatalf("bob still reads alice's address %s", *e.Node.User.Email)
			}
		}
		// A link for the address the account left verifies nothing, and
		// changes nothing back (such a link could only come from a resend
		// racing the change; stored here as that race would leave it).
		stale := strings.Repeat("s", 43)
		sum := sha256.Sum256([]byte(stale))
		Must(s.DB.EmailVerification.Create().SetUserID(dbID(t, alice.ID)).SetEmail(alice.Email).
			SetHash(sum[:]).SetExpiresAt(time.Now().UTC().Add(time.Hour)).Save(ctx))(t)
		_, err = VerifyEmail(ctx, anon, stale)
		WantCode(t, err, "BAD_USER_INPUT")
		if me := Must(MyEmail(ctx, ac))(t).Me; deref(me.Email) != "alice2@example.com" {
			t.Fatalf("after a stale link: %+v", me)
		}
		// Sign-in takes the new address, not the old one.
		Must(Login(ctx, anon, LoginInput{UsernameOrEmail: "alice2@example.com", Password: Password}))(t)
		_, err = Login(ctx, anon, LoginInput{UsernameOrEmail: alice.Email, Password: Password})
		WantCode(t, err, "UNAUTHENTICATED")
		// The old address is free again.
		Must(SignUp(ctx, anon, SignUpInput{Username: "newcomer", Email: alice.Email, Password: Password}))(t)
		verifyLink(t, s, box.Next(), alice.Email)

		// An address somebody signs up with before the link is followed
		// stays theirs.
		if err := change(alice, "carol@example.com", Password); err != nil {
			t.Fatal(err)
		}
		taken := verifyLink(t, s, box.Next(), "carol@example.com")
		s.SignUp(t, "carol")
		box.Next()
		_, err = VerifyEmail(ctx, anon, taken)
		if Code(err) != "CONFLICT" {
			t.Fatalf("taken meanwhile: %v", err)
		}
		if me := Must(MyEmail(ctx, ac))(t).Me; deref(me.Email) != "alice2@example.com" {
			t.Fatalf("after a refused change: %+v", me)
		}

		// Followed at once by many, a link works once.
		if err := change(alice, "alice3@example.com", Password); err != nil {
			t.Fatal(err)
		}
		raced := verifyLink(t, s, box.Next(), "alice3@example.com")
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		for range 8 {
			wg.Go(func() {
				_, err := VerifyEmail(ctx, anon, raced)
				mu.Lock()
				defer mu.Unlock()
				switch Code(err) {
				case "":
					wins++
				case "BAD_USER_INPUT":
				default:
					t.Errorf("racing follow: %v", err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d follows succeeded", wins)
		}
		box.Next() // the notice to alice2@
		box.Empty()
	})
}
