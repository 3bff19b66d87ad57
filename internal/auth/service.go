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
	// Mail queues mail; nil writes messages to Log.
	Mail Mailer
	// Limits counts attempts (shared with the rest of the API).
	Limits *ratelimit.Limiter
	// AbuseLimits are the limits of README "Abuse limits"; a zero field is
	// its default.
	AbuseLimits
	// Social runs social login flows; nil enables no provider.
	Social *social.Service
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
		c.Now = time.Now
	}
	if c.Mail == nil {
		c.Mail = logMailer{mail.NewLog(c.Log)}
	}
	c.AbuseLimits = c.AbuseLimits.withDefaults()
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

// Mailer queues mail for sending.
type Mailer interface{ Enqueue(mail.Message) }

// logMailer writes mail to the log at once: the development default.
type logMailer struct{ *mail.Log }

func (l logMailer) Enqueue(m mail.Message) { l.Send(context.Background(), m) }

// mail queues a message to u; sending happens off the request path, and
// its failure is logged, never the caller's problem.
func (s *Service) mail(u *ent.User, subject, text string) { s.mailTo(u.Email, subject, text) }

// mailTo is mail to an address that need not be the account's (yet, or any
// longer): that of changeEmail.
func (s *Service) mailTo(address, subject, text string) {
	s.Mail.Enqueue(mail.Message{To: address, Subject: subject, Text: text})
}
