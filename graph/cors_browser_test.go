package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	. "fleetgate/internal/apitest"
)

// appCall is what a dashboard's script does: a GraphQL request with its
// session token, a trace context and Apollo Client's headers. It answers
// the username, or "refused" when the browser blocks the call. (Go quotes
// the URL and token as JavaScript reads them: both are ASCII.)
const appCall = `fetch(%q, {method: "POST", headers: {
	"Content-Type": "application/json", "Authorization": "Bearer " + %q,
	"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	"apollographql-client-name": "dashboard", "apollographql-client-version": "1.0"},
	body: JSON.stringify({query: "{ me { username } }"})})
.then(r => r.json()).then(j => j.data.me.username, () => "refused")`

// TestCORSInBrowser: a real browser on an allowed origin calls the API
// with tracing and Apollo headers; on another origin the same call is
// refused (README "Configuration", CORS_ORIGINS).
func TestCORSInBrowser(t *testing.T) {
	path := Chromium(t)
	page := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!doctype html><title>app</title>"))
	})
	allowed, other := httptest.NewServer(page), httptest.NewServer(page)
	t.Cleanup(allowed.Close)
	t.Cleanup(other.Close)
	deps := Start(t, Backends()[0]).Deps
	deps.CORSOrigins = []string{allowed.URL}
	s := ServeDeps(t, deps)
	alice := s.SignUp(t, "alice")

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	// A bound for a hung browser; every step waits for the page, not time.
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	t.Cleanup(cancel)
	call := func(origin string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(origin+"/")); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(appCall, s.URL+"/graphql", alice.Token), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := call(allowed.URL); got != "alice" {
		t.Errorf("from the allowed origin: %q, want alice", got)
	}
	if got := call(other.URL); got != "refused" {
		t.Errorf("from another origin: %q, want refused", got)
	}
}
