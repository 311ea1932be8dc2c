package chat

import "sync"

// Presence counts distinct signed-in users from their sockets: a user is online while at least one
// of their sockets is connected, so three tabs count once. It is keyed by socket id, which makes
// every change idempotent: a disconnect reported twice, or for a socket never seen, changes
// nothing, so the count cannot drift. It is safe for concurrent use.
type Presence struct {
	mu       sync.Mutex
	bySocket map[string]int64          // socket id → user id
	byUser   map[int64]map[string]bool // user id → that user's socket ids
}

// NewPresence returns an empty Presence.
func NewPresence() *Presence {
	return &Presence{bySocket: make(map[string]int64), byUser: make(map[int64]map[string]bool)}
}

// Add records a connected socket of a user. It reports whether this is the user's first socket
// (they just came online) and the number of users online afterwards.
func (p *Presence) Add(socketID string, userID int64) (first bool, online int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, seen := p.bySocket[socketID]; seen {
		return false, len(p.byUser)
	}
	p.bySocket[socketID] = userID
	sockets := p.byUser[userID]
	if sockets == nil {
		sockets = make(map[string]bool, 1)
		p.byUser[userID] = sockets
		first = true
	}
	sockets[socketID] = true
	return first, len(p.byUser)
}

// Remove forgets a socket. It reports whether it was the user's last socket (they just went
// offline), which user it was, and the number of users online afterwards.
func (p *Presence) Remove(socketID string) (last bool, userID int64, online int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	userID, seen := p.bySocket[socketID]
	if !seen {
		return false, 0, len(p.byUser)
	}
	delete(p.bySocket, socketID)
	sockets := p.byUser[userID]
	delete(sockets, socketID)
	if len(sockets) == 0 {
		delete(p.byUser, userID)
		last = true
	}
	return last, userID, len(p.byUser)
}

// Online returns the number of distinct users with at least one socket.
func (p *Presence) Online() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byUser)
}
