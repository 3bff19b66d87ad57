package secretbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func newBox(t testing.TB) *Box {
	t.Helper()
	b, err := New(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New accepted a %d-byte key", n)
		}
	}
	if _, err := New(make([]byte, 32)); err != nil {
		t.Errorf("New refused a 32-byte key: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	b := newBox(t)
	ad := []byte("totp:user:42")
	for _, pt := range [][]byte{nil, {}, []byte("x"), []byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"), bytes.Repeat([]byte{0xff}, 4096)} {
		sealed, err := b.Seal(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != len(pt)+overhead {
			t.Errorf("sealed length %d, want %d", len(sealed), len(pt)+overhead)
		}
		if sealed[0] != version1 {
			t.Errorf("version byte %d", sealed[0])
		}
		if len(pt) > 4 && bytes.Contains(sealed, pt) {
			t.Error("plaintext visible in sealed value")
		}
		got, err := b.Open(sealed, ad)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, pt) || got == nil {
			t.Errorf("Open = %q, want %q", got, pt)
		}
	}
	// nil and empty additional data are the same thing.
	sealed, _ := b.Seal([]byte("s"), nil)
	if _, err := b.Open(sealed, []byte{}); err != nil {
		t.Errorf("nil vs empty AD: %v", err)
	}
}

func TestFreshNonces(t *testing.T) {
	b := newBox(t)
	seen := map[string]bool{}
	for range 1000 {
		sealed, err := b.Seal([]byte("same"), []byte("ad"))
		if err != nil {
			t.Fatal(err)
		}
		nonce := string(sealed[1 : 1+nonceSize])
		if seen[nonce] {
			t.Fatal("nonce reused")
		}
		seen[nonce] = true
	}
}

func TestTamperEveryByte(t *testing.T) {
	b := newBox(t)
	ad := []byte("totp:user:42")
	sealed, err := b.Seal([]byte("a secret worth keeping"), ad)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			c := bytes.Clone(sealed)
			c[i] ^= mask
			if pt, err := b.Open(c, ad); err == nil {
				t.Fatalf("byte %d ^ %#x: opened to %q", i, mask, pt)
			}
		}
	}
	// Truncations and extensions.
	for n := range len(sealed) {
		if _, err := b.Open(sealed[:n], ad); err == nil {
			t.Fatalf("truncated to %d bytes: opened", n)
		}
	}
	if _, err := b.Open(append(bytes.Clone(sealed), 0), ad); err == nil {
		t.Fatal("extended value opened")
	}
}

func TestWrongAD(t *testing.T) {
	b := newBox(t)
	sealed, _ := b.Seal([]byte("secret"), []byte("totp:user:42"))
	for _, ad := range []string{"", "totp:user:43", "totp:user:4", "totp:user:420", "TOTP:user:42"} {
		if _, err := b.Open(sealed, []byte(ad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("AD %q: err = %v, want ErrInvalid", ad, err)
		}
	}
}

func TestWrongKey(t *testing.T) {
	b1, b2 := newBox(t), newBox(t)
	sealed, _ := b1.Seal([]byte("secret"), []byte("ad"))
	if _, err := b2.Open(sealed, []byte("ad")); !errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

func TestVersionByte(t *testing.T) {
	b := newBox(t)
	sealed, _ := b.Seal([]byte("secret"), []byte("ad"))
	for _, v := range []byte{0, 2, 0xff} {
		c := bytes.Clone(sealed)
		c[0] = v
		if _, err := b.Open(c, []byte("ad")); !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("version %d: err = %v, want ErrUnsupportedVersion", v, err)
		}
	}
	if _, err := b.Open(nil, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty: err = %v", err)
	}
	if _, err := b.Open([]byte{version1, 1, 2, 3}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("short: err = %v", err)
	}
}

func TestParseKey(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(0xf0 + i) // gives '+' '/' in std and '-' '_' in URL base64
	}
	std := base64.StdEncoding.EncodeToString(key)
	if !strings.ContainsAny(std, "+/") || !strings.HasSuffix(std, "=") {
		t.Fatalf("test key does not exercise the alphabets: %s", std)
	}
	good := map[string]string{
		"std padded":        std,
		"std raw":           base64.RawStdEncoding.EncodeToString(key),
		"url padded":        base64.URLEncoding.EncodeToString(key),
		"url raw":           base64.RawURLEncoding.EncodeToString(key),
		"hex lower":         hex.EncodeToString(key),
		"hex upper":         strings.ToUpper(hex.EncodeToString(key)),
		"surrounding space": "  " + std + "\n",
	}
	for name, s := range good {
		got, err := ParseKey(s)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, key) {
			t.Errorf("%s: got %x", name, got)
		}
	}

	bad := map[string]string{
		"empty":          "",
		"spaces":         "   ",
		"short base64":   base64.StdEncoding.EncodeToString(key[:31]),
		"long base64":    base64.StdEncoding.EncodeToString(append(bytes.Clone(key), 0)),
		"16-byte key":    base64.StdEncoding.EncodeToString(key[:16]),
		"short hex":      hex.EncodeToString(key[:31]),
		"long hex":       hex.EncodeToString(append(bytes.Clone(key), 0)),
		"hex non-hex":    strings.Repeat("g", 64),
		"mixed alphabet": strings.Replace(base64.URLEncoding.EncodeToString(key), "-", "+", 1),
		"bad padding":    base64.RawStdEncoding.EncodeToString(key) + "==",
		"inner space":    std[:10] + " " + std[10:],
		"passphrase":     "correct horse battery staple",
	}
	for name, s := range bad {
		_, err := ParseKey(s)
		if err == nil {
			t.Errorf("%s: accepted %q", name, s)
			continue
		}
		if len(s) > 8 && strings.Contains(err.Error(), strings.TrimSpace(s)) {
			t.Errorf("%s: error echoes the key: %v", name, err)
		}
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nested", "deeper", "secret.key")

	k1, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != KeySize {
		t.Fatalf("key length %d", len(k1))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %o, want 600", perm)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("key directory mode %o, want 700", perm)
	}
	data, _ := os.ReadFile(path)
	if got, err := ParseKey(string(data)); err != nil || !bytes.Equal(got, k1) {
		t.Errorf("file content %q does not parse to the returned key (%v)", data, err)
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		t.Errorf("file content %q has no trailing newline", data)
	}

	k2, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Error("second call returned another key")
	}

	// No temporary files left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the key file", names)
	}
}

