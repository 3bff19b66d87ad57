package socialtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
)

// Rewriter is an http.RoundTripper that edits a provider's JSON answers on
// their way to fleetgate: a stand-in for a provider (or a party in between)
// that answers with someone else's token or profile. Give it to fleetgate
// as the client it calls providers with.
type Rewriter struct {
	// Path is the provider's path whose answers are edited, such as
	// "/oauth/token"; Field the top-level member, such as "id_token".
	Path, Field string
	// Replace, when set, is put in the place of Field's value.
	Replace string

	mu       sync.Mutex
	captured string
}

// Captured is Field's last value seen, before any replacement.
func (rw *Rewriter) Captured() string {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return rw.captured
}

// ReplaceWith sets Replace while requests may be running.
func (rw *Rewriter) ReplaceWith(v string) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.Replace = v
}

func (rw *Rewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || r.URL.Path != rw.Path {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err == nil {
		rw.mu.Lock()
		rw.captured, _ = doc[rw.Field].(string)
		if rw.Replace != "" {
			doc[rw.Field] = rw.Replace
		}
		rw.mu.Unlock()
		body, _ = json.Marshal(doc)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}
