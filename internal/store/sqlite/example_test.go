package sqlite_test

import (
	"context"
	"fmt"
	"log"

	"github.com/herald-chat/herald/internal/store"
	"github.com/herald-chat/herald/internal/store/sqlite"
)

func ExampleOpen() {
	ctx := context.Background()
	// In production: sqlite.Open(ctx, cfg.DatabaseURL), "" meaning herald.db.
	db, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	alice, err := db.Users().Create(ctx, "alice", "")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := db.Messages().Append(ctx, store.Message{UserID: alice.ID, Text: "hi"}); err != nil {
		log.Fatal(err)
	}
	recent, err := db.Messages().Recent(ctx, 50)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range recent {
		fmt.Printf("%d %s: %s\n", m.ID, m.Username, m.Text)
	}
	// Output: 1 alice: hi
}
