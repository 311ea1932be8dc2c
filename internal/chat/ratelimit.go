package chat

import "context"

// RateLimiter limits how fast each user may send chat messages: a token bucket per user, not per
// socket, so that reconnecting (or opening another tab, or moving to another server of a cluster
// with a shared backend) does not give a user a fresh burst. MemoryRateLimiter counts on one
// server; package chatredis has one shared by every server of a cluster. Implementations are safe
// for concurrent use.
type RateLimiter interface {
	// Allow takes a token for one message of the user and reports whether there was one. It
	// never fails: a backend that cannot reach its shared state decides locally.
	Allow(ctx context.Context, userID int64) bool
}
