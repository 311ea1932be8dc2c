// Command herald runs the Herald chat server, or with the subcommand "conformance" the server
// the official Engine.IO and Socket.IO compliance suites test against.
package main

import (
	"fmt"
	"log/slog"
	"os"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if len(os.Args) > 1 && os.Args[1] == "conformance" {
		if err := runConformance(":3000", log); err != nil {
			fmt.Fprintln(os.Stderr, "herald:", err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintln(os.Stderr, "herald: the chat server is not wired yet; try 'herald conformance'")
	os.Exit(2)
}
