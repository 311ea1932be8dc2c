package engineio

import (
	"runtime"
	"sync"
)

// writers writes WebSocket sessions' queues on a few goroutines instead of each sender's. A
// sender only appends to a session's queue and puts the session on the ready list, once; a
// writer later takes everything queued for it by then and writes it with one system call. When
// broadcasts come faster than the writes drain, packets for one client pile up between two
// visits and share a write, so the cost per delivery falls as the load rises; when they come
// slowly, each still takes a single write. Writers exist only while sessions are ready (no
// goroutine while idle), at most one per CPU. It is safe for concurrent use.
type writers struct {
	mu      sync.Mutex
	ready   []*Session // FIFO from head
	head    int
	running int
	max     int
}

func newWriters() *writers { return &writers{max: max(1, runtime.GOMAXPROCS(0))} }

// add puts a session on the ready list. The caller holds s.mu and has set s.queued.
func (w *writers) add(s *Session) {
	w.mu.Lock()
	w.ready = append(w.ready, s)
	start := w.running < w.max
	if start {
		w.running++
	}
	w.mu.Unlock()
	if start {
		go w.run()
	}
}

func (w *writers) run() {
	for {
		w.mu.Lock()
		if w.head == len(w.ready) {
			w.running--
			if cap(w.ready) > 4096 {
				w.ready = nil // a burst does not pin its list for good
			} else {
				clear(w.ready)
				w.ready = w.ready[:0]
			}
			w.head = 0
			w.mu.Unlock()
			return
		}
		s := w.ready[w.head]
		w.ready[w.head] = nil
		w.head++
		w.mu.Unlock()
		s.writeReady()
	}
}

// writeReady writes everything queued for the session without blocking. What the socket does not
// take at once goes to a flush goroutine of the session's own, which may block up to
// WriteTimeout: one slow client never holds up a writer.
func (s *Session) writeReady() {
	s.mu.Lock()
	s.queued = false
	c := s.ws
	if s.writing || c == nil || s.state == stateClosed || s.transport != transportWebSocket {
		s.mu.Unlock()
		return
	}
	if len(s.queue) == 0 {
		s.finishIfDrainedLocked(c)
		s.mu.Unlock()
		return
	}
	batch := s.takeQueueLocked()
	s.writing = true
	s.mu.Unlock()

	var few [4][]byte // most visits write one or two frames: no allocation for those
	frames := few[:0]
	for _, f := range batch {
		frames = append(frames, f.wsFrame())
	}
	rest, err := c.writeNow(frames)

	s.mu.Lock()
	if err != nil {
		s.writing = false
		s.mu.Unlock()
		s.fail(ReasonTransportError)
		return
	}
	if rest != nil {
		s.wsPending = rest
		go s.flushWebSocket(c) // s.writing stays set: the flush goroutine owns the write side now
		s.mu.Unlock()
		s.recycle(batch)
		return
	}
	s.writing = false
	s.recycleLocked(batch)
	if len(s.queue) > 0 {
		s.queued = true
		s.srv.writers.add(s)
	} else {
		s.finishIfDrainedLocked(c)
	}
	s.mu.Unlock()
}

// finishIfDrainedLocked ends a closing session once its queue is written.
func (s *Session) finishIfDrainedLocked(c *wsConn) {
	if s.state == stateClosing && len(s.queue) == 0 && s.wsPending == nil {
		// Registered before the session finishes, so that Server.Close, which waits for the
		// sessions first, cannot be past its wait for the closers by then.
		s.srv.closers.Go(func() { c.closeGracefully(s.srv.cfg.WriteTimeout) })
		s.finishLocked("")
	}
}

// unwritten returns the bytes of frames past the first n, joined, or nil when all were written.
func unwritten(frames [][]byte, n int) []byte {
	total := 0
	for _, f := range frames {
		total += len(f)
	}
	if n >= total {
		return nil
	}
	rest := make([]byte, 0, total-n)
	for _, f := range frames {
		if n >= len(f) {
			n -= len(f)
			continue
		}
		rest = append(rest, f[n:]...)
		n = 0
	}
	return rest
}
