// Package password hashes passwords with argon2id and enforces fleetgate's
// password policy.
//
// Argon2id is memory-hard, so guessing stolen hashes on GPUs is costly; it is
// OWASP's first choice for password storage. Hashes are stored as PHC strings
// that carry their own parameters, so the cost can be raised later without
// breaking old hashes (NeedsRehash tells when to upgrade one at login).
// Because each hash needs ~19 MiB and tens of milliseconds of CPU, a Hasher
// bounds how many run at once so a burst of logins cannot exhaust the server.
//
// The policy (Validate) follows NIST SP 800-63B: a length range, no
// composition rules, and a refusal of common passwords and of passwords built
// from the account's own username or email address.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters and output sizes.
type Params struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32
	Threads   uint8
	SaltLen   uint32 // bytes
	KeyLen    uint32 // bytes
}

// Production returns OWASP's minimum argon2id configuration
// (m=19 MiB, t=2, p=1) with a 16-byte salt and a 32-byte key.
func Production() Params {
	return Params{Time: 2, MemoryKiB: 19456, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Limits on parameters, enforced on Hasher creation and on every stored hash
// so that a tampered database row cannot make Verify burn memory or CPU.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 10
	maxThreads   = 16
	minSaltLen   = 8 // RFC 9106's minimum
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// Check reports parameters outside the limits above.
func (p Params) Check() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time %d outside 1..%d", p.Time, maxTime)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("threads %d outside 1..%d", p.Threads, maxThreads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("memory %d KiB outside %d..%d", p.MemoryKiB, 8*uint32(p.Threads), maxMemoryKiB)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d outside %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d outside %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// owaspMinimumMemoryKiB is, by passes over memory, the least memory of
// OWASP's argon2id configurations (Password Storage Cheat Sheet, p=1);
// five passes or more need the last.
var owaspMinimumMemoryKiB = []uint32{1: 47104, 2: 19456, 3: 12288, 4: 9216, 5: 7168}

// CheckStrength refuses parameters weaker than every OWASP configuration
// with as many passes, for an operator's choice of cost (README
// "Configuration"); tests hash more cheaply.
func (p Params) CheckStrength() error {
	if err := p.Check(); err != nil {
		return err
	}
	least := owaspMinimumMemoryKiB[min(int(p.Time), len(owaspMinimumMemoryKiB)-1)]
	if p.MemoryKiB < least {
		return fmt.Errorf("%d KiB with %d passes is weaker than OWASP's minimum (%d KiB for %d passes)", p.MemoryKiB, p.Time, least, p.Time)
	}
	return nil
}

// Hasher hashes and verifies passwords. It is safe for concurrent use.
type Hasher struct {
	params Params
	// slots is a semaphore: one element per hash in progress.
	slots chan struct{}
	// dummySalt stands in for a missing hash, so that Verify costs the same
	// whether or not the account has a password.
	dummySalt []byte
	// inHash, if set, runs while a hash holds its slot (tests only).
	inHash func()
}

// NewHasher returns a Hasher that makes new hashes with p and runs at most
// maxConcurrent hashes at once (runtime.GOMAXPROCS(0) if maxConcurrent <= 0).
// It panics if p is outside the limits Verify accepts, since hashes made with
// such parameters could never be verified.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	if err := p.Check(); err != nil {
		panic("password: bad params: " + err.Error())
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	return &Hasher{
		params:    p,
		slots:     make(chan struct{}, maxConcurrent),
		dummySalt: make([]byte, p.SaltLen),
	}
}

// Hash returns a PHC string for password with a fresh random salt, e.g.
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>. It returns ctx.Err() if ctx
// ends while waiting for a free slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt) // never fails: since Go 1.24 it crashes the program instead
	key, err := h.derive(ctx, password, salt, h.params)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.MemoryKiB, h.params.Time, h.params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded, using the parameters
// stored in encoded. If encoded is empty (unknown user, or no password set),
// it still spends one hash and returns false, so response times do not reveal
// which accounts exist. A malformed encoded string is an error.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	if encoded == "" {
		_, err := h.derive(ctx, password, h.dummySalt, h.params)
		return false, err
	}
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got, err := h.derive(ctx, password, salt, p)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than
// h's (or cannot be read), so that it should be replaced by a new hash after
// the next successful login.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	return err != nil || p != h.params
}

// derive runs argon2id once a slot is free.
func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Params) ([]byte, error) {
	// Checked first because select picks at random when both cases are ready.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.slots }()
	if h.inHash != nil {
		h.inHash()
	}
	return argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen), nil
}

// b64 is the PHC format's base64: standard alphabet, no padding. Strict
// refuses non-canonical encodings, so each hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

var errMalformed = errors.New("password: malformed argon2id hash")

// decode parses $argon2id$v=19$m=M,t=T,p=P$salt$key.
func decode(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" ||
		parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, errMalformed
	}
	m, t, threads, ok := parseCosts(parts[3])
	if !ok {
		return Params{}, nil, nil, errMalformed
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return Params{}, nil, nil, errMalformed
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return Params{}, nil, nil, errMalformed
	}
	p = Params{Time: t, MemoryKiB: m, Threads: threads, SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if err := p.Check(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return p, salt, key, nil
}

// parseCosts parses "m=M,t=T,p=P" in that order. Range checks are left to
// Params.check; the bit sizes here only keep the conversions exact.
func parseCosts(s string) (m, t uint32, p uint8, ok bool) {
	ms, rest, ok1 := strings.Cut(s, ",")
	ts, ps, ok2 := strings.Cut(rest, ",")
	mv, err1 := parseField(ms, "m=", 32)
	tv, err2 := parseField(ts, "t=", 32)
	pv, err3 := parseField(ps, "p=", 8)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, false
	}
	return uint32(mv), uint32(tv), uint8(pv), true
}

func parseField(s, prefix string, bits int) (uint64, error) {
	v, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, errMalformed
	}
	return strconv.ParseUint(v, 10, bits)
}
