// Package playground serves GraphiQL, the in-browser GraphQL IDE, from files
// embedded in the binary: the page loads nothing from outside the server's
// origin, so it works offline (README "Playground"). assets/vendor holds the
// browser builds of the npm packages pinned in package-lock.json.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"
)

// AssetPath is where the page's scripts and styles are served.
const AssetPath = "/playground/"

// Examples are the operations the playground opens with.
//
//go:embed examples.graphql
var Examples string

// Headers are the request headers the playground opens with: where the
// token of signUp or login goes.
const Headers = `{"Authorization": "Bearer <token>"}`

// ContentSecurityPolicy is the page's policy: scripts, styles and requests
// from the server's origin only, no inline script, no eval. Fonts come from
// data: URLs inside graphiql.min.css (its bundled fonts), and the page's icon
// is an empty data: URL, so the browser asks for no /favicon.ico.
//
// The one inline style allowed, by its hash, is the <style> element that
// GraphiQL's menus (Radix UI, through react-remove-scroll-bar) add while open
// to lock page scrolling. Its text depends only on the page's margins and
// scrollbar, which playground.css fixes at zero, so the hash holds; with
// another text the browser would only skip that style. The browser test
// fails, naming the new hash, if a GraphiQL update changes it.
const ContentSecurityPolicy = "default-src 'none'; " +
	"script-src 'self'; " +
	"style-src 'self' 'sha256-nzTgYzXYDNe6BAHiiI7NNlfK8n/auuOAhh2t92YvuXo='; " +
	"connect-src 'self'; font-src data:; img-src data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed page.html
var pageTemplate string

//go:embed assets
var assetFiles embed.FS

// asset is an embedded file and the version its URL carries.
type asset struct {
	content []byte
	version string
}

// assets are the embedded assets by name under AssetPath, read once.
var assets = sync.OnceValue(func() map[string]asset {
	all := map[string]asset{}
	err := fs.WalkDir(assetFiles, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := assetFiles.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(content)
		all[strings.TrimPrefix(path, "assets/")] = asset{content: content, version: hex.EncodeToString(sum[:8])}
		return nil
	})
	if err != nil {
		panic(err) // the files are in the binary: unreadable means a broken build
	}
	return all
})

// Page serves the playground page for the GraphQL endpoint.
func Page(endpoint string) http.Handler {
	page := renderPage(endpoint)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The page names the current assets' versions: always revalidate it.
		h.Set("Cache-Control", "no-cache")
		w.Write(page)
	})
}

// Assets serves the page's scripts and styles under AssetPath.
func Assets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, AssetPath)
		a, ok := assets()[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", `"`+a.version+`"`)
		if r.URL.Query().Get("v") == a.version {
			// A versioned URL names these bytes for good.
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.content))
	})
}

func renderPage(endpoint string) []byte {
	t := template.Must(template.New("page").Funcs(template.FuncMap{
		"asset": func(name string) (string, error) {
			a, ok := assets()[name]
			if !ok {
				return "", fmt.Errorf("no asset %s", name)
			}
			return AssetPath + name + "?v=" + a.version, nil
		},
	}).Parse(pageTemplate))
	var page bytes.Buffer
	err := t.Execute(&page, struct{ Endpoint, Query, Headers string }{endpoint, Examples, Headers})
	if err != nil {
		panic(err) // a template or asset name the page cannot do without
	}
	return page.Bytes()
}
