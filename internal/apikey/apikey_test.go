package apikey

import (
	"bytes"
	"errors"
	"hash/crc32"
	"math/big"
	"strings"
	"testing"
)

// refDecode decodes a base62 string with math/big, independently of encode.
func refDecode(t testing.TB, s string) *big.Int {
	t.Helper()
	n := new(big.Int)
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(alphabet, s[i])
		if d < 0 {
			t.Fatalf("non-base62 char %q in %q", s[i], s)
		}
		n.Mul(n, big.NewInt(62))
		n.Add(n, big.NewInt(int64(d)))
	}
	return n
}

func mustGenerate(t testing.TB) string {
	t.Helper()
	k, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestConstants(t *testing.T) {
	if Length != 53 {
		t.Fatalf("Length = %d, want 53", Length)
	}
	if alphabet != "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" || len(alphabet) != 62 {
		t.Fatal("bad alphabet")
	}
	// The fixed widths must be wide enough.
	max256 := new(big.Int).Lsh(big.NewInt(1), 256)
	if new(big.Int).Exp(big.NewInt(62), big.NewInt(randLen), nil).Cmp(max256) <= 0 {
		t.Fatal("62^43 <= 2^256")
	}
	if new(big.Int).Exp(big.NewInt(62), big.NewInt(sumLen), nil).Cmp(big.NewInt(1<<32)) <= 0 {
		t.Fatal("62^6 <= 2^32")
	}
}

func TestGenerateShape(t *testing.T) {
	for range 100 {
		k := mustGenerate(t)
		if len(k) != Length {
			t.Fatalf("len(%q) = %d", k, len(k))
		}
		if !strings.HasPrefix(k, Prefix) || !LooksLikeKey(k) {
			t.Fatalf("%q lacks prefix", k)
		}
		for i := len(Prefix); i < len(k); i++ {
			if !strings.ContainsRune(alphabet, rune(k[i])) {
				t.Fatalf("%q: non-base62 char at %d", k, i)
			}
		}
		if err := Parse(k); err != nil {
			t.Fatalf("Parse(%q) = %v", k, err)
		}
		// Checksum is the CRC-32 of the random part, as documented.
		body, sum := k[4:47], k[47:]
		if got := refDecode(t, sum).Uint64(); got != uint64(crc32.ChecksumIEEE([]byte(body))) {
			t.Fatalf("%q: checksum %d != crc32 %d", k, got, crc32.ChecksumIEEE([]byte(body)))
		}
		if refDecode(t, body).BitLen() > 256 {
			t.Fatalf("%q: random part exceeds 256 bits", k)
		}
	}
}

func TestEncodeKnownValues(t *testing.T) {
	var zero [randBytes]byte
	k := encode(&zero)
	if want := Prefix + strings.Repeat("0", randLen); k[:47] != want {
		t.Fatalf("zero bytes: %q", k)
	}
	if err := Parse(k); err != nil {
		t.Fatal(err)
	}

	// Random-ish and extreme values round trip through an independent decoder.
	var vals [][randBytes]byte
	var ones, one, pattern [randBytes]byte
	for i := range ones {
		ones[i] = 0xff
		pattern[i] = byte(i*37 + 11)
	}
	one[randBytes-1] = 1
	vals = append(vals, ones, one, pattern)
	for _, v := range vals {
		k := encode(&v)
		if err := Parse(k); err != nil {
			t.Fatalf("Parse(%q) = %v", k, err)
		}
		got := refDecode(t, k[4:47])
		if want := new(big.Int).SetBytes(v[:]); got.Cmp(want) != 0 {
			t.Fatalf("%x encoded as %q, decodes to %x", v, k, got)
		}
	}
}

func TestChecksumMatchesStdlib(t *testing.T) {
	for _, s := range []string{"", "a", "hello, world", strings.Repeat("Zz9", 50)} {
		if got, want := checksum(s), crc32.ChecksumIEEE([]byte(s)); got != want {
			t.Fatalf("checksum(%q) = %08x, want %08x", s, got, want)
		}
	}
}

func TestDistinct(t *testing.T) {
	seen := make(map[string]bool, 1000)
	hashes := make(map[string]bool, 1000)
	for range 1000 {
		k := mustGenerate(t)
		if seen[k] {
			t.Fatalf("duplicate key %q", k)
		}
		seen[k] = true
		h := string(Hash(k))
		if hashes[h] {
			t.Fatalf("duplicate hash for %q", k)
		}
		hashes[h] = true
	}
}

// TestSingleCharChange changes every position of a few keys to every other
// base62 character and checks that Parse refuses each result.
func TestSingleCharChange(t *testing.T) {
	keys := []string{mustGenerate(t), mustGenerate(t), mustGenerate(t)}
	var zero [randBytes]byte
	keys = append(keys, encode(&zero))
	for _, k := range keys {
		b := []byte(k)
		for i := range b {
			orig := b[i]
			for j := 0; j < len(alphabet); j++ {
				c := alphabet[j]
				if c == orig {
					continue
				}
				b[i] = c
				err := Parse(string(b))
				if err == nil {
					t.Fatalf("Parse accepted %q (key %q, pos %d -> %q)", b, k, i, c)
				}
				wantErr := ErrChecksum
				if i < len(Prefix) {
					wantErr = ErrMalformed
				}
				if !errors.Is(err, wantErr) {
					t.Fatalf("pos %d -> %q: err = %v, want %v", i, c, err, wantErr)
				}
			}
			b[i] = orig
		}
	}
}

func TestParseRejects(t *testing.T) {
	k := mustGenerate(t)
	cases := map[string]string{
		"empty":            "",
		"prefix only":      Prefix,
		"short":            k[:Length-1],
		"long":             k + "0",
		"long valid-ish":   k + k,
		"wrong prefix":     "fgx_" + k[4:],
		"upper prefix":     "FGK_" + k[4:],
		"no prefix":        k[4:] + "0000",
		"ghp prefix":       "ghp_" + k[4:],
		"dash":             k[:10] + "-" + k[11:],
		"underscore":       k[:10] + "_" + k[11:],
		"space":            k[:10] + " " + k[11:],
		"nul":              k[:10] + "\x00" + k[11:],
		"high byte":        k[:10] + "\xff" + k[11:],
		"unicode same len": k[:10] + "é" + k[12:],
		"unicode in sum":   k[:50] + "é" + k[52:],
		"trailing newline": k[:Length-1] + "\n",
		"leading space":    " " + k[:Length-1],
	}
	for name, s := range cases {
		err := Parse(s)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Parse(%q) = %v, want ErrMalformed", name, s, err)
		}
	}
	// Correct shape, wrong checksum.
	bad := k[:47] + "000000"
	if k[47:] == "000000" {
		bad = k[:47] + "000001"
	}
	if err := Parse(bad); !errors.Is(err, ErrChecksum) {
		t.Errorf("Parse(%q) = %v, want ErrChecksum", bad, err)
	}
	// Checksum value larger than 2^32 is also a checksum mismatch.
	if err := Parse(k[:47] + "zzzzzz"); !errors.Is(err, ErrChecksum) {
		t.Errorf("oversized checksum: %v", err)
	}
}

