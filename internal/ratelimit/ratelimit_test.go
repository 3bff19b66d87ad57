package ratelimit_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/ratelimit"
	"fleetgate/internal/apitest"
	"fleetgate/internal/fault"
	rl "fleetgate/internal/ratelimit"
)

// clock is a manual clock. It starts in a zone other than UTC, on purpose.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3*3600))}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var login = rl.Throttle{Free: 3, Base: 10 * time.Second, Max: 80 * time.Second}

// wantOK fails unless err is nil.
func wantOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("want no error, got %v", err)
	}
}

// wantLimited fails unless err is RATE_LIMITED with that retryAfter.
func wantLimited(t *testing.T, err error, retryAfter time.Duration) {
	t.Helper()
	f, ok := fault.As(err)
	if !ok || f.Code != fault.RateLimited {
		t.Fatalf("want RATE_LIMITED (retry after %v), got %v", retryAfter, err)
	}
	if f.RetryAfter != retryAfter {
		t.Fatalf("want retryAfter %v, got %v", retryAfter, f.RetryAfter)
	}
}

// count returns the stored count of key (-1 if there is no row).
func count(t *testing.T, s *apitest.Server, key string) int {
	t.Helper()
	row, err := s.DB.RateLimit.Query().Where(ratelimit.Key(key)).Only(context.Background())
	if ent.IsNotFound(err) {
		return -1
	}
	if err != nil {
		t.Fatal(err)
	}
	return row.Count
}

// fail makes n admitted attempts of a fresh key, moving the clock past the
// block of each but the last.
func fail(t *testing.T, l *rl.Limiter, c *clock, key string, th rl.Throttle, n int) {
	t.Helper()
	for i := range n {
		c.Advance(th.Block(i))
		wantOK(t, l.Attempt(context.Background(), key, th))
	}
}

func TestBlock(t *testing.T) {
	th := rl.Throttle{Free: 5, Base: 30 * time.Second, Max: 15 * time.Minute}
	want := map[int]time.Duration{
		0: 0, 1: 0, 5: 0,
		6: 30 * time.Second, 7: time.Minute, 8: 2 * time.Minute, 9: 4 * time.Minute,
		10: 8 * time.Minute, 11: 15 * time.Minute, 12: 15 * time.Minute, 1000: 15 * time.Minute,
	}
	for n, d := range want {
		if got := th.Block(n); got != d {
			t.Errorf("Block(%d) = %v, want %v", n, got, d)
		}
	}
	huge := rl.Throttle{Free: 0, Base: time.Nanosecond, Max: 1<<63 - 1}
	if got := huge.Block(200); got != huge.Max {
		t.Errorf("Block(200) without overflow = %v, want %v", got, huge.Max)
	}
}

func TestThrottle(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		c := newClock()
		l := rl.New(s.DB, c.Now)
		const key = "login:user:42"

		for i := 0; i < login.Free; i++ {
			wantOK(t, l.Attempt(ctx, key, login)) // free failures
		}
		// Each attempt over Free blocks, doubling, up to Max; refused
		// attempts answer how long the block lasts.
		for _, block := range []time.Duration{10, 20, 40, 80, 80, 80} {
			block *= time.Second
			wantOK(t, l.Attempt(ctx, key, login))
			wantLimited(t, l.Attempt(ctx, key, login), block)
			c.Advance(block / 4)
			wantLimited(t, l.Attempt(ctx, key, login), block-block/4)
			c.Advance(block - block/4 - time.Microsecond)
			wantLimited(t, l.Attempt(ctx, key, login), time.Microsecond)
			c.Advance(time.Microsecond)
		}
		if got := count(t, s, key); got != 9 {
			t.Fatalf("count %d, want 9", got)
		}

		// Success resets: Free failures are free again.
		wantOK(t, l.Reset(ctx, key))
		if got := count(t, s, key); got != 0 {
			t.Fatalf("count %d after Reset, want 0", got)
		}
		for i := 0; i <= login.Free; i++ {
			wantOK(t, l.Attempt(ctx, key, login))
		}
		wantLimited(t, l.Attempt(ctx, key, login), 10*time.Second)
		wantOK(t, l.Reset(ctx, "never:used")) // resetting a missing key is fine
	})
}

func TestRefusedAttemptsDoNotCount(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		c := newClock()
		l := rl.New(s.DB, c.Now)
		const key = "2fa:user:7"
		for i := 0; i <= login.Free; i++ {
			wantOK(t, l.Attempt(ctx, key, login))
		}
		for i := 0; i < 50; i++ {
			wantLimited(t, l.Attempt(ctx, key, login), 10*time.Second)
		}
		if got := count(t, s, key); got != login.Free+1 {
			t.Fatalf("count %d after refusals, want %d", got, login.Free+1)
		}
		c.Advance(10 * time.Second)
		wantOK(t, l.Attempt(ctx, key, login))
		wantLimited(t, l.Attempt(ctx, key, login), 20*time.Second) // the 2nd block, not later
	})
}

