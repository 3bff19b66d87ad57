package token

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testNow has sub-millisecond digits so that truncation is exercised.
var testNow = time.Date(2025, 11, 24, 16, 0, 0, 123_456_789, time.UTC)

// testKey is deterministic so that fuzz workers and benchmarks agree on
// tokens; production keys come from GenerateKey.
func testKey(seed byte, createdAt time.Time) Key {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return Key{ID: keyID(priv.Public().(ed25519.PublicKey)), Private: priv, CreatedAt: createdAt}
}

func mustSet(t testing.TB, keys ...Key) *Set {
	t.Helper()
	s, err := NewSet(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustIssue(t testing.TB, s *Set, sess Session) string {
	t.Helper()
	tok, err := s.IssueSession(sess)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func testSession(pending bool) Session {
	return Session{
		UserID:   "user-42",
		IssuedAt: testNow,
		AuthTime: testNow.Add(-time.Hour),
		Pending:  pending,
	}
}

// payload returns the decoded claims segment of a compact JWT.
func payload(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// signRaw signs arbitrary claims and headers, for tokens IssueSession would
// never produce.
func signRaw(t *testing.T, method jwt.SigningMethod, key any, header map[string]any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validClaims are the claims of a valid session at testNow.
func validClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub":       "user-42",
		"iat":       json.Number("1764000000.123"),
		"exp":       testNow.Add(time.Hour).Unix(),
		"auth_time": testNow.Unix(),
	}
}

func TestRoundTrip(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	iatRe := regexp.MustCompile(`"iat":\d+\.\d{3}[,}]`)
	for _, pending := range []bool{false, true} {
		t.Run(fmt.Sprint("pending=", pending), func(t *testing.T) {
			in := testSession(pending)
			in.Expires = testNow.Add(SessionLifetime + time.Hour) // later than the lifetime: ignored
			// A full token names its session; only a pending one says how
			// the first factor was given.
			in.FirstFactor = "github"
			wantFirst := "github"
			if !pending {
				in.SessionID = "98784247809"
				wantFirst = ""
			}
			tok := mustIssue(t, s, in)

			raw := payload(t, tok)
			if !iatRe.MatchString(raw) {
				t.Errorf("payload %s: iat is not a NumericDate with 3 decimals", raw)
			}
			if !strings.Contains(raw, `"iat":1764000000.123`) {
				t.Errorf("payload %s: want iat 1764000000.123", raw)
			}
			if got := strings.Contains(raw, `"tfa":"pending"`); got != pending {
				t.Errorf("payload %s: contains tfa pending = %v, want %v", raw, got, pending)
			}
			if got := strings.Contains(raw, `"amr":["github"]`); got != pending {
				t.Errorf("payload %s: contains amr = %v, want %v", raw, got, pending)
			}
			if !pending && strings.Contains(raw, `"tfa"`) {
				t.Errorf("payload %s: tfa should be omitted", raw)
			}
			if strings.Contains(raw, `"aud"`) {
				t.Errorf("payload %s: session must not carry aud", raw)
			}

			got, err := s.ParseSession(tok, testNow)
			if err != nil {
				t.Fatal(err)
			}
			lifetime := SessionLifetime
			if pending {
				lifetime = PendingLifetime // the second factor is owed within minutes
			}
			want := Session{
				UserID:      in.UserID,
				IssuedAt:    testNow.Truncate(time.Millisecond),
				Expires:     testNow.Truncate(time.Millisecond).Add(lifetime).Truncate(time.Second),
				AuthTime:    in.AuthTime.Truncate(time.Second),
				Pending:     pending,
				SessionID:   in.SessionID,
				FirstFactor: wantFirst,
			}
			if got.UserID != want.UserID || !got.IssuedAt.Equal(want.IssuedAt) || !got.Expires.Equal(want.Expires) ||
				!got.AuthTime.Equal(want.AuthTime) || got.Pending != want.Pending || got.SessionID != want.SessionID || got.FirstFactor != want.FirstFactor {
				t.Errorf("ParseSession = %+v, want %+v", got, want)
			}
		})
	}
}

// TestSessionEndCapsExpiry: a token of a session that ends before the
// token's lifetime is over expires with the session (README "Sessions").
func TestSessionEndCapsExpiry(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	in := testSession(false)
	in.Expires = testNow.Add(90 * time.Second)
	got, err := s.ParseSession(mustIssue(t, s, in), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := in.Expires.Truncate(time.Second); !got.Expires.Equal(want) {
		t.Errorf("exp = %v, want the session's end %v", got.Expires, want)
	}
	if _, err := s.ParseSession(mustIssue(t, s, in), in.Expires.Add(time.Second)); !errors.Is(err, ErrExpired) {
		t.Errorf("after the session's end: %v, want ErrExpired", err)
	}
}

func TestIssuedAtOnWholeSecondKeepsDecimals(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	sess := testSession(false)
	sess.IssuedAt = time.Unix(1764000000, 0)
	raw := payload(t, mustIssue(t, s, sess))
	if !strings.Contains(raw, `"iat":1764000000.000,`) {
		t.Errorf("payload %s: want iat 1764000000.000", raw)
	}
}

func TestIssueSessionNeedsFields(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	for name, mutate := range map[string]func(*Session){
		"no user":      func(s *Session) { s.UserID = "" },
		"no issued at": func(s *Session) { s.IssuedAt = time.Time{} },
		"no auth time": func(s *Session) { s.AuthTime = time.Time{} },
	} {
		sess := testSession(false)
		mutate(&sess)
		if _, err := s.IssueSession(sess); err == nil {
			t.Errorf("%s: IssueSession succeeded", name)
		}
	}
}

func TestExpired(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	tok := mustIssue(t, s, testSession(false))
	exp := testNow.Truncate(time.Millisecond).Add(SessionLifetime).Truncate(time.Second)

	if _, err := s.ParseSession(tok, exp.Add(-time.Millisecond)); err != nil {
		t.Fatalf("just before exp: %v", err)
	}
	for _, now := range []time.Time{exp, exp.Add(time.Nanosecond), exp.Add(365 * 24 * time.Hour)} {
		_, err := s.ParseSession(tok, now)
		if !errors.Is(err, ErrExpired) || errors.Is(err, ErrInvalid) {
			t.Errorf("at %v: err = %v, want ErrExpired only", now, err)
		}
	}
}

func TestIssuedAtLeeway(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	sess := testSession(false)
	sess.IssuedAt = testNow.Add(59 * time.Second)
	if _, err := s.ParseSession(mustIssue(t, s, sess), testNow); err != nil {
		t.Errorf("iat 59s ahead: %v", err)
	}
	sess.IssuedAt = testNow.Add(61 * time.Second)
	if _, err := s.ParseSession(mustIssue(t, s, sess), testNow); !errors.Is(err, ErrInvalid) {
		t.Errorf("iat 61s ahead: err = %v, want ErrInvalid", err)
	}
}

func TestRejected(t *testing.T) {
	key := testKey(1, testNow)
	s := mustSet(t, key)
	good := mustIssue(t, s, testSession(false))
	parts := strings.Split(good, ".")
	kid := map[string]any{"kid": key.ID}

	other := testKey(2, testNow)
	otherSet := mustSet(t, other)
	pub := key.Private.Public().(ed25519.PublicKey)

	tamperedPayload := func() string {
		p := strings.Replace(payload(t, good), "user-42", "user-43", 1)
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + parts[2]
	}()
	tamperedSig := func() string {
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			t.Fatal(err)
		}
		sig[10] ^= 1
		return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	}()
	// The last base64 character of a 64-byte signature carries 2 unused bits;
	// changing only those must not be accepted as the same token.
	nonCanonicalSig := func() string {
		last := parts[2][len(parts[2])-1]
		alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		i := strings.IndexByte(alphabet, last)
		return good[:len(good)-1] + string(alphabet[i^1])
	}()
	with := func(mutate func(jwt.MapClaims)) jwt.MapClaims {
		c := validClaims()
		mutate(c)
		return c
	}
	expiredWithAud := with(func(c jwt.MapClaims) {
		c["aud"] = "ssh"
		c["exp"] = testNow.Add(-time.Hour).Unix()
	})

	cases := map[string]string{
		"empty":                "",
		"garbage":              "not a token",
		"dots":                 "..",
		"four segments":        good + ".x",
		"bad base64":           "!!!.@@@.###",
		"header only":          parts[0],
		"no signature":         parts[0] + "." + parts[1] + ".",
		"tampered payload":     tamperedPayload,
		"tampered signature":   tamperedSig,
		"non-canonical base64": nonCanonicalSig,
		"oversized":            good + strings.Repeat("A", maxTokenLen),
		"unknown kid":          mustIssue(t, otherSet, testSession(false)),
		"same kid, other key":  signRaw(t, jwt.SigningMethodEdDSA, other.Private, kid, validClaims()),
		"missing kid":          signRaw(t, jwt.SigningMethodEdDSA, key.Private, nil, validClaims()),
		"kid not a string":     signRaw(t, jwt.SigningMethodEdDSA, key.Private, map[string]any{"kid": 1}, validClaims()),
		"alg none":             signRaw(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, validClaims()),
		"alg confusion HS256":  signRaw(t, jwt.SigningMethodHS256, []byte(pub), kid, validClaims()),
		"aud string":           signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { c["aud"] = "ssh" })),
		"aud array":            signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { c["aud"] = []string{"ssh"} })),
		"aud empty array":      signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { c["aud"] = []string{} })),
		"aud null":             signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { c["aud"] = nil })),
		"aud and expired":      signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, expiredWithAud),
		"missing sub":          signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { delete(c, "sub") })),
		"missing iat":          signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { delete(c, "iat") })),
		"missing exp":          signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { delete(c, "exp") })),
		"missing auth_time":    signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { delete(c, "auth_time") })),
		"null iat":             signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { c["iat"] = nil })),
		"string exp":           signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { c["exp"] = "tomorrow" })),
		"negative iat":         signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { c["iat"] = -1 })),
		"exp beyond year 9999": signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { c["exp"] = 1e300 })),
		"unknown tfa":          signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { c["tfa"] = "done" })),
		"iat in future":        signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, with(func(c jwt.MapClaims) { c["iat"] = testNow.Add(time.Hour).Unix() })),
		"claims not an object": signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, nil),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := s.ParseSession(tok, testNow)
			if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) {
				t.Errorf("err = %v, want ErrInvalid only", err)
			}
		})
	}

	// The raw claims helper itself must produce acceptable tokens, or the
	// cases above would prove nothing.
	if _, err := s.ParseSession(signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, validClaims()), testNow); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
}

