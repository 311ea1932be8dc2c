package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/store"
)

func testSessions(t *testing.T, fresh Fresh) {
	db := openOne(t, fresh)
	ctx := context.Background()
	u, err := db.Users().Create(ctx, "alice", "h")
	if err != nil {
		t.Fatal(err)
	}
	sessions := db.Sessions()
	created := time.UnixMilli(time.Now().UnixMilli()).UTC()
	live := store.Session{ID: "live", UserID: u.ID, CSRFToken: "csrf", CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
	expired := store.Session{ID: "old", UserID: u.ID, CSRFToken: "x", CreatedAt: created.Add(-2 * time.Hour), ExpiresAt: created.Add(-time.Hour)}
	for _, s := range []store.Session{live, expired} {
		if err := sessions.Create(ctx, s); err != nil {
			t.Fatalf("Create(%s): %v", s.ID, err)
		}
	}

	got, err := sessions.Get(ctx, "live")
	if err != nil || got != live {
		t.Errorf("Get(live) = %+v, %v; want %+v", got, err, live)
	}
	if _, err := sessions.Get(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(expired) err = %v, want ErrNotFound", err)
	}
	if _, err := sessions.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(unknown) err = %v, want ErrNotFound", err)
	}

	if err := sessions.Create(ctx, live); err == nil {
		t.Error("Create with a duplicate id succeeded")
	}
	if err := sessions.Create(ctx, store.Session{ID: "ghost", UserID: 12345, ExpiresAt: created.Add(time.Hour)}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Create for unknown user err = %v, want ErrNotFound", err)
	}
	if err := sessions.Create(ctx, store.Session{UserID: u.ID}); err == nil {
		t.Error("Create with empty id succeeded")
	}

	n, err := sessions.DeleteExpired(ctx)
	if err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1", n, err)
	}
	if err := sessions.Delete(ctx, "live"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := sessions.Get(ctx, "live"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete err = %v, want ErrNotFound", err)
	}
	if err := sessions.Delete(ctx, "live"); err != nil {
		t.Errorf("second Delete: %v, want nil (idempotent)", err)
	}
}
