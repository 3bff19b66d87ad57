package main

import (
	"strings"
	"testing"
)

// env is an environment of the given variables only.
func env(vars ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(vars); i += 2 {
		m[vars[i]] = vars[i+1]
	}
	return func(k string) string { return m[k] }
}

// TestConfigRefused: a variable that cannot be right stops the start with
// an error naming it.
func TestConfigRefused(t *testing.T) {
	for _, c := range []struct {
		vars []string
		want string
	}{
		{[]string{"CORS_ALLOW_CREDENTIALS", "yes please"}, `CORS_ALLOW_CREDENTIALS must be true or false, not "yes please"`},
		{[]string{"CORS_ORIGINS", "https://a.example, *", "CORS_ALLOW_CREDENTIALS", "true"}, "CORS_ALLOW_CREDENTIALS needs the allowed origins listed in CORS_ORIGINS, not *"},
		{[]string{"INTROSPECTION", "off"}, `INTROSPECTION must be true or false, not "off"`},
	} {
		_, err := loadConfig(env(c.vars...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.vars, err, c.want)
		}
	}
}

// TestConfigCORS: CORS_ORIGINS is a comma-separated list; credentials are
// off unless CORS_ALLOW_CREDENTIALS says otherwise.
func TestConfigCORS(t *testing.T) {
	c, err := loadConfig(env("CORS_ORIGINS", " https://a.example ,,http://localhost:3000"))
	if err != nil || strings.Join(c.corsOrigins, " ") != "https://a.example http://localhost:3000" || c.corsCreds {
		t.Fatalf("%v %q %v", err, c.corsOrigins, c.corsCreds)
	}
	c, err = loadConfig(env("CORS_ORIGINS", "https://a.example", "CORS_ALLOW_CREDENTIALS", "true"))
	if err != nil || !c.corsCreds {
		t.Fatalf("%v %v", err, c.corsCreds)
	}
}
