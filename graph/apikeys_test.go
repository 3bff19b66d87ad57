package graph_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fleetgate/internal/apikey"
	. "fleetgate/internal/apitest"
)

func ptr[T any](v T) *T { return &v }

func TestAPIKeyLifecycle(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		var logs bytes.Buffer
		deps := s.Deps
		deps.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		s = ServeDeps(t, deps)
		a := s.SignUp(t, "alice")
		session := s.Client(a.Token)

		created := Must(CreateApiKey(ctx, session, CreateApiKeyInput{
			Name: "  ci deploy  ", Description: ptr("used by the CI pipeline"),
		}))(t).CreateApiKey
		key := created.Key
		if !strings.HasPrefix(key, "fgk_") || len(key) != apikey.Length || apikey.Parse(key) != nil {
			t.Fatalf("key %q is not in the documented format", key)
		}
		if k := created.ApiKey; k.Name != "ci deploy" || k.Description != "used by the CI pipeline" ||
			k.Prefix != key[:12] || k.ExpiresAt != nil || k.LastUsedAt != nil {
			t.Fatalf("created key: %+v", k)
		}

		me := Must(Me(ctx, s.Client(key), nil, nil))(t).Me
		if me.Id != a.ID {
			t.Fatalf("the key acts as %s, want %s", me.Id, a.ID)
		}

		listed := Must(ApiKeys(ctx, s.Client(key)))(t).ApiKeys
		if len(listed) != 1 || listed[0].Id != created.ApiKey.Id || listed[0].LastUsedAt == nil {
			t.Fatalf("apiKeys after one use: %+v", listed)
		}
		// The key appears in no later answer and in no log line.
		resp := s.PostWith(map[string]string{"Authorization": "Bearer " + a.Token},
			`{"query":"{ apiKeys { id name description prefix createdAt lastUsedAt expiresAt } node(id: \"`+created.ApiKey.Id+`\") { ... on ApiKey { prefix } } }"}`)
		body, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(body), key) || strings.Contains(logs.String(), key) {
			t.Fatal("the API key was shown after createApiKey")
		}
		if !strings.Contains(string(body), key[:12]) {
			t.Fatalf("node(id) must resolve the caller's own key: %s", body)
		}

		revoked := Must(RevokeApiKeys(ctx, session, []string{created.ApiKey.Id}))(t).RevokeApiKeys
		if len(revoked) != 1 || revoked[0] != created.ApiKey.Id {
			t.Fatalf("revoked %v", revoked)
		}
		_, err := Me(ctx, s.Client(key), nil, nil)
		WantCode(t, err, "UNAUTHENTICATED")

		events := Must(SecurityEvents(ctx, session))(t).Me.SecurityEvents.Edges
		var kinds []string
		for _, e := range events {
			kinds = append(kinds, string(e.Node.Kind)+":"+e.Node.Detail)
		}
		if got := strings.Join(kinds, ","); got != "API_KEY_REVOKED:ci deploy,API_KEY_CREATED:ci deploy" {
			t.Fatalf("security events: %s", got)
		}
	})
}

func TestAPIKeyRefusals(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		session := s.Client(a.Token)
		key := Must(CreateApiKey(ctx, session, CreateApiKeyInput{Name: "short-lived", ExpiresAt: ptr(time.Now().Add(time.Hour))}))(t).CreateApiKey.Key
		Must(Me(ctx, s.Client(key), nil, nil))(t)

		badChecksum := key[:len(key)-1] + "a"
		if badChecksum == key {
			badChecksum = key[:len(key)-1] + "b"
		}
		unknown := Must(apikey.Generate())(t)
		for name, cred := range map[string]string{
			"bad checksum": badChecksum,
			"unknown key":  unknown,
			"truncated":    key[:30],
			"prefix only":  "fgk_",
		} {
			_, err := Me(ctx, s.Client(cred), nil, nil)
			if Code(err) != "UNAUTHENTICATED" {
				t.Errorf("%s: want UNAUTHENTICATED, got %v", name, err)
			}
			if err != nil && strings.Contains(err.Error(), cred) {
				t.Errorf("%s: the error echoes the credential", name)
			}
		}

		// Two hours later the key has expired.
		later := s.Deps
		later.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		_, err := Me(ctx, ServeDeps(t, later).Client(key), nil, nil)
		WantCode(t, err, "UNAUTHENTICATED")

		invalid := []struct {
			in    CreateApiKeyInput
			field string
		}{
			{CreateApiKeyInput{Name: ""}, "name"},
			{CreateApiKeyInput{Name: "   "}, "name"},
			{CreateApiKeyInput{Name: strings.Repeat("n", 51)}, "name"},
			{CreateApiKeyInput{Name: "ok", Description: ptr(strings.Repeat("d", 151))}, "description"},
			{CreateApiKeyInput{Name: "ok", ExpiresAt: ptr(time.Now().Add(-time.Minute))}, "expiresAt"},
		}
		for _, c := range invalid {
			_, err := CreateApiKey(ctx, session, c.in)
			if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != c.field {
				t.Errorf("%+v: want BAD_USER_INPUT on %s, got %v", c.in, c.field, err)
			}
		}
		if n := len(Must(ApiKeys(ctx, session))(t).ApiKeys); n != 1 {
			t.Fatalf("refused creations left %d keys, want 1", n)
		}
		// 50 characters of any script is fine.
		Must(CreateApiKey(ctx, session, CreateApiKeyInput{Name: strings.Repeat("é", 50)}))(t)
	})
}

