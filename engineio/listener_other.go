//go:build !linux || herald_portable

package engineio

import "net"

// Listener returns ln as it is: the raw reads and writes it adds on Linux are Linux-only (and
// left out on Linux too when built with the herald_portable tag, which tests the portable path).
func Listener(ln net.Listener) net.Listener { return ln }
