package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Default ports and timeout of the SMTP sender.
const (
	DefaultSMTPPort  = 587 // smtp:// (submission, STARTTLS)
	DefaultSMTPSPort = 465 // smtps:// (implicit TLS)
	DefaultTimeout   = 30 * time.Second
)

// SMTP sends mail through an SMTP server. It opens one connection per
// message and is safe for concurrent use.
type SMTP struct {
	cfg      smtpConfig
	from     *netmail.Address
	fromHost string // domain part of from, for Message-IDs
	tls      *tls.Config
	timeout  time.Duration
}

// SMTPOption configures an SMTP sender.
type SMTPOption func(*SMTP)

// WithTLSConfig replaces the TLS configuration used for STARTTLS and
// implicit TLS, for example to trust a test server's certificate. The
// configuration is cloned; an empty ServerName is filled in with the host
// from the URL. Production code has no reason to use it.
func WithTLSConfig(c *tls.Config) SMTPOption {
	return func(s *SMTP) {
		if c == nil {
			return
		}
		c = c.Clone()
		if c.ServerName == "" {
			c.ServerName = s.cfg.host
		}
		s.tls = c
	}
}

// WithTimeout sets the time allowed to connect and for each step of the
// SMTP conversation (default [DefaultTimeout]). Values <= 0 are ignored.
func WithTimeout(d time.Duration) SMTPOption {
	return func(s *SMTP) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// smtpConfig is what SMTP_URL says.
type smtpConfig struct {
	host        string // without brackets
	port        int
	implicitTLS bool
	policy      gomail.TLSPolicy // smtp:// only
	user, pass  string
}

func (c smtpConfig) auth() bool { return c.user != "" }

// NewSMTP returns a sender for rawURL (SMTP_URL, see the package
// documentation for its forms) with from (MAIL_FROM, e.g.
// "fleetgate <no-reply@example.com>") as the From address. Nothing is
// dialled here: a wrong password or an unreachable server shows up on Send.
// Errors never contain the password.
func NewSMTP(rawURL, from string, opts ...SMTPOption) (*SMTP, error) {
	cfg, err := parseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	addr, err := parseFrom(from)
	if err != nil {
		return nil, err
	}
	s := &SMTP{
		cfg:      cfg,
		from:     addr,
		fromHost: addr.Address[strings.LastIndexByte(addr.Address, '@')+1:],
		tls:      &tls.Config{ServerName: cfg.host, MinVersion: tls.VersionTLS12},
		timeout:  DefaultTimeout,
	}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	return s, nil
}

// String describes the server without the password, for logs, e.g.
// "smtps://mailer@mail.example.com:465".
func (s *SMTP) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(s.cfg.host, strconv.Itoa(s.cfg.port))}
	if s.cfg.implicitTLS {
		u.Scheme = "smtps"
	}
	if s.cfg.auth() {
		u.User = url.User(s.cfg.user)
	}
	if !s.cfg.implicitTLS {
		u.RawQuery = "starttls=" + policyName(s.cfg.policy)
	}
	return u.String()
}

func parseFrom(from string) (*netmail.Address, error) {
	if strings.TrimSpace(from) == "" {
		return nil, errors.New("mail: MAIL_FROM is required with SMTP_URL")
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: MAIL_FROM %q is not a valid address: %v", from, err)
	}
	return addr, nil
}

func policyName(p gomail.TLSPolicy) string {
	switch p {
	case gomail.TLSMandatory:
		return "required"
	case gomail.TLSOpportunistic:
		return "opportunistic"
	default:
		return "none"
	}
}

