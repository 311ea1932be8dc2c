package auth

import (
	"sync"
	"time"

	"github.com/herald-chat/herald/internal/store"
)

// sessionCache remembers recent session lookups for a short time so that a
// burst of socket handshakes and page loads does not hit the store each
// time. It is bounded and safe for concurrent use; mu guards everything.
//
// Invalidation must win over a lookup that started before it: otherwise a
// handshake racing a logout could put the deleted session back. Every
// invalidation bumps gen, and put refuses results read under an older gen.
type sessionCache struct {
	ttl time.Duration // <= 0 disables the cache
	max int

	mu      sync.Mutex
	gen     uint64
	entries map[string]cacheEntry
}

type cacheEntry struct {
	sess  store.Session
	user  store.User
	until time.Time
}

func newSessionCache(ttl time.Duration, max int) *sessionCache {
	return &sessionCache{ttl: ttl, max: max, entries: make(map[string]cacheEntry)}
}

// get returns the cached lookup for id if it is still fresh at now.
func (c *sessionCache) get(id string, now time.Time) (cacheEntry, bool) {
	if c.ttl <= 0 {
		return cacheEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return cacheEntry{}, false
	}
	if !now.Before(e.until) {
		delete(c.entries, id)
		return cacheEntry{}, false
	}
	return e, true
}

// generation returns the token to pass to put for a lookup starting now.
func (c *sessionCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put caches a lookup made under generation gen, unless something was
// invalidated since. The entry never outlives the session itself.
func (c *sessionCache) put(sess store.Session, user store.User, gen uint64, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	until := now.Add(c.ttl)
	if sess.ExpiresAt.Before(until) {
		until = sess.ExpiresAt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if _, ok := c.entries[sess.ID]; !ok && len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[sess.ID] = cacheEntry{sess: sess, user: user, until: until}
}

// invalidate forgets id, and makes lookups already in flight not cache.
func (c *sessionCache) invalidate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, id)
}

// evictSample is how many entries evict looks at: enough to usually find a
// stale one, few enough that a full cache costs O(1) per insert.
const evictSample = 8

// evict makes room for one entry. It samples a few entries (map order is
// random) and drops the first stale one, or failing that the first sampled;
// dropping a fresh entry costs at worst one extra store lookup. The caller
// holds mu.
func (c *sessionCache) evict(now time.Time) {
	var victim string
	seen := 0
	for id, e := range c.entries {
		if !now.Before(e.until) {
			victim = id
			break
		}
		if seen == 0 {
			victim = id
		}
		if seen++; seen == evictSample {
			break
		}
	}
	delete(c.entries, victim)
}

func (c *sessionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
