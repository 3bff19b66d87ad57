package social_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"fleetgate/internal/social"
	"fleetgate/internal/socialtest"
)

const (
	publicURL = "http://fleetgate.test"
	appOrigin = "http://app.test"
	target    = appOrigin + "/signed-in"
)

var testKey = bytes.Repeat([]byte{7}, 32)

var (
	ada = socialtest.User{ID: "sub-ada", Username: "ada", Email: "ada@example.com", EmailVerified: true,
		First: "Ada", Last: "Lovelace"}
	bob = socialtest.User{ID: "sub-bob", Username: "bob", Email: "bob@example.com", EmailVerified: false,
		First: "Bob", Last: "Unverified"}
)

// oidcFixture is an OP that knows fleetgate (client "fleetgate") and
// another application ("other"), and a Service using it as provider id.
type oidcFixture struct {
	op  *socialtest.OP
	svc *social.Service
	id  string
}

func startOIDC(t *testing.T, id string, opts social.Options) oidcFixture {
	t.Helper()
	op := socialtest.StartOP(t, ada, bob)
	op.Register(socialtest.Client{ID: "fleetgate", Secret: "fleetgate-secret", RedirectURI: publicURL + "/auth/" + id + "/callback"})
	op.Register(socialtest.Client{ID: "other", Secret: "other-secret", RedirectURI: publicURL + "/auth/" + id + "/callback"})
	return oidcFixture{op: op, id: id, svc: newService(op.URL, id, "fleetgate", "fleetgate-secret", opts)}
}

func newService(issuer, id, clientID, secret string, opts social.Options) *social.Service {
	opts.PublicURL, opts.SecretKey = publicURL, testKey
	return social.New(social.Config{
		Providers: []social.ProviderConfig{{ID: id, DisplayName: id, Kind: social.KindOIDC,
			Issuer: issuer, ClientID: clientID, ClientSecret: secret}},
		RedirectOrigins: []string{appOrigin},
	}, opts)
}

// start begins a flow in browser b as fleetgate's start route would: the
// cookie goes into b's jar for fleetgate, the authorization URL is returned.
func start(t *testing.T, svc *social.Service, b *socialtest.Browser, id string) string {
	t.Helper()
	location, cookie, err := svc.Start(id, target, "")
	if err != nil {
		t.Fatal(err)
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure || cookie.Path != "/auth/" {
		t.Fatalf("flow cookie attributes: %+v", cookie)
	}
	u, _ := url.Parse(publicURL + "/auth/" + id + "/start")
	b.Client.Jar.SetCookies(u, []*http.Cookie{cookie})
	return location
}

// finish hands the callback request, with b's cookies, to the Service.
func finish(t *testing.T, svc *social.Service, b *socialtest.Browser, id string, callback *url.URL) (social.Flow, social.Identity, error) {
	t.Helper()
	if !strings.HasPrefix(callback.String(), publicURL+"/auth/"+id+"/callback?") {
		t.Fatalf("provider sent the browser to %s", callback)
	}
	r := httptest.NewRequest(http.MethodGet, callback.String(), nil)
	for _, c := range b.Client.Jar.Cookies(callback) {
		r.AddCookie(c)
	}
	return svc.Finish(t.Context(), r, id)
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := social.ErrorCode(err); got != code {
		t.Fatalf("error code %q (%v), want %q", got, err, code)
	}
}

func TestOIDCSignIn(t *testing.T) {
	for _, id := range []string{"corp", social.Google} {
		t.Run(id, func(t *testing.T) {
			// Google is an OpenID issuer like any other; only its issuer
			// differs, pointed here at the test OP.
			f := startOIDC(t, id, social.Options{})
			b := socialtest.NewBrowser(t)
			authURL := start(t, f.svc, b, id)
			q := mustParse(t, authURL).Query()
			if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
				t.Fatalf("authorization request lacks PKCE, nonce or state: %s", authURL)
			}
			flow, ident, err := finish(t, f.svc, b, id, f.op.SignIn(t, b, authURL, ada.Username))
			if err != nil {
				t.Fatal(err)
			}
			want := social.Identity{Provider: id, Subject: ada.ID, Email: ada.Email, EmailVerified: true,
				Name: "Ada Lovelace", Username: ada.Username}
			if ident != want {
				t.Fatalf("identity %+v, want %+v", ident, want)
			}
			if flow.Redirect != target || flow.Provider != id {
				t.Fatalf("flow %+v", flow)
			}
		})
	}
}

