// Package ratelimit enforces fleetgate's abuse limits (README "Abuse limits"): failed
// logins per account and per IP, failed two-factor codes per account,
// password-reset mails per address, sign-ups per IP.
//
// # Why in the database
//
// fleetgate instances are stateless and may run side by side behind a load
// balancer, so a counter kept in memory would let an attacker multiply the
// limit by the number of instances (or reset it with a restart). Every limit
// is therefore one row of the rate_limits table (ent.RateLimit), keyed by a
// string that names what is limited, such as "login:user:42",
// "login:ip:203.0.113.7", "2fa:user:42", "signup:ip:203.0.113.7" or
// "reset:email:ada@example.com". Callers choose the keys; a key is used
// either with a Throttle or with a Rate, never both. Keys longer than 200
// bytes (or not valid UTF-8) are stored as a prefix and a SHA-256 digest.
//
// Every change happens in one transaction that holds the row: FOR UPDATE on
// PostgreSQL (a missing row is first inserted with ON CONFLICT, so two
// first failures cannot both insert), and SQLite transactions here begin
// IMMEDIATE and so already run one at a time. Concurrent failures or hits
// on one key all count.
//
// # Throttle: failures, doubling waits
//
// A Throttle limits failures (a wrong password, a wrong 2FA code). The
// first Free consecutive failures of a key cost nothing. Each failure after
// them blocks the key: the n-th failure (n > Free) blocks it for
//
//	Base·2^(n−Free−1), at most Max
//
// so with Free 5, Base 30s and Max 15m the 6th failure blocks for 30s, the
// 7th for 1m, the 8th for 2m, … and every failure from the 11th on for 15m.
// A block is never shortened by a later failure. There is no permanent
// lockout: a key's failures are forgotten once it has gone Max without a
// failure and without being blocked — that is, Max after the later of its
// last failure and the end of its block. The next failure then counts as
// the first again.
//
// Callers call Attempt before verifying a credential: it refuses while the
// key is blocked and otherwise counts the attempt as a failure at once, so
// a burst of concurrent guesses cannot pass together (at most Free+1 are
// admitted before the key blocks). When the credential is right, Reset
// forgets the key's failures — or, for a key that other people's attempts
// count on too (a client address), Refund takes back only this attempt,
// so that one person's success does not wipe out the failures of others.
//
// # Rate: hits per fixed window
//
// A Rate allows at most Limit hits of a key per window of length Window.
// A window begins with the first hit after the previous window ended (it is
// not aligned to the clock) and ends Window later; a refused hit is not
// counted and does not move the window.
//
// # retryAfter
//
// Refusals are fault.Limited errors (RATE_LIMITED): RetryAfter is how long
// from now until the same request can succeed — the end of the block for a
// Throttle, the end of the current window for a Rate. Clients see it
// rounded up to whole seconds (fault.RetryAfterSeconds).
//
// # Cleanup
//
// Rows outlive their usefulness; Prune deletes those not touched since a
// given time, to be called periodically.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"fleetgate/ent"
	"fleetgate/ent/ratelimit"
	"fleetgate/internal/clock"
	"fleetgate/internal/fault"
)

// Throttle limits consecutive failures of a key with doubling waits.
type Throttle struct {
	// Free is how many consecutive failures cost nothing (≥ 0).
	Free int
	// Base is the block after the first failure over Free (> 0); each
	// further failure doubles it.
	Base time.Duration
	// Max caps the block (≥ Base). It is also the quiet period after which
	// a key's failures are forgotten.
	Max time.Duration
	// Name names the limit to the refusals' counter (CountRefusals).
	Name string
}

func (th Throttle) validate() error {
	if th.Free < 0 || th.Base <= 0 || th.Max < th.Base {
		return fmt.Errorf("ratelimit: invalid throttle %+v", th)
	}
	return nil
}

