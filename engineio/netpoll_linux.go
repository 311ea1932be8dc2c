//go:build !herald_portable

package engineio

import (
	"net"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// poller waits for many idle WebSocket connections in one epoll set, on one goroutine, and
// starts a reader goroutine for a connection only when it turns readable: an idle connection
// costs no goroutine stack. Each connection is registered one-shot, so that at most one reader
// runs for it; the reader re-arms it once the socket is drained. It is safe for concurrent use.
//
// The loop does not block in epoll_wait: the epoll set is itself a descriptor that turns
// readable when a connection does, and the runtime's network poller watches it, so the loop's
// goroutine parks like any network read. A goroutine blocked in the system call held the
// process's P until sysmon took it back (tens of microseconds, with a thread switch), each time
// the loop went back to waiting.
type poller struct {
	epfd int
	ep   syscall.RawConn // the epoll set in the runtime's poller; nil: the loop blocks in epoll_wait
	file *os.File        // owns epfd when ep is set
	wake int             // an eventfd that ends the loop

	mu    sync.Mutex
	conns map[int]*wsConn // by file descriptor
	done  chan struct{}
	once  sync.Once // close runs once
}

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, err
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(wake)
		return nil, err
	}
	p := &poller{epfd: epfd, wake: wake, conns: make(map[int]*wsConn), done: make(chan struct{})}
	if unix.SetNonblock(epfd, true) == nil {
		// os.NewFile registers a non-blocking descriptor with the runtime's poller; if that
		// fails, RawConn.Read reports it at once and the loop falls back to blocking.
		p.file = os.NewFile(uintptr(epfd), "engineio-epoll")
		if rc, err := p.file.SyscallConn(); err == nil {
			p.ep = rc
		}
	}
	go p.loop()
	return p, nil
}

const pollEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

func (p *poller) add(c *wsConn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	c.fdMu.Lock()
	closed := c.fdClosed
	c.fdMu.Unlock()
	if closed {
		return net.ErrClosed // its descriptor may already be someone else's
	}
	p.conns[c.fd] = c
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, c.fd, &unix.EpollEvent{Events: pollEvents, Fd: int32(c.fd)}); err != nil {
		delete(p.conns, c.fd)
		return err
	}
	return nil
}

// rearm watches c again after its reader drained it. It checks that c still owns its descriptor:
// a closed connection's number may already belong to a new one.
func (p *poller) rearm(c *wsConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[c.fd] != c {
		return
	}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, c.fd, &unix.EpollEvent{Events: pollEvents, Fd: int32(c.fd)}); err != nil {
		delete(p.conns, c.fd)
		go c.fail(err)
	}
}

// remove stops watching c; it must run before c's descriptor is closed.
func (p *poller) remove(c *wsConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[c.fd] == c {
		delete(p.conns, c.fd)
		_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	}
}

func (p *poller) loop() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := p.wait(events)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			fd := int(ev.Fd)
			if fd == p.wake {
				return
			}
			p.mu.Lock()
			c := p.conns[fd]
			p.mu.Unlock()
			if c != nil {
				go c.readReady()
			}
		}
	}
}

// wait returns the next ready events, parking in the runtime's poller until there are some.
func (p *poller) wait(events []unix.EpollEvent) (int, error) {
	if p.ep != nil {
		var n int
		var werr error
		err := p.ep.Read(func(uintptr) bool {
			n, werr = epollWaitNow(p.epfd, events)
			return n > 0 || (werr != nil && werr != unix.EINTR)
		})
		if err == nil {
			return n, werr
		}
		p.ep = nil // not pollable after all: block in the system call from now on
	}
	return unix.EpollWait(p.epfd, events, -1)
}

// close ends the loop and releases the epoll set. Connections still registered are left to
// their owners, who close them.
func (p *poller) close() {
	p.once.Do(func() {
		_, _ = unix.Write(p.wake, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		<-p.done
		if p.file != nil {
			_ = p.file.Close() // closes epfd and leaves the runtime's poller
		} else {
			_ = unix.Close(p.epfd)
		}
		_ = unix.Close(p.wake)
	})
}

// readNow reads what the socket holds now, without blocking, in one raw system call (see
// rawsyscall_linux.go), under the same guard against a reused descriptor as tryWritev.
func (c *wsConn) readNow(buf []byte) (int, error) {
	c.fdMu.Lock()
	defer c.fdMu.Unlock()
	if c.fdClosed {
		return 0, net.ErrClosed
	}
	return rawRead(c.fd, buf)
}

// tryWritev writes as much of frames as the socket takes now, without blocking, in one raw
// system call (see rawsyscall_linux.go). It writes the descriptor directly rather than through
// RawConn.Write: a broadcast makes one such write per client, and the runtime's poller
// bookkeeping and the closure it takes were a measurable share of the server's own CPU there.
// fdMu keeps close from reusing the number mid-write; blocking writes (the flush goroutine)
// still go through the net.Conn.
func (c *wsConn) tryWritev(frames [][]byte) (int, error) {
	if c.fd < 0 {
		return 0, nil
	}
	c.fdMu.Lock()
	defer c.fdMu.Unlock()
	if c.fdClosed {
		return 0, net.ErrClosed
	}
	for {
		var n int
		var err error
		switch len(frames) {
		case 0:
			return 0, nil
		case 1:
			n, err = rawWrite(c.fd, frames[0])
		default:
			if len(frames) > 512 { // past IOV_MAX (1024) writev fails: join a long batch instead
				joined := make([]byte, 0, 64*len(frames))
				for _, f := range frames {
					joined = append(joined, f...)
				}
				frames = [][]byte{joined}
				continue
			}
			n, err = rawWritev(c.fd, frames)
		}
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil // what is left goes to the flush goroutine
		default:
			return 0, err
		}
	}
}

// tryWrite writes as much of p as the socket takes now, as tryWritev does for several buffers.
func (c *wsConn) tryWrite(p []byte) (int, error) {
	c.fdMu.Lock()
	defer c.fdMu.Unlock()
	if c.fdClosed {
		return 0, net.ErrClosed
	}
	for {
		n, err := rawWrite(c.fd, p)
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil
		default:
			return 0, err
		}
	}
}
