package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/herald-chat/herald/internal/store"
)

// Benchmark measures what the chat does with the store on every message and
// every connection: Append (one writer; and parallel writers, as the
// senders of a busy room) and the 50-message history read. open returns an
// empty database, closed when b ends.
func Benchmark(b *testing.B, open func(b *testing.B) store.DB) {
	ctx := context.Background()
	setup := func(b *testing.B) (store.MessageStore, store.User) {
		b.Helper()
		db := open(b)
		u, err := db.Users().Create(ctx, "bench", "h")
		if err != nil {
			b.Fatal(err)
		}
		return db.Messages(), u
	}
	b.Run("Append", func(b *testing.B) {
		msgs, u := setup(b)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if _, err := msgs.Append(ctx, store.Message{UserID: u.ID, Username: u.Username, Text: fmt.Sprint("message ", i)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendParallel", func(b *testing.B) {
		msgs, u := setup(b)
		b.SetParallelism(4) // 4 × GOMAXPROCS writers
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := msgs.Append(ctx, store.Message{UserID: u.ID, Username: u.Username, Text: "parallel message"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("Recent50", func(b *testing.B) {
		msgs, u := setup(b)
		for i := range 1000 {
			if _, err := msgs.Append(ctx, store.Message{UserID: u.ID, Username: u.Username, Text: fmt.Sprint("history ", i)}); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for b.Loop() {
			got, err := msgs.Recent(ctx, 50)
			if err != nil || len(got) != 50 {
				b.Fatalf("Recent(50) = %d messages, %v", len(got), err)
			}
		}
	})
}
