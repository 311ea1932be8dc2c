package chat

import "context"

// MemoryPresence is the Presence of a chat on one server.
type MemoryPresence struct{ sockets *UserSockets }

// NewMemoryPresence returns an empty MemoryPresence.
func NewMemoryPresence() *MemoryPresence { return &MemoryPresence{sockets: NewUserSockets()} }

// Connect records a socket.
func (p *MemoryPresence) Connect(_ context.Context, socketID string, u User) (bool, error) {
	first, _ := p.sockets.Add(socketID, u)
	return first, nil
}

// Disconnect forgets a socket.
func (p *MemoryPresence) Disconnect(_ context.Context, socketID string) (bool, User, error) {
	last, u, _ := p.sockets.Remove(socketID)
	return last, u, nil
}

// Online returns the number of distinct users online.
func (p *MemoryPresence) Online() int { return p.sockets.Online() }

// Refresh does nothing: the count is always current.
func (p *MemoryPresence) Refresh(context.Context) error { return nil }

// Watch does nothing: on one server nothing changes elsewhere.
func (p *MemoryPresence) Watch(func(), func([]User)) {}

// Close does nothing.
func (p *MemoryPresence) Close() error { return nil }
