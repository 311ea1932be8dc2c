package storetest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/herald-chat/herald/internal/store"
)

// crashChildEnv, when set to a database URL, turns a test binary running
// AppendSurvivesKill into its child process: it appends forever on that
// database, printing each acknowledged id.
const crashChildEnv = "HERALD_STORETEST_CRASH_CHILD_DB"

// IsCrashChild reports whether this process is the child of
// AppendSurvivesKill, so a TestMain can skip set-up the child does not need
// (such as starting its own database server).
func IsCrashChild() bool { return os.Getenv(crashChildEnv) != "" }

// OpenFunc opens a database from its URL, as main does.
type OpenFunc func(ctx context.Context, url string) (store.DB, error)

// AppendSurvivesKill proves that an acknowledged message is durable: a child
// process appends on the database at url, printing each id Append returned,
// and is killed with SIGKILL; every printed id must then be stored. It must
// be called from a top-level test (t.Name() names the child's -test.run).
func AppendSurvivesKill(t *testing.T, url string, open OpenFunc) {
	if childURL := os.Getenv(crashChildEnv); childURL != "" {
		crashChild(childURL, open)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+url)
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

	db, err := open(context.Background(), url)
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

func crashChild(url string, open OpenFunc) {
	ctx := context.Background()
	db, err := open(ctx, url)
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
