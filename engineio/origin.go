package engineio

import (
	"net"
	"net/url"
	"strings"
)

// normalOrigin returns the origin s names ("https://chat.example:8443"), as browsers define
// an origin: scheme, host and port, lower-cased, the scheme's default port left out. It reports
// false for anything that is not an http or https origin (the opaque "null" included). A full URL
// (a Referer) gives its origin.
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
			return "[" + h + "]" // an IPv6 literal keeps its brackets
		}
		return h
	}
	return host
}