func TestOIDCUnverifiedEmail(t *testing.T) {
	f := startOIDC(t, "corp", social.Options{})
	b := socialtest.NewBrowser(t)
	authURL := start(t, f.svc, b, "corp")
	_, ident, err := finish(t, f.svc, b, "corp", f.op.SignIn(t, b, authURL, bob.Username))
	if err != nil {
		t.Fatal(err)
	}
	if ident.Email != bob.Email || ident.EmailVerified {
		t.Fatalf("identity %+v: the provider did not verify this address", ident)
	}
}

func TestOIDCState(t *testing.T) {
	f := startOIDC(t, "corp", social.Options{})

	t.Run("missing", func(t *testing.T) {
		// The callback reaches a browser that never started the flow (a
		// login CSRF): no cookie, refused before the code is used.
		b := socialtest.NewBrowser(t)
		callback := f.op.SignIn(t, b, start(t, f.svc, b, "corp"), ada.Username)
		_, _, err := finish(t, f.svc, socialtest.NewBrowser(t), "corp", callback)
		wantCode(t, err, social.CodeInvalidState)
	})
	t.Run("wrong", func(t *testing.T) {
		b := socialtest.NewBrowser(t)
		callback := f.op.SignIn(t, b, start(t, f.svc, b, "corp"), ada.Username)
		q := callback.Query()
		q.Set("state", q.Get("state")+"x")
		callback.RawQuery = q.Encode()
		flow, _, err := finish(t, f.svc, b, "corp", callback)
		wantCode(t, err, social.CodeInvalidState)
		if flow.Redirect != target {
			t.Fatalf("a sound cookie names the target even when the state is wrong: %+v", flow)
		}
	})
	t.Run("other browser's flow", func(t *testing.T) {
		// Two browsers, two flows: each callback fits its own cookie only.
		b1, b2 := socialtest.NewBrowser(t), socialtest.NewBrowser(t)
		start(t, f.svc, b1, "corp")
		callback := f.op.SignIn(t, b2, start(t, f.svc, b2, "corp"), ada.Username)
		_, _, err := finish(t, f.svc, b1, "corp", callback)
		wantCode(t, err, social.CodeInvalidState)
	})
	t.Run("replayed", func(t *testing.T) {
		b := socialtest.NewBrowser(t)
		callback := f.op.SignIn(t, b, start(t, f.svc, b, "corp"), ada.Username)
		stolen := b.Client.Jar.Cookies(callback)
		if _, _, err := finish(t, f.svc, b, "corp", callback); err != nil {
			t.Fatal(err)
		}
		// The callback route clears the cookie: the same browser cannot
		// replay, and a copy of the old cookie finds the code spent.
		b.Client.Jar.SetCookies(callback, []*http.Cookie{f.svc.ClearCookie()})
		_, _, err := finish(t, f.svc, b, "corp", callback)
		wantCode(t, err, social.CodeInvalidState)
		b.Client.Jar.SetCookies(callback, stolen)
		_, _, err = finish(t, f.svc, b, "corp", callback)
		wantCode(t, err, social.CodeExchangeFailed)
	})
	t.Run("cookie of another provider", func(t *testing.T) {
		other := newService(f.op.URL, "corp2", "fleetgate", "fleetgate-secret", social.Options{})
		location, cookie, err := other.Start("corp2", target, "")
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, publicURL+"/auth/corp/callback?"+mustParse(t, location).RawQuery, nil)
		r.AddCookie(cookie)
		_, _, err = f.svc.Finish(t.Context(), r, "corp")
		wantCode(t, err, social.CodeInvalidState)
	})
	t.Run("expired", func(t *testing.T) {
		clock := &testClock{now: time.Now()}
		slow := startOIDC(t, "corp", social.Options{Now: clock.Now})
		b := socialtest.NewBrowser(t)
		callback := slow.op.SignIn(t, b, start(t, slow.svc, b, "corp"), ada.Username)
		clock.advance(social.FlowLifetime)
		_, _, err := finish(t, slow.svc, b, "corp", callback)
		wantCode(t, err, social.CodeInvalidState)
	})
	t.Run("provider error", func(t *testing.T) {
		b := socialtest.NewBrowser(t)
		state := mustParse(t, start(t, f.svc, b, "corp")).Query().Get("state")
		callback := mustParse(t, publicURL+"/auth/corp/callback?error=access_denied&state="+url.QueryEscape(state))
		flow, _, err := finish(t, f.svc, b, "corp", callback)
		wantCode(t, err, social.CodeProviderDenied)
		if flow.Redirect != target {
			t.Fatalf("flow %+v", flow)
		}
	})
}

