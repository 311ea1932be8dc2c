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
	read    func() int  // the current count, without waiting
	refresh func()      // brings read up to date; may wait (nil: read is always current)
	emit    func(n int) // broadcast to everyone
	mu      sync.Mutex  // orders emissions; guards timer and stopped
	timer   *time.Timer // pending broadcast, nil when none
	stopped bool
	// lastSent is the value of the last broadcast, -1 when a socket may hold another (it was sent
	// a different current value since): a broadcast of the value everyone holds is skipped, so
	// that a change noticed twice (a server's notice, then its renewal) costs one emission.
	lastSent int
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
	// A change from now on schedules another flush: the refresh below may miss it.
	c.mu.Lock()
	c.timer = nil
	c.mu.Unlock()
	// The refresh may wait on another server: outside the mutex, so that new sockets still get
	// the count meanwhile. The emission reads the count after it, so it is at least as new.
	if c.refresh != nil {
		c.refresh()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.read(); !c.stopped && n != c.lastSent {
		c.lastSent = n
		c.emit(n)
	}
}

// sendCurrent gives one new socket the current value, ordered with the broadcasts.
func (c *countBroadcaster) sendCurrent(send func(n int)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.read()
	if n != c.lastSent {
		c.lastSent = -1
	}
	send(n)
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
