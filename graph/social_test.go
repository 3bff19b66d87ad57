package graph_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fleetgate/ent/user"
	. "fleetgate/internal/apitest"
	"fleetgate/internal/social"
	"fleetgate/internal/socialtest"
)

// The dashboard's origin: the flows end there. Nothing listens on it: the
// browser stops at the redirect and the test reads it.
const appOrigin = "http://app.test"

var (
	opAda = socialtest.User{ID: "sub-ada", Username: "ada", Email: "ada@example.com", EmailVerified: true,
		First: "Ada", Last: "Lovelace"}
	opBob = socialtest.User{ID: "sub-bob", Username: "bob", Email: "bob@example.com", EmailVerified: false,
		First: "Bob", Last: "Builder"}
	ghOcto = socialtest.GitHubUser{ID: 583231, Login: "octocat", Name: "The Octocat",
		Emails: []socialtest.GitHubEmail{{Email: "octocat@example.com", Primary: true, Verified: true}}}
)

// socialWorld is a fleetgate with three providers: corp (an OpenID issuer),
// google (Google's provider pointed at the same test OP) and github.
type socialWorld struct {
	*Server
	op *socialtest.OP
	gh *socialtest.GitHub
}

func withSocial(t *testing.T, s *Server) *socialWorld {
	t.Helper()
	return withSocialVia(t, s, nil)
}

// withSocialVia is withSocial with the server calling providers through
// client.
func withSocialVia(t *testing.T, s *Server, client *http.Client) *socialWorld {
	t.Helper()
	op := socialtest.StartOP(t, opAda, opBob)
	gh := socialtest.StartGitHub(t, "gh-client", "gh-secret")
	deps := s.Deps
	deps.ProviderClient = client
	deps.PublicURL = "" // this server's own
	deps.Social = social.Config{
		Providers: []social.ProviderConfig{
			{ID: "corp", DisplayName: "Corp SSO", Kind: social.KindOIDC, Issuer: op.URL, ClientID: "fg-corp", ClientSecret: "corp-secret"},
			{ID: social.Google, DisplayName: "Google", Kind: social.KindOIDC, Issuer: op.URL, ClientID: "fg-google", ClientSecret: "google-secret"},
			{ID: social.GitHub, DisplayName: "GitHub", Kind: social.KindGitHub, ClientID: "gh-client", ClientSecret: "gh-secret",
				WebURL: gh.URL, APIURL: gh.APIURL()},
		},
		RedirectOrigins: []string{appOrigin},
	}
	w := &socialWorld{Server: ServeDeps(t, deps), op: op, gh: gh}
	op.Register(socialtest.Client{ID: "fg-corp", Secret: "corp-secret", RedirectURI: w.URL + "/auth/corp/callback"})
	op.Register(socialtest.Client{ID: "fg-google", Secret: "google-secret", RedirectURI: w.URL + "/auth/google/callback"})
	gh.SignInAs(ghOcto, "read:user,user:email")
	return w
}

// startURL is the start route of provider ending at the dashboard.
func (w *socialWorld) startURL(provider string) string {
	return w.URL + "/auth/" + provider + "/start?redirect=" + url.QueryEscape(appOrigin+"/signed-in?from=social")
}

// atProvider takes the browser from fleetgate's redirect to the provider
// through the provider's pages (as person, at an OP) back to the callback.
func (w *socialWorld) atProvider(t *testing.T, b *socialtest.Browser, authURL *url.URL, person string) *url.URL {
	t.Helper()
	if strings.HasPrefix(authURL.String(), w.gh.URL) {
		return b.Get(t, authURL.String()).Location
	}
	return w.op.SignIn(t, b, authURL.String(), person)
}

// flow runs a whole browser leg from start to the dashboard and returns
// where the browser ends up.
func (w *socialWorld) flow(t *testing.T, b *socialtest.Browser, start, person string) *url.URL {
	t.Helper()
	began := b.Get(t, start)
	if began.StatusCode != http.StatusFound || began.Location == nil {
		t.Fatalf("start answered %s: %s", began.Status, began.Body)
	}
	if strings.HasPrefix(began.Location.String(), appOrigin) {
		return began.Location // refused at start
	}
	return w.callback(t, b, w.atProvider(t, b, began.Location, person))
}

