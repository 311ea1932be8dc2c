//go:build !linux

package pgtest

import "syscall"

// setDeathSignal does nothing where the kernel has no parent-death signal:
// the test's cleanup stops the server.
func setDeathSignal(*syscall.SysProcAttr) {}
