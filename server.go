// Command fleetgate serves the account and access API of a device-fleet
// cloud. See README.md.
package main

//go:generate go run ./ent/entc.go
//go:generate go run github.com/99designs/gqlgen
//go:generate go run github.com/Khan/genqlient internal/apitest/genqlient.yaml

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"go.opentelemetry.io/otel/trace"

	"fleetgate/ent"
	"fleetgate/ent/logincode"
	"fleetgate/ent/passwordreset"
	"fleetgate/graph"
	"fleetgate/internal/admin"
	"fleetgate/internal/auth"
	"fleetgate/internal/clientip"
	"fleetgate/internal/clock"
	"fleetgate/internal/database"
	"fleetgate/internal/keystore"
	"fleetgate/internal/mail"
	"fleetgate/internal/password"
	"fleetgate/internal/ratelimit"
	"fleetgate/internal/requestlog"
	"fleetgate/internal/secretbox"
	"fleetgate/internal/social"
	"fleetgate/internal/tracing"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tuneGC(os.Getenv)
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fleetgate:", err)
		os.Exit(1)
	}
}

// Garbage collector defaults (README "Configuration"): a request allocates
// short-lived memory only, and the live heap is small (about 15 MiB), so
// collecting at 5x the live heap (GOGC=400) rather than 2x spends a third
// of the GC work for a heap of 60-75 MiB; the soft limit makes the
// collector work harder before the process outgrows a small container.
const (
	defaultGOGC       = 400
	defaultGOMEMLIMIT = 96 << 20
)

// tuneGC applies the defaults unless GOGC or GOMEMLIMIT is set (the runtime
// has read those already).
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultGOMEMLIMIT)
	}
}

// config is everything fleetgate reads from its environment (README lists it).
type config struct {
	listenAddr        string
	metricsAddr       string
	databaseURL       string
	dataDir           string
	publicURL         string
	corsOrigins       []string
	metricsOperations []string
	corsCreds         bool
	introspection     bool
	logFormat         string
	hashLimit         int
	hashParams        password.Params
	abuseLimits       auth.AbuseLimits
	secretKey         string
	smtpURL           string
	mailFrom          string
	mailRetention     time.Duration
	proxies           *clientip.Resolver
	social            social.Config
	sessions          auth.SessionLimits
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		listenAddr:    or(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),
		metricsAddr:   getenv("METRICS_ADDR"),
		databaseURL:   getenv("DATABASE_URL"),
		dataDir:       or(getenv("DATA_DIR"), "data"),
		introspection: true,
		logFormat:     or(getenv("LOG_FORMAT"), "text"),
		hashLimit:     runtime.GOMAXPROCS(0),
		hashParams:    password.Production(),
		abuseLimits:   auth.DefaultAbuseLimits(),
		secretKey:     getenv("SECRET_KEY"),
		smtpURL:       getenv("SMTP_URL"),
		mailFrom:      getenv("MAIL_FROM"),
		mailRetention: mail.DefaultRetention,
	}
	c.publicURL = strings.TrimRight(or(getenv("PUBLIC_URL"), "http://"+c.listenAddr), "/")
	c.corsOrigins = list(getenv("CORS_ORIGINS"))
	c.metricsOperations = list(getenv("METRICS_OPERATIONS"))
	if err := boolVar(getenv, "CORS_ALLOW_CREDENTIALS", &c.corsCreds); err != nil {
		return c, err
	}
	if c.corsCreds && slices.Contains(c.corsOrigins, "*") {
		// Any site could then act with a visitor's cookies.
		return c, errors.New("CORS_ALLOW_CREDENTIALS needs the allowed origins listed in CORS_ORIGINS, not *")
	}
	if err := boolVar(getenv, "INTROSPECTION", &c.introspection); err != nil {
		return c, err
	}
	if v := getenv("PASSWORD_HASH_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("PASSWORD_HASH_CONCURRENCY must be a positive number, not %q", v)
		}
		c.hashLimit = n
	}
	if err := loadHashParams(getenv, &c.hashParams); err != nil {
		return c, err
	}
	if err := loadAbuseLimits(getenv, &c.abuseLimits); err != nil {
		return c, err
	}
	if c.databaseURL != "" && !database.IsPostgres(c.databaseURL) {
		return c, errors.New("DATABASE_URL must be a postgres:// URL (leave it unset for the embedded SQLite database)")
	}
	if c.databaseURL != "" && c.secretKey == "" {
		// A key generated per instance would seal TOTP secrets that the
		// other instances cannot open.
		return c, errors.New("with DATABASE_URL, set SECRET_KEY too (32 random bytes, base64 or hex), the same on every instance")
	}
	proxies, err := clientip.Parse(getenv("TRUSTED_PROXIES"))
	if err != nil {
		return c, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	c.proxies = proxies
	if c.smtpURL != "" && c.mailFrom == "" {
		return c, errors.New("SMTP_URL needs MAIL_FROM, the sender address")
	}
	if err := durationVar(getenv, "MAIL_RETENTION", &c.mailRetention); err != nil {
		return c, err
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return c, fmt.Errorf("LOG_FORMAT must be text or json, not %q", c.logFormat)
	}
	if c.social, err = social.ConfigFromEnv(getenv, c.publicURL); err != nil {
		return c, err
	}
	if c.sessions, err = sessionLimits(getenv); err != nil {
		return c, err
	}
	return c, nil
}

