package playground_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"fleetgate/internal/apitest"
	"fleetgate/internal/playground"
)

// browser is a headless chromium on the playground of a fresh server, with
// every request to another origin failed and recorded.
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	foreign  []string // requests that would have left the server's origin
	problems []string // script exceptions and console or browser errors (CSP violations among them)
}

// openPlayground starts fleetgate on a fresh SQLite database and opens its
// playground in a new headless chromium.
func openPlayground(t *testing.T) *browser {
	path := apitest.Chromium(t)
	s := apitest.Start(t, apitest.Backends()[0])
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatal(err)
	}
	b := &browser{}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			go b.filter(ctx, s.URL, ev)
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			if d.Exception != nil {
				b.problem("exception: %s", d.Exception.Description)
			} else {
				b.problem("exception: %s", d.Text)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.problem("console.error: %s", strings.Join(args, " "))
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				b.problem("%s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// A bound for a hung browser, far above the few seconds a run takes;
	// every step waits for a condition on the page, never for time.
	var cancel context.CancelFunc
	b.ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancel)
	if _, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	b.do(t, chromedp.Navigate(s.URL+"/"))
	return b
}

// filter lets a paused request through to the server's origin only.
func (b *browser) filter(ctx context.Context, origin string, ev *fetch.EventRequestPaused) {
	var err error
	if strings.HasPrefix(ev.Request.URL, origin+"/") {
		_, err = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
	} else {
		b.mu.Lock()
		b.foreign = append(b.foreign, ev.Request.URL)
		b.mu.Unlock()
		_, err = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
	}
	if err != nil && ctx.Err() == nil {
		b.problem("intercepting %s: %v", ev.Request.URL, err)
	}
}

func (b *browser) problem(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

func (b *browser) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// editor returns the text of the CodeMirror editor under selector.
func (b *browser) editor(t *testing.T, selector string) string {
	t.Helper()
	text, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).CodeMirror.getValue()`, selector+" .CodeMirror")))
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// TestPlaygroundInBrowser opens the playground as a newcomer would, with
// nothing reachable but the server: GraphiQL comes up on the examples and
// the headers tab, SignUp answers a token, and Me run with that token in
// the headers answers the new user.
func TestPlaygroundInBrowser(t *testing.T) {
	b := openPlayground(t)
	b.do(t, chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .CodeMirror")))
	if got := b.editor(t, ".graphiql-query-editor"); got != playground.Examples {
		t.Fatalf("query editor opens on\n%s\nwant the examples", got)
	}
	b.do(t, chromedp.WaitVisible(chromedp.CSS(headersEditor+" .CodeMirror")))
	if got := b.editor(t, headersEditor); got != playground.Headers {
		t.Fatalf("headers tab opens on %q, want %q", got, playground.Headers)
	}

	var signUp struct {
		Data struct {
			SignUp struct {
				Token string
				User  struct{ Username string }
			}
		}
	}
	b.runOperation(t, "SignUp", `"signUp"`, &signUp)
	if signUp.Data.SignUp.Token == "" || signUp.Data.SignUp.User.Username != "alice" {
		t.Fatalf("SignUp answered %+v", signUp)
	}

	headers, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + signUp.Data.SignUp.Token})
	b.do(t, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).CodeMirror.setValue(%q)`,
		headersEditor+" .CodeMirror", headers)))
	var me struct {
		Data struct {
			Me struct{ Username string }
		}
	}
	b.runOperation(t, "Me", `"me"`, &me)
	if me.Data.Me.Username != "alice" {
		t.Fatalf("Me answered %+v", me)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.foreign) > 0 {
		t.Errorf("the page asked for other origins: %q", b.foreign)
	}
	if len(b.problems) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(b.problems, "\n"))
	}
}

// headersEditor is the headers editor under the query editor.
const headersEditor = ".graphiql-editor-tool .graphiql-editor:not(.hidden)"

// runOperation runs the named operation of the query editor from the
// execute button's menu, waits for an answer with field in the result pane,
// and decodes it into answer.
func (b *browser) runOperation(t *testing.T, name, field string, answer any) {
	t.Helper()
	b.do(t,
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
		chromedp.Click(chromedp.Search(fmt.Sprintf(`//*[@role="menuitem"][normalize-space()=%q]`, name))),
		chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//*[contains(@class,"result-window")]//pre[contains(., '%s')]`, field))),
	)
	result := b.editor(t, ".result-window")
	if err := json.Unmarshal([]byte(result), answer); err != nil {
		t.Fatalf("%s: result pane shows %s: %v", name, result, err)
	}
}
