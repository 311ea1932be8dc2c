package postgres

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/herald-chat/herald/internal/pgtest"
	"github.com/herald-chat/herald/internal/store"
	"github.com/herald-chat/herald/internal/store/storetest"
)

func TestMain(m *testing.M) {
	if storetest.IsCrashChild() {
		// The child of TestAppendSurvivesKill uses its parent's server.
		os.Exit(m.Run())
	}
	pgtest.Main(m)
}

// openURL opens a handle on url for t, closed when t ends.
func openURL(t *testing.T, url string) *DB {
	t.Helper()
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// fresh gives the contract suite a new database on the shared server per
// test; each opener call is another node with its own pool.
func fresh(t *testing.T) func(t *testing.T) store.DB {
	url := pgtest.NewDatabase(t)
	return func(t *testing.T) store.DB { return openURL(t, url) }
}

func TestContract(t *testing.T) { storetest.Run(t, fresh) }

func TestAppendSurvivesKill(t *testing.T) {
	url := os.Getenv("HERALD_STORETEST_CRASH_CHILD_DB")
	if url == "" {
		url = pgtest.NewDatabase(t)
	}
	storetest.AppendSurvivesKill(t, url, func(ctx context.Context, url string) (store.DB, error) {
		return Open(ctx, url)
	})
}

// Three nodes starting at once against a fresh database: all open, and each
// migration is applied once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const nodes = 3
	var wg sync.WaitGroup
	dbs := make([]*DB, nodes)
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() { dbs[i], errs[i] = Open(context.Background(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Open: %v", i, err)
		}
		defer dbs[i].Close()
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var rows, version int
	if err := dbs[0].pool.QueryRow(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != len(ms) || version != len(ms) {
		t.Errorf("schema_migrations: %d rows up to version %d, want %d applied once", rows, version, len(ms))
	}
	var counters int
	if err := dbs[1].pool.QueryRow(ctx, `SELECT count(*) FROM message_ids`).Scan(&counters); err != nil || counters != 1 {
		t.Errorf("message_ids has %d rows (%v), want 1", counters, err)
	}
}

func TestMigrationsAreIdempotentAndRefuseNewerSchema(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	db := openURL(t, url)
	if _, err := db.Users().Create(ctx, "alice", "h"); err != nil {
		t.Fatal(err)
	}
	// Reopening keeps the data and applies nothing again.
	db2 := openURL(t, url)
	if _, err := db2.Users().ByUsername(ctx, "alice"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	ms, _ := loadMigrations()
	var rows int
	if err := db2.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(ms) {
		t.Errorf("schema_migrations has %d rows (%v), want %d", rows, err, len(ms))
	}
	// A database written by a newer program is refused rather than misread.
	if _, err := db2.pool.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, len(ms)+1); err != nil {
		t.Fatal(err)
	}
	if db3, err := Open(ctx, url); err == nil {
		db3.Close()
		t.Fatal("Open of a newer schema succeeded, want error")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("error = %v, want mention of a newer schema", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 || !strings.Contains(ms[0].sql, "CREATE TABLE messages") {
		t.Errorf("migrations = %+v", ms)
	}
}

// Start-up errors say what is wrong, never show the password, and never
// fall back on anything.
func TestOpenErrorsAreClear(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := context.Background()
	good := pgtest.NewDatabase(t)
	wrongPassword := strings.Replace(good, ":"+pgtest.Password+"@", ":not-the-password@", 1)
	missingDB := srv.URL("no_such_db")
	// A port nobody listens on: the shared server's, once that server is
	// gone, is not reliable; a stopped private server is.
	down := pgtest.Start(t)
	downURL := down.URL("postgres")
	down.Stop()

	for _, tc := range []struct {
		name, url   string
		want        []string
		unavailable bool
	}{
		{"wrong password", wrongPassword, []string{"refused the password", `user "herald"`}, false},
		{"missing database", missingDB, []string{`no database "no_such_db"`, "createdb", "CREATE DATABASE no_such_db"}, false},
		{"unreachable", downURL, []string{"cannot reach PostgreSQL", "127.0.0.1:"}, true},
		{"bad url", "postgres://herald:secret@127.0.0.1:notaport/db", []string{"not a valid PostgreSQL URL"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(ctx, tc.url)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded, want error")
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			for _, secret := range []string{pgtest.Password, "not-the-password", "secret"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q shows the password", msg)
				}
			}
			if got := errors.Is(err, store.ErrUnavailable); got != tc.unavailable {
				t.Errorf("errors.Is(err, ErrUnavailable) = %v, want %v", got, tc.unavailable)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db":               "postgres://u:xxxxx@h:5432/db",
		"postgresql://u@h/db":                         "postgresql://u@h/db",
		"postgres://u@h/db?password=secret&sslmode=x": "postgres://u@h/db?password=xxxxx&sslmode=x",
		"host=h password=secret":                      "(DATABASE_URL not shown)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// The server goes away while a node runs: calls fail with ErrUnavailable,
// and the same handle works again once the server is back.
func TestServerOutageAndRecovery(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	url, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db := openURL(t, url)
	u, err := db.Users().Create(ctx, "alice", "h")
	if err != nil {
		t.Fatal(err)
	}
	before, err := db.Messages().Append(ctx, store.Message{UserID: u.ID, Text: "before"})
	if err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	if _, err := db.Messages().Append(ctx, store.Message{UserID: u.ID, Text: "during"}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Append while down: err = %v, want ErrUnavailable", err)
	}
	if _, err := db.Messages().Recent(ctx, 50); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Recent while down: err = %v, want ErrUnavailable", err)
	}
	if _, err := db.Sessions().Get(ctx, "x"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Sessions.Get while down: err = %v, want ErrUnavailable (not ErrNotFound: the user is not signed out)", err)
	}
	if err := db.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping while down: err = %v, want ErrUnavailable", err)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The pool may hold connections from before the restart: a few calls
	// may fail with ErrUnavailable before fresh ones are made, never more
	// than the pool holds.
	var after store.Message
	for attempt := 0; ; attempt++ {
		after, err = db.Messages().Append(ctx, store.Message{UserID: u.ID, Text: "after"})
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrUnavailable) || attempt > int(db.pool.Config().MaxConns) {
			t.Fatalf("Append after restart (attempt %d): %v", attempt, err)
		}
	}
	if after.ID <= before.ID {
		t.Errorf("id after the outage %d, before %d: want increasing", after.ID, before.ID)
	}
	got, err := db.Messages().Recent(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != before || got[1] != after {
		t.Errorf("history after outage = %+v, want [before after]", got)
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping after restart: %v", err)
	}
}

func BenchmarkMessages(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) store.DB {
		db, err := Open(context.Background(), pgtest.NewDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = db.Close() })
		return db
	})
}

// Text PostgreSQL cannot hold (NUL, invalid UTF-8) is refused alone, not with
// the messages appended at the same moment.
func TestAppendUnstorableTextFailsAlone(t *testing.T) {
	db := openURL(t, pgtest.NewDatabase(t))
	ctx := context.Background()
	u, err := db.Users().Create(ctx, "alice", "h")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"fine", "nul\x00inside", "also fine", "bad \xff utf-8", "fine again"}
	var wg sync.WaitGroup
	errs := make([]error, len(texts))
	for i, text := range texts {
		wg.Go(func() { _, errs[i] = db.Messages().Append(ctx, store.Message{UserID: u.ID, Text: text}) })
	}
	wg.Wait()
	for i, err := range errs {
		if bad := i == 1 || i == 3; bad != (err != nil) {
			t.Errorf("Append(%q): err = %v", texts[i], err)
		}
	}
	if got, err := db.Messages().Recent(ctx, 10); err != nil || len(got) != 3 {
		t.Errorf("history = %d messages, %v; want the 3 storable ones", len(got), err)
	}
}
