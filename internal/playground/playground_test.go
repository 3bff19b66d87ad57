package playground_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"golang.org/x/net/html"

	"fleetgate/graph"
	"fleetgate/internal/apitest"
	"fleetgate/internal/playground"
)

// TestExamplesAreValid parses and validates the playground's examples
// against the executable schema, each one a named operation.
func TestExamplesAreValid(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	doc, err := parser.ParseQuery(&ast.Source{Name: "examples.graphql", Input: playground.Examples})
	if err != nil {
		t.Fatal(err)
	}
	if errs := validator.Validate(schema, doc); len(errs) > 0 {
		t.Fatal(errs)
	}
	var names []string
	for _, op := range doc.Operations {
		names = append(names, op.Name)
	}
	want := []string{"SignUp", "LogIn", "Me", "CreateApiKey", "Applications"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("examples are %q, want %q", names, want)
	}
}

// TestExamplesRun runs every example, in the order a newcomer would, through
// the endpoint: each answers without an error, the later ones with the
// token SignUp answered where the headers tab shows it goes.
func TestExamplesRun(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		var headers map[string]string
		for _, op := range []string{"SignUp", "LogIn", "Me", "CreateApiKey", "Applications"} {
			body, _ := json.Marshal(map[string]any{"query": playground.Examples, "operationName": op})
			var answer struct {
				Data   map[string]json.RawMessage
				Errors []json.RawMessage
			}
			if err := json.NewDecoder(s.PostWith(headers, string(body)).Body).Decode(&answer); err != nil {
				t.Fatal(err)
			}
			if len(answer.Errors) > 0 || len(answer.Data) != 1 {
				t.Fatalf("%s answered %s, errors %s", op, answer.Data, answer.Errors)
			}
			if op == "SignUp" {
				var signUp struct{ Token string }
				json.Unmarshal(answer.Data["signUp"], &signUp)
				headers = map[string]string{}
				if err := json.Unmarshal([]byte(strings.Replace(playground.Headers, "<token>", signUp.Token, 1)), &headers); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// TestPageIsSelfContained reads the page as served: it carries the
// Content-Security-Policy, has no inline script or style, and references
// only the server's own assets, which are served with cache headers.
func TestPageIsSelfContained(t *testing.T) {
	s := apitest.Start(t, apitest.Backends()[0])
	resp := get(t, s.URL+"/", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); csp != playground.ContentSecurityPolicy {
		t.Fatalf("Content-Security-Policy %q, want %q", csp, playground.ContentSecurityPolicy)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("page Cache-Control %q, want no-cache", cc)
	}
	doc, err := html.Parse(resp.Body)
	if err != nil {
		t.Fatal(err)
	}

	var refs []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if n.Data == "style" {
			t.Errorf("inline <style>")
		}
		if n.Data == "script" && n.FirstChild != nil {
			t.Errorf("inline script %q", n.FirstChild.Data)
		}
		for _, a := range n.Attr {
			switch {
			case a.Key == "style" || strings.HasPrefix(a.Key, "on"):
				t.Errorf("inline %s=%q on <%s>", a.Key, a.Val, n.Data)
			case a.Key == "src" || a.Key == "href":
				refs = append(refs, a.Val)
			}
		}
	}
	if len(refs) != 7 { // icon, 2 style sheets, 4 scripts
		t.Fatalf("page references %q", refs)
	}
	for _, ref := range refs {
		if ref == "data:," { // the empty icon
			continue
		}
		u, err := url.Parse(ref)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, playground.AssetPath) {
			t.Errorf("page references %q, not one of the server's assets", ref)
			continue
		}
		asset := get(t, s.URL+ref, nil)
		if cc := asset.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", ref, cc)
		}
		if ct := asset.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") && !strings.HasPrefix(ct, "text/css") {
			t.Errorf("%s: Content-Type %q", ref, ct)
		}
		etag := asset.Header.Get("ETag")
		if again := get(t, s.URL+ref, map[string]string{"If-None-Match": etag}); etag == "" || again.StatusCode != http.StatusNotModified {
			t.Errorf("%s: revalidating ETag %q answered %d", ref, etag, again.StatusCode)
		}
		// An old or missing version is still served, but not cached for good.
		if cc := get(t, s.URL+u.Path, nil).Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s without its version: Cache-Control %q", u.Path, cc)
		}
	}
	if resp := get(t, s.URL+playground.AssetPath+"nothing.js", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown asset answered %d", resp.StatusCode)
	}
}

func get(t *testing.T, u string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode >= 500 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return resp
}
