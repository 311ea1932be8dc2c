package auth

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// CheckOrigin refuses a state-changing request that a browser says came
// from another site. It looks at Origin, then Referer; the request's own
// host and Config.AllowedOrigins are accepted. A request with neither header
// (an old browser, curl) passes here unless Sec-Fetch-Site says cross-site,
// and is left to the CSRF token. It returns ErrForeignOrigin.
func (a *Auth) CheckOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		if ref := r.Header.Get("Referer"); ref != "" {
			origin = ref
		}
	}
	if origin == "" {
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return ErrForeignOrigin
		}
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ErrForeignOrigin // includes the opaque origin "null"
	}
	if strings.EqualFold(stripDefaultPort(u.Host, u.Scheme), stripDefaultPort(r.Host, "")) {
		return nil
	}
	self := u.Scheme + "://" + u.Host
	for _, allowed := range a.cfg.AllowedOrigins {
		if strings.EqualFold(strings.TrimSuffix(allowed, "/"), self) {
			return nil
		}
	}
	return ErrForeignOrigin
}

// stripDefaultPort removes a port that is implied by scheme (any default
// port when scheme is empty), so "example.com:443" and "example.com" match.
func stripDefaultPort(host, scheme string) string {
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return host
	}
	if (port == "80" && scheme != "https") || (port == "443" && scheme != "http") {
		return h
	}
	return host
}

// ClientIP returns the address of the client that sent r, for rate
// limiting: the connection's peer, or with Config.TrustProxyHeaders the
// address the nearest proxy saw (the last X-Forwarded-For entry).
func (a *Auth) ClientIP(r *http.Request) string {
	if a.cfg.TrustProxyHeaders {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := strings.TrimSpace(last); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
