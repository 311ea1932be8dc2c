//go:build !linux || herald_portable

package engineio

import "net"

// Listener returns ln as it is: the raw reads and writes it adds on Linux, and the poller that
// idle WebSockets over TLS wait in there, are Linux-only (and left out on Linux too when built
// with the herald_portable tag, which tests the portable path).
func Listener(ln net.Listener) net.Listener { return ln }
