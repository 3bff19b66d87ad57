package graph_test

import (
	"encoding/base64"
	"encoding/json"
	"entgo.io/contrib/entgql"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"fleetgate/ent/securityevent"
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

		// GET queries work (mutations over GET: TestTransportErrors).
		get := Must(http.Get(s.URL + "/graphql?query=%7B__typename%7D"))(t)
		body, _ := io.ReadAll(get.Body)
		get.Body.Close()
		if !strings.Contains(string(body), `"Query"`) {
			t.Fatalf("GET query: %s", body)
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

// TestNestedInternalErrorsDoNotLeak: a field below the root that fails in
// the database is INTERNAL too, its detail in the log only.
func TestNestedInternalErrorsDoNotLeak(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		// me answers from the row its authentication read; organizations
		// needs a table that is gone.
		Must(s.DB.ExecContext(ctx, "DROP TABLE organization_memberships"))(t)
		_, err := Me(ctx, s.Client(a.Token), nil, nil)
		WantCode(t, err, "INTERNAL")
		if msg := err.Error(); !strings.Contains(msg, "organizations") || strings.Contains(msg, "organization_memberships") || strings.Contains(msg, "table") {
			t.Fatalf("want an internal error at me.organizations without detail, got %s", msg)
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

// TestTransportErrors: what /graphql refuses before any operation runs is a
// JSON GraphQL error with a code, a fitting status and a message of its own
// (README "Errors"); nothing of the request body is quoted back.
func TestTransportErrors(t *testing.T) {
	s := Start(t, Backends()[0])
	const secret = "hunter2-in-the-body"
	const query = `{"query":"{ __typename }"}`
	for _, c := range []struct {
		name, method, target, body string
		header                     map[string]string
		status                     int
		code, message              string
	}{
		{"mutation over GET", "GET", "/graphql?query=mutation%7BsignOutEverywhere%7D", "", nil,
			405, "METHOD_NOT_ALLOWED", "only allow query operations"},
		{"GET variables not JSON", "GET", "/graphql?query=%7B__typename%7D&variables=%7Bx", "", nil,
			400, "BAD_USER_INPUT", "variables could not be decoded"},
		{"GET extensions not JSON", "GET", "/graphql?query=%7B__typename%7D&extensions=x", "", nil,
			400, "BAD_USER_INPUT", "extensions could not be decoded"},
		{"GET URL undecodable", "GET", "/graphql?query=%zz", "", nil,
			400, "BAD_USER_INPUT", "invalid URL escape"},
		{"GET websocket", "GET", "/graphql", "", map[string]string{"Upgrade": "websocket"},
			400, "BAD_USER_INPUT", "not supported"},
		{"PUT", "PUT", "/graphql", query, map[string]string{"Content-Type": "application/json"},
			405, "METHOD_NOT_ALLOWED", "method PUT is not allowed"},
		{"DELETE", "DELETE", "/graphql", "", nil,
			405, "METHOD_NOT_ALLOWED", "method DELETE is not allowed"},
		{"text/plain", "POST", "/graphql", query, map[string]string{"Content-Type": "text/plain"},
			415, "BAD_USER_INPUT", "Content-Type must be application/json"},
		{"no content type", "POST", "/graphql", query, nil,
			415, "BAD_USER_INPUT", "Content-Type must be application/json"},
		{"malformed JSON", "POST", "/graphql", `{"query": "` + secret, map[string]string{"Content-Type": "application/json"},
			400, "BAD_USER_INPUT", "not a GraphQL request"},
		{"JSON of the wrong shape", "POST", "/graphql", `{"query": 5, "variables": {"p": "` + secret + `"}}`,
			map[string]string{"Content-Type": "application/json"}, 400, "BAD_USER_INPUT", "not a GraphQL request"},
		{"empty body", "POST", "/graphql", "", map[string]string{"Content-Type": "application/json"},
			400, "BAD_USER_INPUT", "not a GraphQL request"},
		// Errors gqlgen codes itself keep their code through the GET rewrite.
		{"GET parse error, graphql-response+json", "GET", "/graphql?query=%7B", "",
			map[string]string{"Accept": "application/graphql-response+json"}, 400, "GRAPHQL_PARSE_FAILED", "Expected Name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := Must(http.NewRequest(c.method, s.URL+c.target, strings.NewReader(c.body)))(t)
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			resp := Must(http.DefaultClient.Do(req))(t)
			defer resp.Body.Close()
			raw := Must(io.ReadAll(resp.Body))(t)
			var body struct {
				Errors []struct {
					Message    string
					Extensions map[string]any
				}
			}
			if err := json.Unmarshal(raw, &body); err != nil || len(body.Errors) != 1 {
				t.Fatalf("status %d, not one GraphQL error: %s", resp.StatusCode, raw)
			}
			e := body.Errors[0]
			mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if resp.StatusCode != c.status || e.Extensions["code"] != c.code || !strings.Contains(e.Message, c.message) ||
				!strings.HasPrefix(mediaType, "application/") || !strings.HasSuffix(mediaType, "json") {
				t.Fatalf("got status %d, %s: %s; want %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), raw, c.status, c.code, c.message)
			}
			if c.status == http.StatusMethodNotAllowed && resp.Header.Get("Allow") == "" {
				t.Fatal("405 without an Allow header")
			}
			if strings.Contains(string(raw), secret) {
				t.Fatalf("the body is quoted back: %s", raw)
			}
		})
	}
}

// TestCursorArguments: a cursor that is not one this API wrote is refused
// naming its argument, without the decoder's words; an empty one is no
// cursor (README "Errors").
func TestCursorArguments(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		uid := Must(s.DB.User.Query().OnlyID(ctx))(t)
		for range 3 {
			Must(s.DB.SecurityEvent.Create().SetUserID(uid).SetKind(securityevent.KindPASSWORD_CHANGED).Save(ctx))(t)
		}
		c := s.Client(a.Token)
		two, empty := 2, ""
		page := Must(SecurityEventsPage(ctx, c, &two, nil, nil, nil))(t).Me.SecurityEvents
		if len(page.Edges) != 2 || page.TotalCount < 3 {
			t.Fatalf("first page: %+v", page)
		}
		one := 1
		next := Must(SecurityEventsPage(ctx, c, &one, &page.Edges[0].Cursor, nil, nil))(t).Me.SecurityEvents
		if len(next.Edges) != 1 || next.Edges[0].Cursor != page.Edges[1].Cursor {
			t.Fatalf("after the first edge: %+v, want the second of %+v", next, page)
		}
		if same := Must(SecurityEventsPage(ctx, c, &two, &empty, nil, &empty))(t).Me.SecurityEvents; !reflect.DeepEqual(same, page) {
			t.Fatalf("empty cursors: %+v, want the first page %+v", same, page)
		}
		// The same on a connection entgql generates (Organization.members).
		r := s.Do(t, a.Token, `{ organization(handle: "alice") { members(after: "", before: "") { totalCount edges { node { role } } } } }`, nil)
		if len(r.Errors) != 0 || !strings.Contains(string(r.Data["organization"]), `"totalCount":1,"edges":[{"node":{"role":"ADMINISTRATOR"}}]`) {
			t.Fatalf("empty cursors on Organization.members: %s %+v", r.Data["organization"], r.Errors)
		}

		// Well-formed cursors with values no connection orders by: a string
		// (with NUL, which PostgreSQL cannot hold) and a number.
		var tampered []string
		for _, v := range []any{"x\x00", 42} {
			var b strings.Builder
			(&entgql.Cursor[int]{ID: uid, Value: v}).MarshalGQL(&b)
			tampered = append(tampered, strings.Trim(b.String(), `"`))
		}
		for _, bad := range append([]string{"garbage", "!!", "AQ"}, tampered...) {
			for arg, call := range map[string]func() error{
				"after": func() error { _, err := SecurityEventsPage(ctx, c, nil, &bad, nil, nil); return err },
				"before": func() error {
					_, err := SecurityEventsPage(ctx, c, nil, nil, nil, &bad)
					return err
				},
				"applications after": func() error { _, err := Applications(ctx, c, nil, &bad, nil); return err },
			} {
				err := call()
				field := strings.TrimPrefix(arg, "applications ")
				if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != field ||
					!strings.Contains(err.Error(), field+" is not a valid cursor") ||
					strings.Contains(err.Error(), "msgpack") || strings.Contains(err.Error(), "decode") {
					t.Fatalf("%s: %q: got %v", arg, bad, err)
				}
			}
		}
	})
}
