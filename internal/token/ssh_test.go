package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testDevice = "0123456789abcdef0123456789abcdef"
	testJTI    = "fedcba9876543210fedcba9876543210"
)

var jtiRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

func testGrant() SSHGrant {
	return SSHGrant{UserID: "user-42", Username: "alice", DeviceUUID: testDevice, IssuedAt: testNow}
}

// grantIssuedAt and grantExpiry are the iat and exp of testGrant.
var (
	grantIssuedAt = testNow.Truncate(time.Second)
	grantExpiry   = grantIssuedAt.Add(SSHGrantLifetime)
)

func mustGrant(t testing.TB, s *Set, g SSHGrant) string {
	t.Helper()
	tok, _, err := s.IssueSSHGrant(g)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// validGrantClaims are the claims of a valid grant for testDevice at testNow.
func validGrantClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub":      "user-42",
		"aud":      "ssh",
		"device":   testDevice,
		"username": "alice",
		"jti":      testJTI,
		"iat":      grantIssuedAt.Unix(),
		"exp":      grantExpiry.Unix(),
	}
}

func wantInvalid(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) {
		t.Errorf("err = %v, want ErrInvalid only", err)
	}
}

func TestSSHGrantRoundTrip(t *testing.T) {
	key := testKey(1, testNow)
	s := mustSet(t, key, testKey(2, testNow.Add(-time.Hour)))
	in := testGrant()
	in.ID = "ignored"
	in.Expires = testNow.Add(time.Hour) // ignored too
	tok, exp, err := s.IssueSSHGrant(in)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(grantExpiry) {
		t.Errorf("expires = %v, want %v", exp, grantExpiry)
	}
	if got := header(t, tok)["kid"]; got != key.ID {
		t.Errorf("kid = %v, want the newest key %s", got, key.ID)
	}
	raw := payload(t, tok)
	for _, want := range []string{
		`"sub":"user-42"`, `"aud":"ssh"`, `"device":"` + testDevice + `"`, `"username":"alice"`,
		`"iat":1764000000.000`, `"exp":1764000060`,
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("payload %s: missing %s", raw, want)
		}
	}

	got, err := s.ParseSSHGrant(tok, testDevice, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !jtiRe.MatchString(got.ID) || !strings.Contains(raw, `"jti":"`+got.ID+`"`) {
		t.Errorf("ID %q is not the 32-hex jti of %s", got.ID, raw)
	}
	want := SSHGrant{
		UserID: "user-42", Username: "alice", DeviceUUID: testDevice, ID: got.ID,
		IssuedAt: grantIssuedAt, Expires: grantExpiry,
	}
	if got != want {
		t.Errorf("ParseSSHGrant = %+v, want %+v", got, want)
	}

	// Username is optional; jti is new every time.
	in.Username = ""
	tok2 := mustGrant(t, s, in)
	if strings.Contains(payload(t, tok2), `"username"`) {
		t.Errorf("payload %s: empty username should be omitted", payload(t, tok2))
	}
	got2, err := s.ParseSSHGrant(tok2, testDevice, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got2.Username != "" || got2.ID == got.ID {
		t.Errorf("second grant %+v: want no username and a new ID (first %s)", got2, got.ID)
	}
}

func TestIssueSSHGrantNeedsFields(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	for name, mutate := range map[string]func(*SSHGrant){
		"no user":          func(g *SSHGrant) { g.UserID = "" },
		"no issued at":     func(g *SSHGrant) { g.IssuedAt = time.Time{} },
		"no device":        func(g *SSHGrant) { g.DeviceUUID = "" },
		"uppercase device": func(g *SSHGrant) { g.DeviceUUID = strings.ToUpper(testDevice) },
		"dashed device":    func(g *SSHGrant) { g.DeviceUUID = "01234567-89ab-cdef-0123-456789abcdef" },
		"short device":     func(g *SSHGrant) { g.DeviceUUID = testDevice[1:] },
		"long device":      func(g *SSHGrant) { g.DeviceUUID = testDevice + "0" },
		"non-hex device":   func(g *SSHGrant) { g.DeviceUUID = "g" + testDevice[1:] },
		"oversized":        func(g *SSHGrant) { g.Username = strings.Repeat("a", maxTokenLen) },
	} {
		g := testGrant()
		mutate(&g)
		if tok, exp, err := s.IssueSSHGrant(g); err == nil || tok != "" || !exp.IsZero() {
			t.Errorf("%s: IssueSSHGrant = %q, %v, %v; want an error only", name, tok, exp, err)
		}
	}
}

func TestSSHGrantExpiry(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	tok := mustGrant(t, s, testGrant())

	for _, now := range []time.Time{
		grantIssuedAt.Add(-59 * time.Second), // issuer's clock ahead: iat leeway
		grantIssuedAt,
		grantExpiry.Add(-time.Millisecond),
	} {
		if _, err := s.ParseSSHGrant(tok, testDevice, now); err != nil {
			t.Errorf("at %v: %v", now, err)
		}
	}
	for _, now := range []time.Time{
		grantExpiry, // iat + 60 s exactly: no leeway on exp
		grantExpiry.Add(time.Nanosecond),
		testNow.Add(SSHGrantLifetime),
		testNow.Add(24 * time.Hour),
	} {
		_, err := s.ParseSSHGrant(tok, testDevice, now)
		if !errors.Is(err, ErrExpired) || errors.Is(err, ErrInvalid) {
			t.Errorf("at %v: err = %v, want ErrExpired only", now, err)
		}
	}
	_, err := s.ParseSSHGrant(tok, testDevice, grantIssuedAt.Add(-61*time.Second))
	wantInvalid(t, err)
}

func TestSSHGrantWrongDevice(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	tok := mustGrant(t, s, testGrant())
	for _, dev := range []string{
		"",
		"ffffffffffffffffffffffffffffffff",
		strings.ToUpper(testDevice),
		"01234567-89ab-cdef-0123-456789abcdef",
	} {
		_, err := s.ParseSSHGrant(tok, dev, testNow)
		wantInvalid(t, err)
		// Invalid wins over expired, so callers never mistake it for a
		// grant that merely needs renewing.
		_, err = s.ParseSSHGrant(tok, dev, grantExpiry.Add(time.Hour))
		wantInvalid(t, err)
	}
}

func TestSSHGrantRejected(t *testing.T) {
	key := testKey(1, testNow)
	s := mustSet(t, key)
	good := mustGrant(t, s, testGrant())
	parts := strings.Split(good, ".")
	kid := map[string]any{"kid": key.ID}
	other := testKey(2, testNow)
	pub := key.Private.Public().(ed25519.PublicKey)

	reencode := func(p string) string {
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + parts[2]
	}
	tamperedSig := func() string {
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			t.Fatal(err)
		}
		sig[0] ^= 0x80
		return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	}()
	signed := func(mutate func(jwt.MapClaims)) string {
		c := validGrantClaims()
		mutate(c)
		return signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, c)
	}

	cases := map[string]string{
		"empty":               "",
		"garbage":             "a.b.c",
		"tampered user":       reencode(strings.Replace(payload(t, good), "user-42", "user-43", 1)),
		"tampered exp":        reencode(strings.Replace(payload(t, good), "1764000060", "1764003600", 1)),
		"tampered signature":  tamperedSig,
		"no signature":        parts[0] + "." + parts[1] + ".",
		"oversized":           good + strings.Repeat("A", maxTokenLen),
		"unknown kid":         mustGrant(t, mustSet(t, other), testGrant()),
		"same kid, other key": signRaw(t, jwt.SigningMethodEdDSA, other.Private, kid, validGrantClaims()),
		"alg none":            signRaw(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, validGrantClaims()),
		"alg confusion HS256": signRaw(t, jwt.SigningMethodHS256, []byte(pub), kid, validGrantClaims()),
		"session token":       mustIssue(t, s, testSession(false)),
		"no aud":              signed(func(c jwt.MapClaims) { delete(c, "aud") }),
		"aud null":            signed(func(c jwt.MapClaims) { c["aud"] = nil }),
		"aud empty":           signed(func(c jwt.MapClaims) { c["aud"] = "" }),
		"aud empty array":     signed(func(c jwt.MapClaims) { c["aud"] = []string{} }),
		"aud web":             signed(func(c jwt.MapClaims) { c["aud"] = "web" }),
		"aud SSH":             signed(func(c jwt.MapClaims) { c["aud"] = "SSH" }),
		"aud ssh and more":    signed(func(c jwt.MapClaims) { c["aud"] = []string{"ssh", "web"} }),
		"aud twice ssh":       signed(func(c jwt.MapClaims) { c["aud"] = []string{"ssh", "ssh"} }),
		"no device":           signed(func(c jwt.MapClaims) { delete(c, "device") }),
		"device not a string": signed(func(c jwt.MapClaims) { c["device"] = 1 }),
		"no jti":              signed(func(c jwt.MapClaims) { delete(c, "jti") }),
		"short jti":           signed(func(c jwt.MapClaims) { c["jti"] = testJTI[1:] }),
		"uppercase jti":       signed(func(c jwt.MapClaims) { c["jti"] = strings.ToUpper(testJTI) }),
		"no sub":              signed(func(c jwt.MapClaims) { delete(c, "sub") }),
		"no iat":              signed(func(c jwt.MapClaims) { delete(c, "iat") }),
		"no exp":              signed(func(c jwt.MapClaims) { delete(c, "exp") }),
		"lifetime too long":   signed(func(c jwt.MapClaims) { c["exp"] = grantExpiry.Unix() + 1 }),
		"exp at iat":          signed(func(c jwt.MapClaims) { c["exp"] = grantIssuedAt.Unix() }),
		"iat in future": signed(func(c jwt.MapClaims) {
			c["iat"] = testNow.Add(time.Hour).Unix()
			c["exp"] = testNow.Add(time.Hour + SSHGrantLifetime).Unix()
		}),
		"expired and wrong aud": signed(func(c jwt.MapClaims) {
			c["aud"] = "web"
			c["iat"] = grantIssuedAt.Add(-time.Hour).Unix()
			c["exp"] = grantExpiry.Add(-time.Hour).Unix()
		}),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			g, err := s.ParseSSHGrant(tok, testDevice, testNow)
			wantInvalid(t, err)
			if g != (SSHGrant{}) {
				t.Errorf("non-zero grant %+v with error", g)
			}
		})
	}

	// The helpers must produce acceptable grants, or the cases above would
	// prove nothing. An array aud with just "ssh" means the same as the string.
	for name, tok := range map[string]string{
		"control":   signed(func(jwt.MapClaims) {}),
		"aud array": signed(func(c jwt.MapClaims) { c["aud"] = []string{"ssh"} }),
		"no username": signed(func(c jwt.MapClaims) {
			delete(c, "username")
		}),
	} {
		if _, err := s.ParseSSHGrant(tok, testDevice, testNow); err != nil {
			t.Errorf("%s grant refused: %v", name, err)
		}
	}
}

