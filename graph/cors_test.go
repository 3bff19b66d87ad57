package graph_test

import (
	"net/http"
	"strings"
	"testing"

	. "fleetgate/internal/apitest"
)

const allowedOrigin = "https://app.example.com"

// corsServer serves fleetgate to browsers on allowedOrigin.
func corsServer(t *testing.T, credentials bool) *Server {
	t.Helper()
	deps := Start(t, Backends()[0]).Deps
	deps.CORSOrigins = []string{allowedOrigin}
	deps.CORSAllowCredentials = credentials
	return ServeDeps(t, deps)
}

func preflight(t *testing.T, s *Server, origin, headers string) *http.Response {
	t.Helper()
	req := Must(http.NewRequest(http.MethodOptions, s.URL+"/graphql", nil))(t)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", headers)
	resp := Must(http.DefaultClient.Do(req))(t)
	resp.Body.Close()
	return resp
}

// browserHeaders are what a browser app with tracing and Apollo Client
// asks to send (README "Configuration", CORS_ORIGINS), lowercased and
// sorted as the Fetch standard has browsers send them.
const browserHeaders = "apollo-require-preflight,apollographql-client-name,apollographql-client-version," +
	"authorization,content-type,traceparent,tracestate"

// TestCORS: a browser app on an allowed origin may send its credential,
// tracing and Apollo's headers, without cookies unless configured; other
// origins and other headers are refused their preflight.
func TestCORS(t *testing.T) {
	s := corsServer(t, false)

	resp := preflight(t, s, allowedOrigin, browserHeaders)
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != allowedOrigin ||
		h.Get("Access-Control-Allow-Methods") != "POST" || h.Get("Access-Control-Allow-Headers") != browserHeaders ||
		h.Get("Access-Control-Max-Age") != "600" {
		t.Fatalf("preflight from the allowed origin: %d %v", resp.StatusCode, h)
	}
	if h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("credentials allowed without CORS_ALLOW_CREDENTIALS: %v", h)
	}

	for _, c := range []struct{ name, origin, headers string }{
		{"another origin", "https://evil.example", "authorization,content-type"},
		{"the origin as a prefix", allowedOrigin + ".evil.example", "authorization"},
		{"another scheme", strings.Replace(allowedOrigin, "https", "http", 1), "authorization"},
		{"a header not listed", allowedOrigin, "authorization,x-custom-header"},
	} {
		resp := preflight(t, s, c.origin, c.headers)
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-Allow-") {
				t.Errorf("%s: the preflight is granted %s: %v", c.name, k, resp.Header)
			}
		}
	}

	// The request itself: the answer is readable by the allowed origin only.
	for origin, want := range map[string]string{allowedOrigin: allowedOrigin, "https://evil.example": ""} {
		resp := s.PostWith(map[string]string{"Origin": origin, "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
			`{"query":"{ __typename }"}`)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode != http.StatusOK || got != want {
			t.Errorf("POST from %s: status %d, Allow-Origin %q, want %q", origin, resp.StatusCode, got, want)
		}
		if exposed := resp.Header.Get("Access-Control-Expose-Headers"); (exposed == "X-Request-Id") != (want != "") {
			t.Errorf("POST from %s: Access-Control-Expose-Headers %q", origin, exposed)
		}
		if !strings.Contains(resp.Header.Get("Vary"), "Origin") {
			t.Errorf("POST from %s: no Vary: Origin, so a cache could serve one origin's answer to another", origin)
		}
	}
}

// TestCORSCredentials: with CORS_ALLOW_CREDENTIALS, the allowed origin (and
// only it) may send cookies.
func TestCORSCredentials(t *testing.T) {
	s := corsServer(t, true)
	if resp := preflight(t, s, allowedOrigin, "content-type"); resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("credentials not allowed: %v", resp.Header)
	}
	if resp := preflight(t, s, "https://evil.example", "content-type"); resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("credentials allowed to another origin: %v", resp.Header)
	}
}

// TestNoCORSOrigins: without CORS_ORIGINS no origin is allowed.
func TestNoCORSOrigins(t *testing.T) {
	s := Start(t, Backends()[0])
	if resp := preflight(t, s, allowedOrigin, "authorization"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight granted with no origin configured: %v", resp.Header)
	}
}
