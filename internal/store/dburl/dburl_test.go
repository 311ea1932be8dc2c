package dburl

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-chat/herald/internal/pgtest"
	"github.com/herald-chat/herald/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestParse(t *testing.T) {
	for in, want := range map[string]Backend{
		"":                             SQLite,
		"herald.db":                    SQLite,
		"data/herald.db":               SQLite,
		"/var/lib/herald/herald.db":    SQLite,
		"./odd:name.db":                SQLite,
		"sqlite://herald.db":           SQLite,
		"SQLite:///abs/herald.db":      SQLite,
		"file:herald.db?cache=private": SQLite,
		":memory:":                     SQLite,
		`C:\herald\herald.db`:          SQLite,
		"postgres://u:p@h:5432/db":     PostgreSQL,
		"postgresql://u@h/db":          PostgreSQL,
		"  POSTGRES://u@h/db  ":        PostgreSQL,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"x://whatever",
		"mysql://u:hunter2@h/db",
		"postgre://u@h/db",
		"postgres:u@h/db",
		"redis://h:6379",
		"http://h/db",
		"odd:name.db",
	} {
		got, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) = %q, want an error", in, got)
			continue
		}
		if !strings.Contains(err.Error(), "postgres://") || !strings.Contains(err.Error(), "sqlite://") {
			t.Errorf("Parse(%q) error %q does not name the accepted forms", in, err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Parse(%q) error %q shows the password", in, err)
		}
	}
}

// The bug this package exists for: a URL-looking string must never create a
// SQLite file (or folder) in the working directory.
func TestOpenUnknownSchemeCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, in := range []string{"x://a/b", "postgre://u@h/db", "mysql://u@h/db", "postgres:u@h/db"} {
		if db, err := Open(context.Background(), in); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded, want an error", in)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("Open of a bad URL left %q in the working directory", e.Name())
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h/db":           "postgres://u:xxxxx@h/db",
		"postgres://u@h/db?password=secret":  "postgres://u@h/db?password=xxxxx",
		"postgresql://u@h/db":                "postgresql://u@h/db",
		"data/herald.db":                     "data/herald.db",
		"sqlite://herald.db":                 "sqlite://herald.db",
		"x://u:secret@h":                     "x://u:xxxxx@h",
		"postgres://u:sec ret@h:bad port/db": "(DATABASE_URL not shown: it does not parse as a URL)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// Open picks the backend from the URL alone and both give a working store.
func TestOpenBothBackends(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{filepath.Join(t.TempDir(), "h.db"), "sqlite://" + filepath.Join(t.TempDir(), "u.db"), pgtest.NewDatabase(t)} {
		db, err := Open(ctx, url)
		if err != nil {
			t.Fatalf("Open(%s): %v", Redact(url), err)
		}
		u, err := db.Users().Create(ctx, "alice", "h")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Messages().Append(ctx, store.Message{UserID: u.ID, Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "herald.db", "postgres://u:p@h/db", "x://y", ":memory:", `C:\a`, "file:a?b=c", "a:", "é:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		backend, err := Parse(s)
		_ = Redact(s)
		if err != nil {
			return
		}
		// Whatever is taken for an SQLite path must not carry an unknown scheme.
		if scheme, ok := schemeOf(strings.TrimSpace(s)); ok && backend == SQLite {
			switch strings.ToLower(scheme) {
			case "sqlite", "sqlite3", "file":
			default:
				t.Fatalf("Parse(%q) = sqlite with scheme %q", s, scheme)
			}
		}
	})
}
