package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"fleetgate/ent/securityevent"
	"fleetgate/ent/user"
	"fleetgate/graph"
	. "fleetgate/internal/apitest"
)

// aliased repeats field under n aliases a0, a1, …
func aliased(n int, field string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s\n", i, field)
	}
	return b.String()
}

func wantCostRefusal(t *testing.T, r Result) ResultError {
	t.Helper()
	if len(r.Errors) != 1 || r.Errors[0].Code() != "COMPLEXITY_LIMIT_EXCEEDED" || r.Data != nil {
		t.Fatalf("want one COMPLEXITY_LIMIT_EXCEEDED and no data, got data %v errors %+v", r.Data, r.Errors)
	}
	return r.Errors[0]
}

func TestListsCostWhatTheyReturn(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		u := s.SignUp(t, "coster")
		ids := make([]string, 100)
		for i := range ids {
			ids[i] = u.ID
		}
		// 900 × 100 lookups from a 23 KB request.
		r := s.Do(t, u.Token, "query($ids: [ID!]!) {"+aliased(900, "nodes(ids: $ids) { id }")+"}", map[string]any{"ids": ids})
		if e := wantCostRefusal(t, r); e.Extensions["limit"] != float64(graph.MaxAliases) || e.Extensions["field"] != "nodes" {
			t.Fatalf("refusal %+v", e)
		}
		// Within the alias limit the ids still count: 10 × (1 + 100 × 2).
		r = s.Do(t, u.Token, "query($ids: [ID!]!) {"+aliased(10, "nodes(ids: $ids) { id }")+"}", map[string]any{"ids": ids})
		if len(r.Errors) != 0 {
			t.Fatalf("10 × 100 ids refused: %+v", r.Errors)
		}

		// Ten me, each with ten pages of events: 10 + 100 × (1 + 6n).
		page := "securityEvents(first: $n) { edges { node { id kind detail createdAt } } }"
		query := "query($n: Int) {" + aliased(10, "me { "+aliased(10, page)+" }") + "}"
		for _, c := range []struct {
			n    any
			cost float64
		}{{100, 10 + 100*(1+600)}, {nil, 10 + 100*(1+6*graph.DefaultPageSize)}} {
			e := wantCostRefusal(t, s.Do(t, u.Token, query, map[string]any{"n": c.n}))
			if e.Extensions["cost"] != c.cost || e.Extensions["limit"] != float64(graph.MaxComplexity) {
				t.Fatalf("first: %v: refusal %+v, want cost %v", c.n, e, c.cost)
			}
		}
		// Neither first nor last written: a full default page too.
		unpaged := "{" + aliased(10, "me { "+aliased(10, "securityEvents { edges { node { id kind detail createdAt } } }")+" }") + "}"
		if e := wantCostRefusal(t, s.Do(t, u.Token, unpaged, nil)); e.Extensions["cost"] != float64(10+100*(1+6*graph.DefaultPageSize)) {
			t.Fatalf("pages without first: refusal %+v, want cost %v", e, 10+100*(1+6*graph.DefaultPageSize))
		}
		if r := s.Do(t, u.Token, query, map[string]any{"n": 30}); len(r.Errors) != 0 {
			t.Fatalf("10 × 10 pages of 30 refused: %+v", r.Errors)
		}

		// A connection nested in a connection multiplies: 100 × 100 × 100.
		nested := `{ me { organizations(first: 100) { edges { node { applications(first: 100) { edges { node {
			members(first: 100) { edges { node { role } } } } } } } } } } }`
		if e := wantCostRefusal(t, s.Do(t, u.Token, nested, nil)); e.Extensions["cost"].(float64) < 1e6 {
			t.Fatalf("nested pages cost %v", e.Extensions["cost"])
		}
	})
}

// The dashboard's heaviest page, the benchmark's nested list (50
// applications × 10 members), stays well within the limit.
func TestDashboardListFitsTheLimit(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		u := s.SignUp(t, "dash")
		r := s.Do(t, u.Token, `{ applications(first: 50) { edges { node { slug name
			members(first: 10) { edges { node { role user { username } } } } } } } }`, nil)
		if len(r.Errors) != 0 {
			t.Fatalf("refused: %+v", r.Errors)
		}
	})
}

func TestPasswordFieldsAreExpensive(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		u := s.SignUp(t, "hashed")
		login := fmt.Sprintf(`login(input: {usernameOrEmail: %q, password: "wrong password"}) { token }`, u.Username)
		failed := func() int {
			return Must(s.DB.SecurityEvent.Query().Where(securityevent.KindEQ(securityevent.KindSIGN_IN_FAILED),
				securityevent.HasUserWith(user.Username(u.Username))).Count(ctx))(t)
		}
		e := wantCostRefusal(t, s.Do(t, "", "mutation {"+aliased(graph.MaxHashingFields+1, login)+"}", nil))
		if !strings.Contains(e.Message, fmt.Sprintf("at most %d password-checking fields", graph.MaxHashingFields)) {
			t.Fatalf("message %q", e.Message)
		}
		if n := failed(); n != 0 {
			t.Fatalf("a refused request checked %d passwords", n)
		}
		r := s.Do(t, "", "mutation {"+aliased(graph.MaxHashingFields, login)+"}", nil)
		for i := range graph.MaxHashingFields {
			wantRefusedAt(t, r, fmt.Sprint("a", i), "UNAUTHENTICATED")
		}
		if n := failed(); n != graph.MaxHashingFields {
			t.Fatalf("%d passwords checked, want %d", n, graph.MaxHashingFields)
		}

		// A second factor by code costs like a password; by recovery code
		// (a keyed hash) it does not.
		verify := func(input string) string { return "verifyTwoFactor(input: {" + input + "}) { token }" }
		wantCostRefusal(t, s.Do(t, "", "mutation {"+aliased(graph.MaxHashingFields+1, verify(`code: "123456"`))+"}", nil))
		r = s.Do(t, "", "mutation {"+aliased(graph.MaxHashingFields+1, verify(`recoveryCode: "abcde-fghjk"`))+"}", nil)
		wantRefusedAt(t, r, "a0", "UNAUTHENTICATED")
	})
}

func TestAliasesPerField(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		u := s.SignUp(t, "alias")
		if r := s.Do(t, u.Token, "{"+aliased(graph.MaxAliases, "me { id }")+"}", nil); len(r.Errors) != 0 {
			t.Fatalf("%d aliases refused: %+v", graph.MaxAliases, r.Errors)
		}
		// Fragments count in the selection they are spread in.
		query := "query { ...F " + aliased(graph.MaxAliases, "me { id }") + "} fragment F on Query { extra: me { id } }"
		e := wantCostRefusal(t, s.Do(t, u.Token, query, nil))
		if e.Extensions["field"] != "me" || e.Extensions["aliases"] != float64(graph.MaxAliases+1) {
			t.Fatalf("refusal %+v", e)
		}
		// Nested selections are counted on their own.
		if r := s.Do(t, u.Token, "{ me { "+aliased(graph.MaxAliases, "id")+" } other: me { id } }", nil); len(r.Errors) != 0 {
			t.Fatalf("refused: %+v", r.Errors)
		}
	})
}