// callback hands the provider's redirect to fleetgate and returns where it
// sends the browser.
func (w *socialWorld) callback(t *testing.T, b *socialtest.Browser, callback *url.URL) *url.URL {
	t.Helper()
	if !strings.HasPrefix(callback.String(), w.URL+"/auth/") {
		t.Fatalf("provider sent the browser to %s", callback)
	}
	done := b.Get(t, callback.String())
	if done.StatusCode != http.StatusFound || done.Location == nil {
		t.Fatalf("callback answered %s: %s", done.Status, done.Body)
	}
	if cc := done.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("callback redirect Cache-Control %q", cc)
	}
	if !strings.HasPrefix(done.Location.String(), appOrigin+"/signed-in?") || done.Location.Query().Get("from") != "social" {
		t.Fatalf("callback sent the browser to %s", done.Location)
	}
	return done.Location
}

// signIn runs a flow that must succeed and exchanges its code.
func (w *socialWorld) signIn(t *testing.T, provider, person string) *ExchangeLoginCodeExchangeLoginCodeAuthPayload {
	t.Helper()
	end := w.flow(t, socialtest.NewBrowser(t), w.startURL(provider), person)
	code := end.Query().Get("code")
	if code == "" {
		t.Fatalf("flow ended at %s, want ?code=", end)
	}
	if len(end.Query()) != 2 { // code and the target's own from
		t.Fatalf("the redirect carries more than the code: %s", end)
	}
	return &Must(ExchangeLoginCode(ctx, w.Client(""), code))(t).ExchangeLoginCode
}

func wantFlowError(t *testing.T, end *url.URL, code string) {
	t.Helper()
	if got := end.Query().Get("error"); got != code || end.Query().Get("code") != "" {
		t.Fatalf("flow ended at %s, want ?error=%s", end, code)
	}
}

func TestSocialSignUpAndSignIn(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		w := withSocial(t, s)
		providers := Must(AuthProviders(ctx, w.Client("")))(t).AuthProviders
		if len(providers) != 3 || providers[0].Id != "corp" || providers[0].DisplayName != "Corp SSO" ||
			providers[1].Id != "google" || providers[2].Id != "github" {
			t.Fatalf("authProviders %+v", providers)
		}
		for _, tc := range []struct {
			provider, person, username, email, subject string
		}{
			{"corp", opAda.Username, "ada", "ada@example.com", opAda.ID},
			{"github", "", "octocat", "octocat@example.com", "583231"},
		} {
			first := w.signIn(t, tc.provider, tc.person)
			if first.TwoFactorRequired || first.Token == "" || first.DeviceToken == nil || first.User.Username != tc.username {
				t.Fatalf("%s: first sign-in %+v", tc.provider, first)
			}
			me := Must(MyIdentities(ctx, w.Client(first.Token)))(t).Me
			if me.HasPassword || *me.Email != tc.email || len(me.Identities) != 1 {
				t.Fatalf("%s: account %+v", tc.provider, me)
			}
			id := me.Identities[0]
			if id.Provider != tc.provider || id.Subject != tc.subject || id.Email != tc.email || time.Since(id.LinkedAt) > time.Minute {
				t.Fatalf("%s: identity %+v", tc.provider, id)
			}
			// Signing in again finds the account by (provider, subject).
			again := w.signIn(t, tc.provider, tc.person)
			if again.User.Id != first.User.Id {
				t.Fatalf("%s: second sign-in reached %s, want %s", tc.provider, again.User.Id, first.User.Id)
			}
			// Each began a session, named by how it signed in (README "Sessions").
			if got := sessionsOf(t, w.Server, again.Token); len(got) != 2 || got[0].SignInMethod != tc.provider || !got[0].Current {
				t.Fatalf("%s: sessions %+v", tc.provider, got)
			}
			events := Must(SecurityEvents(ctx, w.Client(again.Token)))(t).Me.SecurityEvents
			if events.TotalCount != 2 || events.Edges[0].Node.Kind != "SIGN_IN" || events.Edges[0].Node.Detail != "with "+tc.provider {
				t.Fatalf("%s: events %+v", tc.provider, events)
			}
			var export struct {
				Identities []struct{ Provider, Subject, Email string }
			}
			if err := json.Unmarshal([]byte(Must(ExportMyData(ctx, w.Client(again.Token)))(t).ExportMyData), &export); err != nil {
				t.Fatal(err)
			}
			if len(export.Identities) != 1 || export.Identities[0].Provider != tc.provider || export.Identities[0].Subject != tc.subject {
				t.Fatalf("%s: export's identities %+v", tc.provider, export.Identities)
			}
			// A password later, for a recent session; then both ways work.
			set := Must(SetPassword(ctx, w.Client(again.Token), SetPasswordInput{NewPassword: Password}))(t).SetPassword
			if !set.HasPassword {
				t.Fatal("hasPassword after setPassword")
			}
			Must(Login(ctx, w.Client(""), LoginInput{UsernameOrEmail: tc.email, Password: Password}))(t)
		}
	})
}

