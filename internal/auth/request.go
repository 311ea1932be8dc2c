package auth

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// CheckOrigin refuses a state-changing request that a browser says came
// from another site. It looks at Origin, then Referer, and accepts the
// server's own origin (see OriginAllowed). A request with neither header
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
	if !a.originAllowed(origin, r) {
		return ErrForeignOrigin
	}
	return nil
}

// OriginAllowed reports whether r's Origin header names the server's own
// origin or one of Config.AllowedOrigins, comparing scheme, host and port
// as browsers define an origin. The server's own origin is Config.PublicURL's
// when set (behind a TLS-terminating proxy, where the request itself arrives
// over plain HTTP); otherwise the request's Host, with https when it came
// over TLS (or said so in X-Forwarded-Proto, with Config.TrustProxyHeaders).
// The socket layer uses it for its handshakes.
func (a *Auth) OriginAllowed(r *http.Request) bool {
	return a.originAllowed(r.Header.Get("Origin"), r)
}

func (a *Auth) originAllowed(origin string, r *http.Request) bool {
	o, ok := normalOrigin(origin)
	if !ok {
		return false // includes the opaque origin "null"
	}
	if o == a.selfOrigin(r) {
		return true
	}
	for _, allowed := range a.cfg.AllowedOrigins {
		if n, ok := normalOrigin(allowed); ok && n == o {
			return true
		}
	}
	return false
}

// selfOrigin returns the origin of the server's own pages, for request r.
func (a *Auth) selfOrigin(r *http.Request) string {
	if a.publicOrigin != "" {
		return a.publicOrigin
	}
	scheme := "http"
	if r.TLS != nil || (a.cfg.TrustProxyHeaders && r.Header.Get("X-Forwarded-Proto") == "https") {
		scheme = "https"
	}
	return scheme + "://" + normalHost(r.Host, scheme)
}

// normalOrigin returns the origin s names ("https://chat.example:8443"): scheme, host and port,
// lower-cased, the scheme's default port left out. It reports false for anything but an http or
// https origin. A full URL (a Referer) gives its origin.
func normalOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	return scheme + "://" + normalHost(u.Host, scheme), true
}

// normalHost lower-cases host ("name" or "name:port") and drops the port when it is scheme's
// default.
func normalHost(host, scheme string) string {
	host = strings.ToLower(host)
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return host
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
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
