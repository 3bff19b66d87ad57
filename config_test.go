package main

import (
	"strings"
	"testing"

	"fleetgate/internal/password"
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

// TestConfigLimitDefaults: without variables, the limits and the hashing
// cost are those README "Abuse limits" and "Accounts and sessions" state.
func TestConfigLimitDefaults(t *testing.T) {
	c, err := loadConfig(env())
	if err != nil {
		t.Fatal(err)
	}
	l := c.abuseLimits
	for _, v := range []struct{ name, got, want string }{
		{"login per name and address", l.LoginPerNameAndIP.String(), "5,30s,1h"},
		{"login per name", l.LoginPerName.String(), "50,30s,1h"},
		{"login per address", l.LoginPerIP.String(), "50,30s,1h"},
		{"login per device token", l.LoginPerDevice.String(), "5,30s,1h"},
		{"two-factor codes", l.TwoFactor.String(), "4,30s,1h"},
		{"password confirmations", l.PasswordConfirmation.String(), "4,30s,1h"},
		{"sign-ups", l.SignUpsPerIP.String(), "10/1h"},
		{"reset mails per address", l.ResetMailsPerAddress.String(), "3/1h"},
		{"reset mails per client address", l.ResetMailsPerIP.String(), "20/1h"},
		{"verification mails per account", l.VerificationMailsPerAccount.String(), "5/1h"},
		{"verification mails per address", l.VerificationMailsPerAddress.String(), "3/1h"},
		{"member lookups", l.MemberLookups.String(), "30/1h"},
	} {
		if v.got != v.want {
			t.Errorf("%s: %s, want %s", v.name, v.got, v.want)
		}
	}
	if c.hashParams != password.Production() {
		t.Errorf("hashing %+v, want %+v", c.hashParams, password.Production())
	}
}

// TestConfigLimitOverrides: each variable sets its limit, and only it.
func TestConfigLimitOverrides(t *testing.T) {
	c, err := loadConfig(env(
		"LIMIT_LOGIN_PER_NAME_AND_IP", "7,1m,2h",
		"LIMIT_LOGIN_PER_NAME", "60,30s,1h",
		"LIMIT_LOGIN_PER_IP", "500,10s,30m",
		"LIMIT_LOGIN_PER_DEVICE", "8,30s,1h",
		"LIMIT_TWO_FACTOR", "3,1m,1h",
		"LIMIT_PASSWORD_CONFIRMATION", "6,30s,2h",
		"LIMIT_SIGNUPS_PER_IP", "200/1h",
		"LIMIT_RESET_MAILS_PER_ADDRESS", "5/24h",
		"LIMIT_RESET_MAILS_PER_IP", "100/1h",
		"LIMIT_VERIFICATION_MAILS_PER_ACCOUNT", "10/1h",
		"LIMIT_VERIFICATION_MAILS_PER_ADDRESS", "4/2h",
		"LIMIT_MEMBER_LOOKUPS", "300/1h",
		"PASSWORD_HASH_TIME", "3",
		"PASSWORD_HASH_MEMORY_KIB", "65536",
		"PASSWORD_HASH_THREADS", "2",
	))
	if err != nil {
		t.Fatal(err)
	}
	l := c.abuseLimits
	got := strings.Join([]string{l.LoginPerNameAndIP.String(), l.LoginPerName.String(), l.LoginPerIP.String(),
		l.LoginPerDevice.String(), l.TwoFactor.String(), l.PasswordConfirmation.String(), l.SignUpsPerIP.String(),
		l.ResetMailsPerAddress.String(), l.ResetMailsPerIP.String(), l.VerificationMailsPerAccount.String(),
		l.VerificationMailsPerAddress.String(), l.MemberLookups.String()}, " ")
	if want := "7,1m,2h 60,30s,1h 500,10s,30m 8,30s,1h 3,1m,1h 6,30s,2h 200/1h 5/24h 100/1h 10/1h 4/2h 300/1h"; got != want {
		t.Errorf("limits %s\nwant   %s", got, want)
	}
	want := password.Production()
	want.Time, want.MemoryKiB, want.Threads = 3, 65536, 2
	if c.hashParams != want {
		t.Errorf("hashing %+v, want %+v", c.hashParams, want)
	}

	c, err = loadConfig(env("LIMIT_SIGNUPS_PER_IP", "200/1h"))
	if err != nil || c.abuseLimits.SignUpsPerIP.Limit != 200 || c.abuseLimits.ResetMailsPerIP.String() != "20/1h" {
		t.Fatalf("one override: %v %+v", err, c.abuseLimits)
	}
}

// TestConfigLimitsRefused: a malformed or impossible limit or cost stops
// the start, naming the variable.
func TestConfigLimitsRefused(t *testing.T) {
	for _, c := range []struct{ name, value, want string }{
		{"LIMIT_LOGIN_PER_IP", "50", "LIMIT_LOGIN_PER_IP: \"50\" is not FREE,WAIT,MAXWAIT"},
		{"LIMIT_LOGIN_PER_NAME", "50,30s,10s", "LIMIT_LOGIN_PER_NAME: \"50,30s,10s\": free failures must be 0 or more"},
		{"LIMIT_TWO_FACTOR", "-1,30s,1h", "LIMIT_TWO_FACTOR:"},
		{"LIMIT_PASSWORD_CONFIRMATION", "4,30,1h", "LIMIT_PASSWORD_CONFIRMATION:"},
		{"LIMIT_LOGIN_PER_DEVICE", "x,30s,1h", "LIMIT_LOGIN_PER_DEVICE:"},
		{"LIMIT_LOGIN_PER_NAME_AND_IP", "5,0s,1h", "LIMIT_LOGIN_PER_NAME_AND_IP:"},
		{"LIMIT_SIGNUPS_PER_IP", "100", "LIMIT_SIGNUPS_PER_IP: \"100\" is not LIMIT/WINDOW"},
		{"LIMIT_RESET_MAILS_PER_ADDRESS", "0/1h", "LIMIT_RESET_MAILS_PER_ADDRESS: \"0/1h\": the limit and the window must be positive"},
		{"LIMIT_RESET_MAILS_PER_IP", "20/hour", "LIMIT_RESET_MAILS_PER_IP:"},
		{"LIMIT_MEMBER_LOOKUPS", "30/0s", "LIMIT_MEMBER_LOOKUPS:"},
		{"LIMIT_VERIFICATION_MAILS_PER_ACCOUNT", "5", "LIMIT_VERIFICATION_MAILS_PER_ACCOUNT:"},
		{"LIMIT_VERIFICATION_MAILS_PER_ADDRESS", "3/1x", "LIMIT_VERIFICATION_MAILS_PER_ADDRESS:"},
		{"PASSWORD_HASH_TIME", "two", `PASSWORD_HASH_TIME must be a positive number, not "two"`},
		{"PASSWORD_HASH_TIME", "0", "time 0 outside 1..10"},
		{"PASSWORD_HASH_MEMORY_KIB", "8192", "8192 KiB with 2 passes is weaker than OWASP's minimum (19456 KiB for 2 passes)"},
		{"PASSWORD_HASH_MEMORY_KIB", "-5", "PASSWORD_HASH_MEMORY_KIB must be a positive number"},
		{"PASSWORD_HASH_THREADS", "300", "PASSWORD_HASH_THREADS must be a positive number"},
		{"PASSWORD_HASH_THREADS", "0", "threads 0 outside 1..16"},
	} {
		_, err := loadConfig(env(c.name, c.value))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: got %v, want %q", c.name, c.value, err, c.want)
		}
	}
}
