package totp

import (
	"encoding/base32"
	"net/url"
	"strings"
	"testing"
	"time"

	"fleetgate/internal/qrtest"
	"github.com/pquerna/otp"
	pqtotp "github.com/pquerna/otp/totp"
)

// rfcSecret is the RFC 6238 Appendix B SHA-1 seed, the ASCII string
// "12345678901234567890", in base32.
var rfcSecret = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))

func TestRFC6238Vectors(t *testing.T) {
	if rfcSecret != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Fatalf("rfcSecret = %s", rfcSecret)
	}
	// RFC 6238 Appendix B, SHA-1 column (8 digits); a 6-digit code is the
	// last 6 digits of the same truncated value.
	vectors := []struct {
		unix  int64
		step  int64 // the RFC's T, in hex there
		eight string
	}{
		{59, 0x1, "94287082"},
		{1111111109, 0x23523EC, "07081804"},
		{1111111111, 0x23523ED, "14050471"},
		{1234567890, 0x273EF07, "89005924"},
		{2000000000, 0x3F940AA, "69279037"},
		{20000000000, 0x27BC86AA, "65353130"},
	}
	for _, v := range vectors {
		now := time.Unix(v.unix, 0).UTC()
		if got := Step(now); got != v.step {
			t.Errorf("Step(%d) = %#x, want %#x", v.unix, got, v.step)
		}
		code := v.eight[2:]
		step, ok := Verify(rfcSecret, code, now, 0)
		if !ok || step != v.step {
			t.Errorf("t=%d code %s: Verify = %d, %v; want %d, true", v.unix, code, step, ok, v.step)
		}
		// The same code from the adjacent steps' point of view (skew).
		for _, d := range []int64{-1, 1} {
			at := time.Unix((v.step+d)*Period, 0)
			if step, ok := Verify(rfcSecret, code, at, 0); !ok || step != v.step {
				t.Errorf("t=%d seen from step %+d: Verify = %d, %v", v.unix, d, step, ok)
			}
		}
		// Lowercase secret and surrounding space are fine.
		if _, ok := Verify(strings.ToLower(rfcSecret), " "+code+"\n", now, 0); !ok {
			t.Errorf("t=%d: lowercase secret / padded code refused", v.unix)
		}
		// A wrong code is refused.
		wrong := []byte(code)
		wrong[5] = '0' + (wrong[5]-'0'+1)%10
		if _, ok := Verify(rfcSecret, string(wrong), now, 0); ok {
			t.Errorf("t=%d: wrong code %s accepted", v.unix, wrong)
		}
	}
}

