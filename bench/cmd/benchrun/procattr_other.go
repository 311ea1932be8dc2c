//go:build unix && !linux

package main

import "syscall"

// childAttr puts a child in a process group of its own, so that it and its children can be
// killed together. There is no parent-death signal outside Linux: benchrun's own cleanup stops
// its children, and a benchrun killed with -9 leaves them to be killed by hand.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
