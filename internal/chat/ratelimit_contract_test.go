package chat_test

import (
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/chat"
	"github.com/herald-chat/herald/internal/chat/ratelimittest"
)

func TestMemoryRateLimiterContract(t *testing.T) {
	ratelimittest.Run(t, func(_ *testing.T, burst int, interval time.Duration) chat.RateLimiter {
		return chat.NewMemoryRateLimiter(burst, interval)
	})
}
