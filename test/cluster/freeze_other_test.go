//go:build !linux

package cluster_test

import (
	"syscall"
	"time"
)

// freeze stops the process with SIGSTOP; without /proc to watch the threads stop, it gives them
// a moment.
func (p *proc) freeze() {
	p.test().Helper()
	p.signal(syscall.SIGSTOP)
	time.Sleep(200 * time.Millisecond)
}
