// Package clientip decides which IP address a request comes from, so that
// per-IP rate limits (failed logins, sign-ups, password-reset mails) count
// the right client.
//
// # Trusted proxies
//
// By default the client is the connection's peer, req.RemoteAddr, and the
// X-Forwarded-For header is ignored: anyone can send that header, so
// believing it would let an attacker pick a fresh address for every
// request and never be limited. Only when fleetgate runs behind reverse
// proxies or load balancers, listed in the TRUSTED_PROXIES environment
// variable (see Parse), does the header say something: a trusted proxy
// appends the address it received the request from, so the entries it
// appended can be believed.
//
// # The rules
//
// ClientIP normalises every address the same way: an IPv6 zone ("%eth0")
// is dropped and an IPv4-mapped IPv6 address (::ffff:192.0.2.1) becomes the
// IPv4 address (192.0.2.1). Then:
//
//  1. The peer is req.RemoteAddr, as "host:port" ("192.0.2.1:1234",
//     "[2001:db8::1]:1234", "[fe80::1%eth0]:1234"); a bare address without
//     a port is accepted too. If RemoteAddr cannot be parsed, the result is
//     the zero netip.Addr, whose String is "invalid IP": all such requests
//     share one rate-limit key, which fails closed rather than open.
//  2. If the peer is not a trusted proxy, it is the client. X-Forwarded-For
//     is not looked at.
//  3. Otherwise the X-Forwarded-For entries — from all header lines, in
//     order, each line split at commas and each entry trimmed of spaces and
//     tabs — are walked from the right, that is from the hop nearest to
//     fleetgate. Empty entries ("a, , b", a trailing comma, an empty line)
//     are skipped, as RFC 9110 §5.6.1 requires of list headers.
//  4. The first entry that is not a trusted proxy is the client.
//  5. If the walk ends without finding one — every entry is a trusted
//     proxy, or an entry is not a valid address ("unknown", garbage) and
//     the walk stops there — the client is the last address the walk
//     reached: the left-most valid entry to the right of where it stopped,
//     or the peer if there is none (no header, or the right-most entry is
//     already invalid). Every entry right of the stopping point was written
//     by a trusted proxy, so this is the farthest hop that can be believed;
//     nothing left of an invalid entry is believed, since the proxy that
//     should have vouched for it wrote garbage instead.
//
// An entry is an IP address, optionally in brackets (IPv6) and optionally
// with a port ("192.0.2.1:80", "[2001:db8::1]:80"), as some proxies write
// them. The result is therefore always either the peer or an address
// written in the header.
//
// # Use
//
// Wrap the HTTP handler with Resolver.Middleware and read the address with
// FromContext; key rate limits on Key(addr), which groups an IPv6 client's
// whole /64 network (see Key).
package clientip

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds the client address of requests, trusting X-Forwarded-For
// only from the configured proxies. The zero Resolver (and a nil *Resolver)
// trusts no proxy. A Resolver is safe for concurrent use.
type Resolver struct {
	// trusted are the trusted proxies, masked; IPv4-mapped IPv6 prefixes
	// are stored as IPv4 prefixes, since addresses are unmapped too.
	trusted []netip.Prefix
}

// Parse reads the value of the TRUSTED_PROXIES environment variable: a
// comma-separated list of IP addresses ("10.0.0.1", "2001:db8::1") and CIDR
// prefixes ("10.0.0.0/8", "2001:db8::/32"), IPv4 or IPv6, with optional
// spaces around items. An empty (or all-blank) value means no proxy is
// trusted.
//
// Parse is strict, since a mistake here either lets clients spoof their
// address or lumps all clients into one: it rejects empty items ("a,,b", a
// trailing comma), ports, brackets, zones ("fe80::1%eth0") and prefixes with
// bits set beyond their length ("10.0.0.1/8", which would be ambiguous
// between the host and the network). An IPv4-mapped IPv6 address or prefix
// of length at least 96 (::ffff:10.0.0.0/104) is taken as the IPv4 one
// (10.0.0.0/8); any other IPv6 prefix, even ::/0, matches only IPv6
// addresses.
func Parse(trustedProxies string) (*Resolver, error) {
	r := &Resolver{}
	if strings.TrimSpace(trustedProxies) == "" {
		return r, nil
	}
	for i, item := range strings.Split(trustedProxies, ",") {
		item = strings.TrimSpace(item)
		p, err := parseTrusted(item)
		if err != nil {
			return nil, fmt.Errorf("clientip: trusted proxies: item %d: %w", i+1, err)
		}
		r.trusted = append(r.trusted, p)
	}
	return r, nil
}

