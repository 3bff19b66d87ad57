// Package apitest starts fleetgate's real HTTP handler for tests and drives
// it with a genqlient client generated from schema/ (client_gen.go).
//
// Each test gets its own database: a SQLite file in a temporary directory
// and, when TEST_DATABASE_URL names a PostgreSQL database, a schema of its
// own there. Run runs a test body once per database.
package apitest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"fleetgate/ent"
	"fleetgate/graph"
	"fleetgate/internal/auth"
	"fleetgate/internal/clock"
	"fleetgate/internal/database"
	"fleetgate/internal/keystore"
	"fleetgate/internal/password"
	"fleetgate/internal/ratelimit"
	"fleetgate/internal/token"
)

// Hashing parameters for tests: cheap, because CI runs with -race.
// internal/password pins the production parameters in a test of its own.
var cheapHashing = password.Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

// testSecretKey is every test server's SECRET_KEY: one value, so a server
// restarted over a database (Serve) opens what the first one sealed.
var testSecretKey = []byte("fleetgate test secret key 32 b!!")

// Server is a running fleetgate over a fresh database.
type Server struct {
	URL string
	// DB is the server's database, for arranging and checking state.
	DB     *ent.Client
	Tokens *token.Set
	Deps   graph.Deps
	// Handler is the server's handler, for benchmarks that skip the network.
	Handler http.Handler
	t       testing.TB
}

// Backend is a database a test can run on.
type Backend struct {
	Name string
	open func(t testing.TB) *entsql.Driver
}

// Backends lists SQLite and, when TEST_DATABASE_URL is set, PostgreSQL.
func Backends() []Backend {
	b := []Backend{{Name: "sqlite", open: openSQLite}}
	if dsn := os.Getenv("TEST_DATABASE_URL"); dsn != "" {
		b = append(b, Backend{Name: "postgres", open: func(t testing.TB) *entsql.Driver { return openPostgres(t, dsn) }})
	}
	return b
}

// Run runs fn as a subtest on each backend, in parallel.
func Run(t *testing.T, fn func(t *testing.T, s *Server)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, Start(t, b))
		})
	}
}

// Start migrates a fresh database on b and serves fleetgate over it.
func Start(t testing.TB, b Backend) *Server {
	t.Helper()
	return StartDriver(t, b, nil)
}

// StartDriver is Start with the server's driver passed through wrap (nil:
// as it is), e.g. database.Traced.
func StartDriver(t testing.TB, b Backend, wrap func(dialect.Driver) dialect.Driver) *Server {
	t.Helper()
	drv := b.open(t)
	driver := database.Prepared(drv)
	if wrap != nil {
		driver = wrap(driver)
	}
	client := ent.NewClient(ent.Driver(driver))
	t.Cleanup(func() { client.Close() })
	if err := database.Migrate(context.Background(), drv); err != nil {
		t.Fatal(err)
	}
	return serve(t, client, drv.DB())
}

// Serve starts a server over an existing database, as a restart would.
func Serve(t testing.TB, client *ent.Client) *Server {
	t.Helper()
	return serve(t, client, nil)
}

// serve is Serve with the database's pool, for its metrics (nil: none).
func serve(t testing.TB, client *ent.Client, pool *sql.DB) *Server {
	t.Helper()
	tokens, err := keystore.Load(context.Background(), client, testSecretKey, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	deps := graph.Deps{
		DB:            client,
		SQL:           pool,
		Passwords:     password.NewHasher(cheapHashing, 4),
		Tokens:        tokens,
		Log:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:           time.Now,
		Introspection: true,
		SecretKey:     testSecretKey,
		// Every test signs up from 127.0.0.1; the limit has a test of its own.
		AbuseLimits: auth.AbuseLimits{SignUpsPerIP: ratelimit.Rate{Limit: 1000, Window: time.Hour}},
	}
	return ServeDeps(t, deps)
}

// ServeDeps starts a server with the given dependencies.
func ServeDeps(t testing.TB, deps graph.Deps) *Server {
	t.Helper()
	// Listening first, so the handler knows its own address (PublicURL).
	hs := httptest.NewUnstartedServer(nil)
	if deps.PublicURL == "" {
		deps.PublicURL = "http://" + hs.Listener.Addr().String()
	}
	h := graph.NewHandler(deps)
	hs.Config.Handler = h
	hs.Start()
	t.Cleanup(hs.Close)
	return &Server{URL: hs.URL, DB: deps.DB, Tokens: deps.Tokens, Deps: deps, Handler: h, t: t}
}

// Client returns a typed client that sends credential as a bearer token
// (none if empty).
func (s *Server) Client(credential string) graphql.Client {
	return graphql.NewClient(s.URL+"/graphql", &http.Client{Transport: bearer{credential: credential}})
}

// ClientFrom is Client posing as the client address addr behind a proxy
// (X-Forwarded-For): the server must trust 127.0.0.1 as a proxy
// (Deps.ClientIPs).
func (s *Server) ClientFrom(credential, addr string) graphql.Client {
	return graphql.NewClient(s.URL+"/graphql", &http.Client{Transport: bearer{credential: credential, forwardedFor: addr}})
}

// PostWith sends a raw JSON body to /graphql with the given headers, for
// requests a typed client cannot make.
func (s *Server) PostWith(headers map[string]string, body string) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// ResponseCode decodes a raw GraphQL response and returns the first error's
// extensions.code ("" when there is no error).
func ResponseCode(t testing.TB, resp *http.Response) string {
	t.Helper()
	var body struct {
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode response (status %d): %v", resp.StatusCode, err)
	}
	if len(body.Errors) == 0 {
		return ""
	}
	return fmt.Sprint(body.Errors[0].Extensions["code"])
}

type bearer struct{ credential, forwardedFor string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.credential != "" {
		r.Header.Set("Authorization", "Bearer "+b.credential)
	}
	if b.forwardedFor != "" {
		r.Header.Set("X-Forwarded-For", b.forwardedFor)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func openSQLite(t testing.TB) *entsql.Driver {
	drv, err := database.SQLite(filepath.Join(t.TempDir(), "fleetgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	return drv
}

// openPostgres connects to a schema of the test's own (PostgresSchema).
func openPostgres(t testing.TB, dsn string) *entsql.Driver {
	drv, err := database.Postgres(PostgresSchema(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	drv.DB().SetMaxOpenConns(5)
	return drv
}

// PostgresSchema creates an empty schema of the test's own in the database
// at dsn, dropped after the test, and returns dsn with it as the search
// path, so tests run in parallel without seeing each other.
func PostgresSchema(t testing.TB, dsn string) string {
	t.Helper()
	admin, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := "t_" + randomHex(8)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema (is TEST_DATABASE_URL reachable?): %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("postgres", dsn)
		if err == nil {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Must returns v once the test has checked err: Must(f())(t) fails t if f
// returned an error.
func Must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// Ext returns extensions[key] of the first GraphQL error in err ("" if none).
func Ext(err error, key string) string {
	var list gqlerror.List
	if !errors.As(err, &list) || len(list) == 0 || list[0].Extensions[key] == nil {
		return ""
	}
	return fmt.Sprint(list[0].Extensions[key])
}

// Code returns the extensions.code of the first GraphQL error in err.
func Code(err error) string { return Ext(err, "code") }

// WantCode fails the test unless err is a GraphQL error with that code.
func WantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := Code(err); got != code {
		t.Fatalf("want error code %s, got %q (err: %v)", code, got, err)
	}
}
