package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-chat/herald/internal/store"
	"github.com/herald-chat/herald/internal/store/storetest"
)

// openTest opens a fresh database file in a temporary directory.
func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, path
}

func TestOpenAppliesPragmas(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
	} {
		var got string
		if err := db.write.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if !strings.EqualFold(got, tc.want) {
			t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
	}
	// The read pool must refuse writes so no code path can bypass the
	// single writer.
	if _, err := db.read.ExecContext(ctx, `DELETE FROM messages`); err == nil {
		t.Error("write through the read pool succeeded, want query_only error")
	}
}

func TestOpenDSNForms(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ctx := context.Background()
	for _, dsn := range []string{
		"",                                  // herald.db in the working directory
		"plain.db",                          // relative path
		filepath.Join(dir, "sub", "abs.db"), // absolute path, directory created
		"sqlite://url.db",                   // URL, relative
		"sqlite://" + filepath.Join(dir, "url-abs.db"),
		"file:uri.db?cache=private",   // SQLite URI
		"plain2.db?_busy_timeout=100", // caller's parameter wins
		":memory:",
		"file:memdb?mode=memory",
	} {
		t.Run(dsn, func(t *testing.T) {
			db, err := Open(ctx, dsn)
			if err != nil {
				t.Fatalf("Open(%q): %v", dsn, err)
			}
			defer db.Close()
			if err := db.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if _, err := db.Users().Create(ctx, "alice", "h"); err != nil {
				t.Fatalf("Create: %v", err)
			}
			if _, err := db.Users().ByUsername(ctx, "alice"); err != nil {
				t.Fatalf("ByUsername: %v", err)
			}
		})
	}
	for _, name := range []string{"herald.db", "plain.db", "sub/abs.db", "url.db", "url-abs.db", "uri.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("expected database file %s: %v", name, err)
		}
	}
}

func TestOpenBadDSN(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{
		"file:",
		"sqlite://?x=1",
		filepath.Join(dir, "x.db") + "?_journal_mode=bogus",
		filepath.Join(dir, "y.db") + "?%zz",
	} {
		if db, err := Open(context.Background(), dsn); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded, want error", dsn)
		}
	}
}

func TestMigrationsAreIdempotent(t *testing.T) {
	_, path := openTest(t)
	ctx := context.Background()
	// Reopening an up-to-date database must not re-run migrations.
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	var version int
	if err := db2.write.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(migrations) {
		t.Errorf("schema version = %d, want %d", version, len(migrations))
	}
	var rows int
	if err := db2.write.QueryRowContext(ctx, `SELECT count(*) FROM schema_version`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("schema_version has %d rows, want 1", rows)
	}

	// A database written by a newer program is refused rather than
	// silently misread.
	if _, err := db2.write.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	db2.Close()
	if db3, err := Open(ctx, path); err == nil {
		db3.Close()
		t.Fatal("Open of a newer schema succeeded, want error")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("error = %v, want mention of a newer schema", err)
	}
}

// fresh gives the contract suite a new database file per test; each opener
// call is another process-like handle on it.
func fresh(t *testing.T) func(t *testing.T) store.DB {
	path := filepath.Join(t.TempDir(), "test.db")
	return func(t *testing.T) store.DB {
		db, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := db.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return db
	}
}

func TestContract(t *testing.T) { storetest.Run(t, fresh) }

func TestAppendSurvivesKill(t *testing.T) {
	storetest.AppendSurvivesKill(t, filepath.Join(t.TempDir(), "crash.db"), func(ctx context.Context, url string) (store.DB, error) {
		return Open(ctx, url)
	})
}

func BenchmarkMessages(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) store.DB {
		db, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = db.Close() })
		return db
	})
}
