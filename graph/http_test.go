package graph_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
)

func TestRequestLimits(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		auth := map[string]string{"Authorization": "Bearer " + a.Token}

		big := `{"query":"{ me { id } }","variables":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}`
		resp := s.PostWith(auth, big)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || ResponseCode(t, resp) != "BAD_USER_INPUT" {
			t.Fatalf("oversized body: status %d", resp.StatusCode)
		}

		var many strings.Builder
		for i := range 2100 {
			fmt.Fprintf(&many, "a%d: __typename ", i)
		}
		resp = s.PostWith(auth, `{"query":"{ `+many.String()+` }"}`)
		if code := ResponseCode(t, resp); code != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Fatalf("too complex a query: got code %q", code)
		}

		resp = s.PostWith(auth, `{"query":"{ me { id "}`)
		if code := ResponseCode(t, resp); code != "GRAPHQL_PARSE_FAILED" {
			t.Fatalf("malformed query: got code %q", code)
		}
		resp = s.PostWith(auth, `{"query":"{ me { password_hash } }"}`)
		if code := ResponseCode(t, resp); code != "GRAPHQL_VALIDATION_FAILED" {
			t.Fatalf("unknown field: got code %q", code)
		}
		resp = s.PostWith(auth, `not json`)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("non-JSON body: status %d", resp.StatusCode)
		}
		resp = s.PostWith(auth, `{"query":"query($c: Cursor) { me { organizations(after: $c) { totalCount } } }","variables":{"c":"!!"}}`)
		if code := ResponseCode(t, resp); code != "BAD_USER_INPUT" {
			t.Fatalf("malformed cursor: got code %q", code)
		}
	})
}

func TestPageSize(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		uid := Must(s.DB.User.Query().Only(ctx))(t).ID
		for i := range 60 {
			org := Must(s.DB.Organization.Create().SetName("Org").SetHandle(fmt.Sprintf("org_%d", i)).Save(ctx))(t)
			Must(s.DB.OrganizationMembership.Create().SetUserID(uid).SetOrganization(org).SetRole(access.OrgMember).Save(ctx))(t)
		}
		c := s.Client(a.Token)
		orgs := Must(Me(ctx, c, nil, nil))(t).Me.Organizations
		if len(orgs.Edges) != 50 || !orgs.PageInfo.HasNextPage || orgs.TotalCount != 61 {
			t.Fatalf("default page: %d edges, next %v, total %d", len(orgs.Edges), orgs.PageInfo.HasNextPage, orgs.TotalCount)
		}
		rest := Must(Me(ctx, c, nil, orgs.PageInfo.EndCursor))(t).Me.Organizations
		if len(rest.Edges) != 11 || rest.PageInfo.HasNextPage {
			t.Fatalf("second page: %d edges, next %v", len(rest.Edges), rest.PageInfo.HasNextPage)
		}
		hundred := 100
		if n := len(Must(Me(ctx, c, &hundred, nil))(t).Me.Organizations.Edges); n != 61 {
			t.Fatalf("first: 100 gave %d edges", n)
		}
		for _, n := range []int{101, -1} {
			_, err := Me(ctx, c, &n, nil)
			if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != "first" {
				t.Fatalf("first: %d: want BAD_USER_INPUT on first, got %v", n, err)
			}
		}
	})
}

func TestOperationalEndpoints(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		for _, path := range []string{"/healthz", "/readyz", "/"} {
			resp := Must(http.Get(s.URL + path))(t)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d", path, resp.StatusCode)
			}
		}
		resp := Must(http.Get(s.URL + "/.well-known/jwks.json"))(t)
		defer resp.Body.Close()
		var jwks struct {
			Keys []struct{ Kid, Kty, Crv, Alg string } `json:"keys"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil || len(jwks.Keys) != 1 {
			t.Fatalf("jwks: %v %+v", err, jwks)
		}
		if k := jwks.Keys[0]; k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || !strings.Contains(headerOf(t, a.Token), k.Kid) {
			t.Fatalf("jwks key %+v does not match the token header %s", k, headerOf(t, a.Token))
		}

		// GET queries work; GET mutations do not (no state change from a link).
		get := Must(http.Get(s.URL + "/graphql?query=%7B__typename%7D"))(t)
		body, _ := io.ReadAll(get.Body)
		get.Body.Close()
		if !strings.Contains(string(body), `"Query"`) {
			t.Fatalf("GET query: %s", body)
		}
		get = Must(http.Get(s.URL + "/graphql?query=mutation%7BsignOutEverywhere%7D"))(t)
		get.Body.Close()
		if get.StatusCode == http.StatusOK {
			t.Fatal("a mutation over GET must be refused")
		}
	})
}

func headerOf(t *testing.T, jwt string) string {
	t.Helper()
	h, _, _ := strings.Cut(jwt, ".")
	return string(Must(base64URL(h))(t))
}

func TestIntrospectionCanBeTurnedOff(t *testing.T) {
	for _, b := range Backends()[:1] {
		s := Start(t, b)
		query := `{"query":"{ __schema { queryType { name } } }"}`
		if code := ResponseCode(t, s.PostWith(nil, query)); code != "" {
			t.Fatalf("introspection on: got error %q", code)
		}
		off := s.Deps
		off.Introspection = false
		closed := ServeDeps(t, off)
		if code := ResponseCode(t, closed.PostWith(nil, query)); code == "" {
			t.Fatal("introspection off: the query must fail")
		}
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		s.DB.Close()
		_, err := Me(ctx, s.Client(a.Token), nil, nil)
		WantCode(t, err, "INTERNAL")
		if msg := err.Error(); strings.Contains(msg, "sql") || strings.Contains(msg, "closed") {
			t.Fatalf("internal error leaks detail: %s", msg)
		}
		resp := Must(http.Get(s.URL + "/readyz"))(t)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("readyz with the database gone: status %d", resp.StatusCode)
		}
	})
}

func TestAutomaticPersistedQueries(t *testing.T) {
	s := Start(t, Backends()[0])
	const query = "{ __typename }"
	const hash = "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b" // sha256 of query
	ext := `"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}`
	if code := ResponseCode(t, s.PostWith(nil, `{`+ext+`}`)); code != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: got %q", code)
	}
	if code := ResponseCode(t, s.PostWith(nil, `{"query":"`+query+`",`+ext+`}`)); code != "" {
		t.Fatalf("registering the query: got %q", code)
	}
	if code := ResponseCode(t, s.PostWith(nil, `{`+ext+`}`)); code != "" {
		t.Fatalf("the hash alone must now work: got %q", code)
	}
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// TestMetrics: /metrics serves Prometheus text with the requests counted.
func TestMetrics(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		s.SignUp(t, "alice")
		resp := Must(http.Get(s.URL + "/metrics"))(t)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK ||
			!strings.Contains(string(body), `fleetgate_http_requests_total{code="200",route="graphql"} 1`) ||
			!strings.Contains(string(body), "fleetgate_http_request_duration_seconds_bucket") ||
			!strings.Contains(string(body), "go_goroutines") {
			t.Fatalf("metrics (status %d):\n%s", resp.StatusCode, body)
		}
	})
}
