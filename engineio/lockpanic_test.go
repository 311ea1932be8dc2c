package engineio

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// panicHoldingLockEnv makes TestPanicHoldingSessionLockFailsFast, run as a child process, be the
// test that panics.
const panicHoldingLockEnv = "ENGINEIO_TEST_PANIC_HOLDING_LOCK"

// TestPanicHoldingSessionLockFailsFast runs, in a child test process, a test that panics while
// it holds a session's lock, and checks that the child fails soon with the panic instead of
// hanging in the cleanup that closes the server (which needs that lock) until go test's
// timeout.
func TestPanicHoldingSessionLockFailsFast(t *testing.T) {
	if os.Getenv(panicHoldingLockEnv) == "1" {
		e := newEnv(t, Config{})
		_, o := e.openWS(t)
		s := e.srv.session(o.SID)
		s.mu.Lock() // and never unlocked: the test goes down holding it
		panic("deliberate panic holding a session lock")
	}
	if testing.Short() {
		t.Skip("starts a child test process")
	}
	// The child's own timeout is far longer than the bound the cleanup must keep, so a hang
	// shows as this test's context ending, not as the child's timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 6*waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPanicHoldingSessionLockFailsFast$", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), panicHoldingLockEnv+"=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the child test hung for %v after its panic (killed); output:\n%.4000s", 6*waitLimit, out)
	}
	if err == nil {
		t.Fatalf("the child test passed; output:\n%s", out)
	}
	if !strings.Contains(string(out), "deliberate panic holding a session lock") {
		t.Errorf("the child test did not report its panic; output:\n%.4000s", out)
	}
}