// Block is how long the failures-th consecutive failure blocks a key: zero
// up to Free, then Base·2^(failures−Free−1), at most Max.
func (th Throttle) Block(failures int) time.Duration {
	if failures <= th.Free {
		return 0
	}
	d := th.Base
	for i := failures - th.Free - 1; i > 0 && d < th.Max; i-- {
		if d > th.Max/2 {
			return th.Max
		}
		d *= 2
	}
	return min(d, th.Max)
}

// Rate allows at most Limit hits of a key per fixed window.
type Rate struct {
	// Limit is how many hits a window allows (≥ 1).
	Limit int
	// Window is the length of a window (> 0).
	Window time.Duration
	// Name names the limit to the refusals' counter (CountRefusals).
	Name string
}

func (r Rate) validate() error {
	if r.Limit < 1 || r.Window <= 0 {
		return fmt.Errorf("ratelimit: invalid rate %+v", r)
	}
	return nil
}

// Limiter keeps limits in the database. It is safe for concurrent use, and
// any number of Limiters (one per instance) may share a database.
type Limiter struct {
	db      *ent.Client
	now     func() time.Time
	refused func(limit string)
}

// CountRefusals has refused called with the Name of each limit that
// refuses a hit or an attempt, for metrics. Call it before any use.
func (l *Limiter) CountRefusals(refused func(limit string)) { l.refused = refused }

func (l *Limiter) refusedBy(name string) {
	if l.refused != nil {
		l.refused(name)
	}
}

// New returns a Limiter over db, a client that is not itself a transaction's
// (the Limiter runs transactions of its own). now is the clock (time.Now if
// nil).
func New(db *ent.Client, now func() time.Time) *Limiter {
	if now == nil {
		now = clock.Now
	}
	return &Limiter{db: db, now: now}
}

// Attempt admits one attempt of key under th, counted as a failure before
// the credential is even checked: a RATE_LIMITED error while the key is
// blocked (the attempt is not counted), nil otherwise. Success then calls
// Reset or Refund. Because the count comes first, a burst of concurrent
// attempts cannot all pass before the first failure is recorded: at most
// th.Free+1 are admitted before the key blocks.
func (l *Limiter) Attempt(ctx context.Context, key string, th Throttle) error {
	return l.AttemptAll(ctx, Limit{Key: key, Throttle: th})
}

// Limit is a key and the throttle it is counted under.
type Limit struct {
	Key      string
	Throttle Throttle
}