// loadHashParams reads the argon2id cost (README "Configuration"),
// refusing one weaker than OWASP's minimum.
func loadHashParams(getenv func(string) string, p *password.Params) error {
	for _, v := range []struct {
		name  string
		value *uint32
	}{{"PASSWORD_HASH_TIME", &p.Time}, {"PASSWORD_HASH_MEMORY_KIB", &p.MemoryKiB}} {
		if s := getenv(v.name); s != "" {
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return fmt.Errorf("%s must be a positive number, not %q", v.name, s)
			}
			*v.value = uint32(n)
		}
	}
	if s := getenv("PASSWORD_HASH_THREADS"); s != "" {
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil {
			return fmt.Errorf("PASSWORD_HASH_THREADS must be a positive number, not %q", s)
		}
		p.Threads = uint8(n)
	}
	if err := p.CheckStrength(); err != nil {
		return fmt.Errorf("PASSWORD_HASH_TIME, PASSWORD_HASH_MEMORY_KIB, PASSWORD_HASH_THREADS: %w", err)
	}
	return nil
}

// loadAbuseLimits reads the variables of README "Abuse limits", LIMIT_ and
// a limit's name (auth.AbuseLimits.Named), each FREE,WAIT,MAXWAIT for a
// throttle or LIMIT/WINDOW for a rate (ratelimit.ParseThrottle, ParseRate).
func loadAbuseLimits(getenv func(string) string, l *auth.AbuseLimits) error {
	for _, n := range l.Named() {
		name := "LIMIT_" + strings.ToUpper(n.Name)
		s := getenv(name)
		if s == "" {
			continue
		}
		var err error
		switch limit := n.Limit.(type) {
		case *ratelimit.Throttle:
			*limit, err = ratelimit.ParseThrottle(s)
		case *ratelimit.Rate:
			*limit, err = ratelimit.ParseRate(s)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// list is a comma-separated value's items, trimmed, without empty ones.
func list(v string) []string {
	var items []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// boolVar sets *b from the variable name, when it is set.
func boolVar(getenv func(string) string, name string, b *bool) error {
	v := getenv(name)
	if v == "" {
		return nil
	}
	parsed, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%s must be true or false, not %q", name, v)
	}
	*b = parsed
	return nil
}

// sessionLimits reads SESSION_IDLE_TIMEOUT and SESSION_MAX_AGE (Go
// durations), each defaulting to auth.DefaultSessionLimits.
func sessionLimits(getenv func(string) string) (auth.SessionLimits, error) {
	l := auth.DefaultSessionLimits
	for name, into := range map[string]*time.Duration{"SESSION_IDLE_TIMEOUT": &l.IdleTimeout, "SESSION_MAX_AGE": &l.MaxAge} {
		if err := durationVar(getenv, name, into); err != nil {
			return l, err
		}
	}
	return l, l.Validate()
}

// durationVar sets *d from the variable name, a positive Go duration, when
// it is set.
func durationVar(getenv func(string) string, name string, d *time.Duration) error {
	v := getenv(name)
	if v == "" {
		return nil
	}
	parsed, err := time.ParseDuration(v)
	if err != nil || parsed <= 0 {
		return fmt.Errorf("%s must be a positive duration such as 168h or 30m (Go syntax), not %q", name, v)
	}
	*d = parsed
	return nil
}

func or(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

// run is the whole program: main only supplies the process's environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	// Help and version need neither configuration nor a database.
	if len(args) > 1 {
		if done, err := admin.RunWithoutDatabase(args[1:], stdout); done {
			return err
		}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	// Log lines are written in batches (README "Logs"); whatever waits is
	// written when run returns.
	output := requestlog.NewOutput(stdout, requestlog.FlushInterval)
	defer output.Close()
	var handler slog.Handler = slog.NewTextHandler(output, nil)
	if cfg.logFormat == "json" {
		handler = slog.NewJSONHandler(output, nil)
	}
	log := slog.New(output.Urgent(handler))

	tracer, stopTracing, err := tracing.FromEnv(ctx, getenv, admin.Version())
	if err != nil {
		return err
	}
	defer func() {
		// Spans still buffered go out, for a while.
		flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		stopTracing(flush)
	}()
	db, pool, err := openDatabase(ctx, cfg, tracer)
	if err != nil {
		return err
	}
	defer db.Close()
	if len(args) > 1 {
		return admin.Run(ctx, db, args[1:], stdout)
	}

	secretKey, err := loadSecretKey(cfg)
	if err != nil {
		return err
	}
	tokens, err := keystore.Load(ctx, db, secretKey, clock.Now())
	if err != nil {
		return err
	}
	sender, err := mail.New(cfg.smtpURL, cfg.mailFrom, log)
	if err != nil {
		return err // names SMTP_URL or MAIL_FROM, never the password
	}
	mails := mail.NewOutbox(db, sender, log, mail.WithRetention(cfg.mailRetention))
	mailCtx, stopMail := context.WithCancel(ctx)
	sending := make(chan struct{})
	go func() { defer close(sending); mails.Run(mailCtx) }()
	// A send in progress at shutdown finishes; what waits stays in the
	// outbox for the next start or another instance.
	defer func() { stopMail(); <-sending }()
	deps := graph.Deps{
		DB:                   db,
		PublicURL:            cfg.publicURL,
		Passwords:            password.NewHasher(cfg.hashParams, cfg.hashLimit),
		Tokens:               tokens,
		Log:                  log,
		Introspection:        cfg.introspection,
		CORSOrigins:          cfg.corsOrigins,
		CORSAllowCredentials: cfg.corsCreds,
		SecretKey:            secretKey,
		Mail:                 mails,
		ClientIPs:            cfg.proxies,
		Social:               cfg.social,
		AbuseLimits:          cfg.abuseLimits,
		SQL:                  pool,
		MetricsOperations:    cfg.metricsOperations,
		Tracer:               tracer,
		Sessions:             cfg.sessions,
	}
	go keepTidy(ctx, db, log, cfg.sessions)
	if cfg.metricsAddr == "" {
		return serve(ctx, log, listener{"fleetgate", cfg.listenAddr, graph.NewHandler(deps)})
	}
	h, metrics := graph.NewHandlers(deps)
	return serve(ctx, log,
		listener{"fleetgate", cfg.listenAddr, h},
		listener{"metrics", cfg.metricsAddr, metrics})
}

// keepTidy deletes, every hour, rows that no longer decide anything: rate
// limit counters past every window and block (the longest is an hour),
// expired password-reset links and social login codes, and ended sessions.
func keepTidy(ctx context.Context, db *ent.Client, log *slog.Logger, sessions auth.SessionLimits) {
	limits := ratelimit.New(db, clock.Now)
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := clock.Now()
		if _, err := limits.Prune(ctx, now.Add(-2*time.Hour)); err != nil {
			log.Warn("pruning rate limits failed", "err", err)
		}
		if _, err := db.PasswordReset.Delete().Where(passwordreset.ExpiresAtLT(now)).Exec(ctx); err != nil {
			log.Warn("pruning password resets failed", "err", err)
		}
		if _, err := db.LoginCode.Delete().Where(logincode.ExpiresAtLT(now)).Exec(ctx); err != nil {
			log.Warn("pruning login codes failed", "err", err)
		}
		if _, err := auth.PruneSessions(ctx, db, sessions, now); err != nil {
			log.Warn("pruning sessions failed", "err", err)
		}
	}
}

// loadSecretKey is SECRET_KEY, or for the embedded database a key generated
// on first start and kept beside it.
func loadSecretKey(cfg config) ([]byte, error) {
	if cfg.secretKey != "" {
		key, err := secretbox.ParseKey(cfg.secretKey)
		if err != nil {
			return nil, fmt.Errorf("SECRET_KEY: %w", err)
		}
		return key, nil
	}
	return secretbox.LoadOrCreateKeyFile(filepath.Join(cfg.dataDir, "secret.key"))
}

// openDatabase opens and migrates the database, and returns its client and
// connection pool (for the pool's metrics). With a tracer, every statement
// has a span.
func openDatabase(ctx context.Context, cfg config, tracer trace.TracerProvider) (*ent.Client, *sql.DB, error) {
	var (
		drv *entsql.Driver
		err error
	)
	if cfg.databaseURL != "" {
		drv, err = database.Postgres(cfg.databaseURL)
	} else {
		drv, err = database.SQLite(filepath.Join(cfg.dataDir, "fleetgate.db"))
	}
	if err != nil {
		return nil, nil, err
	}
	driver := database.Prepared(drv)
	if tracer != nil {
		driver = database.Traced(driver, tracer)
	}
	client := ent.NewClient(ent.Driver(driver))
	if err := database.Migrate(ctx, drv); err != nil {
		client.Close()
		return nil, nil, err
	}
	return client, drv.DB(), nil
}

// listener is an address to serve and what to serve there.
type listener struct {
	name    string // for the log
	addr    string
	handler http.Handler
}

// serve runs an HTTP server on each listener until ctx ends (or one of them
// fails), then drains them all gracefully, together.
func serve(ctx context.Context, log *slog.Logger, listeners ...listener) error {
	var servers []*http.Server
	served := make(chan error, len(listeners))
	for _, l := range listeners {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, srv := range servers {
				srv.Close()
			}
			return err
		}
		srv := &http.Server{
			Handler:           l.handler,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
		}
		servers = append(servers, srv)
		log.Info(l.name+" listening", "addr", "http://"+ln.Addr().String()+"/")
		go func() { served <- srv.Serve(ln) }()
	}
	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Go(func() { errs[i] = srv.Shutdown(shutdownCtx) })
	}
	wg.Wait()
	return errors.Join(append(errs, err)...)
}
