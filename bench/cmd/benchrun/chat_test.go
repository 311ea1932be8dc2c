package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/auth"
	"github.com/herald-chat/herald/internal/pgtest"
	"github.com/herald-chat/herald/internal/store/dburl"
)

// TestSeedChat: the seeded cookies sign their users in through the app's
// session code, as the app will check them at the Engine.IO handshake.
func TestSeedChat(t *testing.T) {
	dir := t.TempDir()
	app, seed, err := chatDatabase(context.Background(), "sqlite", dir)
	if err != nil {
		t.Fatal(err)
	}
	testSeedChat(t, app, seed)
}

// TestSeedChatPostgres: the same through PostgreSQL, on a server of the test's own.
func TestSeedChatPostgres(t *testing.T) {
	u, err := pgtest.Start(t).CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	testSeedChat(t, u, u)
}

func testSeedChat(t *testing.T, appURL, seedURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cookiesPath := filepath.Join(t.TempDir(), "cookies.txt")
	if err := seedChat(ctx, seedURL, cookiesPath, 3); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(cookiesPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d cookie lines, want 3: %q", len(lines), b)
	}

	db, err := dburl.Open(ctx, appURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := auth.New(auth.Config{Users: db.Users(), Sessions: db.Sessions(), Secret: []byte(appSecret)})
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range lines {
		if !strings.HasPrefix(line, auth.SessionCookie+"=") {
			t.Errorf("line %d: %q is not a %s cookie", i, line, auth.SessionCookie)
		}
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1/socket.io/?EIO=4&transport=websocket", nil)
		req.Header.Set("Cookie", line)
		_, u, ok := a.SessionFromRequest(req)
		if want := []string{"bench00000", "bench00001", "bench00002"}[i]; !ok || u.Username != want {
			t.Errorf("cookie %d: signed in %v as %q, want %q", i, ok, u.Username, want)
		}
	}
}
