// Package dburl picks Herald's store backend from DATABASE_URL alone, so
// that nothing else in the program knows which database it has:
//
//	postgres://… or postgresql://…           PostgreSQL (store/postgres)
//	a path, sqlite://path, file:…, :memory:  SQLite (store/sqlite); empty means herald.db
//
// Anything else that starts like a URL (a scheme and a colon, say
// mysql://… or postgre://…) is refused with an error naming the accepted
// forms: a mistyped URL must never quietly become a new SQLite file.
package dburl

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/herald-chat/herald/internal/store"
	"github.com/herald-chat/herald/internal/store/postgres"
	"github.com/herald-chat/herald/internal/store/sqlite"
)

// Backend names a store implementation.
type Backend string

// The backends DATABASE_URL can name.
const (
	SQLite     Backend = "sqlite"
	PostgreSQL Backend = "postgres"
)

// Forms lists the accepted DATABASE_URL forms, for error messages and help.
const Forms = "postgres://user:password@host:5432/dbname (or postgresql://…) for PostgreSQL; " +
	"a file path, sqlite://path or file:path for SQLite"

// Parse tells which backend rawURL names. It fails for an unknown scheme.
func Parse(rawURL string) (Backend, error) {
	s := strings.TrimSpace(rawURL)
	scheme, ok := schemeOf(s)
	if !ok {
		return SQLite, nil // a plain path, or empty
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if !strings.HasPrefix(s[len(scheme)+1:], "//") {
			return "", fmt.Errorf("DATABASE_URL %s: a PostgreSQL URL starts with %s://; accepted forms: %s", Redact(s), scheme, Forms)
		}
		return PostgreSQL, nil
	case "sqlite", "sqlite3", "file":
		return SQLite, nil
	}
	return "", fmt.Errorf("DATABASE_URL %s: unknown scheme %q; accepted forms: %s (a file name with a colon in it: write ./name)",
		Redact(s), scheme, Forms)
}

// schemeOf returns the URL scheme s starts with ("name:" by RFC 3986: a
// letter, then letters, digits, '+', '-' or '.'), if any. A Windows drive
// ("C:\…") and ":memory:" are not schemes.
func schemeOf(s string) (string, bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return "", false
	}
	scheme := s[:i]
	for j, c := range []byte(scheme) {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (j == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return "", false
		}
	}
	if len(scheme) == 1 && len(s) > 2 && s[2] == '\\' {
		return "", false
	}
	return scheme, true
}

// Open opens the database rawURL names with the backend Parse picks.
func Open(ctx context.Context, rawURL string) (store.DB, error) {
	backend, err := Parse(rawURL)
	if err != nil {
		return nil, err
	}
	switch backend {
	case PostgreSQL:
		return postgres.Open(ctx, strings.TrimSpace(rawURL))
	default:
		return sqlite.Open(ctx, rawURL)
	}
}

// Redact returns rawURL fit for a log: any password replaced by "xxxxx".
func Redact(rawURL string) string {
	s := strings.TrimSpace(rawURL)
	if _, ok := schemeOf(s); !ok {
		return s // a path holds no password
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(DATABASE_URL not shown: it does not parse as a URL)"
	}
	if _, has := u.User.Password(); has || u.Query().Has("password") {
		return postgres.Redact(s)
	}
	return s
}
