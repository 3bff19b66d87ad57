package apikey

import (
	"bytes"
	"errors"
	"hash/crc32"
	"math/big"
	"strings"
	"testing"
)

// kindCase describes one API surface under test: the User and Provisioning
// kinds through their methods, and the package-level functions, which must
// behave exactly like User.
type kindCase struct {
	name        string
	kind        Kind
	prefix      string // expected prefix
	otherPrefix string // the other kind's prefix
	other       Kind   // the other kind
	generate    func() (string, error)
	parse       func(string) error
	matches     func(string) bool
	// sumInput returns the documented CRC-32 input of a well-formed key,
	// independently of the implementation.
	sumInput func(key string) string
}

func userSumInput(key string) string { return key[4:47] }
func provSumInput(key string) string { return key[:47] }

var kindCases = []kindCase{
	{
		name: "User", kind: User, prefix: "fgk_", otherPrefix: "fgp_", other: Provisioning,
		generate: User.Generate, parse: User.Parse, matches: User.Matches, sumInput: userSumInput,
	},
	{
		name: "package", kind: User, prefix: "fgk_", otherPrefix: "fgp_", other: Provisioning,
		generate: Generate, parse: Parse, matches: LooksLikeKey, sumInput: userSumInput,
	},
	{
		name: "Provisioning", kind: Provisioning, prefix: "fgp_", otherPrefix: "fgk_", other: User,
		generate: Provisioning.Generate, parse: Provisioning.Parse, matches: Provisioning.Matches, sumInput: provSumInput,
	},
}

// forKinds runs f as a subtest for every kindCase.
func forKinds(t *testing.T, f func(t *testing.T, kc kindCase)) {
	for _, kc := range kindCases {
		t.Run(kc.name, func(t *testing.T) { f(t, kc) })
	}
}

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

// refChecksum encodes crc32.ChecksumIEEE(in) as 6 base62 digits with
// math/big, independently of putChecksum.
func refChecksum(in string) string {
	enc := new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(in)))).Text(62) // alphabet 0-9a-zA-Z
	enc = swapCase(enc)
	return strings.Repeat("0", sumLen-len(enc)) + enc
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

