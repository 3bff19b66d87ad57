package clientip

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []string // the trusted prefixes, as stored
	}{
		{"", nil},
		{"   ", nil},
		{" \t ", nil},
		{"10.0.0.1", []string{"10.0.0.1/32"}},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}},
		{"2001:db8::1", []string{"2001:db8::1/128"}},
		{"2001:DB8::/32", []string{"2001:db8::/32"}},
		{" 10.0.0.0/8 , 2001:db8::/32 ,fd00::1 ,192.0.2.7", []string{"10.0.0.0/8", "2001:db8::/32", "fd00::1/128", "192.0.2.7/32"}},
		{"\t10.0.0.1\t,\t10.0.0.2 ", []string{"10.0.0.1/32", "10.0.0.2/32"}},
		{"10.0.0.1/32, 10.0.0.1", []string{"10.0.0.1/32", "10.0.0.1/32"}},
		{"0.0.0.0/0, ::/0", []string{"0.0.0.0/0", "::/0"}},
		{"::ffff:10.0.0.1", []string{"10.0.0.1/32"}},
		{"::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}},
		{"::ffff:0:0/96", []string{"0.0.0.0/0"}},
		{"::/8", []string{"::/8"}},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		var got []string
		for _, p := range r.trusted {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want []string // substrings of the error
	}{
		{",", []string{"item 1", "empty"}},
		{"10.0.0.1,", []string{"item 2", "empty"}},
		{",10.0.0.1", []string{"item 1", "empty"}},
		{"10.0.0.1,,10.0.0.2", []string{"item 2", "empty"}},
		{"10.0.0.1, ,10.0.0.2", []string{"item 2", "empty"}},
		{"foo", []string{"item 1", `"foo"`, "not an IP address or CIDR prefix"}},
		{"10.0.0.1, proxy.internal", []string{"item 2", `"proxy.internal"`}},
		{"10.0.0.256", []string{`"10.0.0.256"`, "not an IP address"}},
		{"010.0.0.1", []string{`"010.0.0.1"`}},
		{"10.0.0.1 10.0.0.2", []string{`"10.0.0.1 10.0.0.2"`}},
		{"10.0.0.1;10.0.0.2", []string{`"10.0.0.1;10.0.0.2"`}},
		{"10.0.0.1:80", []string{`"10.0.0.1:80"`}},
		{"[::1]", []string{`"[::1]"`}},
		{"[::1]:80", []string{`"[::1]:80"`}},
		{"fe80::1%eth0", []string{`"fe80::1%eth0"`, "zones are not allowed"}},
		{"fe80::%eth0/64", []string{"zones are not allowed"}},
		{"10.0.0.0/33", []string{`"10.0.0.0/33"`, "not a valid CIDR prefix"}},
		{"2001:db8::/129", []string{"not a valid CIDR prefix"}},
		{"10.0.0.0/", []string{"not a valid CIDR prefix"}},
		{"/8", []string{"not a valid CIDR prefix"}},
		{"10.0.0.0/-1", []string{"not a valid CIDR prefix"}},
		{"10.0.0.0/08", []string{"not a valid CIDR prefix"}},
		{"10.0.0.0 /8", []string{"not a valid CIDR prefix"}},
		{"10.0.0.0/8/8", []string{"not a valid CIDR prefix"}},
		{"10.0.0.1/8", []string{`"10.0.0.1/8"`, "bits set beyond the prefix length", `"10.0.0.0/8"`, `"10.0.0.1"`}},
		{"2001:db8::1/32", []string{"bits set beyond the prefix length", `"2001:db8::/32"`}},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want an error", tt.in, r.trusted)
			continue
		}
		if r != nil {
			t.Errorf("Parse(%q) returned a Resolver with its error", tt.in)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "clientip: trusted proxies: ") {
			t.Errorf("Parse(%q) error %q lacks the package prefix", tt.in, msg)
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("Parse(%q) error %q does not contain %q", tt.in, msg, w)
			}
		}
	}
}