func TestLooksLikeKey(t *testing.T) {
	for s, want := range map[string]bool{
		"":                         false,
		"fgk":                      false,
		"fgk_":                     true,
		"fgk_anything":             true,
		"FGK_x":                    false,
		"eyJhbGciOiJIUzI1NiJ9.e.s": false,
		mustGenerate(t):            true,
	} {
		if got := LooksLikeKey(s); got != want {
			t.Errorf("LooksLikeKey(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestHash(t *testing.T) {
	a, b := mustGenerate(t), mustGenerate(t)
	ha, hb := Hash(a), Hash(b)
	if len(ha) != 32 || len(hb) != 32 {
		t.Fatalf("hash lengths %d, %d", len(ha), len(hb))
	}
	if bytes.Equal(ha, hb) {
		t.Fatal("different keys, same hash")
	}
	if !bytes.Equal(ha, Hash(a)) {
		t.Fatal("Hash not deterministic")
	}
	// Known SHA-256 vector.
	if got := Hash("abc"); got[0] != 0xba || got[31] != 0xad {
		t.Fatalf("Hash(abc) = %x", got)
	}
}

func TestDisplayPrefix(t *testing.T) {
	k := mustGenerate(t)
	p := DisplayPrefix(k)
	if len(p) != 12 || p != k[:12] || !strings.HasPrefix(p, Prefix) {
		t.Fatalf("DisplayPrefix(%q) = %q", k, p)
	}
	if got := DisplayPrefix("fgk_ab"); got != "fgk_ab" {
		t.Fatalf("short: %q", got)
	}
	if got := DisplayPrefix(""); got != "" {
		t.Fatalf("empty: %q", got)
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	k := mustGenerate(t)
	bad := k[:47] + "000000"
	allocs := testing.AllocsPerRun(100, func() {
		_ = Parse(k)
		_ = Parse(bad)
		_ = Parse("short")
	})
	if allocs != 0 {
		t.Fatalf("Parse allocates %v times", allocs)
	}
}

func FuzzParse(f *testing.F) {
	var zero [randBytes]byte
	f.Add(encode(&zero))
	for range 4 {
		f.Add(mustGenerate(f))
	}
	f.Add("")
	f.Add(Prefix)
	f.Add("fgk_" + strings.Repeat("z", 49))
	f.Add("ghp_" + strings.Repeat("0", 49))
	f.Add("fgk_" + strings.Repeat("é", 25))
	f.Fuzz(func(t *testing.T, s string) {
		err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrChecksum) {
				t.Fatalf("unexpected error %v", err)
			}
			if errors.Is(err, ErrChecksum) && (len(s) != Length || !LooksLikeKey(s)) {
				t.Fatalf("ErrChecksum for wrong shape %q", s)
			}
			return
		}
		if len(s) != Length || !strings.HasPrefix(s, Prefix) || !LooksLikeKey(s) {
			t.Fatalf("parsed %q of wrong shape", s)
		}
		for i := len(Prefix); i < len(s); i++ {
			if !strings.ContainsRune(alphabet, rune(s[i])) {
				t.Fatalf("parsed %q with non-base62 char at %d", s, i)
			}
		}
		// Re-encode the checksum independently and compare.
		body := s[len(Prefix) : len(Prefix)+randLen]
		sum := crc32.ChecksumIEEE([]byte(body))
		enc := new(big.Int).SetUint64(uint64(sum)).Text(62) // alphabet 0-9a-zA-Z
		enc = swapCase(enc)
		enc = strings.Repeat("0", sumLen-len(enc)) + enc
		if enc != s[len(Prefix)+randLen:] {
			t.Fatalf("parsed %q but checksum re-encodes to %q", s, enc)
		}
		if len(DisplayPrefix(s)) != 12 || len(Hash(s)) != 32 {
			t.Fatal("DisplayPrefix/Hash on valid key")
		}
	})
}

// swapCase converts math/big's base62 alphabet (0-9a-zA-Z) to ours (0-9A-Za-z).
func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, s)
}

func BenchmarkParse(b *testing.B) {
	k := mustGenerate(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := Parse(k); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(); err != nil {
			b.Fatal(err)
		}
	}
}
