package engineio

import (
	"log/slog"
	"net/http"
	"time"
)

// Config holds the settings of a Server. The zero value is usable: every zero field takes the
// default named on it, which matches the Node.js reference server.
type Config struct {
	// PingInterval is how often the server sends a ping. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for the pong before closing. Default 20s.
	PingTimeout time.Duration
	// MaxPayload is the largest accepted message or polling body, in bytes (Node's
	// maxHttpBufferSize). Larger polling bodies get 413; larger WebSocket messages close the
	// connection. Default 1,000,000.
	MaxPayload int
	// UpgradeTimeout bounds the polling-to-WebSocket upgrade. Default 10s.
	UpgradeTimeout time.Duration
	// WriteTimeout bounds one WebSocket write; a client that does not read for that long is
	// disconnected. Default 10s.
	WriteTimeout time.Duration
	// MaxQueuedFrames bounds each session's send queue. A session whose queue would grow past it
	// is closed with reason "send queue full": a client that does not read never slows the
	// others, and never makes the server buffer without bound. Default 4096.
	MaxQueuedFrames int
	// AllowedOrigins lists the origins ("https://chat.example.com") whose pages may open
	// sessions besides the server's own (an Origin whose scheme, host and port are the
	// request's: its Host, https when it came over TLS, always allowed). Behind a
	// TLS-terminating proxy the requests arrive over plain HTTP, so list the public https
	// origin here (or decide with CheckOrigin). "*" allows every origin. Requests without an
	// Origin header (non-browser clients) are always allowed through this check.
	AllowedOrigins []string
	// CheckOrigin, when set, replaces the AllowedOrigins check for requests that carry an Origin.
	CheckOrigin func(r *http.Request) bool
	// Cookie, when set, makes the handshake of a long-polling session set a cookie naming the
	// session id (Node's cookie option), for load balancers that keep a session's requests on
	// one server by a cookie (HAProxy's "cookie io prefix"). Default none.
	Cookie *Cookie
	// Logger receives diagnostics. Default slog.Default().
	Logger *slog.Logger
}

// Cookie describes the session cookie of Config.Cookie. Zero fields take Node's defaults.
type Cookie struct {
	// Name is the cookie's name. Default "io".
	Name string
	// Path is its path. Default "/".
	Path string
	// SameSite is its SameSite attribute. Default http.SameSiteLaxMode.
	SameSite http.SameSite
	// Secure marks it Secure (it is anyway on a TLS connection).
	Secure bool
	// AllowScripts leaves out HttpOnly, which is set by default.
	AllowScripts bool
}

// forSession returns the cookie for session id on request r.
func (c *Cookie) forSession(id string, r *http.Request) *http.Cookie {
	k := &http.Cookie{Name: c.Name, Value: id, Path: c.Path, SameSite: c.SameSite, Secure: c.Secure || r.TLS != nil, HttpOnly: !c.AllowScripts}
	if k.Name == "" {
		k.Name = "io"
	}
	if k.Path == "" {
		k.Path = "/"
	}
	if k.SameSite == 0 {
		k.SameSite = http.SameSiteLaxMode
	}
	return k
}

func (c Config) withDefaults() Config {
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 20 * time.Second
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = 1_000_000
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = 10 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MaxQueuedFrames <= 0 {
		c.MaxQueuedFrames = 4096
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
