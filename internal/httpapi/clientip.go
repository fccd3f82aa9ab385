package httpapi

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddress decides which address a request comes from, for rate
// limits, the websocket cap and the access log, and stores it in the
// request's info.
//
// The address is the TCP peer (RemoteAddr), unless the peer is one of the
// trusted proxies (TRUSTED_PROXIES): then X-Forwarded-For is read from the
// right, skipping addresses of trusted proxies, and the first address that
// is not one is the client. Every proxy appends the address it received
// the request from, so that address was written by a proxy we trust; what
// lies to its left was written by the client and is ignored. (chi's RealIP
// takes the left-most value, which any client can set.)
func clientAddress(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if info := infoFrom(r.Context()); info != nil {
				if addr := clientIP(r, trusted); addr.IsValid() {
					info.clientIP = addr.String()
				} else {
					info.clientIP = "unknown"
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// clientIP returns the client's address as clientAddress describes, or the
// zero Addr if even the peer's address cannot be parsed.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	client := peer
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			addr := parseAddr(strings.TrimSpace(parts[j]))
			if !addr.IsValid() {
				return client // garbage where a trusted proxy should have written: stop at the last good hop
			}
			client = addr
			if !isTrusted(addr, trusted) {
				return client
			}
		}
	}
	return client
}

// parseAddr reads "1.2.3.4", "1.2.3.4:56", "::1", "[::1]:56" or "[::1]".
func parseAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// limitKey is the key a client address is rate limited under: the address
// itself for IPv4, its /64 network for IPv6 (one subscriber commonly holds a
// whole /64, so per-address limits would not limit anyone).
func limitKey(clientIP string) string {
	addr, err := netip.ParseAddr(clientIP)
	if err != nil || !addr.Is6() {
		return clientIP
	}
	p, _ := addr.WithZone("").Prefix(64)
	return p.String()
}
