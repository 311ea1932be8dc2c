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
	// sessions besides the server's own (an Origin whose host equals the request's Host, always
	// allowed). "*" allows every origin. Requests without an Origin header (non-browser
	// clients) are always allowed through this check.
	AllowedOrigins []string
	// CheckOrigin, when set, replaces the AllowedOrigins check for requests that carry an Origin.
	CheckOrigin func(r *http.Request) bool
	// Logger receives diagnostics. Default slog.Default().
	Logger *slog.Logger
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
