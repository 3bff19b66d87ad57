package social_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetgate/internal/social"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigFromEnv(t *testing.T) {
	c, err := social.ConfigFromEnv(env(map[string]string{
		"GOOGLE_CLIENT_ID": "g", "GOOGLE_CLIENT_SECRET": "gs",
		"GITHUB_CLIENT_ID": "h", "GITHUB_CLIENT_SECRET": "hs", "GITHUB_URL": "https://ghe.example.com/",
		"GITHUB_API_URL":   "https://ghe.example.com/api/v3",
		"OIDC_PROVIDERS":   " Corp , dev",
		"OIDC_CORP_ISSUER": "https://id.corp.example", "OIDC_CORP_CLIENT_ID": "c", "OIDC_CORP_CLIENT_SECRET": "cs",
		"OIDC_CORP_DISPLAY_NAME": "Corp SSO",
		"OIDC_DEV_ISSUER":        "http://127.0.0.1:5556/dex", "OIDC_DEV_CLIENT_ID": "d", "OIDC_DEV_CLIENT_SECRET": "ds",
		"SOCIAL_REDIRECT_ORIGINS": "https://app.example.com, http://LOCALHOST:3000/",
	}), "https://id.example.com/fleetgate")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.Providers {
		got = append(got, strings.Join([]string{p.ID, p.DisplayName, string(p.Kind), p.ClientID, p.ClientSecret, p.Issuer, p.WebURL, p.APIURL}, "|"))
	}
	want := []string{
		"google|Google|oidc|g|gs|https://accounts.google.com||",
		"github|GitHub|github|h|hs||https://ghe.example.com|https://ghe.example.com/api/v3",
		"corp|Corp SSO|oidc|c|cs|https://id.corp.example||",
		"dev|dev|oidc|d|ds|http://127.0.0.1:5556/dex||",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("providers\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Join(c.RedirectOrigins, " ") != "https://app.example.com http://localhost:3000" {
		t.Fatalf("origins %q", c.RedirectOrigins)
	}

	c, err = social.ConfigFromEnv(env(nil), "https://id.example.com:443/fleetgate")
	if err != nil || len(c.Providers) != 0 || strings.Join(c.RedirectOrigins, " ") != "https://id.example.com" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
}

func TestConfigFromEnvRefusals(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"GOOGLE_CLIENT_ID": "g"}, "set both GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET"},
		{map[string]string{"GITHUB_CLIENT_SECRET": "s"}, "set both GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET"},
		{map[string]string{"GITHUB_CLIENT_ID": "h", "GITHUB_CLIENT_SECRET": "s", "GITHUB_URL": "http://ghe.example.com"}, "GITHUB_URL must be an https URL"},
		{map[string]string{"GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL must be an absolute URL"},
		{map[string]string{"OIDC_PROVIDERS": "my-idp"}, `"my-idp" is not a provider name`},
		{map[string]string{"OIDC_PROVIDERS": "github"}, `"github" is named twice or is a built-in provider`},
		{map[string]string{"OIDC_PROVIDERS": "a,A", "OIDC_A_ISSUER": "https://a", "OIDC_A_CLIENT_ID": "x", "OIDC_A_CLIENT_SECRET": "y"}, `"a" is named twice`},
		{map[string]string{"OIDC_PROVIDERS": "corp", "OIDC_CORP_ISSUER": "https://id.corp.example", "OIDC_CORP_CLIENT_ID": "c"}, "set OIDC_CORP_CLIENT_SECRET"},
		{map[string]string{"OIDC_PROVIDERS": "corp", "OIDC_CORP_ISSUER": "http://id.corp.example", "OIDC_CORP_CLIENT_ID": "c", "OIDC_CORP_CLIENT_SECRET": "s"}, "OIDC_CORP_ISSUER must be an https URL"},
		{map[string]string{"SOCIAL_REDIRECT_ORIGINS": "https://app.example.com/callback"}, "SOCIAL_REDIRECT_ORIGINS: \"https://app.example.com/callback\" has more than scheme, host and port"},
		{map[string]string{"SOCIAL_REDIRECT_ORIGINS": "app.example.com"}, "SOCIAL_REDIRECT_ORIGINS: \"app.example.com\" is not an absolute http or https URL"},
		{map[string]string{"SOCIAL_REDIRECT_ORIGINS": " , "}, "SOCIAL_REDIRECT_ORIGINS names no origin"},
	} {
		_, err := social.ConfigFromEnv(env(tc.vars), "http://127.0.0.1:8080")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.vars, err, tc.want)
		}
	}
}

func TestCheckRedirect(t *testing.T) {
	svc := social.New(social.Config{RedirectOrigins: []string{"https://app.example.com", "http://localhost:3000"}},
		social.Options{PublicURL: "https://id.example.com", SecretKey: testKey})
	for _, ok := range []string{
		"https://app.example.com/signed-in?tab=1#top",
		"https://APP.example.com:443/",
		"http://localhost:3000/cb",
	} {
		if _, err := svc.CheckRedirect(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"https://evil.example/",
		"http://app.example.com/",               // scheme differs
		"https://app.example.com:8443/",         // port differs
		"https://app.example.com.evil.example/", // suffix
		"https://app.example.com@evil.example/",
		"https://user:pw@app.example.com/",
		"//evil.example/",
		"/signed-in",
		"https:\\\\evil.example/",
		"https://app.example.com\\@evil.example/",
		"javascript:alert(1)",
		"http://localhost:3000\t/",
		"",
	} {
		_, err := svc.CheckRedirect(bad)
		if social.ErrorCode(err) != social.CodeInvalidRedirect {
			t.Errorf("%q: %v, want %s", bad, err, social.CodeInvalidRedirect)
		}
	}
}

func TestCookieSecureUnderHTTPS(t *testing.T) {
	svc := social.New(social.Config{
		Providers:       []social.ProviderConfig{{ID: social.GitHub, Kind: social.KindGitHub, ClientID: "c", ClientSecret: "s", WebURL: "https://github.com", APIURL: "https://api.github.com"}},
		RedirectOrigins: []string{"https://app.example.com"},
	}, social.Options{PublicURL: "https://id.example.com", SecretKey: testKey})
	location, cookie, err := svc.Start(social.GitHub, "https://app.example.com/", "")
	if err != nil {
		t.Fatal(err)
	}
	if !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge != 600 {
		t.Fatalf("cookie %+v", cookie)
	}
	if !strings.Contains(location, "redirect_uri="+url.QueryEscape("https://id.example.com/auth/github/callback")) {
		t.Fatalf("authorization URL %s", location)
	}
	if clear := svc.ClearCookie(); clear.MaxAge >= 0 || clear.Path != cookie.Path || clear.Name != cookie.Name {
		t.Fatalf("clearing cookie %+v", clear)
	}
}