// trusted is the proxy list of most ClientIP tests.
const trusted = "10.0.0.0/8, 192.0.2.10, 2001:db8:ffff::/48, fd00::1"

func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		proxies string
		remote  string
		xff     []string // X-Forwarded-For header lines; nil for none
		want    string   // netip.Addr.String(); "invalid IP" for the zero Addr
	}{
		// No proxy trusted: the peer, whatever the header says.
		{"no proxies v4", "", "203.0.113.7:1234", nil, "203.0.113.7"},
		{"no proxies xff ignored", "", "203.0.113.7:1234", []string{"198.51.100.7"}, "203.0.113.7"},
		{"no proxies private peer xff ignored", "", "10.0.0.1:1234", []string{"198.51.100.7"}, "10.0.0.1"},
		{"no proxies v6", "", "[2001:db8:1::5]:443", []string{"198.51.100.7"}, "2001:db8:1::5"},

		// Untrusted peer: X-Forwarded-For is a spoof.
		{"spoofed xff", trusted, "203.0.113.7:1234", []string{"198.51.100.7"}, "203.0.113.7"},
		{"spoofed xff naming a proxy", trusted, "203.0.113.7:1234", []string{"198.51.100.7, 10.0.0.5"}, "203.0.113.7"},
		{"spoofed xff v6 peer", trusted, "[2001:db8:1::5]:1234", []string{"198.51.100.7"}, "2001:db8:1::5"},
		{"spoofed xff near proxy prefix", trusted, "192.0.2.11:1234", []string{"198.51.100.7"}, "192.0.2.11"},

		// One trusted proxy.
		{"one proxy", trusted, "10.0.0.1:1234", []string{"198.51.100.7"}, "198.51.100.7"},
		{"one proxy single address", trusted, "192.0.2.10:1234", []string{"198.51.100.7"}, "198.51.100.7"},
		{"one proxy client spoofs left", trusted, "10.0.0.1:1234", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"one proxy client spoofs a proxy", trusted, "10.0.0.1:1234", []string{"10.9.9.9, 198.51.100.7"}, "198.51.100.7"},
		{"one proxy no header", trusted, "10.0.0.1:1234", nil, "10.0.0.1"},
		{"one proxy empty header", trusted, "10.0.0.1:1234", []string{""}, "10.0.0.1"},
		{"one proxy blank header", trusted, "10.0.0.1:1234", []string{" , ,"}, "10.0.0.1"},
		{"one proxy tabs", trusted, "10.0.0.1:1234", []string{"\t198.51.100.7\t"}, "198.51.100.7"},
		{"one proxy no spaces", trusted, "10.0.0.1:1234", []string{"6.6.6.6,198.51.100.7"}, "198.51.100.7"},

		// Chains of trusted proxies.
		{"chain", trusted, "10.0.0.1:1234", []string{"6.6.6.6, 198.51.100.7, 192.0.2.10, 10.1.2.3"}, "198.51.100.7"},
		{"chain mixed families", trusted, "[fd00::1]:80", []string{"198.51.100.7, 2001:db8:ffff::2, 10.0.0.9"}, "198.51.100.7"},
		{"chain all trusted", trusted, "10.0.0.1:1234", []string{"10.9.9.9, 192.0.2.10"}, "10.9.9.9"},
		{"chain all trusted one entry", trusted, "10.0.0.1:1234", []string{"10.9.9.9"}, "10.9.9.9"},
		{"chain empty entries", trusted, "10.0.0.1:1234", []string{"198.51.100.7, , 10.0.0.2,"}, "198.51.100.7"},

		// Several header lines form one list, in order.
		{"lines", trusted, "10.0.0.1:1234", []string{"6.6.6.6, 198.51.100.7", "10.0.0.2"}, "198.51.100.7"},
		{"lines client in last", trusted, "10.0.0.1:1234", []string{"6.6.6.6", "198.51.100.7, 10.0.0.2"}, "198.51.100.7"},
		{"lines client in first", trusted, "10.0.0.1:1234", []string{"6.6.6.6, 198.51.100.7", "10.0.0.2, 10.0.0.3", "192.0.2.10"}, "198.51.100.7"},
		{"lines empty line between", trusted, "10.0.0.1:1234", []string{"198.51.100.7", "", "10.0.0.2"}, "198.51.100.7"},
		{"lines all trusted", trusted, "10.0.0.1:1234", []string{"10.0.0.7", "10.0.0.8"}, "10.0.0.7"},

		// Garbage stops the walk at the last good address seen.
		{"garbage only", trusted, "10.0.0.1:1234", []string{"unknown"}, "10.0.0.1"},
		{"garbage right-most", trusted, "10.0.0.1:1234", []string{"198.51.100.7, garbage"}, "10.0.0.1"},
		{"garbage after proxy", trusted, "10.0.0.1:1234", []string{"6.6.6.6, garbage, 10.0.0.2"}, "10.0.0.2"},
		{"garbage after proxies", trusted, "10.0.0.1:1234", []string{"6.6.6.6, _hidden, 10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"garbage left of client", trusted, "10.0.0.1:1234", []string{"garbage, 198.51.100.7, 10.0.0.2"}, "198.51.100.7"},
		{"garbage in another line", trusted, "10.0.0.1:1234", []string{"6.6.6.6", "junk", "10.0.0.2"}, "10.0.0.2"},
		{"garbage space separated", trusted, "10.0.0.1:1234", []string{"198.51.100.7 10.0.0.2"}, "10.0.0.1"},
		{"garbage semicolons", trusted, "10.0.0.1:1234", []string{"198.51.100.7;10.0.0.2"}, "10.0.0.1"},
		{"garbage five octets", trusted, "10.0.0.1:1234", []string{"1.2.3.4.5"}, "10.0.0.1"},
		{"garbage octet range", trusted, "10.0.0.1:1234", []string{"198.51.100.256"}, "10.0.0.1"},
		{"garbage leading zero", trusted, "10.0.0.1:1234", []string{"198.051.100.7"}, "10.0.0.1"},
		{"garbage bracketed v4", trusted, "10.0.0.1:1234", []string{"[198.51.100.7]"}, "10.0.0.1"},
		{"garbage bad port", trusted, "10.0.0.1:1234", []string{"198.51.100.7:99999"}, "10.0.0.1"},
		{"garbage empty port", trusted, "10.0.0.1:1234", []string{"198.51.100.7:"}, "10.0.0.1"},
		{"garbage prefix", trusted, "10.0.0.1:1234", []string{"198.51.100.0/24"}, "10.0.0.1"},
		{"garbage quoted", trusted, "10.0.0.1:1234", []string{`"198.51.100.7"`}, "10.0.0.1"},
		{"garbage Forwarded syntax", trusted, "10.0.0.1:1234", []string{"for=198.51.100.7"}, "10.0.0.1"},

		// IPv6 peers and entries.
		{"v6 proxy v6 client", trusted, "[2001:db8:ffff::1]:443", []string{"2001:db8:1::5"}, "2001:db8:1::5"},
		{"v6 proxy v4 client", trusted, "[fd00::1]:443", []string{"198.51.100.7"}, "198.51.100.7"},
		{"v4 proxy v6 client", trusted, "10.0.0.1:443", []string{"2001:db8:1::5"}, "2001:db8:1::5"},
		{"v6 uppercase entry", trusted, "10.0.0.1:443", []string{"2001:DB8:1::5"}, "2001:db8:1::5"},
		{"v6 entry bracketed", trusted, "10.0.0.1:443", []string{"[2001:db8:1::5]"}, "2001:db8:1::5"},
		{"v6 entry with port", trusted, "10.0.0.1:443", []string{"[2001:db8:1::5]:5555"}, "2001:db8:1::5"},
		{"v6 untrusted neighbour of proxy prefix", trusted, "[2001:db8:fffe::1]:443", []string{"2001:db8:1::5"}, "2001:db8:fffe::1"},
		{"v6 chain", trusted, "[fd00::1]:443", []string{"2001:db8:1::5, 2001:db8:ffff::7"}, "2001:db8:1::5"},
		{"v6 loopback peer untrusted", trusted, "[::1]:443", []string{"198.51.100.7"}, "::1"},

		// Ports on entries.
		{"v4 entry with port", trusted, "10.0.0.1:443", []string{"198.51.100.7:5555"}, "198.51.100.7"},
		{"proxy entry with port", trusted, "10.0.0.1:443", []string{"198.51.100.7, 10.0.0.2:80"}, "198.51.100.7"},

		// IPv4-mapped IPv6 addresses are IPv4.
		{"mapped peer untrusted", trusted, "[::ffff:203.0.113.7]:80", nil, "203.0.113.7"},
		{"mapped peer trusted", trusted, "[::ffff:10.0.0.1]:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"mapped entry client", trusted, "10.0.0.1:80", []string{"::ffff:198.51.100.7"}, "198.51.100.7"},
		{"mapped entry proxy", trusted, "10.0.0.1:80", []string{"198.51.100.7, ::ffff:10.0.0.2"}, "198.51.100.7"},
		{"mapped entry bracketed with port", trusted, "10.0.0.1:80", []string{"[::ffff:198.51.100.7]:80"}, "198.51.100.7"},
		{"mapped trusted list", "::ffff:10.0.0.0/104", "10.1.1.1:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"mapped trusted list mapped peer", "::ffff:10.0.0.0/104", "[::ffff:10.1.1.1]:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"v6 any does not trust v4", "::/0", "10.0.0.1:80", []string{"198.51.100.7"}, "10.0.0.1"},
		{"v4 any does not trust v6", "0.0.0.0/0", "[2001:db8::1]:80", []string{"198.51.100.7"}, "2001:db8::1"},

		// Zones are dropped.
		{"zone peer", "", "[fe80::1%eth0]:80", nil, "fe80::1"},
		{"zone peer trusted", "fe80::/64", "[fe80::1%eth0]:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"zone entry", "fe80::/64", "[fe80::1%eth0]:80", []string{"2001:db8:1::5%eth1"}, "2001:db8:1::5"},
		{"zone entry with port", trusted, "10.0.0.1:80", []string{"[fe80::2%eth1]:80"}, "fe80::2"},

		// RemoteAddr forms.
		{"remote bare v4", "", "203.0.113.7", nil, "203.0.113.7"},
		{"remote bare v6", "", "2001:db8::1", nil, "2001:db8::1"},
		{"remote bracketed v6", "", "[2001:db8::1]", nil, "2001:db8::1"},
		{"remote port zero", "", "203.0.113.7:0", nil, "203.0.113.7"},
		{"remote empty", trusted, "", []string{"198.51.100.7"}, "invalid IP"},
		{"remote garbage", trusted, "garbage:80", []string{"198.51.100.7"}, "invalid IP"},
		{"remote unix socket", trusted, "@", []string{"198.51.100.7"}, "invalid IP"},
		{"remote empty port", "", "203.0.113.7:", nil, "invalid IP"},
		{"remote bad port", "", "203.0.113.7:65536", nil, "invalid IP"},
		{"remote bracketed v4", "", "[203.0.113.7]:80", nil, "invalid IP"},
		{"remote unclosed bracket", "", "[2001:db8::1:80", nil, "invalid IP"},
		{"remote hostname", "", "localhost:80", nil, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(tt.proxies)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			got := r.ClientIP(req)
			if got.String() != tt.want {
				t.Errorf("ClientIP(RemoteAddr %q, X-Forwarded-For %q) = %v, want %v", tt.remote, tt.xff, got, tt.want)
			}
			if got.Zone() != "" || got.Is4In6() {
				t.Errorf("ClientIP = %v, not normalised", got)
			}
		})
	}
}

func TestClientIPNilResolver(t *testing.T) {
	var r *Resolver
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "10.0.0.1:1234"
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	if got := r.ClientIP(req); got.String() != "10.0.0.1" {
		t.Errorf("nil Resolver: ClientIP = %v, want the peer 10.0.0.1", got)
	}
	if got := new(Resolver).ClientIP(req); got.String() != "10.0.0.1" {
		t.Errorf("zero Resolver: ClientIP = %v, want the peer 10.0.0.1", got)
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		in   netip.Addr
		want string
	}{
		{netip.MustParseAddr("203.0.113.7"), "203.0.113.7"},
		{netip.MustParseAddr("0.0.0.0"), "0.0.0.0"},
		{netip.MustParseAddr("::ffff:203.0.113.7"), "203.0.113.7"},
		{netip.MustParseAddr("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64"},
		{netip.MustParseAddr("2001:db8:1:2::1"), "2001:db8:1:2::/64"},
		{netip.MustParseAddr("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64"},
		{netip.MustParseAddr("2001:db8:1:3::1"), "2001:db8:1:3::/64"},
		{netip.MustParseAddr("2001:db8::"), "2001:db8::/64"},
		{netip.MustParseAddr("::1"), "::/64"},
		{netip.MustParseAddr("fe80::1%eth0"), "fe80::/64"},
		{netip.Addr{}, "invalid IP"},
	}
	for _, tt := range tests {
		if got := Key(tt.in); got != tt.want {
			t.Errorf("Key(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMiddleware(t *testing.T) {
	r, err := Parse(trusted)
	if err != nil {
		t.Fatal(err)
	}
	var got netip.Addr
	called := false
	h := r.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		called = true
		got = FromContext(req.Context())
		w.WriteHeader(http.StatusTeapot)
	}))

	tests := []struct {
		remote, xff, want string
	}{
		{"10.0.0.1:1234", "6.6.6.6, 198.51.100.7", "198.51.100.7"},
		{"203.0.113.7:1234", "198.51.100.7", "203.0.113.7"},
		{"[2001:db8:ffff::1]:443", "2001:db8:1::5", "2001:db8:1::5"},
		{"nonsense", "198.51.100.7", "invalid IP"},
	}
	for _, tt := range tests {
		called, got = false, netip.Addr{}
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = tt.remote
		req.Header.Set("X-Forwarded-For", tt.xff)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !called || rec.Code != http.StatusTeapot {
			t.Fatalf("handler not called (status %d)", rec.Code)
		}
		if got.String() != tt.want {
			t.Errorf("RemoteAddr %q, X-Forwarded-For %q: FromContext = %v, want %v", tt.remote, tt.xff, got, tt.want)
		}
	}
}

// TestMiddlewareServer runs the middleware in a real server, whose
// RemoteAddr is what net/http sets.
func TestMiddlewareServer(t *testing.T) {
	for _, tt := range []struct{ proxies, want string }{
		{"", "127.0.0.1"},
		{"127.0.0.1", "198.51.100.7"},
		{"127.0.0.0/8", "198.51.100.7"},
	} {
		r, err := Parse(tt.proxies)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(r.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			io.WriteString(w, FromContext(req.Context()).String())
		})))
		req, err := http.NewRequest("GET", srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.7")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if string(body) != tt.want {
			t.Errorf("TRUSTED_PROXIES %q: client %q, want %q", tt.proxies, body, tt.want)
		}
	}
}

func TestFromContext(t *testing.T) {
	if got := FromContext(context.Background()); got.IsValid() {
		t.Errorf("FromContext(empty) = %v, want the zero Addr", got)
	}
	if got := Key(FromContext(context.Background())); got != "invalid IP" {
		t.Errorf("Key(FromContext(empty)) = %q, want %q", got, "invalid IP")
	}
	a := netip.MustParseAddr("2001:db8::1")
	if got := FromContext(NewContext(context.Background(), a)); got != a {
		t.Errorf("FromContext(NewContext(%v)) = %v", a, got)
	}
}

// referenceClientIP is ClientIP written the plain way: collect every
// entry, then walk them from the right.
func referenceClientIP(r *Resolver, req *http.Request) netip.Addr {
	peer, ok := parseHost(req.RemoteAddr)
	if !ok {
		return netip.Addr{}
	}
	if !r.trusts(peer) {
		return peer
	}
	var entries []string
	for _, line := range req.Header.Values("X-Forwarded-For") {
		for _, e := range strings.Split(line, ",") {
			if e = strings.Trim(e, " \t"); e != "" {
				entries = append(entries, e)
			}
		}
	}
	last := peer
	for i := len(entries) - 1; i >= 0; i-- {
		a, ok := parseHost(entries[i])
		if !ok {
			break
		}
		last = a
		if !r.trusts(a) {
			break
		}
	}
	return last
}

// headerAddrs returns every address that could be read from the header
// lines, by more lenient parsing than ClientIP's.
func headerAddrs(lines []string) map[netip.Addr]bool {
	m := map[netip.Addr]bool{}
	for _, line := range lines {
		for _, e := range strings.Split(line, ",") {
			e = strings.TrimSpace(e)
			var cands []netip.Addr
			if a, err := netip.ParseAddr(e); err == nil {
				cands = append(cands, a)
			}
			if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(e, "["), "]")); err == nil {
				cands = append(cands, a)
			}
			if ap, err := netip.ParseAddrPort(e); err == nil {
				cands = append(cands, ap.Addr())
			}
			for _, a := range cands {
				m[a.WithZone("").Unmap()] = true
			}
		}
	}
	return m
}

