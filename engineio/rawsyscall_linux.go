//go:build !herald_portable

package engineio

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The WebSocket transport's system calls on the hot paths bypass the scheduler's system-call
// bookkeeping: they never block (the descriptors are non-blocking, epoll_pwait gets a zero
// timeout), and a broadcast makes one write per client. Through syscall.Syscall each call marks
// its P as in a system call; a write that outlasted one sysmon tick (20 µs, common when the
// kernel also runs the receiving end of a loopback connection) let sysmon take the P away and
// hand it to another thread, and any such call woke a sleeping sysmon into ticking every 20 µs
// again. A sched_switch trace of fan-out showed two threads trading the one CPU every ~90 µs.
// A raw call keeps the P on its thread for the few microseconds the call takes.

// rawWrite is write(2) on a non-blocking descriptor.
func rawWrite(fd int, p []byte) (int, error) { return rawIO(syscall.SYS_WRITE, fd, p) }

// rawRead is read(2) on a non-blocking descriptor.
func rawRead(fd int, p []byte) (int, error) { return rawIO(syscall.SYS_READ, fd, p) }

// rawIO makes read(2) or write(2), as trap says, on p.
func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// rawWritev is writev(2) on a non-blocking descriptor; len(bufs) must not exceed IOV_MAX.
func rawWritev(fd int, bufs [][]byte) (int, error) {
	iovs := make([]syscall.Iovec, 0, len(bufs))
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		iov := syscall.Iovec{Base: &b[0]}
		iov.SetLen(len(b))
		iovs = append(iovs, iov)
	}
	if len(iovs) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iovs[0])), uintptr(len(iovs)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// epollWaitNow is epoll_pwait(2) with a zero timeout: the events ready now, never waiting.
func epollWaitNow(epfd int, events []unix.EpollEvent) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
