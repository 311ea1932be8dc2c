//go:build unix

package redisadapter

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/redistest"
)

// TestFrozenServerFetchSockets: a server frozen with SIGSTOP still counts as subscribed, so
// FetchSockets waits for it; it fails with a timeout after RequestsTimeout, never hangs, and
// leaves nothing pending.
func TestFrozenServerFetchSockets(t *testing.T) {
	redis := redistest.Start(t)
	key := "robust-" + randomID(8)
	a := startNode(t, redis.URL(), key, Config{RequestsTimeout: 500 * time.Millisecond})
	helper := startHelperProcess(t, redis.URL(), key)
	waitServers(t, a, 2)
	dial(t, a, "ca")

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	sockets, err := a.io.FetchSockets(ctx)
	if err != nil || len(sockets) != 1 {
		t.Fatalf("before freezing: %d sockets, %v", len(sockets), err)
	}

	if err := helper.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = helper.Signal(syscall.SIGCONT) }()
	for i := range 2 {
		sockets, err = a.io.FetchSockets(ctx)
		if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "fetchSockets: 0 of 1 servers answered") {
			t.Fatalf("frozen server: err = %v, want a fetchSockets timeout naming 0 of 1 servers", err)
		}
		if sockets != nil {
			t.Fatalf("frozen server: a partial result %v", sockets)
		}
		if ctx.Err() != nil {
			t.Fatal("FetchSockets waited for the test's deadline, not the requests timeout")
		}
		if n := a.adapter().pending.len(); n != 0 {
			t.Fatalf("%d requests still pending", n)
		}
		if st := a.cluster.Stats(); st.RequestsTimedOut != uint64(i+1) || st.Pending != 0 {
			t.Fatalf("stats: %d timed out, %d pending; want %d, 0", st.RequestsTimedOut, st.Pending, i+1)
		}
	}

	// Thawed, it answers again (the requests it missed are answered late and ignored).
	if err := helper.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the thawed server to answer", func() bool {
		_, err := a.io.FetchSockets(ctx)
		return err == nil
	})
}