func TestSocialGoogleAsOIDC(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		w := withSocial(t, s)
		google := w.signIn(t, social.Google, opAda.Username)
		// The same OP's subject through another provider id is another
		// identity; the address is the account's now, verified by the
		// provider, so this links to it.
		corp := w.signIn(t, "corp", opAda.Username)
		if corp.User.Id != google.User.Id {
			t.Fatalf("corp reached %s, google %s", corp.User.Id, google.User.Id)
		}
		ids := Must(MyIdentities(ctx, w.Client(corp.Token)))(t).Me.Identities
		if len(ids) != 2 || ids[0].Provider != "google" || ids[1].Provider != "corp" {
			t.Fatalf("identities %+v", ids)
		}
	})
}

func TestSocialLinkingByAddress(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s, box := s.WithMailbox(t)
		w := withSocial(t, s)
		adaLocal := w.SignUp(t, "ada_local") // ada_local@example.com
		bobLocal := w.SignUp(t, "bob_local")
		for range 2 {
			box.Next() // the sign-up's verification mail, to an address replaced below
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(w.DB.User.Update().Where(user.Username("ada_local")).SetEmail(opAda.Email).Exec(ctx))
		must(w.DB.User.Update().Where(user.Username("bob_local")).SetEmail(opBob.Email).SetEmailVerified(true).Exec(ctx))

		// The provider verified ada's address, but nobody verified the
		// account's: refused, nothing linked.
		wantFlowError(t, w.flow(t, socialtest.NewBrowser(t), w.startURL("corp"), opAda.Username), "account_exists")
		// The account's address is verified, the provider's is not: refused.
		wantFlowError(t, w.flow(t, socialtest.NewBrowser(t), w.startURL("corp"), opBob.Username), "account_exists")
		for _, a := range []Account{adaLocal, bobLocal} {
			if ids := Must(MyIdentities(ctx, w.Client(a.Token)))(t).Me.Identities; len(ids) != 0 {
				t.Fatalf("%s has identities %+v", a.Username, ids)
			}
		}

		// Both verified: linked, recorded and told.
		must(w.DB.User.Update().Where(user.Username("ada_local")).SetEmailVerified(true).Exec(ctx))
		in := w.signIn(t, "corp", opAda.Username)
		if in.User.Id != adaLocal.ID {
			t.Fatalf("signed in to %s, want ada_local", in.User.Username)
		}
		m := box.Next()
		if m.To != opAda.Email || !strings.Contains(m.Text, "corp (ada@example.com)") {
			t.Fatalf("mail %+v", m)
		}
		events := Must(SecurityEvents(ctx, w.Client(in.Token)))(t).Me.SecurityEvents
		if events.Edges[0].Node.Kind != "SIGN_IN" || events.Edges[1].Node.Kind != "IDENTITY_LINKED" || events.Edges[1].Node.Detail != "corp (ada@example.com)" {
			t.Fatalf("events %+v", events.Edges)
		}
	})
}

func TestSocialLoginCode(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		c := newClock(time.Now())
		deps := s.Deps
		deps.Now = c.Now
		w := withSocial(t, ServeDeps(t, deps))
		end := w.flow(t, socialtest.NewBrowser(t), w.startURL(social.GitHub), "")
		code := end.Query().Get("code")
		Must(ExchangeLoginCode(ctx, w.Client(""), code))(t)
		_, err := ExchangeLoginCode(ctx, w.Client(""), code)
		WantCode(t, err, "UNAUTHENTICATED")

		late := w.flow(t, socialtest.NewBrowser(t), w.startURL(social.GitHub), "").Query().Get("code")
		c.Advance(61 * time.Second)
		_, err = ExchangeLoginCode(ctx, w.Client(""), late)
		WantCode(t, err, "UNAUTHENTICATED")
		_, err = ExchangeLoginCode(ctx, w.Client(""), "not-a-code")
		WantCode(t, err, "UNAUTHENTICATED")
	})
}

