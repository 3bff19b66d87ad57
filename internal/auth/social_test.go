package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"fleetgate/internal/apitest"
	"fleetgate/internal/auth"
	"fleetgate/internal/fault"
	"fleetgate/internal/ratelimit"
	"fleetgate/internal/social"
	"fleetgate/internal/socialtest"
)

// newSocialCore is newCore with GitHub (a GitHub-shaped test server) as
// its one identity provider.
func newSocialCore(t *testing.T, s *apitest.Server) (*auth.Service, *socialtest.GitHub) {
	gh := socialtest.StartGitHub(t, "gh-client", "gh-secret")
	const public = "http://fleetgate.test"
	core := auth.New(auth.Config{
		DB: s.Deps.DB, Passwords: s.Deps.Passwords, Tokens: s.Deps.Tokens, Log: s.Deps.Log,
		PublicURL: public, SecretKey: s.Deps.SecretKey,
		AbuseLimits: auth.AbuseLimits{SignUpsPerIP: ratelimit.Rate{Limit: 1000, Window: time.Hour}},
		Social: social.New(social.Config{
			Providers: []social.ProviderConfig{{ID: social.GitHub, DisplayName: "GitHub", Kind: social.KindGitHub,
				ClientID: "gh-client", ClientSecret: "gh-secret", WebURL: gh.URL, APIURL: gh.APIURL()}},
			RedirectOrigins: []string{"http://app.test"},
		}, social.Options{PublicURL: public, SecretKey: s.Deps.SecretKey}),
	})
	return core, gh
}

// socialFlow runs StartSocial and FinishSocial around GitHub's approval,
// as the two routes would, and returns where the browser is sent.
func socialFlow(t *testing.T, core *auth.Service, ticket string) *url.URL {
	t.Helper()
	location, cookie, err := core.StartSocial(context.Background(), social.GitHub, "http://app.test/in", ticket)
	if err != nil {
		t.Fatal(err)
	}
	callback := socialtest.NewBrowser(t).Get(t, location).Location
	r := httptest.NewRequest(http.MethodGet, callback.String(), nil)
	r.AddCookie(cookie)
	target, err := core.FinishSocial(context.Background(), r, social.GitHub)
	end, _ := url.Parse(target)
	if end == nil || end.Host != "app.test" {
		t.Fatalf("callback sent the browser to %q (%v)", target, err)
	}
	return end
}

// TestSocialFirstFactor: a login code signs in once, by the provider's
// method; an address already taken by an unverified account is not linked.
func TestSocialFirstFactor(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		core, gh := newSocialCore(t, s)
		ctx := context.Background()
		gh.SignInAs(socialtest.GitHubUser{ID: 7, Login: "octocat", Emails: []socialtest.GitHubEmail{
			{Email: "octocat@example.com", Primary: true, Verified: true}}}, "user:email")
		code := socialFlow(t, core, "").Query().Get("code")
		sess, err := core.ExchangeLoginCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if sess.Method != auth.Method(social.GitHub) || sess.User.Username != "octocat" || sess.User.PasswordHash != "" ||
			!sess.User.EmailVerified || sess.DeviceToken == nil {
			t.Fatalf("exchange: %+v", sess)
		}
		if _, err := core.ExchangeLoginCode(ctx, code); err == nil {
			t.Fatal("a login code worked twice")
		} else if f, _ := fault.As(err); f.Code != fault.Unauthenticated {
			t.Fatalf("replay: %v", err)
		}

		if _, err := core.SignUp(ctx, "mona", "mona@example.com", password); err != nil {
			t.Fatal(err)
		}
		gh.SignInAs(socialtest.GitHubUser{ID: 8, Login: "mona", Emails: []socialtest.GitHubEmail{
			{Email: "mona@example.com", Primary: true, Verified: true}}}, "user:email")
		if end := socialFlow(t, core, ""); end.Query().Get("error") != auth.CodeAccountExists {
			t.Fatalf("flow ended at %s", end)
		}
	})
}
