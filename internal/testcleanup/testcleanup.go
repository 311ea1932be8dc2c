// Package testcleanup holds a test helper that engineio's and socketio's tests share.
package testcleanup

import (
	"runtime"
	"testing"
	"time"
)

// Within registers f as a cleanup that may take at most limit: past it the test fails with the
// goroutines' stacks instead of hanging the whole run until go test's timeout (a test that
// panicked or failed while holding a lock f needs would otherwise do that). f goes on in the
// background; the test binary ends soon after anyway.
func Within(t testing.TB, limit time.Duration, what string, f func()) {
	t.Helper()
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			f()
		}()
		select {
		case <-done:
		case <-time.After(limit):
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%s did not finish within %v (a lock left held?); goroutines:\n%s", what, limit, buf)
		}
	})
}
