package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/herald-chat/herald/internal/store"
)

func testUsersCreateAndLookup(t *testing.T, fresh Fresh) {
	users := openOne(t, fresh).Users()
	ctx := context.Background()

	u, err := users.Create(ctx, "Alice", "hash")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if u.ID == 0 || u.Username != "Alice" || u.PasswordHash != "hash" || u.CreatedAt.IsZero() {
		t.Fatalf("Create returned %+v", u)
	}

	for _, name := range []string{"Alice", "alice", "ALICE"} {
		got, err := users.ByUsername(ctx, name)
		if err != nil {
			t.Fatalf("ByUsername(%q): %v", name, err)
		}
		if got != u {
			t.Errorf("ByUsername(%q) = %+v, want %+v", name, got, u)
		}
	}
	got, err := users.ByID(ctx, u.ID)
	if err != nil || got != u {
		t.Errorf("ByID = %+v, %v; want %+v", got, err, u)
	}

	if _, err := users.ByUsername(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ByUsername(unknown) err = %v, want ErrNotFound", err)
	}
	if _, err := users.ByID(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ByID(unknown) err = %v, want ErrNotFound", err)
	}
	if _, err := users.ByGitHubID(ctx, 42); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ByGitHubID(unknown) err = %v, want ErrNotFound", err)
	}
}

func testUsersCreateTakenIsCaseInsensitive(t *testing.T, fresh Fresh) {
	users := openOne(t, fresh).Users()
	ctx := context.Background()
	if _, err := users.Create(ctx, "alice", "h"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "ALICE", "aLiCe"} {
		if _, err := users.Create(ctx, name, "h"); !errors.Is(err, store.ErrUsernameTaken) {
			t.Errorf("Create(%q) err = %v, want ErrUsernameTaken", name, err)
		}
	}
}

func testUsersConcurrentCreateSameName(t *testing.T, fresh Fresh) {
	open := fresh(t)
	// Two nodes, four writers each.
	nodes := []store.UserStore{open(t).Users(), open(t).Users()}
	ctx := context.Background()
	const n = 8
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		ok, taken  int
		unexpected []error
	)
	for i := range n {
		users := nodes[i%len(nodes)]
		wg.Go(func() {
			_, err := users.Create(ctx, "race", "h")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrUsernameTaken):
				taken++
			default:
				unexpected = append(unexpected, err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || taken != n-1 || len(unexpected) > 0 {
		t.Errorf("ok=%d taken=%d unexpected=%v; want exactly one success", ok, taken, unexpected)
	}
}

func testCreateGitHubUser(t *testing.T, fresh Fresh) {
	users := openOne(t, fresh).Users()
	ctx := context.Background()

	if _, err := users.Create(ctx, "octocat", "h"); err != nil {
		t.Fatal(err)
	}
	u, err := users.CreateGitHubUser(ctx, 583231, "OctoCat")
	if err != nil {
		t.Fatalf("CreateGitHubUser: %v", err)
	}
	if u.Username != "OctoCat2" || u.GitHubID != 583231 || u.PasswordHash != "" || u.ID == 0 {
		t.Errorf("got %+v, want OctoCat2 linked to 583231", u)
	}
	u3, err := users.CreateGitHubUser(ctx, 7, "octocat")
	if err != nil || u3.Username != "octocat3" {
		t.Errorf("third octocat = %+v, %v; want octocat3", u3, err)
	}

	// A second sign-in with the same GitHub id finds the same account.
	again, err := users.CreateGitHubUser(ctx, 583231, "someone-else")
	if err != nil || again != u {
		t.Errorf("repeat CreateGitHubUser = %+v, %v; want %+v", again, err, u)
	}
	byGH, err := users.ByGitHubID(ctx, 583231)
	if err != nil || byGH != u {
		t.Errorf("ByGitHubID = %+v, %v; want %+v", byGH, err, u)
	}

	for _, tc := range []struct {
		id   int64
		name string
	}{{0, "x"}, {-1, "x"}, {5, ""}} {
		if _, err := users.CreateGitHubUser(ctx, tc.id, tc.name); err == nil {
			t.Errorf("CreateGitHubUser(%d, %q) succeeded, want error", tc.id, tc.name)
		}
	}
}

func testCreateGitHubUserSuffixFitsMaxLen(t *testing.T, fresh Fresh) {
	users := openOne(t, fresh).Users()
	ctx := context.Background()
	long := strings.Repeat("a", store.MaxUsernameLen)
	first, err := users.CreateGitHubUser(ctx, 1, long)
	if err != nil || first.Username != long {
		t.Fatalf("first = %+v, %v", first, err)
	}
	for id := int64(2); id <= 11; id++ {
		u, err := users.CreateGitHubUser(ctx, id, long)
		if err != nil {
			t.Fatalf("CreateGitHubUser #%d: %v", id, err)
		}
		if len(u.Username) > store.MaxUsernameLen {
			t.Errorf("username %q is %d bytes, over %d", u.Username, len(u.Username), store.MaxUsernameLen)
		}
	}
	u, err := users.ByGitHubID(ctx, 11)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("a", store.MaxUsernameLen-2) + "11"; u.Username != want {
		t.Errorf("11th = %q, want %q", u.Username, want)
	}
}

func testCreateGitHubUserConcurrentSameID(t *testing.T, fresh Fresh) {
	open := fresh(t)
	nodes := []store.UserStore{open(t).Users(), open(t).Users()}
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make([]store.User, 6)
	errs := make([]error, len(results))
	for i := range results {
		users := nodes[i%len(nodes)]
		wg.Go(func() { results[i], errs[i] = users.CreateGitHubUser(ctx, 99, "twin") })
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if results[i] != results[0] {
			t.Errorf("call %d got %+v, call 0 got %+v: want one account", i, results[i], results[0])
		}
	}
}

// Two nodes sign in different GitHub accounts with the same login at once:
// each gets its own account, with distinct names from the suffix sequence.
func testCreateGitHubUserTwoNodesSameName(t *testing.T, fresh Fresh) {
	open := fresh(t)
	nodes := []store.UserStore{open(t).Users(), open(t).Users()}
	ctx := context.Background()
	const accounts = 6
	var wg sync.WaitGroup
	results := make([]store.User, accounts)
	errs := make([]error, accounts)
	for i := range results {
		users := nodes[i%len(nodes)]
		wg.Go(func() { results[i], errs[i] = users.CreateGitHubUser(ctx, int64(1000+i), "dup") })
	}
	wg.Wait()
	names := map[string]bool{}
	for i, u := range results {
		if errs[i] != nil {
			t.Fatalf("github id %d: %v", 1000+i, errs[i])
		}
		if u.GitHubID != int64(1000+i) {
			t.Errorf("github id %d got account %+v", 1000+i, u)
		}
		names[strings.ToLower(u.Username)] = true
	}
	for n := 1; n <= accounts; n++ {
		if want := store.SuffixedUsername("dup", n); !names[want] {
			t.Errorf("names %v: missing %q; want dup, dup2 … dup%d", names, want, accounts)
		}
	}
}