// codeAt computes a code independently of Verify, with pquerna's plain
// GenerateCode (SHA-1, 6 digits, 30 s defaults).
func codeAt(t *testing.T, secret string, step int64) string {
	t.Helper()
	c, err := pqtotp.GenerateCode(secret, time.Unix(step*Period, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The code of every step from base-2 to base+2 must differ for the tests
// below to be meaningful; these fixed values were checked to do so.
const testStep = int64(58_000_000) // 2025-02-19T21:20:00Z

func distinctCodes(t *testing.T, secret string) map[int64]string {
	t.Helper()
	codes := map[int64]string{}
	seen := map[string]bool{}
	for d := int64(-3); d <= 3; d++ {
		c := codeAt(t, secret, testStep+d)
		if seen[c] {
			t.Fatalf("test setup: code collision at step %+d", d)
		}
		seen[c] = true
		codes[d] = c
	}
	return codes
}

func TestSkew(t *testing.T) {
	codes := distinctCodes(t, rfcSecret)
	for _, offset := range []int64{0, 1, 29} { // anywhere inside the current step
		now := time.Unix(testStep*Period+offset, 0)
		for d := int64(-3); d <= 3; d++ {
			step, ok := Verify(rfcSecret, codes[d], now, 0)
			want := d >= -1 && d <= 1
			if ok != want {
				t.Errorf("offset %ds, code of step %+d: ok = %v, want %v", offset, d, ok, want)
			}
			if ok && step != testStep+d {
				t.Errorf("code of step %+d: matched step %d, want %d", d, step, testStep+d)
			}
		}
	}
}

func TestReplay(t *testing.T) {
	codes := distinctCodes(t, rfcSecret)
	now := time.Unix(testStep*Period+10, 0)

	step, ok := Verify(rfcSecret, codes[0], now, 0)
	if !ok || step != testStep {
		t.Fatalf("first use: %d, %v", step, ok)
	}
	last := step
	// Same code again, also a few seconds later in the same step or the next.
	for _, later := range []time.Duration{0, 5 * time.Second, 30 * time.Second} {
		if _, ok := Verify(rfcSecret, codes[0], now.Add(later), last); ok {
			t.Errorf("replay %v later accepted", later)
		}
	}
	// The previous step's code is refused once a later step was used.
	if _, ok := Verify(rfcSecret, codes[-1], now, last); ok {
		t.Error("code of an earlier step accepted after a later one")
	}
	// The next step's code is fine.
	step, ok = Verify(rfcSecret, codes[1], now, last)
	if !ok || step != testStep+1 {
		t.Fatalf("next step: %d, %v", step, ok)
	}
	last = step
	// After a future code was used, the current step's code is spent too.
	if _, ok := Verify(rfcSecret, codes[0], now, last); ok {
		t.Error("current code accepted after the next step's code")
	}
	if _, ok := Verify(rfcSecret, codes[1], now.Add(Period*time.Second), last); ok {
		t.Error("next-step code replayed in its own step")
	}
	// lastStep before the window changes nothing.
	if _, ok := Verify(rfcSecret, codes[-1], now, testStep-2); !ok {
		t.Error("code refused with an old lastStep")
	}
}

func TestIndependentCode(t *testing.T) {
	k, err := Generate("alice")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	code, err := pqtotp.GenerateCode(k.Secret, now)
	if err != nil {
		t.Fatal(err)
	}
	step, ok := Verify(k.Secret, code, now, 0)
	if !ok || step != Step(now) {
		t.Errorf("Verify(pquerna code) = %d, %v; want %d, true", step, ok, Step(now))
	}
	if !pqtotp.Validate(code, k.Secret) {
		t.Error("pquerna's own Validate disagrees")
	}
}

func TestMalformedCodes(t *testing.T) {
	good := codeAt(t, rfcSecret, testStep)
	now := time.Unix(testStep*Period, 0)
	if _, ok := Verify(rfcSecret, good, now, 0); !ok {
		t.Fatal("setup: good code refused")
	}
	for _, c := range []string{
		" " + good, good + " ", "\t" + good + "\r\n",
	} {
		if _, ok := Verify(rfcSecret, c, now, 0); !ok {
			t.Errorf("%q refused", c)
		}
	}
	for _, c := range []string{
		"", " ", good[:5], good + "0", "0" + good, good[:3] + " " + good[3:],
		good[:3] + "-" + good[3:], "+" + good[1:], "-" + good[1:], good[:5] + "a",
		"abcdef", "12345\x00", good + "\x00", "１２３４５６", good[:5] + "٣",
		"0x" + good[2:], "1e5000",
	} {
		if _, ok := Verify(rfcSecret, c, now, 0); ok {
			t.Errorf("malformed code %q accepted", c)
		}
	}
}

func TestBadSecrets(t *testing.T) {
	now := time.Unix(testStep*Period, 0)
	// An empty secret is a valid HMAC key; make sure it never verifies.
	emptyCode, err := pqtotp.GenerateCode("", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Verify("", emptyCode, now, 0); ok {
		t.Error("empty secret verified")
	}
	short := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("0123456789"))
	if _, ok := Verify(short, codeAt(t, short, testStep), now, 0); ok {
		t.Error("80-bit secret verified")
	}
	if _, ok := Verify("not base32!", "123456", now, 0); ok {
		t.Error("non-base32 secret verified")
	}
	// Padded secrets are accepted (pquerna reads them too).
	padded := base32.StdEncoding.EncodeToString([]byte("0123456789abcdefghijk")) // 21 bytes → padding
	if !strings.Contains(padded, "=") {
		t.Fatal("setup: no padding")
	}
	if _, ok := Verify(padded, codeAt(t, padded, testStep), now, 0); !ok {
		t.Error("padded secret refused")
	}
}

func TestStep(t *testing.T) {
	for _, c := range []struct {
		unix, step int64
	}{
		{0, 0}, {29, 0}, {30, 1}, {59, 1}, {60, 2}, {-1, -1}, {-30, -1}, {-31, -2},
	} {
		if got := Step(time.Unix(c.unix, 0)); got != c.step {
			t.Errorf("Step(%d) = %d, want %d", c.unix, got, c.step)
		}
	}
	// Sub-second parts and time zones do not matter.
	at := time.Date(2025, 1, 1, 0, 0, 29, 999_999_999, time.FixedZone("x", 3600))
	if Step(at) != at.Unix()/30 {
		t.Error("Step depends on nanoseconds or zone")
	}
}

func TestGenerate(t *testing.T) {
	k, err := Generate("alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Secret) != 32 || strings.Contains(k.Secret, "=") {
		t.Errorf("secret %q: want 32 base32 characters without padding", k.Secret)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(k.Secret)
	if err != nil || len(raw) != SecretSize {
		t.Errorf("secret decodes to %d bytes (%v), want %d", len(raw), err, SecretSize)
	}

	u, err := url.Parse(k.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/fleetgate:alice" {
		t.Errorf("URL %s: scheme %q host %q path %q", k.URL, u.Scheme, u.Host, u.Path)
	}
	q := u.Query()
	want := map[string]string{
		"secret": k.Secret, "issuer": "fleetgate", "algorithm": "SHA1", "digits": "6", "period": "30",
	}
	for name, v := range want {
		if got := q.Get(name); got != v {
			t.Errorf("URL parameter %s = %q, want %q", name, got, v)
		}
	}
	if len(q) != len(want) {
		t.Errorf("URL has parameters %v", q)
	}
	// What an authenticator app would read through pquerna's parser.
	pk, err := otp.NewKeyFromURL(k.URL)
	if err != nil {
		t.Fatal(err)
	}
	if pk.Issuer() != "fleetgate" || pk.AccountName() != "alice" || pk.Secret() != k.Secret ||
		pk.Period() != 30 || pk.Digits() != otp.DigitsSix || pk.Algorithm() != otp.AlgorithmSHA1 {
		t.Errorf("parsed key: issuer %q account %q period %d digits %v algorithm %v",
			pk.Issuer(), pk.AccountName(), pk.Period(), pk.Digits(), pk.Algorithm())
	}

	k2, err := Generate("alice")
	if err != nil {
		t.Fatal(err)
	}
	if k2.Secret == k.Secret {
		t.Error("two keys share a secret")
	}

	for _, bad := range []string{"", "  ", "a:b"} {
		if _, err := Generate(bad); err == nil {
			t.Errorf("Generate(%q) succeeded", bad)
		}
	}
}

func decodeQR(t *testing.T, dataURL string) string {
	t.Helper()
	text, b := qrtest.Decode(t, dataURL)
	if b.Dx() != QRCodeSize || b.Dy() != QRCodeSize {
		t.Errorf("image is %dx%d, want %dx%d", b.Dx(), b.Dy(), QRCodeSize, QRCodeSize)
	}
	return text
}

func TestQRCodePNG(t *testing.T) {
	for _, name := range []string{"alice", "a_very_long_username_of_32_chars"} {
		k, err := Generate(name)
		if err != nil {
			t.Fatal(err)
		}
		dataURL, err := QRCodePNG(k.URL)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeQR(t, dataURL); got != k.URL {
			t.Errorf("QR code holds %q, want %q", got, k.URL)
		}
	}
	if _, err := QRCodePNG(""); err == nil {
		t.Error("empty URL rendered")
	}
}

func FuzzVerifyCode(f *testing.F) {
	now := time.Unix(testStep*Period+7, 0)
	for _, s := range []string{"", "123456", " 123456 ", "12345", "１２３４５６", "12 456", "-12345", "\x00"} {
		f.Add(s)
	}
	for d := int64(-1); d <= 1; d++ {
		c, _ := pqtotp.GenerateCode(rfcSecret, time.Unix((testStep+d)*Period, 0))
		f.Add(c)
		f.Add("\t" + c + " ")
	}
	f.Fuzz(func(t *testing.T, code string) {
		parsed, okParse := parseCode(code)
		if okParse {
			if len(parsed) != 6 || strings.Trim(parsed, "0123456789") != "" {
				t.Fatalf("parseCode(%q) = %q", code, parsed)
			}
		}
		step, ok := Verify(rfcSecret, code, now, 0)
		if !ok {
			return
		}
		if !okParse {
			t.Fatalf("Verify accepted %q, which parseCode refuses", code)
		}
		if step < testStep-1 || step > testStep+1 {
			t.Fatalf("step %d outside the window", step)
		}
		want, _ := pqtotp.GenerateCode(rfcSecret, time.Unix(step*Period, 0))
		if parsed != want {
			t.Fatalf("accepted %q for step %d whose code is %s", code, step, want)
		}
		if _, again := Verify(rfcSecret, code, now, step); again {
			t.Fatalf("%q accepted twice", code)
		}
	})
}
