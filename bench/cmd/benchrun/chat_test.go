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
	"github.com/herald-chat/herald/internal/store/sqlite"
)

// TestSeedChat: the seeded cookies sign their users in through the app's
// session code, as the app will check them at the Engine.IO handshake.
func TestSeedChat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	dbPath, cookiesPath := filepath.Join(dir, "herald.db"), filepath.Join(dir, "cookies.txt")
	if err := seedChat(ctx, dbPath, cookiesPath, 3); err != nil {
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

	db, err := sqlite.Open(ctx, dbPath)
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
