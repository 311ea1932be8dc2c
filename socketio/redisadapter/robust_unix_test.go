//go:build unix

package redisadapter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
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
	waitStopped(t, helper.Pid)
	defer func() { _ = helper.Signal(syscall.SIGCONT) }()
	waitStopped(t, helper.Pid)
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

// waitStopped waits until every thread of the process pid has stopped after a SIGSTOP: the
// signal takes effect asynchronously, and on a loaded machine a thread may still answer a request
// for a while (a flake seen once). Where /proc is missing it waits a moment instead.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	tasks := filepath.Join("/proc", strconv.Itoa(pid), "task")
	if _, err := os.Stat(tasks); err != nil {
		time.Sleep(200 * time.Millisecond)
		return
	}
	for range 500 {
		if threadsStopped(tasks) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d did not stop after SIGSTOP", pid)
}

// threadsStopped reports whether every thread listed under tasks (/proc/<pid>/task) is in the
// stopped state.
func threadsStopped(tasks string) bool {
	entries, err := os.ReadDir(tasks)
	if err != nil || len(entries) == 0 {
		return false
	}
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join(tasks, e.Name(), "stat"))
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses and may hold spaces.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 || i+2 >= len(stat) || stat[i+2] != 'T' {
			return false
		}
	}
	return true
}
