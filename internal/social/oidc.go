package social

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// oidcProvider is Google or another OpenID Connect issuer.
type oidcProvider struct {
	cfg    ProviderConfig
	oauth  oauth2.Config
	client *http.Client
	now    func() time.Time

	mu         sync.Mutex
	discovered *oidc.Provider // nil until discovery succeeds
}

func newOIDC(cfg ProviderConfig, oc oauth2.Config, client *http.Client, now func() time.Time) *oidcProvider {
	oc.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	return &oidcProvider{cfg: cfg, oauth: oc, client: client, now: now}
}

// discover fetches the issuer's configuration once (retrying after a
// failure). go-oidc refuses a document naming another issuer: the issuer
// must match exactly.
func (p *oidcProvider) discover() (*oidc.Provider, oauth2.Config, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.discovered == nil {
		// Not the request's context: the provider keeps it to fetch keys later.
		d, err := oidc.NewProvider(oidc.ClientContext(context.Background(), p.client), p.cfg.Issuer)
		if err != nil {
			return nil, p.oauth, fail(CodeProviderUnavailable, "discovering %s: %w", p.cfg.Issuer, err)
		}
		p.discovered = d
	}
	oc := p.oauth
	oc.Endpoint = p.discovered.Endpoint()
	return p.discovered, oc, nil
}

func (p *oidcProvider) authCodeURL(st flowState) (string, error) {
	_, oc, err := p.discover()
	if err != nil {
		return "", err
	}
	return oc.AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce)), nil
}

// profileClaims are the standard claims fleetgate reads, from the ID token
// or the userinfo response.
type profileClaims struct {
	Email             string          `json:"email"`
	EmailVerified     json.RawMessage `json:"email_verified"`
	Name              string          `json:"name"`
	PreferredUsername string          `json:"preferred_username"`
}

// verified reads email_verified as a boolean or, as some issuers send it,
// the string "true".
func (c profileClaims) verified() bool {
	v := string(c.EmailVerified)
	return v == "true" || v == `"true"`
}

func (p *oidcProvider) identity(ctx context.Context, code string, st flowState) (Identity, error) {
	d, oc, err := p.discover()
	if err != nil {
		return Identity{}, err
	}
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return Identity{}, fail(CodeExchangeFailed, "exchanging the code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fail(CodeInvalidIDToken, "the token response has no ID token")
	}
	// Signature (keys from the issuer's jwks_uri), exact issuer, audience
	// (our client id) and expiry.
	idt, err := d.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: p.now}).Verify(ctx, raw)
	if err != nil {
		return Identity{}, fail(CodeInvalidIDToken, "%w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return Identity{}, fail(CodeInvalidIDToken, "the ID token's nonce is not this flow's")
	}
	var claims profileClaims
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fail(CodeInvalidIDToken, "reading the ID token's claims: %w", err)
	}
	info, err := d.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return Identity{}, fail(CodeProfileFailed, "fetching userinfo: %w", err)
	}
	// Userinfo answers for whoever the access token belongs to: it must be
	// the person the ID token names (OpenID Connect Core 5.3.2).
	if info.Subject != idt.Subject {
		return Identity{}, fail(CodeInvalidIDToken, "userinfo names subject %q, the ID token %q", info.Subject, idt.Subject)
	}
	// Issuers that keep profile claims out of the ID token send them here.
	var extra profileClaims
	if err := info.Claims(&extra); err != nil {
		return Identity{}, fail(CodeProfileFailed, "reading userinfo: %w", err)
	}
	if claims.Email == "" {
		claims.Email, claims.EmailVerified = extra.Email, extra.EmailVerified
	}
	if claims.Name == "" {
		claims.Name = extra.Name
	}
	if claims.PreferredUsername == "" {
		claims.PreferredUsername = extra.PreferredUsername
	}
	return Identity{
		Subject:       idt.Subject,
		Email:         claims.Email,
		EmailVerified: claims.Email != "" && claims.verified(),
		Name:          claims.Name,
		Username:      claims.PreferredUsername,
	}, nil
}