// TestSocialLoginCodeLimit: wrong codes count against the client address
// as failed logins do.
func TestSocialLoginCodeLimit(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		w := withSocial(t, s)
		code := w.flow(t, socialtest.NewBrowser(t), w.startURL(social.GitHub), "").Query().Get("code")
		for range 51 { // as many failures as logins get free
			_, err := ExchangeLoginCode(ctx, w.Client(""), "guess")
			WantCode(t, err, "UNAUTHENTICATED")
		}
		_, err := ExchangeLoginCode(ctx, w.Client(""), code)
		WantCode(t, err, "RATE_LIMITED")
	})
}

func TestSocialPendingTwoFactor(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s, c := withClock(t, s, time.Now().Truncate(30*time.Second).Add(5*time.Second))
		w := withSocial(t, s)
		first := w.signIn(t, social.GitHub, "")
		secret, _, _ := enable(t, w.Server, c, first.Token)

		pending := w.signIn(t, social.GitHub, "")
		if !pending.TwoFactorRequired || pending.DeviceToken != nil {
			t.Fatalf("sign-in with 2FA on: %+v", pending)
		}
		_, err := MyIdentities(ctx, w.Client(pending.Token))
		WantCode(t, err, "TWO_FACTOR_REQUIRED")
		c.Advance(30 * time.Second)
		done := Must(VerifyTwoFactor(ctx, w.Client(pending.Token), VerifyTwoFactorInput{Code: ptr(code(t, secret, c.Now()))}))(t).VerifyTwoFactor
		if done.TwoFactorRequired || done.User.Id != first.User.Id {
			t.Fatalf("verified %+v", done)
		}
	})
}

func TestSocialLinkAndUnlink(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s, box := s.WithMailbox(t)
		w := withSocial(t, s)
		alice := w.SignUp(t, "alice")
		if m := box.Next(); !strings.Contains(m.Text, "/verify-email?token=") {
			t.Fatalf("sign-up mail %+v", m)
		}

		start := Must(LinkIdentity(ctx, w.Client(alice.Token), social.GitHub, ptr(appOrigin+"/signed-in?from=social")))(t).LinkIdentity
		if !strings.HasPrefix(start, w.URL+"/auth/github/start?") {
			t.Fatalf("start URL %s", start)
		}
		end := w.flow(t, socialtest.NewBrowser(t), start, "")
		if end.Query().Get("linked") != "github" || end.Query().Get("code") != "" {
			t.Fatalf("link ended at %s", end)
		}
		if m := box.Next(); m.To != alice.Email || !strings.Contains(m.Text, "github (octocat@example.com)") {
			t.Fatalf("mail %+v", m)
		}
		// GitHub now signs in to alice.
		if in := w.signIn(t, social.GitHub, ""); in.User.Id != alice.ID {
			t.Fatalf("github signs in to %s", in.User.Username)
		}
		// The ticket worked once.
		wantFlowError(t, w.flow(t, socialtest.NewBrowser(t), start, ""), "link_expired")

		// The identity is alice's: another account cannot link it.
		carol := w.SignUp(t, "carol")
		other := Must(LinkIdentity(ctx, w.Client(carol.Token), social.GitHub, ptr(appOrigin+"/signed-in?from=social")))(t).LinkIdentity
		wantFlowError(t, w.flow(t, socialtest.NewBrowser(t), other, ""), "identity_in_use")

		_, err := LinkIdentity(ctx, w.Client(alice.Token), "nope", nil)
		WantCode(t, err, "BAD_USER_INPUT")
		_, err = LinkIdentity(ctx, w.Client(alice.Token), social.GitHub, ptr("https://evil.test/"))
		WantCode(t, err, "BAD_USER_INPUT")
		_, err = LinkIdentity(ctx, w.Client(""), social.GitHub, nil)
		WantCode(t, err, "UNAUTHENTICATED")

		ids := Must(MyIdentities(ctx, w.Client(alice.Token)))(t).Me.Identities
		_, err = UnlinkIdentity(ctx, w.Client(carol.Token), ids[0].Id)
		WantCode(t, err, "NOT_FOUND")
		// Nor can carol see it.
		const node = `query($id: ID!) { node(id: $id) { ... on Identity { subject } } }`
		if r := w.Do(t, carol.Token, node, map[string]any{"id": ids[0].Id}); r.ErrorAt("node") == nil || r.ErrorAt("node").Code() != "NOT_FOUND" {
			t.Fatalf("carol reads alice's identity: %+v", r)
		}
		if r := w.Do(t, alice.Token, node, map[string]any{"id": ids[0].Id}); len(r.Errors) != 0 || !strings.Contains(string(r.Data["node"]), "583231") {
			t.Fatalf("alice reads her identity: %+v", r)
		}
		if got := Must(UnlinkIdentity(ctx, w.Client(alice.Token), ids[0].Id))(t).UnlinkIdentity; got != ids[0].Id {
			t.Fatalf("unlinked %s", got)
		}
		// Unlinked: GitHub makes an account of its own now.
		if in := w.signIn(t, social.GitHub, ""); in.User.Id == alice.ID || in.User.Username != "octocat" {
			t.Fatalf("github after unlinking signs in to %s", in.User.Username)
		}
	})
}