// TestAttemptAllIsAllOrNothing: an attempt on several keys counts on all of
// them, or, while one blocks, on none; the wait is the longest block.
func TestAttemptAllIsAllOrNothing(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		c := newClock()
		l := rl.New(s.DB, c.Now)
		slow := rl.Throttle{Free: 0, Base: 40 * time.Second, Max: 80 * time.Second}
		ip, name, fresh := rl.Limit{Key: "ip", Throttle: login}, rl.Limit{Key: "name", Throttle: slow}, rl.Limit{Key: "fresh", Throttle: login}

		wantOK(t, l.AttemptAll(ctx, ip, name)) // name: its first failure blocks for 40s
		if count(t, s, "ip") != 1 || count(t, s, "name") != 1 {
			t.Fatalf("counts %d and %d, want 1 and 1", count(t, s, "ip"), count(t, s, "name"))
		}
		wantLimited(t, l.AttemptAll(ctx, ip, fresh, name), 40*time.Second)
		// fresh's row may exist (rows are created before the check), but
		// holds no attempt.
		if count(t, s, "ip") != 1 || count(t, s, "fresh") > 0 {
			t.Fatalf("a refused attempt counted: ip %d, fresh %d", count(t, s, "ip"), count(t, s, "fresh"))
		}
		fail(t, l, c, "ip", login, login.Free) // ip now blocks for 10s, name still for 40s
		wantLimited(t, l.AttemptAll(ctx, fresh, ip, name), 40*time.Second)
		c.Advance(40 * time.Second)
		wantOK(t, l.AttemptAll(ctx, fresh, ip, name))

		// Concurrent attempts on overlapping keys all count, without deadlock.
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				keys := []rl.Limit{{Key: "a", Throttle: relaxed}, {Key: "b", Throttle: relaxed}}
				if i%2 == 0 {
					keys[0], keys[1] = keys[1], keys[0]
				}
				if err := l.AttemptAll(ctx, keys...); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if count(t, s, "a") != 8 || count(t, s, "b") != 8 {
			t.Fatalf("counts %d and %d after 8 concurrent attempts, want 8 and 8", count(t, s, "a"), count(t, s, "b"))
		}
		// Logins at once: attempts, resets and refunds on the same rows, in
		// either order, never deadlock (PostgreSQL would fail one of them).
		for i := range 16 {
			wg.Go(func() {
				keys := []string{"x", "y"}
				if i%2 == 0 {
					keys[0], keys[1] = keys[1], keys[0]
				}
				err := errors.Join(
					l.AttemptAll(ctx, rl.Limit{Key: "shared", Throttle: relaxed},
						rl.Limit{Key: keys[0], Throttle: relaxed}, rl.Limit{Key: keys[1], Throttle: relaxed}),
					l.Refund(ctx, "shared", relaxed),
					l.Reset(ctx, keys...))
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	})
}

// relaxed never blocks within a test.
var relaxed = rl.Throttle{Free: 100, Base: time.Second, Max: time.Minute}

// TestRefund: a refunded attempt is as if it had not been made, and it
// takes back no one else's.
func TestRefund(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		c := newClock()
		l := rl.New(s.DB, c.Now)
		const key = "login:ip:203.0.113.7"
		for i := 0; i < login.Free; i++ {
			wantOK(t, l.Attempt(ctx, key, login))
		}
		wantOK(t, l.Refund(ctx, key, login))
		if got := count(t, s, key); got != login.Free-1 {
			t.Fatalf("count %d after a refund, want %d", got, login.Free-1)
		}
		// The attempt that blocked the key is refunded: the block goes.
		wantOK(t, l.Attempt(ctx, key, login))
		wantOK(t, l.Attempt(ctx, key, login))
		wantLimited(t, l.Attempt(ctx, key, login), 10*time.Second)
		wantOK(t, l.Refund(ctx, key, login))
		wantOK(t, l.Attempt(ctx, key, login)) // over Free again: blocks again
		wantLimited(t, l.Attempt(ctx, key, login), 10*time.Second)
		// Past Free+1, the other failures block the key anyway: it stays.
		c.Advance(10 * time.Second)
		wantOK(t, l.Attempt(ctx, key, login))
		wantOK(t, l.Refund(ctx, key, login))
		wantLimited(t, l.Attempt(ctx, key, login), 20*time.Second)
		if got := count(t, s, key); got != login.Free+1 {
			t.Fatalf("count %d, want %d", got, login.Free+1)
		}
		// Never below zero.
		wantOK(t, l.Reset(ctx, key))
		wantOK(t, l.Refund(ctx, key, login))
		wantOK(t, l.Refund(ctx, key, login))
		if got := count(t, s, key); got > 0 {
			t.Fatalf("count %d after refunds of nothing", got)
		}
		for i := 0; i <= login.Free; i++ {
			wantOK(t, l.Attempt(ctx, key, login))
		}
		wantLimited(t, l.Attempt(ctx, key, login), 10*time.Second)
	})
}