// tamper is an authorization URL with one parameter changed, as a person
// between fleetgate and the provider could change it.
func tamper(t *testing.T, authURL, name, value string) string {
	u := mustParse(t, authURL)
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestOIDCCodeBinding(t *testing.T) {
	f := startOIDC(t, "corp", social.Options{})
	t.Run("PKCE verifier mismatch", func(t *testing.T) {
		b := socialtest.NewBrowser(t)
		// A challenge that is not of this flow's verifier: the OP refuses
		// the exchange.
		authURL := tamper(t, start(t, f.svc, b, "corp"), "code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
		_, _, err := finish(t, f.svc, b, "corp", f.op.SignIn(t, b, authURL, ada.Username))
		wantCode(t, err, social.CodeExchangeFailed)
	})
	t.Run("wrong nonce", func(t *testing.T) {
		b := socialtest.NewBrowser(t)
		authURL := tamper(t, start(t, f.svc, b, "corp"), "nonce", "someone-elses-nonce")
		_, _, err := finish(t, f.svc, b, "corp", f.op.SignIn(t, b, authURL, ada.Username))
		wantCode(t, err, social.CodeInvalidIDToken)
		if !strings.Contains(err.Error(), "nonce") {
			t.Fatalf("error %v should name the nonce", err)
		}
	})
}

func TestOIDCWrongIssuer(t *testing.T) {
	// The OP's issuer is http://127.0.0.1:port; the same server reached as
	// localhost publishes a document naming that other issuer.
	op := socialtest.StartOP(t)
	svc := newService(strings.Replace(op.URL, "127.0.0.1", "localhost", 1), "corp", "fleetgate", "s", social.Options{})
	_, _, err := svc.Start("corp", target, "")
	wantCode(t, err, social.CodeProviderUnavailable)
	var mismatch *oidc.IssuerMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("error %v, want an issuer mismatch", err)
	}
}

func TestOIDCExpiredIDToken(t *testing.T) {
	f := startOIDC(t, "corp", social.Options{})
	f.op.ExpireIDTokens()
	b := socialtest.NewBrowser(t)
	_, _, err := finish(t, f.svc, b, "corp", f.op.SignIn(t, b, start(t, f.svc, b, "corp"), ada.Username))
	wantCode(t, err, social.CodeInvalidIDToken)
	var expired *oidc.TokenExpiredError
	if !errors.As(err, &expired) {
		t.Fatalf("error %v, want an expired token", err)
	}
}

func TestOIDCForeignTokens(t *testing.T) {
	t.Run("ID token for another audience", func(t *testing.T) {
		f := startOIDC(t, "corp", social.Options{})
		// A genuine ID token of this OP, issued to the "other" application.
		capture := &socialtest.Rewriter{Path: "/oauth/token", Field: "id_token"}
		other := newService(f.op.URL, "corp", "other", "other-secret", social.Options{HTTPClient: &http.Client{Transport: capture}})
		b := socialtest.NewBrowser(t)
		if _, _, err := finish(t, other, b, "corp", f.op.SignIn(t, b, start(t, other, b, "corp"), ada.Username)); err != nil {
			t.Fatal(err)
		}
		swap := &socialtest.Rewriter{Path: "/oauth/token", Field: "id_token", Replace: capture.Captured()}
		svc := newService(f.op.URL, "corp", "fleetgate", "fleetgate-secret", social.Options{HTTPClient: &http.Client{Transport: swap}})
		b = socialtest.NewBrowser(t)
		_, _, err := finish(t, svc, b, "corp", f.op.SignIn(t, b, start(t, svc, b, "corp"), ada.Username))
		wantCode(t, err, social.CodeInvalidIDToken)
		if !strings.Contains(err.Error(), "audience") {
			t.Fatalf("error %v should name the audience", err)
		}
	})
	t.Run("userinfo of another subject", func(t *testing.T) {
		f := startOIDC(t, "corp", social.Options{})
		swap := &socialtest.Rewriter{Path: "/userinfo", Field: "sub", Replace: bob.ID}
		svc := newService(f.op.URL, "corp", "fleetgate", "fleetgate-secret", social.Options{HTTPClient: &http.Client{Transport: swap}})
		b := socialtest.NewBrowser(t)
		_, _, err := finish(t, svc, b, "corp", f.op.SignIn(t, b, start(t, svc, b, "corp"), ada.Username))
		wantCode(t, err, social.CodeInvalidIDToken)
		if !strings.Contains(err.Error(), "userinfo") {
			t.Fatalf("error %v should name userinfo", err)
		}
	})
}

func TestStartRefusals(t *testing.T) {
	f := startOIDC(t, "corp", social.Options{})
	_, _, err := f.svc.Start("nope", target, "")
	wantCode(t, err, social.CodeUnknownProvider)
	_, _, err = f.svc.Start("corp", "https://evil.test/x", "")
	wantCode(t, err, social.CodeInvalidRedirect)
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
