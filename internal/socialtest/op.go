// Package socialtest runs identity providers for tests, in-process on
// loopback: a real OpenID provider (zitadel/oidc's example OP, with its own
// login form) and a server speaking GitHub's documented OAuth and REST
// shapes, which has no local equivalent. Browser drives them as a person's
// browser would: cookies kept, redirects taken one at a time.
package socialtest

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Password is every OP user's password.
const Password = "correct horse battery staple"

// User is a person known to the OP.
type User struct {
	ID, Username  string
	Email         string
	EmailVerified bool
	First, Last   string
}

// Client is a relying party registered at the OP (web client, secret in
// HTTP Basic or the form).
type Client struct {
	ID, Secret, RedirectURI string
}

// OP is a running OpenID provider; its issuer is its URL.
type OP struct {
	*httptest.Server
	storage *opStorage
}

// StartOP runs an OP knowing users until t ends; Register adds clients.
func StartOP(t testing.TB, users ...User) *OP {
	t.Helper()
	store := userStore{}
	for _, u := range users {
		store[u.ID] = &storage.User{ID: u.ID, Username: u.Username, Password: Password,
			FirstName: u.First, LastName: u.Last, Email: u.Email, EmailVerified: u.EmailVerified}
	}
	o := &OP{}
	var handler atomic.Value
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	t.Cleanup(o.Close)
	// The issuer is the server's URL, known only once it listens.
	o.storage = &opStorage{Storage: storage.NewStorageWithClients(store, nil), clients: map[string]Client{}}
	handler.Store(http.Handler(exampleop.SetupServer(o.URL, o.storage, nil, false)))
	return o
}

// Register makes c known to the OP.
func (o *OP) Register(c Client) {
	o.storage.mu.Lock()
	defer o.storage.mu.Unlock()
	o.storage.clients[c.ID] = c
}

// ExpireIDTokens makes the OP issue ID tokens that expired a minute before
// they were issued.
func (o *OP) ExpireIDTokens() { o.storage.expired.Store(true) }

// SignIn takes the browser from an authorization URL through the OP's login
// form as username, and returns the URL the OP sends it back to.
func (o *OP) SignIn(t testing.TB, b *Browser, authURL, username string) *url.URL {
	t.Helper()
	page := b.FollowWhile(t, authURL, o.URL)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("OP answered %s to the authorization request: %s", page.Status, page.Body)
	}
	m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no login form on the OP's page: %s", page.Body)
	}
	resp := b.PostForm(t, o.URL+"/login/username", url.Values{
		"id": {m[1]}, "username": {username}, "password": {Password}})
	if resp.Location == nil {
		t.Fatalf("OP login answered %s: %s", resp.Status, resp.Body)
	}
	back := b.FollowWhile(t, resp.Location.String(), o.URL)
	if back.Location == nil {
		t.Fatalf("OP did not send the browser back: %s %s", back.Status, back.Body)
	}
	return back.Location
}

// userStore is the OP's directory of people.
type userStore map[string]*storage.User

func (u userStore) GetUserByID(id string) *storage.User { return u[id] }
func (u userStore) ExampleClientID() string             { return storage.ServiceUserID }
func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, user := range u {
		if user.Username == name {
			return user
		}
	}
	return nil
}

// opStorage is the example storage with clients of its own, registered at
// any time, whose ID tokens are already expired once asked to.
type opStorage struct {
	*storage.Storage
	mu      sync.Mutex
	clients map[string]Client
	expired atomic.Bool
}

func (s *opStorage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, errors.New("client not found")
	}
	client := storage.RedirectGlobsClient(storage.WebClient(c.ID, c.Secret, c.RedirectURI))
	if s.expired.Load() {
		return expiredClient{client}, nil
	}
	return client, nil
}

func (s *opStorage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[id]; !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return errors.New("invalid client credentials")
	}
	return nil
}

type expiredClient struct{ op.Client }

func (expiredClient) IDTokenLifetime() time.Duration { return -time.Minute }

// Browser is a person's browser: a cookie jar, one request at a time, and
// redirects shown rather than followed.
type Browser struct {
	Client *http.Client
}

// NewBrowser is a browser with no cookies.
func NewBrowser(t testing.TB) *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{Client: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is an answer as the browser saw it.
type Response struct {
	StatusCode int
	Status     string
	Header     http.Header
	Body       string
	// Location is the redirect target, resolved against the request URL.
	Location *url.URL
}

// Get requests rawURL.
func (b *Browser) Get(t testing.TB, rawURL string) Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.do(t, req)
}

// PostForm submits a form to rawURL.
func (b *Browser) PostForm(t testing.TB, rawURL string, form url.Values) Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(t, req)
}

// FollowWhile requests rawURL and follows redirects while they stay under
// prefix; it returns the last answer (a page, or a redirect elsewhere).
func (b *Browser) FollowWhile(t testing.TB, rawURL, prefix string) Response {
	t.Helper()
	for range 20 {
		resp := b.Get(t, rawURL)
		if resp.Location == nil || !strings.HasPrefix(resp.Location.String(), prefix) {
			return resp
		}
		rawURL = resp.Location.String()
	}
	t.Fatalf("more than 20 redirects from %s", rawURL)
	return Response{}
}

func (b *Browser) do(t testing.TB, req *http.Request) Response {
	t.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := Response{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header, Body: string(body)}
	if loc, err := resp.Location(); err == nil {
		out.Location = loc
	}
	return out
}
