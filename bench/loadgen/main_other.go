//go:build !linux

// Command loadgen is the bench harness's load generator. It receives through epoll and raw
// system calls and binds many source addresses, so it runs on Linux only; elsewhere it says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "loadgen: the load generator runs on Linux only (epoll, SO_TIMESTAMPNS, IP_BIND_ADDRESS_NO_PORT, Pdeathsig)")
	os.Exit(2)
}
