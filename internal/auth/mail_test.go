package auth_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/outboxmail"
	"fleetgate/ent/passwordreset"
	"fleetgate/internal/apitest"
	"fleetgate/internal/auth"
	"fleetgate/internal/mail"
	"fleetgate/internal/ratelimit"
)

// failingMailer cannot write mail, as an outbox whose insert fails.
type failingMailer struct{}

var errNoOutbox = errors.New("outbox unavailable")

func (failingMailer) Enqueue(context.Context, *ent.Tx, mail.Message) error { return errNoOutbox }

func coreWithMail(s *apitest.Server, m auth.Mailer) *auth.Service {
	return auth.New(auth.Config{
		DB: s.Deps.DB, Passwords: s.Deps.Passwords, Tokens: s.Deps.Tokens, Log: s.Deps.Log,
		PublicURL: "http://fleetgate.test", SecretKey: s.Deps.SecretKey, Mail: m,
		AbuseLimits: auth.AbuseLimits{SignUpsPerIP: ratelimit.Rate{Limit: 1000, Window: time.Hour}},
	})
}

// TestMailIsPartOfTheChange: a reset link is committed with its mail in
// the outbox or not at all, and so are a sign-up with its verification
// link and a password change with its notice.
func TestMailIsPartOfTheChange(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		outbox := mail.NewOutbox(s.DB, mail.NewLog(slog.New(slog.NewTextHandler(io.Discard, nil))), nil)
		core, broken := coreWithMail(s, outbox), coreWithMail(s, failingMailer{})
		sess, err := core.SignUp(ctx, "alice", "alice@example.com", password)
		if err != nil {
			t.Fatal(err)
		}

		if _, err := broken.SignUp(ctx, "bob", "bob@example.com", password); !errors.Is(err, errNoOutbox) {
			t.Fatalf("sign-up without an outbox: %v", err)
		}
		if n := s.DB.User.Query().CountX(ctx); n != 1 {
			t.Fatalf("%d accounts: one signed up without its verification mail", n)
		}
		if _, err := broken.RequestPasswordReset(ctx, "alice@example.com"); !errors.Is(err, errNoOutbox) {
			t.Fatalf("reset without an outbox: %v", err)
		}
		if n := s.DB.PasswordReset.Query().CountX(ctx); n != 0 {
			t.Fatalf("%d reset links committed without their mail", n)
		}
		if _, err := broken.ChangePassword(as(broken, sess), password, "another fine passphrase"); !errors.Is(err, errNoOutbox) {
			t.Fatalf("change without an outbox: %v", err)
		}
		if _, err := core.Login(ctx, "alice", password, nil); err != nil {
			t.Fatalf("the password changed without its notice: %v", err)
		}

		resetMails := s.DB.OutboxMail.Query().Where(outboxmail.Subject("Reset your fleetgate password"))
		if _, err := core.RequestPasswordReset(ctx, "nobody@example.com"); err != nil {
			t.Fatal(err)
		}
		if n := resetMails.Clone().CountX(ctx); n != 0 {
			t.Fatalf("an unknown address got %d mails", n)
		}
		if _, err := core.RequestPasswordReset(ctx, "alice@example.com"); err != nil {
			t.Fatal(err)
		}
		m := resetMails.OnlyX(ctx)
		link := regexp.MustCompile(`/password-reset\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(m.Text)
		if m.Recipient != "alice@example.com" || link == nil {
			t.Fatalf("outbox row %+v", m)
		}
		hash := sha256.Sum256([]byte(link[1]))
		if n := s.DB.PasswordReset.Query().Where(passwordreset.Hash(hash[:])).CountX(ctx); n != 1 {
			t.Fatalf("the mailed link is not the committed one")
		}
	})
}
