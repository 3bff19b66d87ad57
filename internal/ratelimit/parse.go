package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The text forms of limits, for operators (README "Configuration"):
//
//	Throttle  FREE,BASE,MAX   e.g. 5,30s,1h: 5 failures free, then 30s doubling up to 1h
//	Rate      LIMIT/WINDOW    e.g. 10/1h: 10 hits an hour
//
// Durations are Go's (time.ParseDuration). String writes what Parse reads.

// ParseThrottle reads FREE,BASE,MAX.
func ParseThrottle(s string) (Throttle, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return Throttle{}, fmt.Errorf("%q is not FREE,WAIT,MAXWAIT (e.g. 5,30s,1h)", s)
	}
	free, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil {
		return Throttle{}, fmt.Errorf("%q: %q is not a number of free failures", s, parts[0])
	}
	th := Throttle{Free: free}
	if th.Base, err = time.ParseDuration(strings.TrimSpace(parts[1])); err != nil {
		return Throttle{}, fmt.Errorf("%q: the first wait: %w", s, err)
	}
	if th.Max, err = time.ParseDuration(strings.TrimSpace(parts[2])); err != nil {
		return Throttle{}, fmt.Errorf("%q: the longest wait: %w", s, err)
	}
	if th.validate() != nil {
		return Throttle{}, fmt.Errorf("%q: free failures must be 0 or more, the first wait positive and the longest wait at least the first", s)
	}
	return th, nil
}

func (th Throttle) String() string {
	return fmt.Sprintf("%d,%s,%s", th.Free, shortDuration(th.Base), shortDuration(th.Max))
}

// ParseRate reads LIMIT/WINDOW.
func ParseRate(s string) (Rate, error) {
	limit, window, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q is not LIMIT/WINDOW (e.g. 10/1h)", s)
	}
	var r Rate
	var err error
	if r.Limit, err = strconv.Atoi(strings.TrimSpace(limit)); err != nil {
		return Rate{}, fmt.Errorf("%q: %q is not a number", s, limit)
	}
	if r.Window, err = time.ParseDuration(strings.TrimSpace(window)); err != nil {
		return Rate{}, fmt.Errorf("%q: the window: %w", s, err)
	}
	if r.validate() != nil {
		return Rate{}, fmt.Errorf("%q: the limit and the window must be positive", s)
	}
	return r, nil
}

func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.Limit, shortDuration(r.Window)) }

// shortDuration is d as an operator writes it: 1h, not 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
