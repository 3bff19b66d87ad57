// Package auth is fleetgate's authentication core: who a request is
// (authenticate.go), signing in with a first factor (login.go, password.go)
// and a second one (secondfactor.go, totp.go, recovery.go), and the sessions
// a sign-in earns (session.go). graph/ adapts it to GraphQL; nothing here
// knows GraphQL (README "The code").
package auth

import (
	"context"
	"log/slog"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/user"
	"fleetgate/internal/clock"
	"fleetgate/internal/database"
	"fleetgate/internal/mail"
	"fleetgate/internal/password"
	"fleetgate/internal/ratelimit"
	"fleetgate/internal/secretbox"
	"fleetgate/internal/social"
	"fleetgate/internal/token"
)

// Config is what the core needs from the outside world.
type Config struct {
	DB        *ent.Client
	Passwords *password.Hasher
	Tokens    *token.Set
	Log       *slog.Logger
	Now       func() time.Time
	// PublicURL is where people reach the service, for links in mail.
	PublicURL string
	// SecretKey seals TOTP secrets and keys the hashes of recovery codes,
	// through keys derived from it for each use.
	SecretKey []byte
	// Mail writes mail into transactions (internal/mail.Outbox); nil
	// writes messages to Log on commit.
	Mail Mailer
	// Limits counts attempts (shared with the rest of the API).
	Limits *ratelimit.Limiter
	// AbuseLimits are the limits of README "Abuse limits"; a zero field is
	// its default.
	AbuseLimits
	// Social runs social login flows; nil enables no provider.
	Social *social.Service
	// Sessions say how long sessions last; zero is DefaultSessionLimits.
	Sessions SessionLimits
}

// Service is the authentication core, built once per handler.
type Service struct {
	Config
	secrets *secretbox.Box
	pepper  []byte
	// password is the first factor login takes.
	password FirstFactor
	// secondFactors are the second factors verifyTwoFactor accepts.
	secondFactors map[Method]SecondFactor
	// socialFactors are the first factors of social login, by provider.
	socialFactors map[string]FirstFactor
}

// New builds the core from c, filling in defaults.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = clock.Now
	}
	c.Now = clock.UTC(c.Now)
	if c.Mail == nil {
		c.Mail = logMailer{mail.NewLog(c.Log)}
	}
	c.AbuseLimits = c.AbuseLimits.withDefaults()
	if c.Sessions == (SessionLimits{}) {
		c.Sessions = DefaultSessionLimits
	}
	if c.Limits == nil {
		c.Limits = ratelimit.New(c.DB, c.Now)
	}
	s := &Service{
		Config:  c,
		secrets: secretbox.ForPurpose(c.SecretKey, "fleetgate TOTP secrets"),
		pepper:  secretbox.DeriveKey(c.SecretKey, "fleetgate recovery codes"),
	}
	s.password = passwordFactor{s}
	if s.Social == nil {
		s.Social = social.New(social.Config{}, social.Options{PublicURL: c.PublicURL, SecretKey: c.SecretKey})
	}
	s.socialFactors = map[string]FirstFactor{}
	for _, p := range s.Social.Providers() {
		s.socialFactors[p.ID] = socialFactor{s, p.ID}
	}
	s.secondFactors = map[Method]SecondFactor{}
	for _, f := range []SecondFactor{totpFactor{s}, recoveryCodeFactor{s}} {
		s.secondFactors[f.Method()] = f
	}
	return s
}

// Method is how a person proved who they are when signing in: one of
// these, or the id of the identity provider of a social login.
type Method string

const (
	MethodPassword     Method = "password"
	MethodTOTP         Method = "totp"
	MethodRecoveryCode Method = "recovery_code"
)

// Mailer writes mail into the transaction of the change it tells of
// (internal/mail.Outbox): it goes out once tx commits, and never if tx
// rolls back.
type Mailer interface {
	Enqueue(ctx context.Context, tx *ent.Tx, m mail.Message) error
}

// logMailer writes mail to the log once tx commits: the development
// default, without an outbox.
type logMailer struct{ *mail.Log }

func (l logMailer) Enqueue(_ context.Context, tx *ent.Tx, m mail.Message) error {
	database.AfterCommit(tx, func(ctx context.Context) { l.Send(context.WithoutCancel(ctx), m) })
	return nil
}

// mail writes a message to u into tx, in the transaction of the change it
// tells of; sending happens off the request path, and its failure is
// logged, never the caller's problem.
func (s *Service) mail(ctx context.Context, tx *ent.Tx, u *ent.User, subject, text string) error {
	return s.mailTo(ctx, tx, u.Email, subject, text)
}

// mailTo is mail to an address that need not be the account's (yet, or any
// longer): that of changeEmail.
func (s *Service) mailTo(ctx context.Context, tx *ent.Tx, address, subject, text string) error {
	return s.Mail.Enqueue(ctx, tx, mail.Message{To: address, Subject: subject, Text: text})
}

// lockedUser reads the user id in tx and locks the row until tx ends, so
// changes that depend on the row (its sessions, keys, address) are made
// one at a time.
func lockedUser(ctx context.Context, tx *ent.Tx, id int) (*ent.User, error) {
	return tx.User.Query().Where(user.ID(id)).Modify(database.LockRow).Only(ctx)
}
