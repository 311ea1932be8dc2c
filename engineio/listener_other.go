//go:build !linux

package engineio

import "net"

// Listener returns ln as it is: the raw reads and writes it adds on Linux are Linux-only.
func Listener(ln net.Listener) net.Listener { return ln }
