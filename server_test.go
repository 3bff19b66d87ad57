package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"fleetgate/internal/auth"
)

// listening takes the addresses run listens on from its JSON log lines
// ("fleetgate listening", "metrics listening") and ignores the rest. A
// write holds whole lines, one or more (README "Logs").
type listening chan [2]string

func (l listening) Write(p []byte) (int, error) {
	for text := range strings.Lines(string(p)) {
		var line struct{ Msg, Addr string }
		if json.Unmarshal([]byte(text), &line) == nil && strings.HasSuffix(line.Msg, " listening") {
			l <- [2]string{strings.TrimSuffix(line.Msg, " listening"), line.Addr}
		}
	}
	return len(p), nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestMetricsAddr: with METRICS_ADDR, /metrics is served on that address
// only, counting the requests of the main listener, and both listeners stop
// with the server.
func TestMetricsAddr(t *testing.T) {
	env := map[string]string{
		"LISTEN_ADDR":  "127.0.0.1:0",
		"METRICS_ADDR": "127.0.0.1:0",
		"DATA_DIR":     t.TempDir(),
		"LOG_FORMAT":   "json",
	}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	logs := make(listening, 2)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"fleetgate"}, func(k string) string { return env[k] }, logs) }()
	addrs := map[string]string{}
	for len(addrs) < 2 {
		select {
		case l := <-logs:
			addrs[l[0]] = strings.TrimSuffix(l[1], "/")
		case err := <-done:
			t.Fatalf("run ended before listening: %v", err)
		}
	}
	service, metrics := addrs["fleetgate"], addrs["metrics"]

	if code, body := get(t, service+"/graphql?query={__typename}"); code != http.StatusOK {
		t.Fatalf("/graphql: %d %s", code, body)
	}
	if code, _ := get(t, service+"/metrics"); code != http.StatusNotFound {
		t.Fatalf("/metrics on the main listener: %d, want 404", code)
	}
	if code, _ := get(t, metrics+"/healthz"); code != http.StatusNotFound {
		t.Fatalf("/healthz on the metrics listener: %d, want 404", code)
	}
	code, body := get(t, metrics+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, `fleetgate_http_requests_total{code="200",route="graphql"} 1`) {
		t.Fatalf("/metrics on the metrics listener (status %d):\n%s", code, body)
	}

	stop()
	if err := <-done; err != nil {
		t.Fatalf("run after shutdown: %v", err)
	}
	for _, addr := range []string{service, metrics} {
		if conn, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://")); err == nil {
			conn.Close()
			t.Fatalf("%s still accepts connections after shutdown", addr)
		}
	}
}

// TestHelpAndVersion: both answer without configuration or a database (the
// configuration here would be refused, and names a database nobody serves).
func TestHelpAndVersion(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://nobody.invalid/fleetgate"}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"version"}} {
		var out strings.Builder
		if err := run(t.Context(), append([]string{"fleetgate"}, args...), func(k string) string { return env[k] }, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		want := "usage:\n"
		if args[0] == "version" {
			want = "fleetgate devel\n" // go test stamps no version
		}
		if !strings.HasPrefix(out.String(), want) {
			t.Errorf("%v printed %q, want it to start with %q", args, out.String(), want)
		}
	}
}

// TestSocialConfigRefused: a half-configured provider stops the start, with
// a message naming the variables.
func TestSocialConfigRefused(t *testing.T) {
	env := map[string]string{"DATA_DIR": t.TempDir(), "OIDC_PROVIDERS": "corp", "OIDC_CORP_ISSUER": "https://id.corp.example"}
	err := run(t.Context(), []string{"fleetgate"}, func(k string) string { return env[k] }, io.Discard)
	if err == nil || err.Error() != "OIDC_PROVIDERS names corp: set OIDC_CORP_CLIENT_ID" {
		t.Fatalf("run: %v", err)
	}
}

// TestSessionLimitsConfig: SESSION_IDLE_TIMEOUT and SESSION_MAX_AGE are Go
// durations, defaulting to a week and thirty days; anything else, zero or
// negative stops the start, naming the variable.
func TestSessionLimitsConfig(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	c, err := loadConfig(getenv)
	if err != nil || c.sessions != auth.DefaultSessionLimits {
		t.Fatalf("defaults: %+v, %v", c.sessions, err)
	}
	env["SESSION_IDLE_TIMEOUT"], env["SESSION_MAX_AGE"] = "3s", "168h"
	if c, err = loadConfig(getenv); err != nil || c.sessions != (auth.SessionLimits{IdleTimeout: 3 * time.Second, MaxAge: 168 * time.Hour}) {
		t.Fatalf("3s and 168h: %+v, %v", c.sessions, err)
	}
	for _, c := range []struct{ name, value string }{
		{"SESSION_IDLE_TIMEOUT", "7d"}, {"SESSION_MAX_AGE", "0s"}, {"SESSION_IDLE_TIMEOUT", "-1h"},
	} {
		name, value := c.name, c.value
		bad := map[string]string{name: value}
		_, err := loadConfig(func(k string) string { return bad[k] })
		if err == nil || !strings.HasPrefix(err.Error(), name+" must be") {
			t.Errorf("%s=%s: %v, want a refusal naming %s", name, value, err, name)
		}
	}
	// run refuses to start on them too.
	bad := map[string]string{"DATA_DIR": t.TempDir(), "SESSION_MAX_AGE": "soon"}
	if err := run(t.Context(), []string{"fleetgate"}, func(k string) string { return bad[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), "SESSION_MAX_AGE") {
		t.Fatalf("run with SESSION_MAX_AGE=soon: %v", err)
	}
}