func TestSocialLinkNeedsRecentSignIn(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s, c := withClock(t, s, time.Now())
		w := withSocial(t, s)
		alice := w.SignUp(t, "alice")
		c.Advance(16 * time.Minute)
		_, err := LinkIdentity(ctx, w.Client(alice.Token), social.GitHub, nil)
		WantCode(t, err, "FORBIDDEN")
	})
}

func TestSocialUnlinkLastWayIn(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		w := withSocial(t, s)
		octo := w.signIn(t, social.GitHub, "")
		ids := Must(MyIdentities(ctx, w.Client(octo.Token)))(t).Me.Identities
		_, err := UnlinkIdentity(ctx, w.Client(octo.Token), ids[0].Id)
		WantCode(t, err, "FORBIDDEN")
		if !strings.Contains(err.Error(), "only way to sign in") {
			t.Fatalf("refusal %v should say why", err)
		}
		// With a second identity, either may go.
		start := Must(LinkIdentity(ctx, w.Client(octo.Token), "corp", ptr(appOrigin+"/signed-in?from=social")))(t).LinkIdentity
		if end := w.flow(t, socialtest.NewBrowser(t), start, opBob.Username); end.Query().Get("linked") != "corp" {
			t.Fatalf("link ended at %s", end)
		}
		Must(UnlinkIdentity(ctx, w.Client(octo.Token), ids[0].Id))(t)
		ids = Must(MyIdentities(ctx, w.Client(octo.Token)))(t).Me.Identities
		if len(ids) != 1 || ids[0].Provider != "corp" {
			t.Fatalf("identities %+v", ids)
		}
		_, err = UnlinkIdentity(ctx, w.Client(octo.Token), ids[0].Id)
		WantCode(t, err, "FORBIDDEN")
		// deleteAccount asks a social-only account for a password first.
		_, err = DeleteAccount(ctx, w.Client(octo.Token), "")
		WantCode(t, err, "PASSWORD_REQUIRED")
	})
}

