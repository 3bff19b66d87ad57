// Package social signs people in with an outside identity provider: Google
// and any OpenID Connect issuer (authorization code flow with PKCE, nonce
// and a verified ID token), and GitHub (OAuth 2 and its REST API). It knows
// nothing of accounts: it turns a browser's round trip through a provider
// into a verified Identity (README "Social login").
package social

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// Kind is the protocol a provider speaks.
type Kind string

const (
	KindOIDC   Kind = "oidc"
	KindGitHub Kind = "github"
)

// The provider ids of the two providers fleetgate knows by name.
const (
	Google = "google"
	GitHub = "github"
)

// GoogleIssuer is Google's OpenID Connect issuer.
const GoogleIssuer = "https://accounts.google.com"

// ProviderConfig is one enabled provider.
type ProviderConfig struct {
	// ID names the provider in the routes and the API: google, github or
	// a lowercased OIDC_PROVIDERS name.
	ID          string
	DisplayName string
	Kind        Kind
	ClientID    string
	// ClientSecret is kept out of every message and log line.
	ClientSecret string
	// Issuer is the exact OpenID Connect issuer (KindOIDC).
	Issuer string
	// WebURL and APIURL are GitHub's (or a GitHub Enterprise server's)
	// web and REST API addresses (KindGitHub).
	WebURL, APIURL string
}

// Config is the social login part of fleetgate's environment.
type Config struct {
	Providers []ProviderConfig
	// RedirectOrigins are the origins (scheme://host[:port]) a flow may
	// return the browser to.
	RedirectOrigins []string
}

var providerName = regexp.MustCompile(`^[a-z0-9]+$`)

// ConfigFromEnv reads the variables of README "Social login". publicURL is
// fleetgate's PUBLIC_URL, whose origin is the default redirect origin.
func ConfigFromEnv(getenv func(string) string, publicURL string) (Config, error) {
	var c Config
	add := func(p ProviderConfig, idVar, secretVar string) error {
		if p.ClientID == "" && p.ClientSecret == "" {
			return nil
		}
		if p.ClientID == "" || p.ClientSecret == "" {
			return fmt.Errorf("set both %s and %s, or neither", idVar, secretVar)
		}
		c.Providers = append(c.Providers, p)
		return nil
	}
	err := add(ProviderConfig{ID: Google, DisplayName: "Google", Kind: KindOIDC, Issuer: GoogleIssuer,
		ClientID: getenv("GOOGLE_CLIENT_ID"), ClientSecret: getenv("GOOGLE_CLIENT_SECRET")},
		"GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")
	if err != nil {
		return c, err
	}
	gh := ProviderConfig{ID: GitHub, DisplayName: "GitHub", Kind: KindGitHub,
		ClientID: getenv("GITHUB_CLIENT_ID"), ClientSecret: getenv("GITHUB_CLIENT_SECRET"),
		WebURL: strings.TrimRight(or(getenv("GITHUB_URL"), "https://github.com"), "/"),
		APIURL: strings.TrimRight(or(getenv("GITHUB_API_URL"), "https://api.github.com"), "/")}
	if err := checkServerURL("GITHUB_URL", gh.WebURL); err != nil {
		return c, err
	}
	if err := checkServerURL("GITHUB_API_URL", gh.APIURL); err != nil {
		return c, err
	}
	if err := add(gh, "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"); err != nil {
		return c, err
	}

	seen := map[string]bool{Google: true, GitHub: true}
	for _, name := range strings.Split(getenv("OIDC_PROVIDERS"), ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if !providerName.MatchString(name) {
			return c, fmt.Errorf("OIDC_PROVIDERS: %q is not a provider name (letters and digits only)", name)
		}
		if seen[name] {
			return c, fmt.Errorf("OIDC_PROVIDERS: %q is named twice or is a built-in provider", name)
		}
		seen[name] = true
		prefix := "OIDC_" + strings.ToUpper(name) + "_"
		p := ProviderConfig{ID: name, Kind: KindOIDC,
			DisplayName: or(getenv(prefix+"DISPLAY_NAME"), name),
			Issuer:      getenv(prefix + "ISSUER"),
			ClientID:    getenv(prefix + "CLIENT_ID"), ClientSecret: getenv(prefix + "CLIENT_SECRET")}
		for _, v := range []struct{ name, value string }{
			{prefix + "ISSUER", p.Issuer}, {prefix + "CLIENT_ID", p.ClientID}, {prefix + "CLIENT_SECRET", p.ClientSecret},
		} {
			if v.value == "" {
				return c, fmt.Errorf("OIDC_PROVIDERS names %s: set %s", name, v.name)
			}
		}
		if err := checkServerURL(prefix+"ISSUER", p.Issuer); err != nil {
			return c, err
		}
		c.Providers = append(c.Providers, p)
	}

	origins := getenv("SOCIAL_REDIRECT_ORIGINS")
	if origins == "" {
		u, err := parseHTTPURL(publicURL)
		if err != nil {
			return c, fmt.Errorf("PUBLIC_URL: %w", err)
		}
		c.RedirectOrigins = []string{origin(u)}
		return c, nil
	}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		u, err := parseHTTPURL(o)
		if err == nil && (u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "") {
			err = fmt.Errorf("%q has more than scheme, host and port", o)
		}
		if err != nil {
			return c, fmt.Errorf("SOCIAL_REDIRECT_ORIGINS: %w (write origins such as https://app.example.com)", err)
		}
		c.RedirectOrigins = append(c.RedirectOrigins, origin(u))
	}
	if len(c.RedirectOrigins) == 0 {
		return c, fmt.Errorf("SOCIAL_REDIRECT_ORIGINS names no origin")
	}
	return c, nil
}

// checkServerURL accepts an https URL, or plain http to this machine (a
// provider run locally for development).
func checkServerURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s must be an absolute URL, not %q", name, raw)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%s must be an https URL (plain http only on localhost), not %q", name, raw)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func or(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}
