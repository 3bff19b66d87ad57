package token

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestVerifiedSessionsRecheckTime: a remembered token is still refused once
// it has expired, and while its iat is too far ahead of a clock behind the
// one it was first verified at.
func TestVerifiedSessionsRecheckTime(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	sess := testSession(false)
	sess.IssuedAt = testNow.Add(59 * time.Second)
	tok := mustIssue(t, s, sess)
	first, err := s.ParseSession(tok, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.sessions.get(tok); !ok {
		t.Fatal("a verified token is not remembered")
	}
	if again, err := s.ParseSession(tok, testNow); err != nil || again != first {
		t.Fatalf("again: %+v, %v; want %+v", again, err, first)
	}
	if _, err := s.ParseSession(tok, testNow.Add(-2*time.Second)); !errors.Is(err, ErrInvalid) {
		t.Errorf("iat 61 s ahead of the clock: err = %v, want ErrInvalid", err)
	}
	if got, err := s.ParseSession(tok, first.Expires); !errors.Is(err, ErrExpired) || got != (Session{}) {
		t.Errorf("at exp: %+v, %v; want ErrExpired and no session", got, err)
	}
}

// TestVerifiedSessionsExactText: once a token is remembered, a copy with
// one byte changed anywhere is verified afresh and refused, and a key set
// without its key (a rotation that dropped it) refuses it.
func TestVerifiedSessionsExactText(t *testing.T) {
	key := testKey(1, testNow)
	s := mustSet(t, key)
	good := mustIssue(t, s, testSession(false))
	if _, err := s.ParseSession(good, testNow); err != nil {
		t.Fatal(err)
	}
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(good) {
		if good[i] == '.' {
			continue
		}
		j := strings.IndexByte(alphabet, good[i])
		changed := good[:i] + string(alphabet[(j+1)%len(alphabet)]) + good[i+1:]
		if _, err := s.ParseSession(changed, testNow); !errors.Is(err, ErrInvalid) {
			t.Fatalf("byte %d changed: err = %v, want ErrInvalid", i, err)
		}
	}
	if _, err := s.ParseSession(good+"=", testNow); !errors.Is(err, ErrInvalid) {
		t.Errorf("padded: err = %v, want ErrInvalid", err)
	}
	rotated := mustSet(t, testKey(2, testNow))
	if _, err := rotated.ParseSession(good, testNow); !errors.Is(err, ErrInvalid) {
		t.Errorf("a key set without the signing key: err = %v, want ErrInvalid", err)
	}
}

// TestVerifiedSessionsBounded: past two generations the oldest tokens are
// forgotten (and verified again if they come back).
func TestVerifiedSessionsBounded(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	var first string
	for i := range 2*verifiedSessionsKept + 1 {
		sess := testSession(false)
		sess.UserID = fmt.Sprint("user-", i)
		tok := mustIssue(t, s, sess)
		if i == 0 {
			first = tok
		}
		if _, err := s.ParseSession(tok, testNow); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := s.sessions.get(first); ok {
		t.Error("the oldest token is still remembered")
	}
	// A token in use is kept: one of the previous generation, used again,
	// outlives the next change of generation.
	var inUse string
	for k := range s.sessions.previous {
		inUse = k
		break
	}
	if _, ok := s.sessions.get(inUse); !ok {
		t.Fatal("a token of the previous generation is not remembered")
	}
	for i := range verifiedSessionsKept {
		sess := testSession(false)
		sess.UserID = fmt.Sprint("later-", i)
		if _, err := s.ParseSession(mustIssue(t, s, sess), testNow); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := s.sessions.get(inUse); !ok {
		t.Error("a token used again was forgotten at the next change of generation")
	}
	if n := len(s.sessions.current) + len(s.sessions.previous); n > 2*verifiedSessionsKept {
		t.Errorf("%d tokens remembered, want at most %d", n, 2*verifiedSessionsKept)
	}
	if _, err := s.ParseSession(first, testNow); err != nil {
		t.Errorf("a forgotten token is refused: %v", err)
	}
}