// AttemptAll is Attempt on several keys at once, all or nothing: while any
// of them is blocked, the attempt is refused (retryAfter: the longest of
// their blocks) and counted on none; otherwise it is counted on each. One
// transaction holds every row, read by one statement.
func (l *Limiter) AttemptAll(ctx context.Context, limits ...Limit) error {
	keys := make([]string, len(limits))
	for i, lim := range limits {
		if err := lim.Throttle.validate(); err != nil {
			return err
		}
		k, err := storedKey(lim.Key)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	var limited time.Duration
	err := l.locked(ctx, keys, func(tx *ent.Tx, rows map[string]*ent.RateLimit, now time.Time) error {
		for i, k := range keys {
			if row := rows[k]; row.BlockedUntil != nil && now.Before(*row.BlockedUntil) {
				limited = max(limited, row.BlockedUntil.Sub(now))
				l.refusedBy(limits[i].Throttle.Name)
			}
		}
		if limited > 0 {
			return fault.Limited(limited) // rolls back
		}
		for i, k := range keys {
			if err := countFailure(ctx, tx, rows[k], limits[i].Throttle, now); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case limited > 0:
		return fault.Limited(limited)
	case err != nil:
		return fmt.Errorf("ratelimit: attempt %q: %w", keys, err)
	}
	return nil
}

// countFailure counts one failure on the locked row and blocks the key when
// the failures exceed th.Free.
func countFailure(ctx context.Context, tx *ent.Tx, row *ent.RateLimit, th Throttle, now time.Time) error {
	count := row.Count
	if forgotten(row, th, now) {
		count = 0
	}
	count++
	// Update, not UpdateOne: one statement, without reading the row back.
	upd := tx.RateLimit.Update().Where(ratelimit.ID(row.ID)).SetCount(count).SetWindowStart(now)
	if block := th.Block(count); block > 0 {
		until := now.Add(block)
		if row.BlockedUntil != nil && row.BlockedUntil.After(until) {
			until = *row.BlockedUntil // never shorten a block
		}
		upd.SetBlockedUntil(until)
	} else {
		upd.ClearBlockedUntil()
	}
	return upd.Exec(ctx)
}

// forgotten reports whether row's failures no longer count at now: the key
// has gone th.Max without a failure and without being blocked.
func forgotten(row *ent.RateLimit, th Throttle, now time.Time) bool {
	quiet := row.WindowStart // the last failure
	if row.BlockedUntil != nil && row.BlockedUntil.After(quiet) {
		quiet = *row.BlockedUntil
	}
	return !now.Before(quiet.Add(th.Max))
}

// Refund takes back one attempt of key admitted by Attempt under th, after
// it turned out not to be a failure (the credential was right, or another
// limit refused the request before anything was checked). The count drops
// by one, never below zero. If that leaves it within th.Free, the key is
// unblocked: without this attempt the count would never have passed Free,
// which alone sets a block. Otherwise the block stays as it is (over Free,
// other failures would have blocked the key too).
// Unlike Reset it leaves the failures of every other attempt counted, so a
// success cannot clear a key that others' attempts count on.
func (l *Limiter) Refund(ctx context.Context, key string, th Throttle) error {
	return l.Settle(ctx, nil, Limit{Key: key, Throttle: th})
}

// Reset forgets the failures of keys (after a success), in one statement:
// their counts drop to zero and their blocks end. The rows stay, so the
// next attempt on them need not create them again; Prune deletes them.
func (l *Limiter) Reset(ctx context.Context, keys ...string) error {
	stored, err := storedKeys(keys)
	if err != nil {
		return err
	}
	err = l.db.RateLimit.Update().Where(lockedInKeyOrder(stored)).SetCount(0).ClearBlockedUntil().Exec(ctx)
	if err != nil {
		return fmt.Errorf("ratelimit: reset %q: %w", keys, err)
	}
	return nil
}

// Settle is Reset of reset and Refund of each of refund, in one statement:
// what a success does to the limits that admitted it.
func (l *Limiter) Settle(ctx context.Context, reset []string, refund ...Limit) error {
	if len(refund) == 0 {
		return l.Reset(ctx, reset...)
	}
	refunded := make([]string, len(refund))
	for i, r := range refund {
		if err := r.Throttle.validate(); err != nil {
			return err
		}
		k, err := storedKey(r.Key)
		if err != nil {
			return err
		}
		refunded[i] = k
	}
	stored, err := storedKeys(reset)
	if err != nil {
		return err
	}
	// Both assignments read the row as it was: a refunded count drops by
	// one, and its block ends if that leaves it within Free (see Refund);
	// the others are reset.
	err = l.db.RateLimit.Update().Where(lockedInKeyOrder(append(stored, refunded...)), func(s *sql.Selector) {
		// A refunded count of zero was reset or pruned meanwhile.
		s.Where(sql.Or(sql.NotIn(s.C(ratelimit.FieldKey), anys(refunded)...), sql.GT(s.C(ratelimit.FieldCount), 0)))
	}).Modify(func(u *sql.UpdateBuilder) {
		u.Set(ratelimit.FieldCount, sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("CASE")
			for _, k := range refunded {
				b.WriteString(" WHEN ").Ident(ratelimit.FieldKey).WriteString(" = ").Arg(k).
					WriteString(" THEN ").Ident(ratelimit.FieldCount).WriteString(" - 1")
			}
			b.WriteString(" ELSE 0 END")
		}))
		u.Set(ratelimit.FieldBlockedUntil, sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("CASE")
			for i, k := range refunded {
				b.WriteString(" WHEN ").Ident(ratelimit.FieldKey).WriteString(" = ").Arg(k).
					WriteString(" AND ").Ident(ratelimit.FieldCount).WriteString(" - 1 > ").Arg(refund[i].Throttle.Free).
					WriteString(" THEN ").Ident(ratelimit.FieldBlockedUntil)
			}
			b.WriteString(" ELSE NULL END")
		}))
	}).Exec(ctx)
	if err != nil {
		return fmt.Errorf("ratelimit: settle %q: %w", slices.Concat(reset, refunded), err)
	}
	return nil
}

