package social

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"fleetgate/internal/secretbox"
)

// FlowLifetime is how long a person has between start and callback.
const FlowLifetime = 10 * time.Minute

// CookieName is the cookie that binds a flow to the browser that started it.
const CookieName = "fleetgate_social"

// cookiePath covers every provider's callback and nothing else.
const cookiePath = "/auth/"

// The codes a failed flow reports (as ?error= on the redirect target).
const (
	CodeUnknownProvider     = "unknown_provider"
	CodeInvalidRedirect     = "invalid_redirect"
	CodeInvalidState        = "invalid_state"
	CodeProviderDenied      = "provider_denied"
	CodeProviderUnavailable = "provider_unavailable"
	CodeExchangeFailed      = "exchange_failed"
	CodeInvalidIDToken      = "invalid_id_token"
	CodeEmailScopeMissing   = "email_scope_missing"
	CodeProfileFailed       = "profile_failed"
)

// Error is a refused flow: Code is safe to show, Err says why in detail
// (for the log).
type Error struct {
	Code string
	Err  error
}

func (e *Error) Error() string { return e.Code + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func fail(code string, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// ErrorCode is err's Code, or "" when err is not a refused flow.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Identity is a person as a provider vouches for them.
type Identity struct {
	Provider string
	// Subject is the provider's stable id for the person (OIDC sub,
	// GitHub's numeric user id); the email may change, this does not.
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	// Username is the provider's handle (preferred_username, GitHub login).
	Username string
}

// Flow is what a flow carries from start to callback.
type Flow struct {
	Provider string
	// Redirect is where the browser goes at the end, on an allowed origin.
	Redirect string
	// Link is the caller's own data (for example "link this identity to
	// that account"), sealed in the cookie with the rest.
	Link string
}

// flowState is the sealed content of the cookie.
type flowState struct {
	Flow
	State    string    `json:"state"`
	Verifier string    `json:"verifier"`
	Nonce    string    `json:"nonce"`
	Expires  time.Time `json:"expires"`
}

// Options are what a Service needs besides the configuration.
type Options struct {
	// PublicURL is fleetgate's PUBLIC_URL: the callbacks are under it.
	PublicURL string
	SecretKey []byte
	// HTTPClient makes the calls to providers (default: 15 s timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service runs flows for the configured providers. It is safe for
// concurrent use.
type Service struct {
	providers map[string]provider
	order     []ProviderConfig
	origins   []string
	box       *secretbox.Box
	secure    bool
	client    *http.Client
	now       func() time.Time
}

// provider is one protocol's half of a flow.
type provider interface {
	authCodeURL(st flowState) (string, error)
	identity(ctx context.Context, code string, st flowState) (Identity, error)
}

// New returns a Service for cfg. It contacts no provider: OpenID Connect
// discovery happens on first use.
func New(cfg Config, o Options) *Service {
	s := &Service{
		providers: map[string]provider{},
		order:     cfg.Providers,
		origins:   cfg.RedirectOrigins,
		box:       secretbox.ForPurpose(o.SecretKey, "fleetgate social login flows"),
		secure:    strings.HasPrefix(o.PublicURL, "https://"),
		client:    o.HTTPClient,
		now:       o.Now,
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 15 * time.Second}
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, p := range cfg.Providers {
		oc := oauth2.Config{
			ClientID:     p.ClientID,
			ClientSecret: p.ClientSecret,
			RedirectURL:  strings.TrimRight(o.PublicURL, "/") + "/auth/" + p.ID + "/callback",
		}
		switch p.Kind {
		case KindGitHub:
			s.providers[p.ID] = newGitHub(p, oc)
		default:
			s.providers[p.ID] = newOIDC(p, oc, s.client, s.now)
		}
	}
	return s
}

// Providers are the enabled providers, in configuration order.
func (s *Service) Providers() []ProviderConfig { return s.order }

// Enabled reports whether id names an enabled provider.
func (s *Service) Enabled(id string) bool {
	_, ok := s.providers[id]
	return ok
}

// CheckRedirect returns target if a flow may end there.
func (s *Service) CheckRedirect(target string) (string, error) {
	return checkRedirect(target, s.origins)
}

// Start begins a flow with provider id that ends at redirect: it returns
// the provider's authorization URL to send the browser to and the cookie
// that binds the flow to that browser.
func (s *Service) Start(id, redirect, link string) (string, *http.Cookie, error) {
	p, ok := s.providers[id]
	if !ok {
		return "", nil, fail(CodeUnknownProvider, "no provider %q is enabled", id)
	}
	target, err := s.CheckRedirect(redirect)
	if err != nil {
		return "", nil, err
	}
	st := flowState{
		Flow:     Flow{Provider: id, Redirect: target, Link: link},
		State:    randomString(),
		Verifier: oauth2.GenerateVerifier(),
		Nonce:    randomString(),
		Expires:  s.now().Add(FlowLifetime),
	}
	location, err := p.authCodeURL(st)
	if err != nil {
		return "", nil, err
	}
	plain, err := json.Marshal(st)
	if err != nil {
		return "", nil, err
	}
	sealed, err := s.box.Seal(plain, []byte(id))
	if err != nil {
		return "", nil, err
	}
	return location, s.cookie(base64.RawURLEncoding.EncodeToString(sealed), int(FlowLifetime/time.Second)), nil
}

// Finish completes the flow of provider id at its callback request r. It
// returns the flow whenever the cookie was sound (so the caller knows where
// to send the browser, even on error), and the identity on success. Call
// ClearCookie on every outcome: a flow is finished once.
func (s *Service) Finish(ctx context.Context, r *http.Request, id string) (Flow, Identity, error) {
	p, ok := s.providers[id]
	if !ok {
		return Flow{}, Identity{}, fail(CodeUnknownProvider, "no provider %q is enabled", id)
	}
	st, err := s.openCookie(r, id)
	if err != nil {
		return Flow{}, Identity{}, err
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		return st.Flow, Identity{}, fail(CodeInvalidState, "the state parameter does not match this browser's flow")
	}
	if e := q.Get("error"); e != "" {
		return st.Flow, Identity{}, fail(CodeProviderDenied, "the provider answered %s: %s", e, q.Get("error_description"))
	}
	code := q.Get("code")
	if code == "" {
		return st.Flow, Identity{}, fail(CodeExchangeFailed, "the callback carries no code")
	}
	ident, err := p.identity(s.providerContext(ctx), code, st)
	if err != nil {
		return st.Flow, Identity{}, err
	}
	ident.Provider = id
	return st.Flow, ident, nil
}

// ClearCookie is the cookie that ends a flow in the browser.
func (s *Service) ClearCookie() *http.Cookie { return s.cookie("", -1) }

func (s *Service) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     CookieName,
		Value:    value,
		Path:     cookiePath,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	}
}

func (s *Service) openCookie(r *http.Request, id string) (flowState, error) {
	var st flowState
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return st, fail(CodeInvalidState, "this browser has no flow in progress (cookie missing or expired)")
	}
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return st, fail(CodeInvalidState, "the flow cookie is malformed")
	}
	// The provider id is the additional data: a cookie sealed for one
	// provider does not open at another's callback.
	plain, err := s.box.Open(sealed, []byte(id))
	if err != nil {
		return st, fail(CodeInvalidState, "the flow cookie was not made here for this provider")
	}
	if err := json.Unmarshal(plain, &st); err != nil {
		return st, fail(CodeInvalidState, "the flow cookie is malformed")
	}
	if !s.now().Before(st.Expires) {
		return flowState{}, fail(CodeInvalidState, "the flow expired (%v to complete)", FlowLifetime)
	}
	return st, nil
}

// providerContext makes oauth2 and go-oidc use the service's HTTP client.
func (s *Service) providerContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, s.client)
}

// randomString is 32 random bytes, base64url.
func randomString() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
