package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// cheap keeps tests fast; production cost is pinned by TestProductionParams.
var cheap = Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerifyRoundTrip(t *testing.T) {
	h := NewHasher(cheap, 0)
	ctx := t.Context()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected header: %s", enc)
	}
	if ok, err := h.Verify(ctx, "correct horse battery staple", enc); !ok || err != nil {
		t.Fatalf("Verify(right) = %v, %v; want true, nil", ok, err)
	}
	if ok, err := h.Verify(ctx, "correct horse battery stapler", enc); ok || err != nil {
		t.Fatalf("Verify(wrong) = %v, %v; want false, nil", ok, err)
	}
	// A hasher with other params still verifies old hashes from their header.
	other := NewHasher(Params{Time: 2, MemoryKiB: 128, Threads: 2, SaltLen: 8, KeyLen: 16}, 1)
	if ok, err := other.Verify(ctx, "correct horse battery staple", enc); !ok || err != nil {
		t.Fatalf("Verify with other params = %v, %v; want true, nil", ok, err)
	}
}

func TestHashesAreSalted(t *testing.T) {
	h := NewHasher(cheap, 0)
	a, err := h.Hash(t.Context(), "same password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(t.Context(), "same password")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two hashes of one password are equal: %s", a)
	}
}

func TestVerifyTamperedHash(t *testing.T) {
	h := NewHasher(cheap, 0)
	enc, err := h.Hash(t.Context(), "hunter2hunter2")
	if err != nil {
		t.Fatal(err)
	}
	_, salt, key, err := decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	key[0] ^= 1
	tampered := enc[:strings.LastIndexByte(enc, '$')+1] + b64.EncodeToString(key)
	if ok, err := h.Verify(t.Context(), "hunter2hunter2", tampered); ok || err != nil {
		t.Fatalf("Verify(tampered key) = %v, %v; want false, nil", ok, err)
	}
	salt[0] ^= 1
	tampered = "$argon2id$v=19$m=64,t=1,p=1$" + b64.EncodeToString(salt) + "$" + enc[strings.LastIndexByte(enc, '$')+1:]
	if ok, err := h.Verify(t.Context(), "hunter2hunter2", tampered); ok || err != nil {
		t.Fatalf("Verify(tampered salt) = %v, %v; want false, nil", ok, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	const salt = "c2FsdHNhbHRzYWx0c2FsdA"                     // 16 bytes
	const key = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U" // 32 bytes
	for name, enc := range map[string]string{
		"garbage":          "not a hash",
		"argon2i":          "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"old version":      "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":       "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"extra segment":    "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",
		"no leading $":     "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"costs reordered":  "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"cost missing":     "$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"cost not number":  "$argon2id$v=19$m=64,t=x,p=1$" + salt + "$" + key,
		"negative cost":    "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key,
		"cost overflow":    "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key,
		"zero time":        "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"zero threads":     "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"memory too small": "$argon2id$v=19$m=7,t=1,p=1$" + salt + "$" + key,
		"memory > 1 GiB":   "$argon2id$v=19$m=1048577,t=1,p=1$" + salt + "$" + key,
		"time > 10":        "$argon2id$v=19$m=64,t=11,p=1$" + salt + "$" + key,
		"threads > 16":     "$argon2id$v=19$m=512,t=1,p=17$" + salt + "$" + key,
		"padded base64":    "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"bad base64":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:len(key)-1] + "*",
		"salt too short":   "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key,
		"salt too long":    "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 88) + "$" + key,
		"key too short":    "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$a2V5",
		"key too long":     "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 88),
		"empty key":        "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
	} {
		t.Run(name, func(t *testing.T) {
			h := NewHasher(cheap, 0)
			h.inHash = func() { t.Error("hashed a malformed string") }
			if ok, err := h.Verify(t.Context(), "password", enc); ok || err == nil {
				t.Errorf("Verify(%q) = %v, %v; want false and an error", enc, ok, err)
			}
			if !h.NeedsRehash(enc) {
				t.Errorf("NeedsRehash(%q) = false; want true", enc)
			}
		})
	}
	// The well-formed baseline the cases above break must itself be accepted.
	if _, _, _, err := decode("$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key); err != nil {
		t.Fatalf("baseline rejected: %v", err)
	}
}

func TestVerifyEmptyStillHashes(t *testing.T) {
	h := NewHasher(cheap, 0)
	var hashes atomic.Int32
	h.inHash = func() { hashes.Add(1) }
	ok, err := h.Verify(t.Context(), "anything", "")
	if ok || err != nil {
		t.Fatalf("Verify(empty) = %v, %v; want false, nil", ok, err)
	}
	if n := hashes.Load(); n != 1 {
		t.Fatalf("Verify(empty) ran %d hashes; want 1", n)
	}
}

func TestNeedsRehash(t *testing.T) {
	h := NewHasher(cheap, 0)
	enc, err := h.Hash(t.Context(), "password123456")
	if err != nil {
		t.Fatal(err)
	}
	if h.NeedsRehash(enc) {
		t.Error("NeedsRehash of own hash = true")
	}
	for name, p := range map[string]Params{
		"time":    {Time: 2, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32},
		"memory":  {Time: 1, MemoryKiB: 128, Threads: 1, SaltLen: 16, KeyLen: 32},
		"threads": {Time: 1, MemoryKiB: 64, Threads: 2, SaltLen: 16, KeyLen: 32},
		"salt":    {Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 32, KeyLen: 32},
		"key":     {Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 64},
	} {
		if !NewHasher(p, 0).NeedsRehash(enc) {
			t.Errorf("NeedsRehash after changing %s = false", name)
		}
	}
	if !h.NeedsRehash("") {
		t.Error(`NeedsRehash("") = false`)
	}
}

func TestProductionParams(t *testing.T) {
	p := Production()
	if want := (Params{Time: 2, MemoryKiB: 19456, Threads: 1, SaltLen: 16, KeyLen: 32}); p != want {
		t.Fatalf("Production() = %+v; want %+v", p, want)
	}
	enc, err := NewHasher(p, 0).Hash(t.Context(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected header: %s", enc)
	}
}

func TestNewHasher(t *testing.T) {
	if got, want := cap(NewHasher(cheap, 0).slots), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("default concurrency = %d; want GOMAXPROCS %d", got, want)
	}
	if got := cap(NewHasher(cheap, 3).slots); got != 3 {
		t.Errorf("concurrency = %d; want 3", got)
	}
	for name, p := range map[string]Params{
		"zero":       {},
		"no threads": {Time: 1, MemoryKiB: 64, SaltLen: 16, KeyLen: 32},
		"short salt": {Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 4, KeyLen: 32},
		"huge key":   {Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 1024},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%+v) did not panic", p)
				}
			}()
			NewHasher(p, 1)
		})
	}
}

