package main

import "syscall"

// childAttr puts a child (a peer server, a load generator) in a process group of its own, so
// that it and its children can be killed together, and has the kernel kill it if benchrun dies
// first, so that a crashed run leaves nothing behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