// lockedInKeyOrder selects the rows of the stored keys, locking them in key
// order as AttemptAll locks them: two statements locking the same rows in
// different orders deadlock.
func lockedInKeyOrder(stored []string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		held := sql.Dialect(s.Dialect()).Select(ratelimit.FieldID).From(sql.Table(ratelimit.Table)).
			Where(sql.In(ratelimit.FieldKey, anys(stored)...)).OrderBy(ratelimit.FieldKey)
		if s.Dialect() != dialect.SQLite {
			held.ForUpdate()
		}
		s.Where(sql.In(s.C(ratelimit.FieldID), held))
	}
}

// storedKeys are the stored forms of keys.
func storedKeys(keys []string) ([]string, error) {
	stored := make([]string, len(keys))
	for i, key := range keys {
		k, err := storedKey(key)
		if err != nil {
			return nil, err
		}
		stored[i] = k
	}
	return stored, nil
}

func anys(keys []string) []any {
	v := make([]any, len(keys))
	for i, k := range keys {
		v[i] = k
	}
	return v
}

// Allow counts one hit of key under r, or refuses it with a RATE_LIMITED
// error (retryAfter: until the window ends) when the window already holds
// r.Limit hits. A refused hit changes nothing.
func (l *Limiter) Allow(ctx context.Context, key string, r Rate) error {
	if err := r.validate(); err != nil {
		return err
	}
	k, err := storedKey(key)
	if err != nil {
		return err
	}
	var limited error
	err = l.locked(ctx, []string{k}, func(tx *ent.Tx, rows map[string]*ent.RateLimit, now time.Time) error {
		row := rows[k]
		start, count := row.WindowStart, row.Count
		if !now.Before(start.Add(r.Window)) {
			start, count = now, 0 // the window has ended: a new one begins
		}
		if count >= r.Limit {
			l.refusedBy(r.Name)
			limited = fault.Limited(start.Add(r.Window).Sub(now))
			return limited // rolls back
		}
		return tx.RateLimit.Update().Where(ratelimit.ID(row.ID)).SetCount(count + 1).SetWindowStart(start).Exec(ctx)
	})
	if limited != nil {
		return limited
	}
	if err != nil {
		return fmt.Errorf("ratelimit: allow %q: %w", key, err)
	}
	return nil
}

// Prune deletes the rows not touched since olderThan and returns how many.
// A row was last touched when its current window began (for a Throttle: its
// last failure) and it stays while it is blocked at olderThan.
//
// With olderThan = now − the longest Rate.Window and Throttle.Max in use,
// Prune deletes only rows that no longer affect any decision: expired
// windows and forgotten failures.
func (l *Limiter) Prune(ctx context.Context, olderThan time.Time) (int, error) {
	t := stamp(olderThan)
	n, err := l.db.RateLimit.Delete().Where(
		ratelimit.WindowStartLT(t),
		ratelimit.Or(ratelimit.BlockedUntilIsNil(), ratelimit.BlockedUntilLT(t)),
	).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("ratelimit: prune: %w", err)
	}
	return n, nil
}

