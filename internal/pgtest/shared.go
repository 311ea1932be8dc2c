package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// The package's shared server, started by the first NewDatabase.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Main runs a test package's tests (call it from TestMain) and removes the
// shared server, if a test started it, at the end.
func Main(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Close()
	}
	os.Exit(code)
}

// Shared returns the package's shared server, starting it on first use.
// Without the PostgreSQL binaries t is skipped, loudly. Tests that use it
// must not stop it: take your own from Start for that.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = New() })
	if errors.Is(shared.err, ErrNotInstalled) {
		skipLoudly(t)
	}
	if shared.err != nil {
		t.Fatalf("pgtest: shared server: %v", shared.err)
	}
	return shared.srv
}

// NewDatabase creates an empty database on the shared server for t and
// returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	u, err := Shared(t).CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(fmt.Errorf("pgtest: %w", err))
	}
	return u
}
