package graph_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	. "fleetgate/internal/apitest"
	"fleetgate/internal/clientip"
)

// logLines collects a server's JSON log lines.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// take returns the lines logged so far and forgets them.
func (l *logLines) take(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []map[string]any
	sc := bufio.NewScanner(&l.buf)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line not JSON: %s", sc.Bytes())
		}
		lines = append(lines, line)
	}
	l.buf.Reset()
	return lines
}

// requestLine is the one "request" line among lines, failing the test
// unless there is exactly one.
func requestLine(t *testing.T, lines []map[string]any) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, l := range lines {
		if l["msg"] == "request" {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d request lines in %v", len(found), lines)
	}
	return found[0]
}

// loggedServer serves s's database, logging JSON to the returned lines;
// proxies are the trusted proxies.
func loggedServer(t *testing.T, s *Server, proxies string) (*Server, *logLines) {
	t.Helper()
	logs := &logLines{}
	deps := s.Deps
	deps.Log = slog.New(slog.NewJSONHandler(logs, nil))
	deps.ClientIPs = Must(clientip.Parse(proxies))(t)
	return ServeDeps(t, deps), logs
}

// TestRequestLog: one line per request names the request id (also
// answered in X-Request-Id), the operation, the caller and its kind of
// credential, the client address, the status and the error codes; never a
// secret.
func TestRequestLog(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		alice := s.SignUp(t, "alice")
		s, logs := loggedServer(t, s, "")
		auth := map[string]string{"Authorization": "Bearer " + alice.Token}

		resp := s.PostWith(auth, `{"query":"query Mine { me { id } }","operationName":"Mine"}`)
		line := requestLine(t, logs.take(t))
		id := resp.Header.Get("X-Request-Id")
		if len(id) < 16 || line["request_id"] != id {
			t.Fatalf("request id %q answered, %v logged", id, line["request_id"])
		}
		for k, want := range map[string]any{
			"method": "POST", "path": "/graphql", "status": 200.0, "client": "127.0.0.1",
			"operation": "Mine", "operation_type": "query", "credential": "session",
		} {
			if line[k] != want {
				t.Errorf("%s: %v, want %v (%v)", k, line[k], want, line)
			}
		}
		if uid := Must(s.DB.User.Query().OnlyID(ctx))(t); line["user_id"] != float64(uid) {
			t.Errorf("user_id %v, want %d", line["user_id"], uid)
		}
		if _, ok := line["duration"]; !ok || line["errors"] != nil {
			t.Errorf("duration and no errors: %v", line)
		}

		// Another request gets another id.
		if again := s.PostWith(auth, `{"query":"{ me { id } }"}`).Header.Get("X-Request-Id"); again == id || again == "" {
			t.Fatalf("second request id %q", again)
		}
		if line := requestLine(t, logs.take(t)); line["operation"] != "" || line["operation_type"] != "query" {
			t.Errorf("anonymous operation: %v", line)
		}

		// A mutation's error codes, in order, and no secret in the line.
		resp = s.PostWith(nil, `{"query":"mutation In($p: String!) { a: login(input: {usernameOrEmail: \"alice\", password: $p}) { token } b: signOutEverywhere }","variables":{"p":"not her password"}}`)
		line = requestLine(t, logs.take(t))
		raw := Must(json.Marshal(line))(t)
		if line["operation"] != "In" || line["operation_type"] != "mutation" || line["credential"] != nil ||
			strings.Join(toStrings(line["errors"]), " ") != "UNAUTHENTICATED UNAUTHENTICATED" {
			t.Errorf("failed mutation: %s", raw)
		}
		if bytes.Contains(raw, []byte("not her password")) {
			t.Errorf("the password is logged: %s", raw)
		}

		// What never reaches an operation: its code and status.
		resp = s.PostWith(map[string]string{"Content-Type": "text/plain"}, `{}`)
		if line := requestLine(t, logs.take(t)); line["status"] != 415.0 || strings.Join(toStrings(line["errors"]), " ") != "BAD_USER_INPUT" ||
			line["request_id"] != resp.Header.Get("X-Request-Id") {
			t.Errorf("refused content type: %v", line)
		}
		s.PostWith(auth, `{"query":"{ me { passwordHash } }"}`)
		line = requestLine(t, logs.take(t))
		if strings.Join(toStrings(line["errors"]), " ") != "GRAPHQL_VALIDATION_FAILED" || line["credential"] != nil {
			t.Errorf("invalid query: %v", line)
		}
		if raw := Must(json.Marshal(line))(t); bytes.Contains(raw, []byte(alice.Token)) {
			t.Errorf("the token is logged: %s", raw)
		}

		// Other routes are logged too.
		Must(http.Get(s.URL + "/healthz"))(t).Body.Close()
		if line := requestLine(t, logs.take(t)); line["path"] != "/healthz" || line["operation_type"] != nil {
			t.Errorf("healthz: %v", line)
		}
	})
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	var s []string
	for _, x := range list {
		s = append(s, x.(string))
	}
	return s
}

// TestRequestIDFromProxies: X-Request-Id is taken from a trusted proxy
// only, and only when it is a plain token; anyone else's is replaced.
func TestRequestIDFromProxies(t *testing.T) {
	base := Start(t, Backends()[0])
	trusting, _ := loggedServer(t, base, "127.0.0.1")
	distrusting, _ := loggedServer(t, base, "10.0.0.1")
	for _, c := range []struct {
		name string
		s    *Server
		sent string
		kept bool
	}{
		{"from a trusted proxy", trusting, "proxy-id-4bf92f3577b34da6", true},
		{"from anyone else", distrusting, "proxy-id-4bf92f3577b34da6", false},
		{"with a tab", trusting, "a\tlevel=ERROR", false},
		{"with a quote", trusting, `a"b`, false},
		{"with a space", trusting, "two words", false},
		{"too long", trusting, strings.Repeat("x", 129), false},
	} {
		got := c.s.PostWith(map[string]string{"X-Request-Id": c.sent}, `{"query":"{ __typename }"}`).Header.Get("X-Request-Id")
		if (got == c.sent) != c.kept || got == "" {
			t.Errorf("%s: sent %q, answered %q", c.name, c.sent, got)
		}
	}
}

// TestRequestIDOnEveryLine: what is logged while serving a request carries
// its id.
func TestRequestIDOnEveryLine(t *testing.T) {
	base := Start(t, Backends()[0])
	alice := base.SignUp(t, "alice")
	s, logs := loggedServer(t, base, "")
	s.DB.Close() // the resolver fails, and says so in the log
	id := s.PostWith(map[string]string{"Authorization": "Bearer " + alice.Token}, `{"query":"{ me { id } }"}`).Header.Get("X-Request-Id")
	lines := logs.take(t)
	if len(lines) < 2 {
		t.Fatalf("want the failure and the request line: %v", lines)
	}
	for _, l := range lines {
		if l["request_id"] != id {
			t.Errorf("line without the request id %q: %v", id, l)
		}
	}
}
