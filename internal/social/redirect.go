package social

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// parseHTTPURL parses an absolute http or https URL, refusing the forms
// browsers and parsers read differently: backslashes, user information,
// scheme-relative (//host) and relative references.
func parseHTTPURL(raw string) (*url.URL, error) {
	if strings.ContainsAny(raw, "\\") || strings.TrimSpace(raw) != raw {
		return nil, fmt.Errorf("%q is not a plain absolute URL", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%q is not an absolute http or https URL", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%q carries user information", raw)
	}
	return u, nil
}

// origin is u's scheme://host[:port], lowercased, without the scheme's
// default port, so that one origin has one spelling.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + port
}

// checkRedirect returns target if it is on one of the allowed origins:
// the callback sends the browser there, so anything else would be an open
// redirect.
func checkRedirect(target string, allowed []string) (string, error) {
	u, err := parseHTTPURL(target)
	if err != nil {
		return "", &Error{Code: CodeInvalidRedirect, Err: err}
	}
	if !slices.Contains(allowed, origin(u)) {
		return "", &Error{Code: CodeInvalidRedirect, Err: fmt.Errorf("%s is not an allowed redirect origin", origin(u))}
	}
	return u.String(), nil
}

// WithQuery is target with one query parameter set: how a flow's result
// travels to its redirect target.
func WithQuery(target, name, value string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target // checked by checkRedirect when the flow started
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}
