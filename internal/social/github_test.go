package social_test

import (
	"testing"

	"fleetgate/internal/social"
	"fleetgate/internal/socialtest"
)

var octocat = socialtest.GitHubUser{ID: 583231, Login: "octocat", Name: "The Octocat", Emails: []socialtest.GitHubEmail{
	{Email: "octo@old.example", Primary: false, Verified: true},
	{Email: "octocat@example.com", Primary: true, Verified: true},
}}

func startGitHub(t *testing.T) (*socialtest.GitHub, *social.Service) {
	t.Helper()
	gh := socialtest.StartGitHub(t, "gh-client", "gh-secret")
	svc := social.New(social.Config{
		Providers: []social.ProviderConfig{{ID: social.GitHub, DisplayName: "GitHub", Kind: social.KindGitHub,
			ClientID: "gh-client", ClientSecret: "gh-secret", WebURL: gh.URL, APIURL: gh.APIURL()}},
		RedirectOrigins: []string{appOrigin},
	}, social.Options{PublicURL: publicURL, SecretKey: testKey})
	return gh, svc
}

func TestGitHubSignIn(t *testing.T) {
	gh, svc := startGitHub(t)
	for _, scopes := range []string{"read:user,user:email", "user"} {
		gh.SignInAs(octocat, scopes)
		b := socialtest.NewBrowser(t)
		authURL := start(t, svc, b, social.GitHub)
		if q := mustParse(t, authURL).Query(); q.Get("code_challenge_method") != "S256" || q.Get("scope") != "read:user user:email" {
			t.Fatalf("authorization request %s", authURL)
		}
		_, ident, err := finish(t, svc, b, social.GitHub, b.Get(t, authURL).Location)
		if err != nil {
			t.Fatal(err)
		}
		want := social.Identity{Provider: social.GitHub, Subject: "583231", Email: "octocat@example.com",
			EmailVerified: true, Name: "The Octocat", Username: "octocat"}
		if ident != want {
			t.Fatalf("scopes %q: identity %+v, want %+v", scopes, ident, want)
		}
	}
}

func TestGitHubRefusals(t *testing.T) {
	gh, svc := startGitHub(t)
	t.Run("email scope not granted", func(t *testing.T) {
		gh.SignInAs(octocat, "read:user")
		b := socialtest.NewBrowser(t)
		_, _, err := finish(t, svc, b, social.GitHub, b.Get(t, start(t, svc, b, social.GitHub)).Location)
		wantCode(t, err, social.CodeEmailScopeMissing)
	})
	t.Run("unverified primary address", func(t *testing.T) {
		u := octocat
		u.Emails = []socialtest.GitHubEmail{{Email: "octocat@example.com", Primary: true, Verified: false},
			{Email: "octo@old.example", Primary: false, Verified: true}}
		gh.SignInAs(u, "user:email")
		b := socialtest.NewBrowser(t)
		_, ident, err := finish(t, svc, b, social.GitHub, b.Get(t, start(t, svc, b, social.GitHub)).Location)
		if err != nil {
			t.Fatal(err)
		}
		if ident.Email != "" || ident.EmailVerified {
			t.Fatalf("identity %+v: only a verified primary address counts", ident)
		}
	})
	t.Run("PKCE verifier mismatch", func(t *testing.T) {
		gh.SignInAs(octocat, "user:email")
		b := socialtest.NewBrowser(t)
		authURL := tamper(t, start(t, svc, b, social.GitHub), "code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
		_, _, err := finish(t, svc, b, social.GitHub, b.Get(t, authURL).Location)
		wantCode(t, err, social.CodeExchangeFailed)
	})
	t.Run("replayed code", func(t *testing.T) {
		gh.SignInAs(octocat, "user:email")
		b := socialtest.NewBrowser(t)
		callback := b.Get(t, start(t, svc, b, social.GitHub)).Location
		if _, _, err := finish(t, svc, b, social.GitHub, callback); err != nil {
			t.Fatal(err)
		}
		_, _, err := finish(t, svc, b, social.GitHub, callback)
		wantCode(t, err, social.CodeExchangeFailed)
	})
	t.Run("wrong state", func(t *testing.T) {
		gh.SignInAs(octocat, "user:email")
		b := socialtest.NewBrowser(t)
		authURL := tamper(t, start(t, svc, b, social.GitHub), "state", "forged")
		_, _, err := finish(t, svc, b, social.GitHub, b.Get(t, authURL).Location)
		wantCode(t, err, social.CodeInvalidState)
	})
}
