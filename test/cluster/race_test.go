//go:build race

package cluster_test

// raceEnabled says the tests run with the race detector, and so heraldnode is built with it too.
const raceEnabled = true
