package ratelimit_test

import (
	"testing"
	"time"

	"fleetgate/internal/ratelimit"
)

func TestParseThrottle(t *testing.T) {
	th, err := ratelimit.ParseThrottle(" 5, 30s ,1h")
	if err != nil || th != (ratelimit.Throttle{Free: 5, Base: 30 * time.Second, Max: time.Hour}) || th.String() != "5,30s,1h" {
		t.Fatalf("%+v %v %s", th, err, th)
	}
	if th, err := ratelimit.ParseThrottle("0,1m30s,90m"); err != nil || th.String() != "0,1m30s,1h30m" {
		t.Fatalf("%+v %v %s", th, err, th)
	}
	for _, bad := range []string{"", "5", "5,30s", "5,30s,1h,2h", "x,30s,1h", "-1,30s,1h", "5,0s,1h", "5,30,1h", "5,1h,30s", "5,30s,1d"} {
		if th, err := ratelimit.ParseThrottle(bad); err == nil {
			t.Errorf("%q parsed as %+v", bad, th)
		}
	}
}

func TestParseRate(t *testing.T) {
	r, err := ratelimit.ParseRate("10/1h")
	if err != nil || r != (ratelimit.Rate{Limit: 10, Window: time.Hour}) || r.String() != "10/1h" {
		t.Fatalf("%+v %v %s", r, err, r)
	}
	if r, err := ratelimit.ParseRate("100 / 24h"); err != nil || r.String() != "100/24h" {
		t.Fatalf("%+v %v %s", r, err, r)
	}
	for _, bad := range []string{"", "10", "10/", "/1h", "0/1h", "-3/1h", "ten/1h", "10/0s", "10/-1h", "10/hour"} {
		if r, err := ratelimit.ParseRate(bad); err == nil {
			t.Errorf("%q parsed as %+v", bad, r)
		}
	}
}
