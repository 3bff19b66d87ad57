package socialtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// GitHubUser is a GitHub account as GET /user and GET /user/emails show it.
type GitHubUser struct {
	ID     int64
	Login  string
	Name   string
	Emails []GitHubEmail
}

// GitHubEmail is one entry of GET /user/emails.
type GitHubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// GitHub speaks GitHub's documented OAuth web flow (/login/oauth/authorize,
// /login/oauth/access_token, PKCE S256, single-use codes) and the two REST
// calls fleetgate makes, under APIURL as on GitHub Enterprise (/api/v3).
type GitHub struct {
	*httptest.Server
	clientID, secret string

	mu     sync.Mutex
	user   GitHubUser
	scopes string // granted, as X-OAuth-Scopes lists them
	codes  map[string]grant
	tokens map[string]bool
}

type grant struct {
	challenge, redirectURI string
}

// StartGitHub runs a GitHub for one OAuth app until t ends.
func StartGitHub(t testing.TB, clientID, secret string) *GitHub {
	g := &GitHub{clientID: clientID, secret: secret, codes: map[string]grant{}, tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", g.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", g.accessToken)
	mux.HandleFunc("GET /api/v3/user", g.api(func(u GitHubUser) any {
		return map[string]any{"id": u.ID, "login": u.Login, "name": u.Name, "type": "User"}
	}))
	mux.HandleFunc("GET /api/v3/user/emails", g.api(func(u GitHubUser) any {
		return append([]GitHubEmail{}, u.Emails...)
	}))
	g.Server = httptest.NewServer(mux)
	t.Cleanup(g.Close)
	return g
}

// APIURL is the REST API's base (GITHUB_API_URL).
func (g *GitHub) APIURL() string { return g.URL + "/api/v3" }

// SignInAs makes u the person who approves the next authorizations, granting
// scopes (comma separated, as GitHub lists them).
func (g *GitHub) SignInAs(u GitHubUser, scopes string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.user, g.scopes = u, scopes
}

// authorize stands for GitHub's consent page, already approved: it sends the
// browser back with a code, as GitHub does.
func (g *GitHub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != g.clientID {
		http.Error(w, "unknown client_id", http.StatusNotFound)
		return
	}
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	code := randomToken()
	g.mu.Lock()
	g.codes[code] = grant{challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri")}
	g.mu.Unlock()
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// accessToken answers as GitHub does by default: form-encoded, and errors
// with status 200 and an error field.
func (g *GitHub) accessToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	refuse := func(e string) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		w.Write([]byte(url.Values{"error": {e}}.Encode()))
	}
	if r.PostForm.Get("client_id") != g.clientID || r.PostForm.Get("client_secret") != g.secret {
		refuse("incorrect_client_credentials")
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	code := r.PostForm.Get("code")
	gr, ok := g.codes[code]
	delete(g.codes, code) // single use
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !ok:
		refuse("bad_verification_code")
		return
	case gr.redirectURI != r.PostForm.Get("redirect_uri"):
		refuse("redirect_uri_mismatch")
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != gr.challenge:
		refuse("bad_verification_code")
		return
	}
	tok := "gho_" + randomToken()
	g.tokens[tok] = true
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
	w.Write([]byte(url.Values{"access_token": {tok}, "scope": {g.scopes}, "token_type": {"bearer"}}.Encode()))
}

func (g *GitHub) api(body func(GitHubUser) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		ok := g.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		u, scopes := g.user, g.scopes
		g.mu.Unlock()
		if !ok {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-OAuth-Scopes", strings.ReplaceAll(scopes, ",", ", "))
		json.NewEncoder(w).Encode(body(u))
	}
}

func randomToken() string {
	b := make([]byte, 20)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
