package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/herald-chat/herald/internal/store"
)

func testMessagesAppendAndRecent(t *testing.T, fresh Fresh) {
	db := openOne(t, fresh)
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
	for i := range 55 {
		m, err := msgs.Append(ctx, store.Message{UserID: u.ID, Username: "alice", Text: fmt.Sprintf("<b>m%d</b> '\"; --", i)})
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

	// The chat's history: the last 50, oldest first, exactly as appended.
	for _, n := range []int{3, 50} {
		got, err := msgs.Recent(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		want := appended[len(appended)-n:]
		if len(got) != len(want) {
			t.Fatalf("Recent(%d) returned %d messages", n, len(got))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("Recent(%d)[%d] = %+v, want %+v", n, i, got[i], want[i])
			}
		}
	}
	if all, _ := msgs.Recent(ctx, 100); len(all) != len(appended) {
		t.Errorf("Recent(100) returned %d, want %d", len(all), len(appended))
	}
	for _, n := range []int{0, -1} {
		if got, err := msgs.Recent(ctx, n); err != nil || len(got) != 0 {
			t.Errorf("Recent(%d) = %v, %v; want none", n, got, err)
		}
	}
}

func testMessagesAppendFillsUsernameAndChecksAuthor(t *testing.T, fresh Fresh) {
	db := openOne(t, fresh)
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

func testMessagesConcurrentAppend(t *testing.T, fresh Fresh) {
	db := openOne(t, fresh)
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
		// Readers run alongside the writers and must not be blocked by them.
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

// appendCall is one Append as seen on a logical clock shared by all writers.
type appendCall struct {
	start, end int64 // clock ticks before the call and after it returned
	id         int64
}

// Several nodes write at once on their own connections while readers poll
// the history. The page merges history and live messages by id, so ids must
// follow insert order: an Append that returned before another began has the
// smaller id, and no reader may ever see a message while one with a smaller
// id is still to appear (an id taken early but committed late).
func testMessagesIDsCommitInOrderAcrossNodes(t *testing.T, fresh Fresh) {
	open := fresh(t)
	nodes := []store.DB{open(t), open(t), open(t)}
	ctx := context.Background()
	u, err := nodes[0].Users().Create(ctx, "alice", "h")
	if err != nil {
		t.Fatal(err)
	}
	const writersPerNode, each = 3, 20
	const total = 3 * writersPerNode * each
	var (
		clock   atomic.Int64
		writers sync.WaitGroup
		readers sync.WaitGroup
		done    = make(chan struct{})
		mu      sync.Mutex
		calls   []appendCall
		polls   [][]int64
		errs    []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for n, db := range nodes {
		for w := range writersPerNode {
			writers.Go(func() {
				for i := range each {
					start := clock.Add(1)
					m, err := db.Messages().Append(ctx, store.Message{UserID: u.ID, Text: fmt.Sprintf("%d-%d-%d", n, w, i)})
					end := clock.Add(1)
					if err != nil {
						fail(err)
						return
					}
					mu.Lock()
					calls = append(calls, appendCall{start, end, m.ID})
					mu.Unlock()
				}
			})
		}
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := db.Messages().Recent(ctx, total+10)
				if err != nil {
					fail(err)
					return
				}
				ids := make([]int64, len(got))
				for i, m := range got {
					ids[i] = m.ID
				}
				mu.Lock()
				polls = append(polls, ids)
				mu.Unlock()
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent use: %v", errors.Join(errs...))
	}

	final, err := nodes[1].Messages().Recent(ctx, total+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(final) != total {
		t.Fatalf("stored %d messages, want %d", len(final), total)
	}
	finalIDs := make([]int64, len(final))
	for i, m := range final {
		finalIDs[i] = m.ID
		if i > 0 && finalIDs[i] <= finalIDs[i-1] {
			t.Fatalf("history not oldest-first at %d: %d then %d", i, finalIDs[i-1], finalIDs[i])
		}
	}
	for _, a := range calls {
		for _, b := range calls {
			if a.end < b.start && a.id >= b.id {
				t.Fatalf("Append returned id %d, then a later Append got id %d: ids must follow insert order", a.id, b.id)
			}
		}
	}
	for _, p := range polls {
		// Every poll must be a prefix of the final history.
		if !slices.Equal(p, finalIDs[:min(len(p), len(finalIDs))]) {
			t.Fatalf("a reader saw ids %v, which is not a prefix of the final history %v: a smaller id was committed after a larger one", p, finalIDs)
		}
	}
	t.Logf("%d appends on %d nodes, %d history polls, all in id order", len(calls), len(nodes), len(polls))
}

// Messages by unknown authors among many concurrent ones fail alone: a
// backend that stores messages together must not fail the good ones too.
func testMessagesUnknownAuthorAmongConcurrent(t *testing.T, fresh Fresh) {
	db := openOne(t, fresh)
	ctx := context.Background()
	u, err := db.Users().Create(ctx, "alice", "h")
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	got := make([]store.Message, n)
	for i := range n {
		author := u.ID
		if i%5 == 0 {
			author = 1_000_000 + int64(i) // nobody
		}
		wg.Go(func() {
			got[i], errs[i] = db.Messages().Append(ctx, store.Message{UserID: author, Text: fmt.Sprint("m", i)})
		})
	}
	wg.Wait()
	stored := 0
	for i := range n {
		switch {
		case i%5 == 0:
			if !errors.Is(errs[i], store.ErrNotFound) {
				t.Errorf("message %d by an unknown author: err = %v, want ErrNotFound", i, errs[i])
			}
		case errs[i] != nil:
			t.Errorf("message %d by alice: %v", i, errs[i])
		case got[i].Username != "alice" || got[i].Text != fmt.Sprint("m", i):
			t.Errorf("message %d stored as %+v", i, got[i])
		default:
			stored++
		}
	}
	all, err := db.Messages().Recent(ctx, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != stored {
		t.Errorf("history holds %d messages, want the %d acknowledged", len(all), stored)
	}
}
