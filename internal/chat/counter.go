package chat

import (
	"sync"
	"time"
)

// countBroadcaster sends "user count" to everyone after changes, merging the changes that land
// within one window into a single emission of the latest value: a crowd of N arrivals then costs
// about N × (arrival time / window) deliveries instead of N². It is safe for concurrent use.
//
// Every emission — the broadcasts and the current value sent to each new socket — happens under
// one mutex and reads the count at that moment, so emissions are ordered and each carries a value
// at least as new as the one before: the last value any client holds, once changes stop, is the
// true count.
type countBroadcaster struct {
	window  time.Duration
	read    func() int  // the current count
	emit    func(n int) // broadcast to everyone
	mu      sync.Mutex  // orders emissions; guards timer and stopped
	timer   *time.Timer // pending broadcast, nil when none
	stopped bool
}

// changed schedules a broadcast at the end of the current window, if none is pending.
func (c *countBroadcaster) changed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer == nil && !c.stopped {
		c.timer = time.AfterFunc(c.window, c.flush)
	}
}

func (c *countBroadcaster) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = nil
	if !c.stopped {
		c.emit(c.read())
	}
}

// sendCurrent gives one new socket the current value, ordered with the broadcasts.
func (c *countBroadcaster) sendCurrent(send func(n int)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	send(c.read())
}

// stop cancels any pending broadcast.
func (c *countBroadcaster) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}
