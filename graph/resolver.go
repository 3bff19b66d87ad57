// Package graph is fleetgate's GraphQL API: the resolvers, the @can
// directive, the error presenter, and NewHandler, which serves them with
// every other HTTP route.
package graph

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"fleetgate/ent"
	"fleetgate/internal/auth"
	"fleetgate/internal/clientip"
	"fleetgate/internal/clock"
	"fleetgate/internal/password"
	"fleetgate/internal/ratelimit"
	"fleetgate/internal/requestlog"
	"fleetgate/internal/social"
	"fleetgate/internal/token"
)

// Deps is what the API needs from the outside world.
type Deps struct {
	DB        *ent.Client
	Passwords *password.Hasher
	Tokens    *token.Set
	Log       *slog.Logger
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// Introspection turns on schema introspection (the playground needs it).
	Introspection bool
	// CORSOrigins lists the browser origins allowed to call the API.
	CORSOrigins []string
	// CORSAllowCredentials lets those origins send cookies and HTTP
	// authentication (CORS_ALLOW_CREDENTIALS); bearer tokens need no such
	// permission.
	CORSAllowCredentials bool
	// PublicURL is where people and devices reach the service (no trailing
	// slash), for links and device image configurations.
	PublicURL string
	// SecretKey (32 bytes, SECRET_KEY) seals TOTP secrets and keys the
	// hashes of recovery codes, through keys derived from it for each use.
	SecretKey []byte
	// Mail writes mail into transactions (internal/mail.Outbox); nil
	// writes messages to Log.
	Mail auth.Mailer
	// ClientIPs tells the client's address, for per-address limits; nil
	// trusts no proxy (TRUSTED_PROXIES).
	ClientIPs *clientip.Resolver
	// AbuseLimits are the limits of README "Abuse limits"; a zero field is
	// its default.
	auth.AbuseLimits
	// RequestTimeout bounds how long one request may run; zero is
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Social is the configuration of social login (README "Social login").
	Social social.Config
	// Sessions say how long sessions last (SESSION_IDLE_TIMEOUT,
	// SESSION_MAX_AGE); zero is auth.DefaultSessionLimits.
	Sessions auth.SessionLimits
	// ProviderClient makes the calls to identity providers; nil is a
	// client with a 15-second timeout. (Tests edit providers' answers
	// through it.)
	ProviderClient *http.Client
	// BeforeRootField, when set, runs before each root field of a mutation
	// with the field's alias: tests use it to change the world between two
	// fields of one request.
	BeforeRootField func(ctx context.Context, alias string)

	// SQL is the database's connection pool, for its metrics
	// (sql.DBStats); nil leaves them out.
	SQL *sql.DB
	// Tracer, when set, traces requests, operations, resolvers (and, if
	// DB's driver is database.Traced, statements); nil turns tracing off.
	Tracer trace.TracerProvider
	// MetricsOperations, when set, are the only operation names metrics
	// tell apart (METRICS_OPERATIONS); otherwise the first ones seen are.
	MetricsOperations []string

	// Set by NewHandler from the above.
	limits  *ratelimit.Limiter
	auth    *auth.Service
	metrics *metrics
}

// prepare fills in the defaults and what derives from the other fields.
func (d Deps) prepare() Deps {
	if d.Now == nil {
		d.Now = clock.Now
	}
	d.Now = clock.UTC(d.Now)
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if _, ok := d.Log.Handler().(requestlog.Handler); !ok {
		// Every line logged while serving a request names it.
		d.Log = slog.New(requestlog.NewHandler(d.Log.Handler()))
	}
	d.metrics = newMetrics(d)
	d.limits = ratelimit.New(d.DB, d.Now)
	d.limits.CountRefusals(d.metrics.rateLimitRefused)
	d.auth = auth.New(auth.Config{
		DB: d.DB, Passwords: d.Passwords, Tokens: d.Tokens, Log: d.Log, Now: d.Now,
		PublicURL: d.PublicURL, SecretKey: d.SecretKey, Mail: d.Mail,
		Limits: d.limits, AbuseLimits: d.AbuseLimits, Sessions: d.Sessions,
		Social: social.New(d.Social, social.Options{PublicURL: d.PublicURL, SecretKey: d.SecretKey, Now: d.Now, HTTPClient: d.ProviderClient}),
	})
	if d.RequestTimeout == 0 {
		d.RequestTimeout = DefaultRequestTimeout
	}
	if d.ClientIPs == nil {
		d.ClientIPs, _ = clientip.Parse("")
	}
	return d
}

// Resolver is the root of the resolvers.
type Resolver struct{ Deps }
