package token

import "sync"

// verifiedSessionsKept bounds the session tokens a Set remembers: two
// generations of this many, a few hundred KB at most.
const verifiedSessionsKept = 1024

// verifiedSessions remembers the session tokens a Set has verified, so one
// presented again costs a map lookup, not an Ed25519 verification and a
// JSON decoding, which were a third of a session request's CPU (README
// "Performance"). It is keyed by the token's exact text: a token that
// differs in any byte is verified afresh. The time checks (timely) are made
// on every use, and the cache belongs to its Set: a key set without the
// signing key, a new Set, verifies nothing from it. A session ended or
// revoked is refused by its row, whatever is remembered here.
type verifiedSessions struct {
	mu                sync.Mutex
	current, previous map[string]Session
}

// get is what token says, if it is remembered; one of the previous
// generation moves to the current one, so tokens in use stay remembered.
func (v *verifiedSessions) get(token string) (Session, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if sess, ok := v.current[token]; ok {
		return sess, true
	}
	sess, ok := v.previous[token]
	if ok {
		v.keep(token, sess)
	}
	return sess, ok
}

// put remembers sess as what token says.
func (v *verifiedSessions) put(token string, sess Session) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.keep(token, sess)
}

// keep adds token to the current generation; when that is full, the
// previous one is dropped and the current one becomes it. v.mu is held.
func (v *verifiedSessions) keep(token string, sess Session) {
	if len(v.current) >= verifiedSessionsKept {
		v.previous, v.current = v.current, nil
	}
	if v.current == nil {
		v.current = map[string]Session{}
	}
	v.current[token] = sess
}
