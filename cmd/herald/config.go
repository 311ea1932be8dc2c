package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/herald-chat/herald/internal/gcheadroom"
)

// config is the chat server's configuration: each setting comes from its flag, else its
// environment variable, else the default.
type config struct {
	Port               int
	SessionSecret      string
	DatabaseURL        string
	RedisURL           string
	GitHubClientID     string
	GitHubClientSecret string
	GitHubCallbackURL  string
	AllowedOrigins     []string
	// PublicURL is the address users open, behind a TLS-terminating proxy (its origin is the
	// server's own).
	PublicURL     string
	SecureCookies bool
	LogLevel      string
	// GCHeadroom is how far the heap may grow between garbage collections at least (bytes).
	GCHeadroom uint64
	// secretGenerated reports that SessionSecret was made up at start-up (dev only).
	secretGenerated bool
}

// parseConfig reads flags from args, falling back on getenv.
func parseConfig(args []string, getenv func(string) string) (config, error) {
	var c config
	fs := flag.NewFlagSet("herald", flag.ContinueOnError)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	port, err := strconv.Atoi(env("PORT", "3000"))
	if err != nil {
		return c, fmt.Errorf("PORT: %w", err)
	}
	headroomMB, err := strconv.ParseUint(env("GC_HEADROOM_MB", strconv.Itoa(gcheadroom.DefaultHeadroom>>20)), 10, 64)
	if err != nil {
		return c, fmt.Errorf("GC_HEADROOM_MB: %w", err)
	}
	var origins string
	fs.IntVar(&c.Port, "port", port, "HTTP port (env PORT)")
	fs.StringVar(&c.SessionSecret, "session-secret", env("SESSION_SECRET", ""), "secret that signs CSRF cookies, at least 16 bytes (env SESSION_SECRET; generated when unset)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", "herald.db"), "where to store accounts and messages: an SQLite file (path, sqlite://path or file:path) or PostgreSQL (postgres://user:password@host:5432/dbname) (env DATABASE_URL)")
	fs.StringVar(&c.RedisURL, "redis-url", env("REDIS_URL", ""), "Redis server that makes this server a member of a cluster, e.g. redis://127.0.0.1:6379/0 (env REDIS_URL; none: a server on its own)")
	fs.StringVar(&c.GitHubClientID, "github-client-id", env("GITHUB_CLIENT_ID", ""), "GitHub OAuth client id (env GITHUB_CLIENT_ID)")
	fs.StringVar(&c.GitHubClientSecret, "github-client-secret", env("GITHUB_CLIENT_SECRET", ""), "GitHub OAuth client secret (env GITHUB_CLIENT_SECRET)")
	fs.StringVar(&c.GitHubCallbackURL, "github-callback-url", env("GITHUB_CALLBACK_URL", ""), "GitHub OAuth callback URL (env GITHUB_CALLBACK_URL; default http://localhost:PORT/auth/github/callback)")
	fs.StringVar(&origins, "allowed-origins", env("ALLOWED_ORIGINS", ""), "comma-separated origins allowed to open sockets and post forms besides the server's own (env ALLOWED_ORIGINS)")
	fs.StringVar(&c.PublicURL, "public-url", env("PUBLIC_URL", ""), "the address users open, e.g. https://chat.example.com, when a TLS-terminating proxy stands in front: its origin is the only own origin pages and sockets are accepted from (env PUBLIC_URL; default the request's own scheme, host and port)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", env("SECURE_COOKIES", "") == "true", "mark cookies Secure even without TLS, behind a TLS proxy (env SECURE_COOKIES=true)")
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (env LOG_LEVEL)")
	fs.Uint64Var(&headroomMB, "gc-headroom-mb", headroomMB, "MiB the heap may grow between garbage collections at least: fewer collections while the live heap is small, for that much memory; 0 leaves GOGC alone (env GC_HEADROOM_MB)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if headroomMB > 1<<20 {
		return c, fmt.Errorf("gc headroom %d MiB: more than 1 TiB", headroomMB)
	}
	c.GCHeadroom = headroomMB << 20
	for o := range strings.SplitSeq(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	if c.Port <= 0 || c.Port > 65535 {
		return c, fmt.Errorf("port %d out of range", c.Port)
	}
	if c.GitHubCallbackURL == "" {
		c.GitHubCallbackURL = fmt.Sprintf("http://localhost:%d/auth/github/callback", c.Port)
	}
	if c.SessionSecret == "" {
		var b [32]byte
		_, _ = rand.Read(b[:])
		c.SessionSecret = hex.EncodeToString(b[:])
		c.secretGenerated = true
	}
	return c, nil
}