// TestSettle: one statement resets some keys and refunds others, each as
// Reset and Refund would.
func TestSettle(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		c := newClock()
		l := rl.New(s.DB, c.Now)
		const shared, name, other = "login:ip:203.0.113.7", "login:name:ada", "login:name:bob"
		for i := 0; i <= login.Free; i++ { // both blocked
			wantOK(t, l.AttemptAll(ctx, rl.Limit{Key: shared, Throttle: login}, rl.Limit{Key: name, Throttle: login}))
		}
		fail(t, l, c, other, login, 2)
		wantLimited(t, l.Attempt(ctx, name, login), 10*time.Second)

		wantOK(t, l.Settle(ctx, []string{name}, rl.Limit{Key: shared, Throttle: login}))
		if got := count(t, s, name); got != 0 {
			t.Errorf("reset key: count %d, want 0", got)
		}
		if got := count(t, s, shared); got != login.Free {
			t.Errorf("refunded key: count %d, want %d", got, login.Free)
		}
		if got := count(t, s, other); got != 2 {
			t.Errorf("a key of neither: count %d, want 2", got)
		}
		wantOK(t, l.Attempt(ctx, name, login))   // unblocked
		wantOK(t, l.Attempt(ctx, shared, login)) // refunding the blocking attempt unblocks
		// Past Free+1 the block stays, as with Refund.
		wantLimited(t, l.Attempt(ctx, shared, login), 10*time.Second)
		c.Advance(10 * time.Second)
		wantOK(t, l.Attempt(ctx, shared, login))
		wantOK(t, l.Settle(ctx, nil, rl.Limit{Key: shared, Throttle: login}))
		wantLimited(t, l.Attempt(ctx, shared, login), 20*time.Second)
		// Never below zero.
		wantOK(t, l.Reset(ctx, shared))
		wantOK(t, l.Settle(ctx, []string{name}, rl.Limit{Key: shared, Throttle: login}))
		if got := count(t, s, shared); got != 0 {
			t.Errorf("refund of nothing: count %d", got)
		}
		wantOK(t, l.Settle(ctx, []string{other})) // nothing to refund: a Reset
		if got := count(t, s, other); got != 0 {
			t.Errorf("reset alone: count %d", got)
		}
		if err := l.Settle(ctx, nil, rl.Limit{Key: shared}); err == nil {
			t.Error("an invalid throttle is accepted")
		}
	})
}

func TestThrottleForgets(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		c := newClock()
		l := rl.New(s.DB, c.Now)

		// Failures below Free are forgotten Max after the last one.
		const typo = "login:user:1"
		fail(t, l, c, typo, login, login.Free)
		c.Advance(login.Max - time.Microsecond)
		wantOK(t, l.Attempt(ctx, typo, login)) // still remembered: over Free
		wantLimited(t, l.Attempt(ctx, typo, login), 10*time.Second)

		// A blocked key is forgotten Max after its block ended.
		const key = "login:user:2"
		fail(t, l, c, key, login, login.Free+3)
		wantLimited(t, l.Attempt(ctx, key, login), 40*time.Second)
		c.Advance(40*time.Second + login.Max - time.Microsecond)
		wantOK(t, l.Attempt(ctx, key, login)) // not yet forgotten: the 7th failure
		wantLimited(t, l.Attempt(ctx, key, login), 80*time.Second)
		c.Advance(80*time.Second + login.Max)
		for i := 0; i < login.Free; i++ { // forgotten: free again
			wantOK(t, l.Attempt(ctx, key, login))
		}
		if got := count(t, s, key); got != login.Free {
			t.Fatalf("count %d, want %d", got, login.Free)
		}
		wantOK(t, l.Attempt(ctx, key, login))
		wantLimited(t, l.Attempt(ctx, key, login), 10*time.Second)
	})
}

