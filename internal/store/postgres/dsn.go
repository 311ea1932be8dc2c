package postgres

import (
	"net/url"
	"strings"
)

// Redact returns url with its password (in the user part or a password=
// parameter) replaced by "xxxxx", for logs and error messages.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		// Not a URL (a keyword/value string, or garbage): show nothing of it
		// rather than risk showing a password.
		return "(DATABASE_URL not shown)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// hasParam reports whether the connection string sets the parameter name,
// as a URL query parameter or as a keyword/value pair.
func hasParam(connString, name string) bool {
	if u, err := url.Parse(connString); err == nil && u.Scheme != "" {
		return u.Query().Has(name)
	}
	for _, field := range strings.Fields(connString) {
		if k, _, ok := strings.Cut(field, "="); ok && strings.TrimSpace(k) == name {
			return true
		}
	}
	return false
}
