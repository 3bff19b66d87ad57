package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"fleetgate/internal/admin"
	. "fleetgate/internal/apitest"
)

// nestedQuery is the dashboard's main load and the benchmark's nested case
// (README "Performance"): the caller's first 50 applications, each with its
// first 10 members' role and username.
const nestedQuery = `query OursNested {
  applications(first: 50) {
    edges { node { slug name members(first: 10) { edges { node { role user { username } } } } } }
  }
}`

// nestedFixture seeds the benchmark's shape in small: user1 is a member of
// 50 of 500 applications, each with 10 members. It returns user1's API key.
func nestedFixture(t testing.TB, s *Server) string {
	t.Helper()
	var out bytes.Buffer
	args := []string{"seed", "--users", "30", "--organizations", "5", "--applications-per-org", "100",
		"--members-per-app", "10", "--devices-per-app", "0", "--keys-per-user", "1"}
	if err := admin.Run(context.Background(), s.DB, args, &out); err != nil {
		t.Fatalf("seed: %v\n%s", err, out.String())
	}
	key := regexp.MustCompile(`(?m)^FLEETGATE_SEED_API_KEY=(\S+)$`).FindStringSubmatch(out.String())
	if key == nil {
		t.Fatalf("no API key in\n%s", out.String())
	}
	return key[1]
}

// nestedRequest runs nestedQuery through the handler, without the network.
func nestedRequest(t testing.TB, h http.Handler, key string) []byte {
	return keyRequest(t, h, key, nestedQuery, nil)
}

// keyRequest runs query through the handler with an API key, failing on any
// error in the answer.
func keyRequest(t testing.TB, h http.Handler, key, query string, variables map[string]any) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// TestNestedAnswer checks the nested answer and its SQL statements: the API
// key (and its owner) in one, the applications, their members, their users.
func TestNestedAnswer(t *testing.T) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			s, statements := StartCounting(t, b)
			key := nestedFixture(t, s)
			nestedRequest(t, s.Handler, key) // the key's first use is recorded (a write)
			statements.Reset()
			var answer struct {
				Data struct {
					Applications struct {
						Edges []struct {
							Node struct {
								Slug    string
								Members struct {
									Edges []struct {
										Node struct {
											Role string
											User struct{ Username string }
										}
									}
								}
							}
						}
					}
				}
			}
			if err := json.Unmarshal(nestedRequest(t, s.Handler, key), &answer); err != nil {
				t.Fatal(err)
			}
			apps := answer.Data.Applications.Edges
			if len(apps) != 50 {
				t.Fatalf("%d applications, want 50", len(apps))
			}
			for _, a := range apps {
				if len(a.Node.Members.Edges) != 10 {
					t.Fatalf("%s: %d members, want 10", a.Node.Slug, len(a.Node.Members.Edges))
				}
				for _, m := range a.Node.Members.Edges {
					if m.Node.Role == "" || !strings.HasPrefix(m.Node.User.Username, "user") {
						t.Fatalf("%s: member %+v", a.Node.Slug, m.Node)
					}
				}
			}
			if n := statements.Count(); n > 4 {
				t.Fatalf("the nested query ran %d statements, want at most 4", n)
			}
			// The members of the applications the caller sees are not
			// checked against the visibility predicate again.
			for _, text := range statements.Texts() {
				text = strings.ReplaceAll(text, "`", `"`) // SQLite's quotes
				if strings.Contains(text, `FROM "application_memberships" WHERE "application_memberships"."application_id" IN`) &&
					strings.Contains(text, "EXISTS") {
					t.Errorf("the members are filtered again: %s", text)
				}
			}
		})
	}
}

// TestConnectionsWithoutFirstLoadOnePage: a connection below another, given
// neither first nor last (or null, written or in a variable), loads one
// default page per parent, not every row: the limit is in the statement
// that loads them all at once.
func TestConnectionsWithoutFirstLoadOnePage(t *testing.T) {
	null := map[string]any{"n": nil}
	cases := []struct {
		members   string
		variables map[string]any
	}{
		{"members", nil},
		{"members(first: null)", nil},
		{"members(last: null, first: null)", nil},
		{"members(first: $n)", null},
		{"members(first: $n)", map[string]any{}}, // absent is null too
		{"members(first: $n, last: $m)", map[string]any{"n": nil, "m": nil}},
		{"members(last: $n)", null},
	}
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			s, statements := StartCounting(t, b)
			key := nestedFixture(t, s)
			for _, c := range cases {
				query := "query"
				if strings.Contains(c.members, "$m") {
					query += "($n: Int, $m: Int)"
				} else if strings.Contains(c.members, "$n") {
					query += "($n: Int)"
				}
				query += ` { applications(first: 50) { edges { node { ` + c.members + ` { edges { node { role } } } } } } }`
				statements.Reset()
				if answer := keyRequest(t, s.Handler, key, query, c.variables); bytes.Count(answer, []byte(`"role"`)) != 500 {
					t.Fatalf("%s %v: %.300s", c.members, c.variables, answer)
				}
				limited := false
				for _, text := range statements.Texts() {
					if strings.Contains(text, "application_memberships") && strings.Contains(text, "row_number") {
						limited = true
					}
				}
				if !limited {
					t.Errorf("%s %v: the members were loaded without a limit per application:\n%s", c.members, c.variables, strings.Join(statements.Texts(), "\n"))
				}
			}
		})
	}
}

// TestNullPageVariableUsedElsewhere: a null variable that pages one
// connection and is also another connection's first beside a given last
// cannot become the default page there without changing that connection's
// meaning, so the request is refused.
func TestNullPageVariableUsedElsewhere(t *testing.T) {
	s := Start(t, Backends()[0])
	key := nestedFixture(t, s)
	query := `query($n: Int) { applications(first: $n, last: 2) { edges { node { members(first: $n) { edges { node { role } } } } } } }`
	body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"n": nil}})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, req)
	if !bytes.Contains(rec.Body.Bytes(), []byte(`"code":"BAD_USER_INPUT"`)) || !bytes.Contains(rec.Body.Bytes(), []byte(`$n`)) {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
}

// maxNestedAllocBytes bounds the memory one nested request allocates (about
// 34 KB of answer): README "Performance" says what it is spent on. It holds
// under CI's -race too, where the race detector adds about 5% (3.62 MB
// against 3.44 MB without it, 2026-12-04).
const maxNestedAllocBytes = 3<<20 + 512<<10

// TestNestedAllocations pins the allocation per nested request, on SQLite
// (allocation counts are deterministic, time is not).
func TestNestedAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a database")
	}
	s := Start(t, Backends()[0])
	key := nestedFixture(t, s)
	nestedRequest(t, s.Handler, key)
	const runs = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		nestedRequest(t, s.Handler, key)
	}
	runtime.ReadMemStats(&after)
	perRequest := (after.TotalAlloc - before.TotalAlloc) / runs
	t.Logf("%d bytes, %d allocations per nested request", perRequest, (after.Mallocs-before.Mallocs)/runs)
	if perRequest > maxNestedAllocBytes {
		t.Fatalf("a nested request allocates %d bytes, want at most %d", perRequest, maxNestedAllocBytes)
	}
}

// BenchmarkNested runs nestedQuery through the handler, on SQLite and, with
// TEST_DATABASE_URL, PostgreSQL. cpu-ms/op is the process's CPU time (user +
// system) per request: the server's share, database backends not included.
func BenchmarkNested(b *testing.B) {
	for _, be := range Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := Start(b, be)
			key := nestedFixture(b, s)
			nestedRequest(b, s.Handler, key)
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				nestedRequest(b, s.Handler, key)
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		})
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