func TestRotation(t *testing.T) {
	old := testKey(1, testNow.Add(-30*24*time.Hour))
	newer := testKey(2, testNow)
	oldTok := mustIssue(t, mustSet(t, old), testSession(false))

	s := mustSet(t, old, newer)
	tok := mustIssue(t, s, testSession(true))
	if got := header(t, tok)["kid"]; got != newer.ID {
		t.Errorf("signed with kid %v, want the newest key %s", got, newer.ID)
	}
	for name, tk := range map[string]string{"old": oldTok, "new": tok} {
		if _, err := s.ParseSession(tk, testNow); err != nil {
			t.Errorf("%s token: %v", name, err)
		}
	}
	// Argument order must not matter.
	if got := header(t, mustIssue(t, mustSet(t, newer, old), testSession(false)))["kid"]; got != newer.ID {
		t.Errorf("reversed NewSet signed with kid %v, want %s", got, newer.ID)
	}

	keys := parseJWKS(t, s.JWKS())
	if len(keys) != 2 || keys[0].kid != newer.ID || keys[1].kid != old.ID {
		t.Fatalf("JWKS kids = %+v, want [%s %s]", keys, newer.ID, old.ID)
	}
	for i, k := range []Key{newer, old} {
		if !keys[i].pub.Equal(k.Private.Public()) {
			t.Errorf("JWKS key %d: x does not decode to the public key", i)
		}
	}
}

