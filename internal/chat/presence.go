package chat

import "context"

// User is a signed-in user as presence knows them.
type User struct {
	ID   int64
	Name string
}

// Presence tells who is online: the distinct signed-in users with at least one socket, on one
// server (MemoryPresence) or on every server of a cluster (package chatredis). Implementations
// are safe for concurrent use.
type Presence interface {
	// Connect records a connected socket of this server. first reports whether the user just
	// came online: this is their first socket anywhere. An error means the shared state could not
	// be updated; first is then judged from this server's sockets, and the presence catches up
	// by itself.
	Connect(ctx context.Context, socketID string, u User) (first bool, err error)
	// Disconnect forgets a socket of this server. last reports whether the user just went
	// offline: it was their last socket anywhere.
	Disconnect(ctx context.Context, socketID string) (last bool, u User, err error)
	// Online returns the number of distinct users online, as last known; it does not wait.
	Online() int
	// Refresh brings Online up to date with the shared state.
	Refresh(ctx context.Context) error
	// Watch registers the functions called when the count may have changed on another server
	// (changed), and when users went offline without a Disconnect here because the server their
	// sockets were on died (left; the room announces them).
	Watch(changed func(), left func([]User))
	// Close stops the presence's background work and takes this server's users out of the
	// shared state.
	Close() error
}
