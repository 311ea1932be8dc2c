package auth

import (
	"container/list"
	"sync"
	"time"
)

// limiter counts failures per key in fixed windows: once a key has max
// failures within window of its first one, it is blocked until that window
// ends. It remembers at most capacity keys, forgetting the oldest windows
// first, so a flood of distinct keys cannot exhaust memory. It is safe for
// concurrent use; mu guards everything below it.
type limiter struct {
	max      int
	window   time.Duration
	capacity int

	mu      sync.Mutex
	entries map[string]*list.Element // of *limitEntry
	order   *list.List               // by window start, oldest at the front
}

type limitEntry struct {
	key      string
	start    time.Time
	failures int
}

func newLimiter(max int, window time.Duration, capacity int) *limiter {
	return &limiter{
		max:      max,
		window:   window,
		capacity: capacity,
		entries:  make(map[string]*list.Element),
		order:    list.New(),
	}
}

// blocked reports whether key has used up its failures in the current
// window.
func (l *limiter) blocked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.entries[key]
	if !ok {
		return false
	}
	e := el.Value.(*limitEntry)
	return e.failures >= l.max && now.Before(e.start.Add(l.window))
}

// fail records a failure for key at now.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evictExpired(now)
	if el, ok := l.entries[key]; ok {
		e := el.Value.(*limitEntry)
		if !now.Before(e.start.Add(l.window)) {
			// A new window: it starts now, so it belongs at the back.
			e.start, e.failures = now, 0
			l.order.MoveToBack(el)
		}
		e.failures++
		return
	}
	if l.order.Len() >= l.capacity {
		l.remove(l.order.Front())
	}
	l.entries[key] = l.order.PushBack(&limitEntry{key: key, start: now, failures: 1})
}

// reset forgets key's failures.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.entries[key]; ok {
		l.remove(el)
	}
}

// len reports how many keys are remembered.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

// evictExpired drops entries whose window has ended. The list is ordered by
// window start, so they are all at the front.
func (l *limiter) evictExpired(now time.Time) {
	for el := l.order.Front(); el != nil; el = l.order.Front() {
		if now.Before(el.Value.(*limitEntry).start.Add(l.window)) {
			return
		}
		l.remove(el)
	}
}

func (l *limiter) remove(el *list.Element) {
	delete(l.entries, el.Value.(*limitEntry).key)
	l.order.Remove(el)
}