func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

type publicJWK struct {
	kid string
	pub ed25519.PublicKey
}

// parseJWKS reads a JWKS document the way an independent verifier would,
// checking every field of each key.
func parseJWKS(t *testing.T, doc []byte) []publicJWK {
	t.Helper()
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatalf("JWKS is not valid JSON: %v\n%s", err, doc)
	}
	var out []publicJWK
	for _, k := range set.Keys {
		if k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["alg"] != "EdDSA" || k["use"] != "sig" || len(k) != 6 {
			t.Fatalf("unexpected JWK %v", k)
		}
		x, err := base64.RawURLEncoding.DecodeString(k["x"])
		if err != nil || len(x) != ed25519.PublicKeySize {
			t.Fatalf("JWK x %q: %v (%d bytes)", k["x"], err, len(x))
		}
		out = append(out, publicJWK{kid: k["kid"], pub: ed25519.PublicKey(x)})
	}
	return out
}

// jwksKeyfunc is an independent verifier's jwt.Keyfunc: it knows only the
// JWKS document and picks the key named by the "kid" header.
func jwksKeyfunc(t *testing.T, doc []byte) jwt.Keyfunc {
	t.Helper()
	pubs := map[string]ed25519.PublicKey{}
	for _, k := range parseJWKS(t, doc) {
		pubs[k.kid] = k.pub
	}
	return func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		pub, ok := pubs[kid]
		if !ok {
			return nil, errors.New("unknown kid")
		}
		return pub, nil
	}
}