func TestLoadOrCreateKeyFileExisting(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)

	hexPath := filepath.Join(dir, "hex.key")
	if err := os.WriteFile(hexPath, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadOrCreateKeyFile(hexPath); err != nil || !bytes.Equal(got, key) {
		t.Errorf("hex key file: %x, %v", got, err)
	}

	badPath := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(badPath, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKeyFile(badPath); err == nil {
		t.Error("bad key file accepted")
	} else if !strings.Contains(err.Error(), badPath) {
		t.Errorf("error does not name the file: %v", err)
	}
	// A bad file is reported, never replaced.
	if data, _ := os.ReadFile(badPath); string(data) != "not a key\n" {
		t.Errorf("bad key file was rewritten: %q", data)
	}

	if _, err := LoadOrCreateKeyFile(dir); err == nil {
		t.Error("a directory was accepted as key file")
	}
}

func TestLoadOrCreateKeyFileConcurrent(t *testing.T) {
	for round := range 20 {
		path := filepath.Join(t.TempDir(), "k", "secret.key")
		const n = 16
		keys := make([][]byte, n)
		errs := make([]error, n)
		var start, done sync.WaitGroup
		start.Add(1)
		for i := range n {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				keys[i], errs[i] = LoadOrCreateKeyFile(path)
			}()
		}
		start.Done()
		done.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d, creator %d: %v", round, i, errs[i])
			}
			if !bytes.Equal(keys[i], keys[0]) {
				t.Fatalf("round %d: creators disagree on the key", round)
			}
		}
		onDisk, err := LoadOrCreateKeyFile(path)
		if err != nil || !bytes.Equal(onDisk, keys[0]) {
			t.Fatalf("round %d: file holds another key (%v)", round, err)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Fatalf("round %d: %d directory entries, want 1", round, len(entries))
		}
	}
}

func FuzzOpen(f *testing.F) {
	key := bytes.Repeat([]byte{7}, KeySize)
	b, err := New(key)
	if err != nil {
		f.Fatal(err)
	}
	sealed, _ := b.Seal([]byte("seed plaintext"), []byte("ad"))
	f.Add(sealed, []byte("ad"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{version1}, []byte("ad"))
	f.Add(make([]byte, overhead), []byte(nil))
	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		pt, err := b.Open(sealed, ad)
		if err != nil {
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupportedVersion) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// Only a genuine seal opens; re-sealing what opened must round-trip.
		if len(pt) != len(sealed)-overhead {
			t.Fatalf("plaintext length %d for %d sealed bytes", len(pt), len(sealed))
		}
		again, err := b.Seal(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := b.Open(again, ad); err != nil || !bytes.Equal(back, pt) {
			t.Fatalf("re-seal round trip failed: %v", err)
		}
	})
}