// TestSSHGrantAndSessionDoNotMix: the two kinds share keys, so each parser
// must refuse the other's tokens.
func TestSSHGrantAndSessionDoNotMix(t *testing.T) {
	key := testKey(1, testNow)
	s := mustSet(t, key)
	grant := mustGrant(t, s, testGrant())
	_, err := s.ParseSession(grant, testNow)
	wantInvalid(t, err)

	// Even a grant carrying every session claim is not a session.
	c := validGrantClaims()
	c["auth_time"] = testNow.Unix()
	_, err = s.ParseSession(signRaw(t, jwt.SigningMethodEdDSA, key.Private, map[string]any{"kid": key.ID}, c), testNow)
	wantInvalid(t, err)

	session := mustIssue(t, s, testSession(false))
	_, err = s.ParseSSHGrant(session, testDevice, testNow)
	wantInvalid(t, err)
}

// proxyVerify is the offline verification SSHGrant's doc comment shows, with
// the JWKS document as all it knows about fleetgate. Keep them in sync.
func proxyVerify(t *testing.T, jwks []byte, grant, deviceUUID string, now time.Time) (jwt.MapClaims, error) {
	t.Helper()
	tok, err := jwt.Parse(grant, jwksKeyfunc(t, jwks),
		jwt.WithValidMethods([]string{"EdDSA"}),
		jwt.WithAudience("ssh"),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return nil, err
	}
	claims := tok.Claims.(jwt.MapClaims)
	if claims["device"] != deviceUUID {
		return nil, errors.New("grant is for another device")
	}
	return claims, nil
}