// TestVerifyWithJWKSOnly is how other services verify tokens offline: from
// the JWKS document and plain golang-jwt, with nothing from this package.
func TestVerifyWithJWKSOnly(t *testing.T) {
	s := mustSet(t, testKey(1, testNow.Add(-time.Hour)), testKey(2, testNow))
	tok := mustIssue(t, s, testSession(false))

	parsed, err := jwt.Parse(tok, jwksKeyfunc(t, s.JWKS()),
		jwt.WithValidMethods([]string{"EdDSA"}),
		jwt.WithTimeFunc(func() time.Time { return testNow }),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	if err != nil {
		t.Fatal(err)
	}
	if sub, _ := parsed.Claims.GetSubject(); sub != "user-42" {
		t.Errorf("sub = %q", sub)
	}
}

func TestJWKSIsACopy(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	want := s.JWKS()
	got := s.JWKS()
	got[0] = 'X'
	if !bytes.Equal(s.JWKS(), want) {
		t.Error("mutating the returned JWKS changed the Set's")
	}
}

func TestNewSetCopiesKeys(t *testing.T) {
	k := testKey(1, testNow)
	priv := bytes.Clone(k.Private)
	k.Private = priv
	s := mustSet(t, k)
	clear(priv)
	if _, err := s.ParseSession(mustIssue(t, s, testSession(false)), testNow); err != nil {
		t.Fatal(err)
	}
}

func TestNewSetErrors(t *testing.T) {
	k := testKey(1, testNow)
	mismatched := testKey(2, testNow)
	mismatched.Private = append(bytes.Clone(mismatched.Private[:ed25519.SeedSize]), k.Private[ed25519.SeedSize:]...)
	for name, keys := range map[string][]Key{
		"no keys":         nil,
		"duplicate IDs":   {k, {ID: k.ID, Private: testKey(3, testNow).Private, CreatedAt: testNow}},
		"empty ID":        {{Private: k.Private, CreatedAt: testNow}},
		"short key":       {{ID: "x", Private: k.Private[:32], CreatedAt: testNow}},
		"nil key":         {{ID: "x", CreatedAt: testNow}},
		"mismatched half": {mismatched},
	} {
		if _, err := NewSet(keys...); err == nil {
			t.Errorf("%s: NewSet succeeded", name)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey(testNow)
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey(testNow)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID || bytes.Equal(a.Private, b.Private) {
		t.Fatal("two generated keys are equal")
	}
	if len(a.Private) != ed25519.PrivateKeySize || !a.CreatedAt.Equal(testNow) {
		t.Fatalf("bad key %+v", a)
	}
	if len(a.ID) != 16 || a.ID != keyID(a.Private.Public().(ed25519.PublicKey)) {
		t.Fatalf("ID %q is not derived from the public key", a.ID)
	}
	if _, err := NewSet(a, b); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := mustSet(t, testKey(1, testNow), testKey(2, testNow.Add(-time.Hour)))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			sess := testSession(i%2 == 0)
			for range 20 {
				tok, err := s.IssueSession(sess)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := s.ParseSession(tok, testNow); err != nil {
					t.Error(err)
					return
				}
				_ = s.JWKS()
			}
		})
	}
	wg.Wait()
}

func FuzzParseSession(f *testing.F) {
	s := mustSet(f, testKey(1, testNow))
	valid := mustIssue(f, s, testSession(true))
	validNotPending := mustIssue(f, s, testSession(false))
	parts := strings.Split(valid, ".")
	for _, seed := range []string{
		valid,
		validNotPending,
		parts[0] + "." + parts[1] + ".",
		parts[0] + ".e30." + parts[2], // {} as claims
		"eyJhbGciOiJub25lIn0.e30.",    // alg none
		"",
		"a.b.c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		sess, err := s.ParseSession(tok, testNow)
		if err == nil {
			// Ed25519 in Go is not malleable and decoding is strict, so only
			// the exact tokens we signed can verify.
			if tok != valid && tok != validNotPending {
				t.Fatalf("random input parsed as valid: %q -> %+v", tok, sess)
			}
			return
		}
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) {
			t.Fatalf("error %v is neither ErrInvalid nor ErrExpired", err)
		}
		if sess != (Session{}) {
			t.Fatalf("error %v with non-zero session %+v", err, sess)
		}
	})
}

func BenchmarkIssueSession(b *testing.B) {
	s := mustSet(b, testKey(1, testNow))
	sess := testSession(false)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.IssueSession(sess); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseSession parses a session token the first time (signature
// and claims) and again (remembered).
func BenchmarkParseSession(b *testing.B) {
	s := mustSet(b, testKey(1, testNow))
	tok := mustIssue(b, s, testSession(false))
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.sessions = &verifiedSessions{}
			if _, err := s.ParseSession(tok, testNow); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("again", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.ParseSession(tok, testNow); err != nil {
				b.Fatal(err)
			}
		}
	})
}