// locked runs fn in a transaction holding the rows of keys, which it
// creates (count 0, window beginning now) where missing. fn's error rolls
// the transaction back.
func (l *Limiter) locked(ctx context.Context, keys []string, fn func(tx *ent.Tx, rows map[string]*ent.RateLimit, now time.Time) error) error {
	tx, rows, err := l.lock(ctx, keys)
	if err == nil && len(rows) < len(keys) {
		// Creating the missing rows behind the locks this transaction
		// holds could deadlock with a concurrent first use of the same
		// keys (each waiting for the other's new row): give the locks
		// back, create the rows on their own, in key order, and lock again.
		tx.Rollback()
		if err = l.create(ctx, keys, rows); err == nil {
			tx, rows, err = l.lock(ctx, keys)
		}
	}
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err = fn(tx, rows, l.clock()); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// lock begins a transaction holding the existing rows of keys. The clock is
// read by the caller once the rows are held, so that the order of times
// matches the order of the transactions.
func (l *Limiter) lock(ctx context.Context, keys []string) (*ent.Tx, map[string]*ent.RateLimit, error) {
	tx, err := l.db.Tx(ctx)
	if err != nil {
		return nil, nil, err
	}
	rows, err := lockKeys(ctx, tx, keys)
	if err != nil {
		tx.Rollback()
		return nil, nil, err
	}
	return tx, rows, nil
}

// create inserts the rows of keys not in existing, in key order, in one
// statement of its own; on conflict with a concurrent first use it waits
// for that one and leaves its row as it is.
func (l *Limiter) create(ctx context.Context, keys []string, existing map[string]*ent.RateLimit) error {
	var missing []string
	for _, k := range keys {
		if existing[k] == nil {
			missing = append(missing, k)
		}
	}
	slices.Sort(missing)
	creates := make([]*ent.RateLimitCreate, 0, len(missing))
	for _, k := range slices.Compact(missing) {
		creates = append(creates, l.db.RateLimit.Create().SetKey(k).SetWindowStart(l.clock()))
	}
	return l.db.RateLimit.CreateBulk(creates...).OnConflictColumns(ratelimit.FieldKey).Ignore().Exec(ctx)
}

// lockKeys reads the rows of keys and, on PostgreSQL, locks them until the
// end of the transaction (in key order, so that two transactions locking
// the same keys cannot deadlock). SQLite has no FOR UPDATE: its
// transactions here begin IMMEDIATE, so the writer already holds the whole
// database.
func lockKeys(ctx context.Context, tx *ent.Tx, keys []string) (map[string]*ent.RateLimit, error) {
	found, err := tx.RateLimit.Query().Where(ratelimit.KeyIn(keys...)).
		Order(ent.Asc(ratelimit.FieldKey)).Modify(func(s *sql.Selector) {
		if s.Dialect() != dialect.SQLite {
			s.ForUpdate()
		}
	}).All(ctx)
	if err != nil {
		return nil, err
	}
	rows := make(map[string]*ent.RateLimit, len(found))
	for _, r := range found {
		rows[r.Key] = r
	}
	return rows, nil
}

// clock returns now as stored: UTC (SQLite compares times as text) and to
// the microsecond (PostgreSQL's precision), so that a time read back equals
// the time written.
func (l *Limiter) clock() time.Time { return stamp(l.now()) }

func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// NameKey is the key of a limit on a name (a username or an email address,
// known or not, in its normalized form): prefix followed by a digest of the
// name, never the name itself.
func NameKey(prefix, name string) string {
	sum := sha256.Sum256([]byte(name))
	return prefix + hex.EncodeToString(sum[:16])
}

// maxKey is the longest key the rate_limits table stores.
const maxKey = 200

// storedKey returns the form of key stored in the table: key itself, or,
// if it is too long or not valid text, a readable prefix and its SHA-256.
func storedKey(key string) (string, error) {
	if key == "" {
		return "", errors.New("ratelimit: empty key")
	}
	if len(key) <= maxKey && utf8.ValidString(key) && !strings.ContainsRune(key, 0) {
		return key, nil
	}
	sum := sha256.Sum256([]byte(key))
	prefix := strings.ToValidUTF8(key[:min(len(key), 120)], "")
	prefix = strings.ReplaceAll(prefix, "\x00", "")
	return prefix + "#" + hex.EncodeToString(sum[:]), nil
}