// TestConcurrencyBound counts hashes in flight from inside the critical
// section: with one slot, no two may ever overlap.
func TestConcurrencyBound(t *testing.T) {
	h := NewHasher(cheap, 1)
	var inFlight, peak atomic.Int32
	h.inHash = func() {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		runtime.Gosched() // give any other goroutine the chance to overlap
		inFlight.Add(-1)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := h.Hash(t.Context(), "password123456"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 1 {
		t.Fatalf("peak hashes in flight = %d; want 1", p)
	}
}

// TestConcurrencyAllowsSlots shows the semaphore admits maxConcurrent hashes
// together: each hook waits until all three are inside, which would deadlock
// if fewer were let in.
func TestConcurrencyAllowsSlots(t *testing.T) {
	const n = 3
	h := NewHasher(cheap, n)
	var inside sync.WaitGroup
	inside.Add(n)
	h.inHash = func() {
		inside.Done()
		inside.Wait()
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := h.Hash(t.Context(), "password123456"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestCancelWhileSlotHeld(t *testing.T) {
	h := NewHasher(cheap, 1)
	entered, release := make(chan struct{}), make(chan struct{})
	h.inHash = func() {
		close(entered)
		<-release
	}
	holder := make(chan error)
	go func() {
		_, err := h.Hash(context.Background(), "password123456")
		holder <- err
	}()
	<-entered
	// Cancelled waiters never get the slot, so the hook blocks only the holder.
	ctx, cancel := context.WithCancel(t.Context())
	waiting := make(chan error)
	go func() {
		_, err := h.Hash(ctx, "password123456")
		waiting <- err
	}()
	cancel()
	if err := <-waiting; !errors.Is(err, context.Canceled) {
		t.Errorf("Hash while slot held, then cancelled: err = %v; want context.Canceled", err)
	}
	if ok, err := h.Verify(ctx, "password123456", ""); ok || !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with cancelled ctx = %v, %v; want false, context.Canceled", ok, err)
	}

	close(release)
	if err := <-holder; err != nil {
		t.Fatalf("holder's Hash: %v", err)
	}
}

// TestCheckStrength: every configuration of OWASP's table passes, and one
// KiB less than any of them is refused.
func TestCheckStrength(t *testing.T) {
	for _, c := range []struct{ time, kib uint32 }{{1, 47104}, {2, 19456}, {3, 12288}, {4, 9216}, {5, 7168}, {8, 7168}} {
		p := Production()
		p.Time, p.MemoryKiB = c.time, c.kib
		if err := p.CheckStrength(); err != nil {
			t.Errorf("t=%d m=%d: %v", c.time, c.kib, err)
		}
		p.MemoryKiB--
		if err := p.CheckStrength(); err == nil {
			t.Errorf("t=%d m=%d passes", c.time, p.MemoryKiB)
		}
	}
	p := Production()
	p.Threads = 0
	if err := p.CheckStrength(); err == nil {
		t.Error("threads 0 passes")
	}
}