func TestSocialRefusalsThroughRoutes(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		w := withSocial(t, s)

		t.Run("off-origin redirect", func(t *testing.T) {
			for _, target := range []string{"https://evil.test/", "//evil.test/", appOrigin + "@evil.test/", "/signed-in"} {
				resp := socialtest.NewBrowser(t).Get(t, w.URL+"/auth/corp/start?redirect="+url.QueryEscape(target))
				if resp.StatusCode != http.StatusBadRequest || resp.Location != nil || !strings.Contains(resp.Body, "invalid_redirect") {
					t.Fatalf("%s: %s %v %s", target, resp.Status, resp.Location, resp.Body)
				}
			}
		})
		t.Run("unknown provider", func(t *testing.T) {
			end := w.flow(t, socialtest.NewBrowser(t), w.startURL("nope"), "")
			wantFlowError(t, end, "unknown_provider")
		})
		t.Run("missing state", func(t *testing.T) {
			b := socialtest.NewBrowser(t)
			began := b.Get(t, w.startURL("corp"))
			callback := w.op.SignIn(t, b, began.Location.String(), opAda.Username)
			// Another browser (no flow cookie) lands on the callback.
			resp := socialtest.NewBrowser(t).Get(t, callback.String())
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, "invalid_state") {
				t.Fatalf("%s %s", resp.Status, resp.Body)
			}
		})
		t.Run("wrong state", func(t *testing.T) {
			b := socialtest.NewBrowser(t)
			began := b.Get(t, w.startURL("corp"))
			callback := w.op.SignIn(t, b, began.Location.String(), opAda.Username)
			q := callback.Query()
			q.Set("state", "forged")
			callback.RawQuery = q.Encode()
			wantFlowError(t, w.callback(t, b, callback), "invalid_state")
		})
		t.Run("replayed callback", func(t *testing.T) {
			b := socialtest.NewBrowser(t)
			began := b.Get(t, w.startURL(social.GitHub))
			callback := b.Get(t, began.Location.String()).Location
			if w.callback(t, b, callback).Query().Get("code") == "" {
				t.Fatal("first callback failed")
			}
			resp := b.Get(t, callback.String())
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, "invalid_state") {
				t.Fatalf("replay: %s %s", resp.Status, resp.Body)
			}
		})
		t.Run("PKCE verifier mismatch", func(t *testing.T) {
			for _, provider := range []string{"corp", social.GitHub} {
				b := socialtest.NewBrowser(t)
				began := b.Get(t, w.startURL(provider))
				auth := tamperQuery(began.Location, "code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
				wantFlowError(t, w.callback(t, b, w.atProvider(t, b, auth, opAda.Username)), "exchange_failed")
			}
		})
		t.Run("wrong nonce", func(t *testing.T) {
			b := socialtest.NewBrowser(t)
			began := b.Get(t, w.startURL("corp"))
			auth := tamperQuery(began.Location, "nonce", "another-flows-nonce")
			wantFlowError(t, w.callback(t, b, w.atProvider(t, b, auth, opAda.Username)), "invalid_id_token")
		})
		t.Run("provider refused", func(t *testing.T) {
			b := socialtest.NewBrowser(t)
			began := b.Get(t, w.startURL("corp"))
			callback, _ := url.Parse(w.URL + "/auth/corp/callback?error=access_denied&state=" + url.QueryEscape(began.Location.Query().Get("state")))
			wantFlowError(t, w.callback(t, b, callback), "provider_denied")
		})
		t.Run("no verified address", func(t *testing.T) {
			unverified := socialtest.GitHubUser{ID: 1, Login: "nomail",
				Emails: []socialtest.GitHubEmail{{Email: "nomail@example.com", Primary: true, Verified: false}}}
			w.gh.SignInAs(unverified, "user:email")
			defer w.gh.SignInAs(ghOcto, "read:user,user:email")
			wantFlowError(t, w.flow(t, socialtest.NewBrowser(t), w.startURL(social.GitHub), ""), "email_required")
		})
		t.Run("email scope not granted", func(t *testing.T) {
			w.gh.SignInAs(ghOcto, "read:user")
			defer w.gh.SignInAs(ghOcto, "read:user,user:email")
			wantFlowError(t, w.flow(t, socialtest.NewBrowser(t), w.startURL(social.GitHub), ""), "email_scope_missing")
		})
	})
}

// TestSocialForeignIDToken: a genuine ID token of the same provider, issued
// to another client (here fleetgate's own Google client at that OP), put in
// the token answer of a corp sign-in, is refused.
func TestSocialForeignIDToken(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		swap := &socialtest.Rewriter{Path: "/oauth/token", Field: "id_token"}
		w := withSocialVia(t, s, &http.Client{Transport: swap})
		w.signIn(t, social.Google, opAda.Username)
		swap.ReplaceWith(swap.Captured())
		wantFlowError(t, w.flow(t, socialtest.NewBrowser(t), w.startURL("corp"), opAda.Username), "invalid_id_token")
		// Nothing was linked or created for corp.
		if n := Must(w.DB.Identity.Query().Count(ctx))(t); n != 1 {
			t.Fatalf("%d identities, want google's alone", n)
		}
	})
}

func TestSocialExpiredIDTokenAndWrongIssuer(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		w := withSocial(t, s)
		w.op.ExpireIDTokens()
		wantFlowError(t, w.flow(t, socialtest.NewBrowser(t), w.startURL("corp"), opAda.Username), "invalid_id_token")

		// An issuer whose discovery document names another issuer.
		deps := w.Deps
		deps.PublicURL = ""
		deps.Social.Providers = []social.ProviderConfig{{ID: "corp", DisplayName: "Corp", Kind: social.KindOIDC,
			Issuer: strings.Replace(w.op.URL, "127.0.0.1", "localhost", 1), ClientID: "fg-corp", ClientSecret: "corp-secret"}}
		misconfigured := &socialWorld{Server: ServeDeps(t, deps), op: w.op, gh: w.gh}
		wantFlowError(t, misconfigured.flow(t, socialtest.NewBrowser(t), misconfigured.startURL("corp"), ""), "provider_unavailable")
	})
}

func tamperQuery(u *url.URL, name, value string) *url.URL {
	c := *u
	q := c.Query()
	q.Set(name, value)
	c.RawQuery = q.Encode()
	return &c
}