func TestAPIKeyCannotMintCredentials(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		key := Must(CreateApiKey(ctx, s.Client(a.Token), CreateApiKeyInput{Name: "robot"}))(t).CreateApiKey.Key
		withKey := s.Client(key)

		_, err := CreateApiKey(ctx, withKey, CreateApiKeyInput{Name: "another"})
		WantCode(t, err, "FORBIDDEN")
		if !strings.Contains(err.Error(), "session token") {
			t.Fatalf("the refusal must say a session token is needed: %v", err)
		}
		_, err = RefreshToken(ctx, withKey)
		WantCode(t, err, "FORBIDDEN")
		if n := len(Must(ApiKeys(ctx, withKey))(t).ApiKeys); n != 1 {
			t.Fatalf("want 1 key, have %d", n)
		}
		// Ending sessions does not touch API keys.
		Must(SignOutEverywhere(ctx, s.Client(a.Token)))(t)
		Must(Me(ctx, withKey, nil, nil))(t)
	})
}

func TestRevokeAPIKeysIsAllOrNothing(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice := s.SignUp(t, "alice")
		bob := s.SignUp(t, "bob")
		create := func(token, name string) CreateApiKeyCreateApiKeyCreateApiKeyPayload {
			return Must(CreateApiKey(ctx, s.Client(token), CreateApiKeyInput{Name: name}))(t).CreateApiKey
		}
		a1, a2, b1 := create(alice.Token, "a1"), create(alice.Token, "a2"), create(bob.Token, "b1")

		for name, ids := range map[string][]string{
			"someone else's key":   {a1.ApiKey.Id, b1.ApiKey.Id},
			"an id that is no key": {a1.ApiKey.Id, alice.ID},
			"a made-up id":         {"999999"},
			"not a number":         {"abc"},
		} {
			_, err := RevokeApiKeys(ctx, s.Client(alice.Token), ids)
			want := "NOT_FOUND"
			if name == "not a number" {
				want = "BAD_USER_INPUT"
			}
			if Code(err) != want {
				t.Errorf("%s: want %s, got %v", name, want, err)
			}
		}
		for _, k := range []string{a1.Key, a2.Key, b1.Key} {
			Must(Me(ctx, s.Client(k), nil, nil))(t)
		}
		// Another user's key is invisible through node(id) too.
		_, err := Node(ctx, s.Client(alice.Token), b1.ApiKey.Id)
		WantCode(t, err, "NOT_FOUND")

		got := Must(RevokeApiKeys(ctx, s.Client(alice.Token), []string{a2.ApiKey.Id, a1.ApiKey.Id, a1.ApiKey.Id}))(t).RevokeApiKeys
		if len(got) != 2 {
			t.Fatalf("revoked %v", got)
		}
		for _, k := range []string{a1.Key, a2.Key} {
			_, err := Me(ctx, s.Client(k), nil, nil)
			WantCode(t, err, "UNAUTHENTICATED")
		}
		Must(Me(ctx, s.Client(b1.Key), nil, nil))(t)
	})
}

// BenchmarkAuthenticateAPIKey measures a whole `{ me { id username } }`
// request authenticated with an API key, through the handler, on SQLite and,
// with TEST_DATABASE_URL, PostgreSQL.
func BenchmarkAuthenticateAPIKey(b *testing.B) {
	for _, be := range Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := Start(b, be)
			a := s.SignUp(b, "alice")
			key := Must(CreateApiKey(ctx, s.Client(a.Token), CreateApiKeyInput{Name: "bench"}))(b).CreateApiKey.Key
			benchmarkMe(b, s, key)
		})
	}
}

// BenchmarkAuthenticateSession is the same request with a session token.
func BenchmarkAuthenticateSession(b *testing.B) {
	for _, be := range Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := Start(b, be)
			benchmarkMe(b, s, s.SignUp(b, "alice").Token)
		})
	}
}

func benchmarkMe(b *testing.B, s *Server, credential string) {
	h := s.Handler
	body := `{"query":"{ me { id username } }"}`
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+credential)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"id"`)) {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
}

// TestAPIKeyExpiryWithAnOffset: an expiresAt given with a +14:00
// offset ends the key at that instant, not when a text comparison says so.
func TestAPIKeyExpiryWithAnOffset(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		start := time.Now().UTC().Truncate(time.Second)
		s, clock := withClock(t, s, start)
		a := s.SignUp(t, "alice")
		end := start.Add(time.Hour).In(time.FixedZone("LINT", 14*3600))
		key := Must(CreateApiKey(ctx, s.Client(a.Token), CreateApiKeyInput{Name: "z", ExpiresAt: &end}))(t).CreateApiKey.Key
		clock.Set(start.Add(time.Hour - time.Second))
		if _, err := MeIdentity(ctx, s.Client(key)); err != nil {
			t.Errorf("a second before expiry: %v", err)
		}
		clock.Set(start.Add(time.Hour))
		if _, err := MeIdentity(ctx, s.Client(key)); Code(err) != "UNAUTHENTICATED" {
			t.Errorf("at expiry: %v", err)
		}
		clock.Set(start.Add(2 * time.Hour))
		if _, err := MeIdentity(ctx, s.Client(key)); Code(err) != "UNAUTHENTICATED" {
			t.Errorf("an hour after expiry: %v", err)
		}
	})
}