func FuzzClientIP(f *testing.F) {
	seeds := [][2]string{
		{"", ""},
		{"198.51.100.7", ""},
		{"6.6.6.6, 198.51.100.7, 10.0.0.2", ""},
		{"10.0.0.9, 192.0.2.10", "10.0.0.2"},
		{"6.6.6.6, garbage, 10.0.0.2", ""},
		{"unknown", "10.0.0.3"},
		{"[2001:db8:1::5]:80, ::ffff:10.0.0.1", "fe80::1%eth0"},
		{" , ,,", "\t2001:DB8:ffff::1\t"},
		{"198.51.100.7:8080,[::1],[1.2.3.4]", "1.2.3.4:"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	const peerAddr = "10.0.0.1"
	proxies, err := Parse(trusted)
	if err != nil {
		f.Fatal(err)
	}
	nobody, err := Parse("")
	if err != nil {
		f.Fatal(err)
	}
	peer := netip.MustParseAddr(peerAddr)
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = peerAddr + ":1234"
		req.Header["X-Forwarded-For"] = []string{line1, line2}

		if got := nobody.ClientIP(req); got != peer {
			t.Fatalf("untrusted peer: ClientIP = %v, want the peer %v", got, peer)
		}
		got := proxies.ClientIP(req)
		if !got.IsValid() || got.Zone() != "" || got.Is4In6() {
			t.Fatalf("ClientIP = %v: invalid or not normalised", got)
		}
		if got != peer && !headerAddrs([]string{line1, line2})[got] {
			t.Fatalf("ClientIP = %v: neither the peer nor in the header %q", got, []string{line1, line2})
		}
		if want := referenceClientIP(proxies, req); got != want {
			t.Fatalf("ClientIP = %v, reference walk says %v (header %q)", got, want, []string{line1, line2})
		}
	})
}
