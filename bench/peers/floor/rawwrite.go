package main

import (
	"syscall"
	"unsafe"
)

// rawWrite is write(2) without the runtime's system-call bookkeeping, as Herald's writers make
// it: the descriptors are non-blocking, so the call never waits. Through syscall.Syscall, a
// write that outlasted a sysmon tick (20 µs) let sysmon hand the process's P to another thread,
// which cost the floor more than Herald once Herald stopped paying it.
func rawWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
