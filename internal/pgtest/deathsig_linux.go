package pgtest

import "syscall"

// setDeathSignal makes the kernel kill the server if the test process dies
// first, so that a crashed test leaves no postgres behind.
func setDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