// parseTrusted parses one item of the trusted proxies list.
func parseTrusted(item string) (netip.Prefix, error) {
	if item == "" {
		return netip.Prefix{}, fmt.Errorf("empty item (stray comma?)")
	}
	if strings.Contains(item, "%") {
		return netip.Prefix{}, fmt.Errorf("%q: IPv6 zones are not allowed", item)
	}
	if strings.Contains(item, "/") {
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a valid CIDR prefix: %w", item, err)
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, fmt.Errorf("%q has bits set beyond the prefix length (did you mean %q or %q?)",
				item, m.String(), p.Addr().String())
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(item)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix: %w", item, err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// trusts reports whether a is a trusted proxy. a must be normalised.
func (r *Resolver) trusts(a netip.Addr) bool {
	if r == nil {
		return false
	}
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// FromTrustedProxy reports whether the request's peer is a trusted proxy,
// whose headers (X-Forwarded-For, X-Request-Id) may be believed.
func (r *Resolver) FromTrustedProxy(req *http.Request) bool {
	peer, ok := parseHost(req.RemoteAddr)
	return ok && r.trusts(peer)
}

// ClientIP returns the address the request comes from, following the rules
// of the package documentation. It returns the zero Addr only when
// req.RemoteAddr cannot be parsed.
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	peer, ok := parseHost(req.RemoteAddr)
	if !ok {
		return netip.Addr{}
	}
	if !r.trusts(peer) {
		return peer
	}
	client := peer
	lines := req.Header.Values("X-Forwarded-For")
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for rest != "" {
			var entry string
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				entry, rest = rest[j+1:], rest[:j]
			} else {
				entry, rest = rest, ""
			}
			entry = strings.Trim(entry, " \t")
			if entry == "" {
				continue
			}
			a, ok := parseHost(entry)
			if !ok {
				return client
			}
			client = a
			if !r.trusts(a) {
				return client
			}
		}
	}
	return client
}

// parseHost parses "addr", "[addr]", "addr:port" or "[addr]:port", and
// normalises the address (no zone, IPv4-mapped unmapped).
func parseHost(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		if n := len(s); n > 2 && s[0] == '[' && s[n-1] == ']' {
			a, err = netip.ParseAddr(s[1 : n-1])
			if err == nil && !a.Is6() {
				return netip.Addr{}, false // "[192.0.2.1]"
			}
		} else {
			var ap netip.AddrPort
			ap, err = netip.ParseAddrPort(s)
			a = ap.Addr()
		}
		if err != nil {
			return netip.Addr{}, false
		}
	}
	return a.WithZone("").Unmap(), true
}

type contextKey struct{}

// Middleware stores the client address of every request (ClientIP) in its
// context, for FromContext.
func (r *Resolver) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := NewContext(req.Context(), r.ClientIP(req))
		next.ServeHTTP(w, req.WithContext(ctx))
	})
}

// NewContext returns a copy of ctx carrying a as the client address; tests
// and code outside an HTTP request use it where Middleware is not run.
func NewContext(ctx context.Context, a netip.Addr) context.Context {
	return context.WithValue(ctx, contextKey{}, a)
}

// FromContext returns the client address stored by Middleware (or
// NewContext). It returns the zero Addr, whose String and Key are
// "invalid IP", if there is none.
func FromContext(ctx context.Context) netip.Addr {
	a, _ := ctx.Value(contextKey{}).(netip.Addr)
	return a
}

// Key returns the rate-limit key of a client address: an IPv4 address as
// is ("203.0.113.7"); an IPv6 address as its /64 network
// ("2001:db8:1:2::/64").
//
// IPv6 addresses are reduced to their /64 because a single host usually
// controls a whole /64 (a /64 is the standard size of one subnet and the
// smallest block an ISP hands a customer; SLAAC privacy addresses pick a
// new random interface identifier within it all the time): with 2^64
// addresses at hand, a limit per address would never be hit. A whole /64 is
// about what one IPv4 address is — a household, or a single machine.
//
// Zones are dropped and IPv4-mapped IPv6 addresses count as IPv4. The zero
// Addr gives "invalid IP". The two forms cannot collide: IPv6 keys contain
// ':' and '/', IPv4 keys neither.
func Key(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	if !a.Is6() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
