//go:build race

package e2e_test

// raceEnabled reports whether this test binary runs under the race detector, which makes the
// crowd's in-process client several times more expensive.
const raceEnabled = true