// parseSMTPURL parses SMTP_URL. Its errors never quote the URL, which holds
// the password.
func parseSMTPURL(raw string) (smtpConfig, error) {
	var cfg smtpConfig
	bad := func(format string, args ...any) (smtpConfig, error) {
		return smtpConfig{}, fmt.Errorf("mail: SMTP_URL: "+format, args...)
	}
	if strings.TrimSpace(raw) == "" {
		return bad("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the URL and sometimes part of the password.
		return bad("not a valid URL (percent-encode reserved characters in user and password)")
	}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		cfg.implicitTLS = true
	case "":
		return bad("missing scheme, want smtp:// or smtps://")
	default:
		return bad("unsupported scheme %q, want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return bad("missing host, want %s://[user:password@]host[:port]", u.Scheme)
	}
	if u.Path != "" && u.Path != "/" {
		return bad("unexpected path %q", u.Path)
	}
	if u.Fragment != "" {
		return bad("unexpected fragment (percent-encode '#' in the password)")
	}
	cfg.host = u.Hostname()
	if cfg.host == "" {
		return bad("missing host")
	}
	if p := u.Port(); p == "" {
		cfg.port = DefaultSMTPPort
		if cfg.implicitTLS {
			cfg.port = DefaultSMTPSPort
		}
	} else {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("invalid port %q", p)
		}
		cfg.port = n
	}
	if u.User != nil {
		cfg.user = u.User.Username()
		pass, ok := u.User.Password()
		if cfg.user == "" {
			return bad("password without user")
		}
		if !ok || pass == "" {
			return bad("user %q without password", cfg.user)
		}
		cfg.pass = pass
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("invalid query")
	}
	cfg.policy = gomail.TLSOpportunistic
	if cfg.auth() {
		cfg.policy = gomail.TLSMandatory
	}
	for k, v := range q {
		if k != "starttls" {
			return bad("unknown parameter %q (only starttls is supported)", k)
		}
		if cfg.implicitTLS {
			return bad("starttls does not apply to smtps:// (TLS from the start)")
		}
		if len(v) != 1 {
			return bad("starttls given more than once")
		}
		switch strings.ToLower(v[0]) {
		case "required", "mandatory":
			cfg.policy = gomail.TLSMandatory
		case "opportunistic":
			cfg.policy = gomail.TLSOpportunistic
		case "none", "off", "no":
			cfg.policy = gomail.NoTLS
		default:
			return bad("starttls=%q, want required, opportunistic or none", v[0])
		}
	}
	if cfg.auth() && !cfg.implicitTLS && cfg.policy == gomail.NoTLS {
		return bad("credentials with starttls=none would travel unencrypted; use STARTTLS or smtps://")
	}
	return cfg, nil
}

// Send delivers m over a new connection. ctx bounds connecting; each step
// of the conversation is bounded by the timeout (see [WithTimeout]). A
// rejection with an SMTP 5xx reply wraps [ErrPermanent]; an invalid message
// wraps [ErrInvalidMessage].
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.dialHost(), s.clientOptions()...)
	if err != nil {
		return fmt.Errorf("mail: smtp client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
			return fmt.Errorf("%w: %s: %w", ErrPermanent, s, err)
		}
		return fmt.Errorf("mail: %s: %w", s, err)
	}
	return nil
}

// dialHost is the host as go-mail needs it: it joins host and port with
// "%s:%d", so an IPv6 literal keeps its brackets.
func (s *SMTP) dialHost() string {
	if strings.Contains(s.cfg.host, ":") {
		return "[" + s.cfg.host + "]"
	}
	return s.cfg.host
}

func (s *SMTP) clientOptions() []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(s.tls),
	}
	if s.cfg.implicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(s.cfg.policy))
	}
	if s.cfg.auth() {
		// Auto-discovery picks the strongest mechanism the server offers
		// and never PLAIN or LOGIN on an unencrypted connection.
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.user),
			gomail.WithPassword(s.cfg.pass),
		)
	}
	return opts
}

func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("%w: recipient: %v", ErrInvalidMessage, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(randomID() + "@" + s.fromHost)
	// RFC 3834: keeps auto-responders from answering.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	switch {
	case m.HTML == "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	case m.Text == "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}