func mustGen(t testing.TB, gen func() (string, error)) string {
	t.Helper()
	k, err := gen()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustGenerate(t testing.TB) string {
	t.Helper()
	return mustGen(t, Generate)
}

// extremes returns some fixed random parts: zero, one, all ones, a pattern.
func extremes() [][randBytes]byte {
	var zero, ones, one, pattern [randBytes]byte
	for i := range ones {
		ones[i] = 0xff
		pattern[i] = byte(i*37 + 11)
	}
	one[randBytes-1] = 1
	return [][randBytes]byte{zero, one, ones, pattern}
}

// sampleKeys returns a few generated keys and the extreme keys of kc.
func sampleKeys(t testing.TB, kc kindCase) []string {
	t.Helper()
	keys := []string{mustGen(t, kc.generate), mustGen(t, kc.generate), mustGen(t, kc.generate)}
	for _, raw := range extremes() {
		keys = append(keys, kc.kind.encode(&raw))
	}
	return keys
}

// swapPrefix replaces the first 4 bytes of key with p.
func swapPrefix(key, p string) string { return p + key[4:] }

func TestConstants(t *testing.T) {
	if Length != 53 {
		t.Fatalf("Length = %d, want 53", Length)
	}
	if Prefix != "fgk_" || prefixLen != 4 {
		t.Fatalf("Prefix = %q, prefixLen = %d", Prefix, prefixLen)
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

func TestKinds(t *testing.T) {
	if got := User.Prefix(); got != "fgk_" || Prefix != "fgk_" {
		t.Errorf("User.Prefix() = %q", got)
	}
	if got := Provisioning.Prefix(); got != "fgp_" {
		t.Errorf("Provisioning.Prefix() = %q", got)
	}
	if User == Provisioning || User == (Kind{}) || Provisioning == (Kind{}) {
		t.Error("kinds compare equal")
	}
	if User.sumPrefix || !Provisioning.sumPrefix {
		t.Error("checksum coverage: user must cover the random part only, provisioning the prefix too")
	}
	for _, k := range []Kind{User, Provisioning} {
		if len(k.Prefix()) != prefixLen || !k.valid() {
			t.Errorf("kind %q: bad prefix length", k.Prefix())
		}
	}
}

func TestZeroKind(t *testing.T) {
	var z Kind
	if k, err := z.Generate(); err == nil || k != "" {
		t.Fatalf("zero Kind Generate() = %q, %v", k, err)
	}
	if z.Prefix() != "" {
		t.Fatalf("zero Kind Prefix() = %q", z.Prefix())
	}
	inputs := []string{"", "fgk_", "fgp_", "x", mustGenerate(t), mustGen(t, Provisioning.Generate)}
	for _, s := range inputs {
		if z.Matches(s) {
			t.Errorf("zero Kind matches %q", s)
		}
		if err := z.Parse(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("zero Kind Parse(%q) = %v, want ErrMalformed", s, err)
		}
	}
}

func TestGenerateShape(t *testing.T) {
	forKinds(t, func(t *testing.T, kc kindCase) {
		for range 100 {
			k := mustGen(t, kc.generate)
			if len(k) != Length {
				t.Fatalf("len(%q) = %d", k, len(k))
			}
			if !strings.HasPrefix(k, kc.prefix) || !kc.matches(k) || kc.other.Matches(k) {
				t.Fatalf("%q: wrong prefix routing", k)
			}
			for i := len(kc.prefix); i < len(k); i++ {
				if !strings.ContainsRune(alphabet, rune(k[i])) {
					t.Fatalf("%q: non-base62 char at %d", k, i)
				}
			}
			if err := kc.parse(k); err != nil {
				t.Fatalf("Parse(%q) = %v", k, err)
			}
			if err := kc.other.Parse(k); !errors.Is(err, ErrMalformed) {
				t.Fatalf("other kind Parse(%q) = %v, want ErrMalformed", k, err)
			}
			// The checksum is the CRC-32 of the documented input.
			if want := refChecksum(kc.sumInput(k)); k[47:] != want {
				t.Fatalf("%q: checksum %q, want %q", k, k[47:], want)
			}
			if refDecode(t, k[4:47]).BitLen() > 256 {
				t.Fatalf("%q: random part exceeds 256 bits", k)
			}
		}
	})
}

// TestGolden pins the format: keys already issued must keep parsing, and
// encode must keep producing these exact strings. The values were checked
// against an independent implementation (Python zlib.crc32 and int base62).
func TestGolden(t *testing.T) {
	var zero, pattern [randBytes]byte
	for i := range pattern {
		pattern[i] = byte(i*37 + 11)
	}
	cases := []struct {
		kind      Kind
		raw       [randBytes]byte
		want      string
		parse     func(string) error
		otherKind Kind
	}{
		{User, zero, "fgk_00000000000000000000000000000000000000000002CZclj", Parse, Provisioning},
		{User, pattern, "fgk_2eUwG5VtttVn7JL0USGLl77WLbEz76RYn7kQpV8htm21Mrbqo", Parse, Provisioning},
		{Provisioning, zero, "fgp_00000000000000000000000000000000000000000003mjkky", Provisioning.Parse, User},
		{Provisioning, pattern, "fgp_2eUwG5VtttVn7JL0USGLl77WLbEz76RYn7kQpV8htm24cRmkz", Provisioning.Parse, User},
	}
	for _, c := range cases {
		if got := c.kind.encode(&c.raw); got != c.want {
			t.Errorf("encode(%x) = %q, want %q", c.raw, got, c.want)
		}
		if err := c.kind.Parse(c.want); err != nil {
			t.Errorf("%s.Parse(%q) = %v", c.kind.Prefix(), c.want, err)
		}
		if err := c.otherKind.Parse(swapPrefix(c.want, c.otherKind.Prefix())); !errors.Is(err, ErrChecksum) {
			t.Errorf("swapped %q: %v, want ErrChecksum", c.want, err)
		}
	}
	if got := encode(&zero); got != cases[0].want {
		t.Errorf("package encode(zero) = %q", got)
	}
	// A user key generated before provisioning keys were added.
	const issued = "fgk_EmB670wN3jt7Ebjg394Vo8ehf0tLJorXEyeIbn3H9DX1wh9Qv"
	if err := Parse(issued); err != nil {
		t.Errorf("Parse(issued key) = %v", err)
	}
	if err := User.Parse(issued); err != nil {
		t.Errorf("User.Parse(issued key) = %v", err)
	}
}

func TestEncodeKnownValues(t *testing.T) {
	forKinds(t, func(t *testing.T, kc kindCase) {
		var zero [randBytes]byte
		k := kc.kind.encode(&zero)
		if want := kc.prefix + strings.Repeat("0", randLen); k[:47] != want {
			t.Fatalf("zero bytes: %q", k)
		}
		// Extreme values round trip through an independent decoder.
		for _, v := range extremes() {
			k := kc.kind.encode(&v)
			if err := kc.parse(k); err != nil {
				t.Fatalf("Parse(%q) = %v", k, err)
			}
			if want := refChecksum(kc.sumInput(k)); k[47:] != want {
				t.Fatalf("%q: checksum %q, want %q", k, k[47:], want)
			}
			got := refDecode(t, k[4:47])
			if want := new(big.Int).SetBytes(v[:]); got.Cmp(want) != 0 {
				t.Fatalf("%x encoded as %q, decodes to %x", v, k, got)
			}
		}
	})
}

func TestChecksumMatchesStdlib(t *testing.T) {
	for _, s := range []string{"", "a", "hello, world", strings.Repeat("Zz9", 50)} {
		want := crc32.ChecksumIEEE([]byte(s))
		if got := checksum(s); got != want {
			t.Fatalf("checksum(%q) = %08x, want %08x", s, got, want)
		}
		if got := checksum([]byte(s)); got != want {
			t.Fatalf("checksum([]byte(%q)) = %08x, want %08x", s, got, want)
		}
	}
}

// TestCrossKindChecksumOffset checks the claim in the package doc: for
// every 43-byte random part R, CRC("fgp_"+R) XOR CRC(R) is one constant D,
// and D is not zero. The map R -> CRC("fgp_"+R) XOR CRC(R) is affine over
// GF(2) (each CRC is), so it is constant if it has the same value at one
// point and at that point with each single bit flipped; the test checks
// exactly that, which proves the claim for all R. Hence a valid key of
// one kind with its prefix swapped never has a valid checksum for the
// other kind.
func TestCrossKindChecksumOffset(t *testing.T) {
	crcOf := func(r []byte) (user, prov uint32) {
		return checksum(r), checksum(append([]byte(provisioningPrefix), r...))
	}
	base := make([]byte, randLen)
	u, p := crcOf(base)
	d := u ^ p
	if d == 0 {
		t.Fatal("D = 0: swapped-prefix keys would validate as the other kind")
	}
	for i := range randLen * 8 {
		r := bytes.Clone(base)
		r[i/8] ^= 1 << (i % 8)
		if u, p := crcOf(r); u^p != d {
			t.Fatalf("bit %d: offset %08x, want %08x", i, u^p, d)
		}
	}
	// And on real keys.
	for range 100 {
		k := mustGenerate(t)
		if u, p := crcOf([]byte(k[4:47])); u^p != d {
			t.Fatalf("%q: offset %08x, want %08x", k, u^p, d)
		}
	}
}

// TestSwappedPrefixRefused checks that a key of one kind with its prefix
// changed to the other kind's is refused by both kinds.
func TestSwappedPrefixRefused(t *testing.T) {
	forKinds(t, func(t *testing.T, kc kindCase) {
		for range 200 {
			k := mustGen(t, kc.generate)
			s := swapPrefix(k, kc.otherPrefix)
			if err := kc.other.Parse(s); !errors.Is(err, ErrChecksum) {
				t.Fatalf("other kind Parse(%q) (from %q) = %v, want ErrChecksum", s, k, err)
			}
			if err := kc.parse(s); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) = %v, want ErrMalformed", s, err)
			}
		}
		for _, k := range sampleKeys(t, kc) {
			s := swapPrefix(k, kc.otherPrefix)
			if err := kc.other.Parse(s); !errors.Is(err, ErrChecksum) {
				t.Fatalf("other kind Parse(%q) (from %q) = %v, want ErrChecksum", s, k, err)
			}
		}
	})
}

func TestDistinct(t *testing.T) {
	seen := make(map[string]bool, 3000)
	hashes := make(map[string]bool, 3000)
	forKinds(t, func(t *testing.T, kc kindCase) {
		for range 1000 {
			k := mustGen(t, kc.generate)
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
	})
}

// TestSingleCharChange changes every position of a few keys to every other
// base62 character and checks that Parse refuses each result.
func TestSingleCharChange(t *testing.T) {
	forKinds(t, func(t *testing.T, kc kindCase) {
		for _, k := range sampleKeys(t, kc) {
			b := []byte(k)
			for i := range b {
				orig := b[i]
				for j := 0; j < len(alphabet); j++ {
					c := alphabet[j]
					if c == orig {
						continue
					}
					b[i] = c
					err := kc.parse(string(b))
					if err == nil {
						t.Fatalf("Parse accepted %q (key %q, pos %d -> %q)", b, k, i, c)
					}
					wantErr := ErrChecksum
					if i < prefixLen {
						wantErr = ErrMalformed
					}
					if !errors.Is(err, wantErr) {
						t.Fatalf("pos %d -> %q: err = %v, want %v", i, c, err, wantErr)
					}
					// No single-character change turns it into the other kind.
					if kc.other.Parse(string(b)) == nil {
						t.Fatalf("other kind accepted %q (key %q)", b, k)
					}
				}
				b[i] = orig
			}
		}
	})
}

func TestParseRejects(t *testing.T) {
	forKinds(t, func(t *testing.T, kc kindCase) {
		k := mustGen(t, kc.generate)
		cases := map[string]string{
			"empty":              "",
			"prefix only":        kc.prefix,
			"short":              k[:Length-1],
			"long":               k + "0",
			"long valid-ish":     k + k,
			"wrong prefix":       "fgx_" + k[4:],
			"upper prefix":       strings.ToUpper(kc.prefix) + k[4:],
			"other kind prefix":  kc.otherPrefix + k[4:],
			"other prefix short": kc.otherPrefix + k[4:Length-1],
			"no prefix":          k[4:] + "0000",
			"ghp prefix":         "ghp_" + k[4:],
			"dash":               k[:10] + "-" + k[11:],
			"underscore":         k[:10] + "_" + k[11:],
			"space":              k[:10] + " " + k[11:],
			"nul":                k[:10] + "\x00" + k[11:],
			"high byte":          k[:10] + "\xff" + k[11:],
			"unicode same len":   k[:10] + "é" + k[12:],
			"unicode in sum":     k[:50] + "é" + k[52:],
			"trailing newline":   k[:Length-1] + "\n",
			"leading space":      " " + k[:Length-1],
		}
		for name, s := range cases {
			if err := kc.parse(s); !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: Parse(%q) = %v, want ErrMalformed", name, s, err)
			}
		}
		// Correct shape, wrong checksum.
		bad := k[:47] + "000000"
		if k[47:] == "000000" {
			bad = k[:47] + "000001"
		}
		if err := kc.parse(bad); !errors.Is(err, ErrChecksum) {
			t.Errorf("Parse(%q) = %v, want ErrChecksum", bad, err)
		}
		// Checksum value larger than 2^32 is also a checksum mismatch.
		if err := kc.parse(k[:47] + "zzzzzz"); !errors.Is(err, ErrChecksum) {
			t.Errorf("oversized checksum: %v", err)
		}
		// The other kind's checksum of the same random part.
		var sum [sumLen]byte
		putChecksum(sum[:], kc.other.checksum(kc.otherPrefix+k[4:47]))
		if err := kc.parse(k[:47] + string(sum[:])); !errors.Is(err, ErrChecksum) {
			t.Errorf("other kind's checksum: %v", err)
		}
	})
}

func TestMatches(t *testing.T) {
	user, prov := mustGenerate(t), mustGen(t, Provisioning.Generate)
	for _, c := range []struct {
		s          string
		user, prov bool
	}{
		{"", false, false},
		{"fgk", false, false},
		{"fgp", false, false},
		{"fgk_", true, false},
		{"fgp_", false, true},
		{"fgk_anything", true, false},
		{"fgp_anything", false, true},
		{"FGK_x", false, false},
		{"FGP_x", false, false},
		{"fg_k", false, false},
		{"eyJhbGciOiJIUzI1NiJ9.e.s", false, false},
		{user, true, false},
		{prov, false, true},
	} {
		if got := LooksLikeKey(c.s); got != c.user {
			t.Errorf("LooksLikeKey(%q) = %v, want %v", c.s, got, c.user)
		}
		if got := User.Matches(c.s); got != c.user {
			t.Errorf("User.Matches(%q) = %v, want %v", c.s, got, c.user)
		}
		if got := Provisioning.Matches(c.s); got != c.prov {
			t.Errorf("Provisioning.Matches(%q) = %v, want %v", c.s, got, c.prov)
		}
	}
}

// TestPackageFunctionsAreUser checks that the package-level functions agree
// with the User kind on keys of both kinds and on junk.
func TestPackageFunctionsAreUser(t *testing.T) {
	var inputs []string
	for _, kc := range kindCases {
		for _, k := range sampleKeys(t, kc) {
			inputs = append(inputs, k, swapPrefix(k, kc.otherPrefix), k[:47]+"000000", k[:30])
		}
	}
	inputs = append(inputs, "", "fgk_", "fgp_", "abc")
	for _, s := range inputs {
		if a, b := Parse(s), User.Parse(s); a != b {
			t.Errorf("Parse(%q) = %v, User.Parse = %v", s, a, b)
		}
		if a, b := LooksLikeKey(s), User.Matches(s); a != b {
			t.Errorf("LooksLikeKey(%q) = %v, User.Matches = %v", s, a, b)
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
	// Same random part, different kinds: different hashes.
	for _, raw := range extremes() {
		u, p := User.encode(&raw), Provisioning.encode(&raw)
		if bytes.Equal(Hash(u), Hash(p)) {
			t.Fatalf("Hash(%q) == Hash(%q)", u, p)
		}
	}
}

func TestDisplayPrefix(t *testing.T) {
	forKinds(t, func(t *testing.T, kc kindCase) {
		k := mustGen(t, kc.generate)
		p := DisplayPrefix(k)
		if len(p) != 12 || p != k[:12] || !strings.HasPrefix(p, kc.prefix) {
			t.Fatalf("DisplayPrefix(%q) = %q", k, p)
		}
	})
	if got := DisplayPrefix("fgk_ab"); got != "fgk_ab" {
		t.Fatalf("short: %q", got)
	}
	if got := DisplayPrefix(""); got != "" {
		t.Fatalf("empty: %q", got)
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	forKinds(t, func(t *testing.T, kc kindCase) {
		k := mustGen(t, kc.generate)
		bad := k[:47] + "000000"
		swapped := swapPrefix(k, kc.otherPrefix)
		allocs := testing.AllocsPerRun(100, func() {
			_ = kc.parse(k)
			_ = kc.parse(bad)
			_ = kc.parse("short")
			_ = kc.other.Parse(swapped)
			_ = kc.matches(k)
			_ = Kind{}.Parse(k)
		})
		if allocs != 0 {
			t.Fatalf("Parse allocates %v times", allocs)
		}
	})
}

// fuzzCheck checks the result of Parse(s) for kind kc against an
// independent reimplementation of the format, and that s is never a valid
// key of both kinds.
func fuzzCheck(t *testing.T, kc kindCase, s string) {
	err := kc.parse(s)
	otherErr := kc.other.Parse(s)
	if err == nil && otherErr == nil {
		t.Fatalf("%q is valid as both kinds", s)
	}
	if err != nil {
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrChecksum) {
			t.Fatalf("unexpected error %v", err)
		}
		if errors.Is(err, ErrChecksum) && (len(s) != Length || !kc.matches(s)) {
			t.Fatalf("ErrChecksum for wrong shape %q", s)
		}
		return
	}
	if len(s) != Length || !strings.HasPrefix(s, kc.prefix) || !kc.matches(s) || kc.other.Matches(s) {
		t.Fatalf("parsed %q of wrong shape", s)
	}
	for i := len(kc.prefix); i < len(s); i++ {
		if !strings.ContainsRune(alphabet, rune(s[i])) {
			t.Fatalf("parsed %q with non-base62 char at %d", s, i)
		}
	}
	// Re-encode the checksum independently and compare.
	if enc := refChecksum(kc.sumInput(s)); enc != s[len(kc.prefix)+randLen:] {
		t.Fatalf("parsed %q but checksum re-encodes to %q", s, enc)
	}
	// The same key with the other kind's prefix is never valid.
	if swapped := swapPrefix(s, kc.otherPrefix); kc.other.Parse(swapped) == nil {
		t.Fatalf("parsed %q and its swap %q", s, swapped)
	}
	if len(DisplayPrefix(s)) != 12 || len(Hash(s)) != 32 {
		t.Fatal("DisplayPrefix/Hash on valid key")
	}
}

func fuzzSeeds(f *testing.F, kc kindCase) {
	for _, k := range sampleKeys(f, kc) {
		f.Add(k)
		f.Add(swapPrefix(k, kc.otherPrefix))
	}
	f.Add("")
	f.Add(kc.prefix)
	f.Add(kc.prefix + strings.Repeat("z", 49))
	f.Add("ghp_" + strings.Repeat("0", 49))
	f.Add(kc.prefix + strings.Repeat("é", 25))
}

func FuzzParse(f *testing.F) {
	kc := kindCases[1] // package-level functions (the User kind)
	fuzzSeeds(f, kc)
	f.Fuzz(func(t *testing.T, s string) {
		fuzzCheck(t, kc, s)
		fuzzCheck(t, kindCases[0], s) // User methods
	})
}

func FuzzParseProvisioning(f *testing.F) {
	kc := kindCases[2]
	fuzzSeeds(f, kc)
	f.Fuzz(func(t *testing.T, s string) {
		fuzzCheck(t, kc, s)
	})
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

func BenchmarkParseProvisioning(b *testing.B) {
	k := mustGen(b, Provisioning.Generate)
	b.ReportAllocs()
	for b.Loop() {
		if err := Provisioning.Parse(k); err != nil {
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

func BenchmarkGenerateProvisioning(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Provisioning.Generate(); err != nil {
			b.Fatal(err)
		}
	}
}
