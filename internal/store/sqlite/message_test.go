package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/herald-chat/herald/internal/store"
)

func TestMessagesAppendAndRecent(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	u, err := db.Users().Create(ctx, "alice", "h")
	if err != nil {
		t.Fatal(err)
	}
	msgs := db.Messages()

	if got, err := msgs.Recent(ctx, 50); err != nil || len(got) != 0 {
		t.Fatalf("Recent on empty = %v, %v", got, err)
	}

	var appended []store.Message
	for i := range 5 {
		m, err := msgs.Append(ctx, store.Message{UserID: u.ID, Username: "alice", Text: fmt.Sprintf("<b>m%d</b>", i)})
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if m.ID == 0 || m.Time.IsZero() {
			t.Fatalf("Append returned %+v without ID/Time", m)
		}
		if len(appended) > 0 && m.ID <= appended[len(appended)-1].ID {
			t.Errorf("ids not increasing: %d after %d", m.ID, appended[len(appended)-1].ID)
		}
		appended = append(appended, m)
	}

	got, err := msgs.Recent(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := appended[2:]
	if len(got) != len(want) {
		t.Fatalf("Recent(3) returned %d messages", len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Recent(3)[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if all, _ := msgs.Recent(ctx, 100); len(all) != 5 {
		t.Errorf("Recent(100) returned %d, want 5", len(all))
	}
	for _, n := range []int{0, -1} {
		if got, err := msgs.Recent(ctx, n); err != nil || len(got) != 0 {
			t.Errorf("Recent(%d) = %v, %v; want none", n, got, err)
		}
	}
}

func TestMessagesAppendFillsUsernameAndChecksAuthor(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	u, err := db.Users().Create(ctx, "bob", "h")
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.Messages().Append(ctx, store.Message{UserID: u.ID, Text: "hi"})
	if err != nil || m.Username != "bob" {
		t.Errorf("Append without username = %+v, %v; want username bob", m, err)
	}
	if _, err := db.Messages().Append(ctx, store.Message{UserID: 777, Text: "hi"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Append by unknown author err = %v, want ErrNotFound", err)
	}
}

func TestMessagesConcurrentAppend(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	u, err := db.Users().Create(ctx, "alice", "h")
	if err != nil {
		t.Fatal(err)
	}
	msgs := db.Messages()
	const writers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	ids := make(chan int64, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				m, err := msgs.Append(ctx, store.Message{UserID: u.ID, Username: "alice", Text: fmt.Sprintf("%d-%d", w, i)})
				if err != nil {
					errs <- err
					return
				}
				ids <- m.ID
			}
		})
		// Readers run alongside the writers: WAL must let them through.
		wg.Go(func() {
			for range each {
				if _, err := msgs.Recent(ctx, 50); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Fatalf("concurrent use: %v", err)
	}
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("id %d returned twice", id)
		}
		seen[id] = true
	}
	all, err := msgs.Recent(ctx, writers*each+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each {
		t.Fatalf("stored %d messages, want %d", len(all), writers*each)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatalf("Recent not oldest-first at %d: %d then %d", i, all[i-1].ID, all[i].ID)
		}
	}
}

// crashChildEnv, when set, turns this test binary into the child process of
// TestAppendSurvivesKill: it appends forever, printing each acknowledged id.
const crashChildEnv = "HERALD_SQLITE_CRASH_CHILD_DB"

func TestAppendSurvivesKill(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestAppendSurvivesKill$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[int64]bool{}
	sc := bufio.NewScanner(stdout)
	for len(acked) < 40 && sc.Scan() {
		id, err := strconv.ParseInt(sc.Text(), 10, 64)
		if err != nil {
			continue // test framework chatter
		}
		acked[id] = true
	}
	// SIGKILL: no deferred Close, no chance to flush anything.
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if len(acked) < 40 {
		t.Fatalf("child acknowledged only %d messages before exiting", len(acked))
	}

	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	stored, err := db.Messages().Recent(context.Background(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	have := map[int64]bool{}
	for _, m := range stored {
		have[m.ID] = true
	}
	for id := range acked {
		if !have[id] {
			t.Errorf("acknowledged message %d lost after kill -9", id)
		}
	}
}

func crashChild(path string) {
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	u, err := db.Users().Create(ctx, "crash", "h")
	if err != nil {
		fmt.Fprintln(os.Stderr, "child create user:", err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		m, err := db.Messages().Append(ctx, store.Message{UserID: u.ID, Username: u.Username, Text: strconv.Itoa(i)})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child append:", err)
			os.Exit(2)
		}
		fmt.Println(m.ID) // os.Stdout is unbuffered: printed means acknowledged
	}
}
