// Package soak holds Herald's soak test, run on demand with `make soak` and never by `make test`
// (its files need the build tag soak): a real herald process is put through every kind of
// connection churn, a slow reader under fan-out and a reconnect storm after a restart, and after
// each phase its goroutines, open files, memory and user count must come back to where they
// started. See soak_test.go.
package soak
