package social

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// githubProvider is GitHub or a GitHub Enterprise server: OAuth 2 (not
// OpenID Connect) and the REST API.
type githubProvider struct {
	cfg   ProviderConfig
	oauth oauth2.Config
}

// githubEmailScope lets the REST API list the person's addresses; the
// broader "user" scope includes it.
const githubEmailScope = "user:email"

func newGitHub(cfg ProviderConfig, oc oauth2.Config) *githubProvider {
	oc.Endpoint = oauth2.Endpoint{
		AuthURL:   cfg.WebURL + "/login/oauth/authorize",
		TokenURL:  cfg.WebURL + "/login/oauth/access_token",
		AuthStyle: oauth2.AuthStyleInParams,
	}
	oc.Scopes = []string{"read:user", githubEmailScope}
	return &githubProvider{cfg: cfg, oauth: oc}
}

func (p *githubProvider) authCodeURL(st flowState) (string, error) {
	// GitHub has no ID token and so no nonce; state and PKCE bind the code.
	return p.oauth.AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier)), nil
}

func (p *githubProvider) identity(ctx context.Context, code string, st flowState) (Identity, error) {
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return Identity{}, fail(CodeExchangeFailed, "exchanging the code: %w", err)
	}
	var user struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Name  string `json:"name"`
	}
	header, err := p.get(ctx, tok, "/user", &user)
	if err != nil {
		return Identity{}, err
	}
	if user.ID == 0 {
		return Identity{}, fail(CodeProfileFailed, "GET /user answered no id")
	}
	// The person may untick scopes on GitHub's consent page: the granted
	// ones are in X-OAuth-Scopes (and the token response).
	granted, _ := tok.Extra("scope").(string)
	if h := header.Get("X-OAuth-Scopes"); h != "" {
		granted = h
	}
	if !hasScope(granted, githubEmailScope) && !hasScope(granted, "user") {
		return Identity{}, fail(CodeEmailScopeMissing, "the %s scope was not granted (granted: %q)", githubEmailScope, granted)
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if _, err := p.get(ctx, tok, "/user/emails", &emails); err != nil {
		return Identity{}, err
	}
	id := Identity{Subject: strconv.FormatInt(user.ID, 10), Name: user.Name, Username: user.Login}
	// Only the primary address, and only once GitHub has verified it.
	for _, e := range emails {
		if e.Primary && e.Verified {
			id.Email, id.EmailVerified = e.Email, true
		}
	}
	return id, nil
}

// get calls the REST API as the person and decodes the JSON answer.
func (p *githubProvider) get(ctx context.Context, tok *oauth2.Token, path string, into any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.cfg.APIURL+path, nil)
	if err != nil {
		return nil, fail(CodeProfileFailed, "%w", err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	tok.SetAuthHeader(req)
	client, _ := ctx.Value(oauth2.HTTPClient).(*http.Client)
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fail(CodeProfileFailed, "GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fail(CodeProfileFailed, "GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(into); err != nil {
		return nil, fail(CodeProfileFailed, "GET %s: %w", path, fmt.Errorf("decoding: %w", err))
	}
	return resp.Header, nil
}

// hasScope reads GitHub's scope lists, comma (and space) separated.
func hasScope(list, scope string) bool {
	return slices.Contains(strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }), scope)
}