func TestRate(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		c := newClock()
		l := rl.New(s.DB, c.Now)
		r := rl.Rate{Limit: 3, Window: time.Minute}
		const key = "signup:ip:198.51.100.1"

		for i := 0; i < r.Limit; i++ {
			wantOK(t, l.Allow(ctx, key, r))
			c.Advance(10 * time.Second)
		}
		// 30s into the window: refused until it ends.
		wantLimited(t, l.Allow(ctx, key, r), 30*time.Second)
		c.Advance(20 * time.Second)
		wantLimited(t, l.Allow(ctx, key, r), 10*time.Second) // refusals do not extend it
		if got := count(t, s, key); got != r.Limit {
			t.Fatalf("count %d, want %d (refused hits do not count)", got, r.Limit)
		}
		c.Advance(10*time.Second - time.Microsecond)
		wantLimited(t, l.Allow(ctx, key, r), time.Microsecond)

		// Rollover: a new window begins with the next hit.
		c.Advance(time.Microsecond + 5*time.Second)
		wantOK(t, l.Allow(ctx, key, r))
		if got := count(t, s, key); got != 1 {
			t.Fatalf("count %d in the new window, want 1", got)
		}
		wantOK(t, l.Allow(ctx, key, r))
		wantOK(t, l.Allow(ctx, key, r))
		wantLimited(t, l.Allow(ctx, key, r), time.Minute)
		c.Advance(time.Minute)
		wantOK(t, l.Allow(ctx, key, r))
	})
}

func TestKeysIndependent(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		c := newClock()
		l := rl.New(s.DB, c.Now)
		r := rl.Rate{Limit: 1, Window: time.Hour}

		for i := 0; i <= login.Free; i++ {
			wantOK(t, l.Attempt(ctx, "login:user:1", login))
		}
		wantLimited(t, l.Attempt(ctx, "login:user:1", login), 10*time.Second)
		wantOK(t, l.Attempt(ctx, "login:user:2", login))
		wantOK(t, l.Attempt(ctx, "login:ip:203.0.113.7", login))

		wantOK(t, l.Allow(ctx, "reset:email:a@example.com", r))
		wantLimited(t, l.Allow(ctx, "reset:email:a@example.com", r), time.Hour)
		wantOK(t, l.Allow(ctx, "reset:email:b@example.com", r))
		wantOK(t, l.Allow(ctx, "reset:ip:203.0.113.7", r))

		// Two Limiters (two instances) share the database.
		other := rl.New(s.DB, c.Now)
		wantLimited(t, other.Attempt(ctx, "login:user:1", login), 10*time.Second)
		wantLimited(t, other.Allow(ctx, "reset:email:b@example.com", r), time.Hour)
	})
}

func TestLongKeys(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		l := rl.New(s.DB, newClock().Now)
		r := rl.Rate{Limit: 1, Window: time.Hour}
		long := "reset:email:" + strings.Repeat("é", 150) + "@example.com"
		wantOK(t, l.Allow(ctx, long, r))
		wantLimited(t, l.Allow(ctx, long, r), time.Hour)
		wantOK(t, l.Allow(ctx, long+"x", r)) // a different key
		wantOK(t, l.Allow(ctx, "bad:\xff\x00", r))
		wantLimited(t, l.Allow(ctx, "bad:\xff\x00", r), time.Hour)
		if err := l.Allow(ctx, "", r); err == nil || fault.Is(err, fault.RateLimited) {
			t.Fatalf("empty key: want an internal error, got %v", err)
		}
	})
}

func TestInvalidLimits(t *testing.T) {
	l := rl.New(nil, nil)
	ctx := context.Background()
	for _, th := range []rl.Throttle{{Free: -1, Base: 1, Max: 1}, {Free: 1}, {Free: 1, Base: 2, Max: 1}} {
		if err := l.Attempt(ctx, "k", th); err == nil {
			t.Errorf("Attempt with %+v: want an error", th)
		}
		if err := l.Refund(ctx, "k", th); err == nil {
			t.Errorf("Refund with %+v: want an error", th)
		}
	}
	for _, r := range []rl.Rate{{Limit: 0, Window: time.Second}, {Limit: 1}} {
		if err := l.Allow(ctx, "k", r); err == nil {
			t.Errorf("Allow with %+v: want an error", r)
		}
	}
}

