package chatredis

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/herald-chat/herald/internal/chat"
)

// RateLimiterConfig configures a RateLimiter; zero fields take the defaults named on them.
type RateLimiterConfig struct {
	// Prefix starts every key. Default "herald:rate:". Servers of one room must agree on it.
	Prefix string
	// Burst and Interval: Burst messages at once, then one per Interval, per user, cluster-wide.
	// Defaults chat.DefaultRateBurst and chat.DefaultRateInterval.
	Burst    int
	Interval time.Duration
	// Timeout bounds one decision in Redis; past it (or on any error) the server decides with
	// its own memory limiter. Default 500ms.
	Timeout time.Duration
	// Logger receives diagnostics. Default slog.Default().
	Logger *slog.Logger
}

func (c RateLimiterConfig) withDefaults() RateLimiterConfig {
	if c.Prefix == "" {
		c.Prefix = "herald:rate:"
	}
	if c.Burst <= 0 {
		c.Burst = chat.DefaultRateBurst
	}
	if c.Interval <= 0 {
		c.Interval = chat.DefaultRateInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = 500 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// RateLimiter is the chat.RateLimiter of a cluster: one token bucket per user in Redis, shared
// by every server, so that a user's limit holds whichever server and socket they send from. The
// bucket is refilled by Redis's clock (TIME), so the servers' clocks do not matter. While Redis
// cannot be reached each server limits its own users with a chat.MemoryRateLimiter (failing
// open to the local limit, not to none), and goes back to Redis by itself. It is safe for
// concurrent use and holds no background goroutine.
type RateLimiter struct {
	client   rueidis.Client
	cfg      RateLimiterConfig
	args     []string // burst and interval (µs), the script's fixed arguments
	fallback *chat.MemoryRateLimiter
	down     atomic.Bool // the last decision fell back; logs the change once
	fellBack atomic.Int64
}

var _ chat.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns a limiter on client's Redis. It does not close client.
func NewRateLimiter(client rueidis.Client, cfg RateLimiterConfig) *RateLimiter {
	cfg = cfg.withDefaults()
	return &RateLimiter{
		client:   client,
		cfg:      cfg,
		args:     []string{strconv.Itoa(cfg.Burst), strconv.FormatInt(max(cfg.Interval.Microseconds(), 1), 10)},
		fallback: chat.NewMemoryRateLimiter(cfg.Burst, cfg.Interval),
	}
}

// Allow takes a token for the user from the shared bucket, or from this server's own while
// Redis cannot answer within the timeout.
func (l *RateLimiter) Allow(ctx context.Context, userID int64) bool {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	key := l.cfg.Prefix + strconv.FormatInt(userID, 10)
	n, err := rateScript.Exec(ctx, l.client, []string{key}, l.args).AsInt64()
	if err != nil {
		l.fellBack.Add(1)
		if !l.down.Swap(true) {
			l.cfg.Logger.Warn("chat: the shared rate limit is unreachable; limiting each user on this server only", "err", err)
		}
		return l.fallback.Allow(ctx, userID)
	}
	if l.down.Swap(false) {
		l.cfg.Logger.Info("chat: the shared rate limit is back")
	}
	return n == 1
}

// FellBack returns how many decisions were taken locally because Redis did not answer.
func (l *RateLimiter) FellBack() int64 { return l.fellBack.Load() }

// rateScript takes one token from the bucket at KEYS[1]: ARGV burst, interval in µs. The hash
// holds the tokens left (t) and when they were counted (a, µs of Redis's clock); it expires
// once it would have refilled whole, when it is the same as no bucket. A clock that steps back
// refills nothing. Returns 1 when a token was taken, 0 when the bucket was empty.
var rateScript = rueidis.NewLuaScript(`
local key = KEYS[1]
local burst = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local v = redis.call('HMGET', key, 't', 'a')
local tokens, at = tonumber(v[1]), tonumber(v[2])
if tokens == nil or at == nil or tokens ~= tokens then
  tokens, at = burst, now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) / interval)
  at = now
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', key, 't', tostring(tokens), 'a', tostring(at))
redis.call('PEXPIRE', key, math.ceil(burst * interval / 1000) + 1000)
return allowed
`)
