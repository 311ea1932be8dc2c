package chat

import "sync"

// UserSockets counts distinct signed-in users from their sockets on one server: a user is online
// while at least one of their sockets is connected, so three tabs count once. Every Presence
// keeps one for the sockets of its own server. It is keyed by socket id, which makes every change
// idempotent: a disconnect reported twice, or for a socket never seen, changes nothing, so the
// count cannot drift. It is safe for concurrent use.
type UserSockets struct {
	mu       sync.Mutex
	bySocket map[string]User           // socket id → its user
	byUser   map[int64]map[string]bool // user id → that user's socket ids
}

// NewUserSockets returns an empty UserSockets.
func NewUserSockets() *UserSockets {
	return &UserSockets{bySocket: make(map[string]User), byUser: make(map[int64]map[string]bool)}
}

// Add records a connected socket of a user. It reports whether this is the user's first socket
// (they just came online) and the number of users online afterwards.
func (p *UserSockets) Add(socketID string, u User) (first bool, online int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, seen := p.bySocket[socketID]; seen {
		return false, len(p.byUser)
	}
	p.bySocket[socketID] = u
	sockets := p.byUser[u.ID]
	if sockets == nil {
		sockets = make(map[string]bool, 1)
		p.byUser[u.ID] = sockets
		first = true
	}
	sockets[socketID] = true
	return first, len(p.byUser)
}

// Remove forgets a socket. It reports whether it was the user's last socket (they just went
// offline), which user it was, and the number of users online afterwards.
func (p *UserSockets) Remove(socketID string) (last bool, u User, online int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, seen := p.bySocket[socketID]
	if !seen {
		return false, User{}, len(p.byUser)
	}
	delete(p.bySocket, socketID)
	sockets := p.byUser[u.ID]
	delete(sockets, socketID)
	if len(sockets) == 0 {
		delete(p.byUser, u.ID)
		last = true
	}
	return last, u, len(p.byUser)
}

// Online returns the number of distinct users with at least one socket.
func (p *UserSockets) Online() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byUser)
}

// Users returns the users with at least one socket.
func (p *UserSockets) Users() []User {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]User, 0, len(p.byUser))
	seen := make(map[int64]bool, len(p.byUser))
	for _, u := range p.bySocket {
		if !seen[u.ID] {
			seen[u.ID] = true
			out = append(out, u)
		}
	}
	return out
}
