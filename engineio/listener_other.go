//go:build !linux

package engineio

import "net"

// Listener returns ln as it is: the raw reads and writes it adds on Linux, and the poller that
// idle WebSockets over TLS wait in there, are Linux-only.
func Listener(ln net.Listener) net.Listener { return ln }
