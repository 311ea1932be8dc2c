//go:build herald_portable

package engineio

import (
	"net"
	"testing"
)

// TestPortablePathForced checks that the herald_portable tag leaves out the Linux-only raw
// system calls and poller, so that `go test -tags herald_portable` on Linux runs the code path
// every other platform runs.
func TestPortablePathForced(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := Listener(ln); got != ln {
		t.Errorf("Listener wrapped the listener (%T): the raw-syscall path is built in", got)
	}
	if p, err := newPoller(); err == nil || p != nil {
		t.Error("a poller was made: the epoll path is built in")
	}
}
