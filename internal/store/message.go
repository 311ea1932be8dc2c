package store

import (
	"context"
	"time"
)

// Message is one chat line.
type Message struct {
	// ID is assigned by the store, increases with every message and is
	// never reused, so clients can de-duplicate and order by it.
	ID int64
	// UserID is the author.
	UserID int64
	// Username is the author's username at the time of writing.
	Username string
	// Text is what the author typed, unescaped.
	Text string
	// Time is when the store accepted the message, with millisecond
	// precision (what a JavaScript Date holds).
	Time time.Time
}

// MessageStore persists the chat history. Implementations are safe for
// concurrent use.
type MessageStore interface {
	// Append stores m and returns it with ID and Time set (and Username,
	// if m left it empty, filled in from the author's account). Once
	// Append returns without error the message is durable: it survives a
	// crash of the process or the machine.
	Append(ctx context.Context, m Message) (Message, error)
	// Recent returns up to n of the newest messages, oldest first. n <= 0
	// yields none.
	Recent(ctx context.Context, n int) ([]Message, error)
}