func TestConcurrent(t *testing.T) {
	const n = 20
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		c := newClock()
		l := rl.New(s.DB, c.Now)
		lenient := rl.Throttle{Free: 1000, Base: time.Second, Max: time.Minute}
		many := rl.Rate{Limit: 1000, Window: time.Hour}
		few := rl.Rate{Limit: 5, Window: time.Hour}

		// Each on a key's first use, where the row does not exist yet.
		errs := make(chan error, 3*n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { errs <- l.Attempt(ctx, "login:user:9", lenient) })
			wg.Go(func() { errs <- l.Allow(ctx, "signup:ip:a", many) })
			wg.Go(func() { errs <- l.Allow(ctx, "signup:ip:b", few) })
		}
		wg.Wait()
		close(errs)
		limited := 0
		for err := range errs {
			switch {
			case fault.Is(err, fault.RateLimited):
				limited++
			case err != nil:
				t.Fatal(err)
			}
		}
		if got := count(t, s, "login:user:9"); got != n {
			t.Errorf("concurrent attempts counted %d, want %d", got, n)
		}
		if got := count(t, s, "signup:ip:a"); got != n {
			t.Errorf("concurrent hits counted %d, want %d", got, n)
		}
		if got := count(t, s, "signup:ip:b"); got != few.Limit || limited != n-few.Limit {
			t.Errorf("limit %d: counted %d, refused %d of %d", few.Limit, got, limited, n)
		}

		// And again on an existing row, refunds among them.
		for range n {
			wg.Go(func() {
				if err := l.Attempt(ctx, "login:user:9", lenient); err != nil {
					t.Error(err)
				}
			})
			wg.Go(func() {
				if err := l.Refund(ctx, "login:user:9", lenient); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := count(t, s, "login:user:9"); got != n {
			t.Errorf("concurrent attempts and refunds counted %d, want %d", got, n)
		}
	})
}

func TestPrune(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		c := newClock()
		l := rl.New(s.DB, c.Now)
		r := rl.Rate{Limit: 10, Window: time.Minute}

		// Blocked for Max (80s) from its last failure.
		fail(t, l, c, "old:blocked", login, 10)
		wantOK(t, l.Allow(ctx, "old:rate", r))
		wantOK(t, l.Attempt(ctx, "old:fail", login))
		c.Advance(time.Minute)
		cutoff := c.Now()
		c.Advance(time.Second)
		wantOK(t, l.Allow(ctx, "new:rate", r))
		wantOK(t, l.Attempt(ctx, "new:fail", login))

		n, err := l.Prune(ctx, cutoff)
		wantOK(t, err)
		if n != 2 {
			t.Fatalf("pruned %d rows, want 2", n)
		}
		for key, want := range map[string]bool{
			"old:rate": false, "old:fail": false, "old:blocked": true, "new:rate": true, "new:fail": true,
		} {
			if got := count(t, s, key) >= 0; got != want {
				t.Errorf("%s kept = %v, want %v", key, got, want)
			}
		}
		wantLimited(t, l.Attempt(ctx, "old:blocked", login), 80*time.Second-time.Minute-time.Second)

		c.Advance(time.Hour)
		n, err = l.Prune(ctx, c.Now())
		wantOK(t, err)
		if n != 3 {
			t.Fatalf("pruned %d rows, want 3", n)
		}
		// A pruned key starts over.
		wantOK(t, l.Attempt(ctx, "old:blocked", login))
		if got := count(t, s, "old:blocked"); got != 1 {
			t.Fatalf("pruned key counted %d, want 1", got)
		}
	})
}

// TestAttemptAdmitsABurstOnce: attempts are counted before they are
// checked, so of a concurrent burst only Free+1 get through.
func TestAttemptAdmitsABurstOnce(t *testing.T) {
	const n = 20
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		c := newClock()
		l := rl.New(s.DB, c.Now)
		th := rl.Throttle{Free: 4, Base: 30 * time.Second, Max: time.Hour}
		var admitted, refused atomic.Int32
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				switch err := l.Attempt(ctx, "2fa:user:1", th); {
				case err == nil:
					admitted.Add(1)
				case fault.Is(err, fault.RateLimited):
					refused.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if admitted.Load() != int32(th.Free+1) || refused.Load() != int32(n-th.Free-1) {
			t.Fatalf("admitted %d, refused %d of %d; want %d admitted", admitted.Load(), refused.Load(), n, th.Free+1)
		}
		// Refused attempts are not counted; the block is the 5th failure's.
		if got := count(t, s, "2fa:user:1"); got != th.Free+1 {
			t.Fatalf("counted %d", got)
		}
		wantLimited(t, l.Attempt(ctx, "2fa:user:1", th), th.Base)
		// A success resets it.
		c.Advance(th.Base)
		wantOK(t, l.Attempt(ctx, "2fa:user:1", th))
		wantOK(t, l.Reset(ctx, "2fa:user:1"))
		wantOK(t, l.Attempt(ctx, "2fa:user:1", th))
	})
}