func TestVerifySSHGrantWithJWKSOnly(t *testing.T) {
	old := testKey(1, testNow.Add(-time.Hour))
	s := mustSet(t, old, testKey(2, testNow))
	jwks := s.JWKS()
	grant := mustGrant(t, s, testGrant())

	claims, err := proxyVerify(t, jwks, grant, testDevice, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "user-42" || claims["username"] != "alice" || claims["device"] != testDevice ||
		!jtiRe.MatchString(claims["jti"].(string)) {
		t.Errorf("claims = %v", claims)
	}
	// A grant signed by the older key, still in the JWKS, verifies too.
	if _, err := proxyVerify(t, jwks, mustGrant(t, mustSet(t, old), testGrant()), testDevice, testNow); err != nil {
		t.Errorf("grant by the older key: %v", err)
	}

	pub := testKey(2, testNow).Private.Public().(ed25519.PublicKey)
	refused := map[string]struct {
		tok, device string
		now         time.Time
	}{
		"expired":        {grant, testDevice, grantExpiry.Add(time.Second)},
		"other device":   {grant, "ffffffffffffffffffffffffffffffff", testNow},
		"session token":  {mustIssue(t, s, testSession(false)), testDevice, testNow},
		"unknown key":    {mustGrant(t, mustSet(t, testKey(3, testNow)), testGrant()), testDevice, testNow},
		"HS256 with pub": {signRaw(t, jwt.SigningMethodHS256, []byte(pub), map[string]any{"kid": keyID(pub)}, validGrantClaims()), testDevice, testNow},
		"alg none":       {signRaw(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": keyID(pub)}, validGrantClaims()), testDevice, testNow},
	}
	for name, c := range refused {
		if _, err := proxyVerify(t, jwks, c.tok, c.device, c.now); err == nil {
			t.Errorf("%s: proxy accepted it", name)
		}
	}
}

func FuzzParseSSHGrant(f *testing.F) {
	s := mustSet(f, testKey(1, testNow))
	// IssueSSHGrant's random jti would give every fuzz worker process other
	// valid tokens than the seeds it is sent; fix the jti instead.
	fixed := func(g SSHGrant) string {
		tok, _, err := s.signSSHGrant(g, testJTI)
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	valid := fixed(testGrant())
	noName := testGrant()
	noName.Username = ""
	validNoName := fixed(noName)
	parts := strings.Split(valid, ".")
	for _, seed := range []string{
		valid,
		validNoName,
		mustIssue(f, s, testSession(false)),
		parts[0] + "." + parts[1] + ".",
		parts[0] + ".e30." + parts[2],
		"eyJhbGciOiJub25lIn0.e30.",
		"",
		"a.b.c",
	} {
		f.Add(seed, testDevice)
	}
	f.Add(valid, "")
	f.Add(valid, strings.ToUpper(testDevice))
	f.Fuzz(func(t *testing.T, tok, device string) {
		g, err := s.ParseSSHGrant(tok, device, testNow)
		if err == nil {
			// Only the exact grants we signed verify (see FuzzParseSession),
			// and only for their device.
			if tok != valid && tok != validNoName || device != testDevice {
				t.Fatalf("accepted %q for device %q -> %+v", tok, device, g)
			}
			return
		}
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) {
			t.Fatalf("error %v is neither ErrInvalid nor ErrExpired", err)
		}
		if g != (SSHGrant{}) {
			t.Fatalf("error %v with non-zero grant %+v", err, g)
		}
	})
}
