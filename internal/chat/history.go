package chat

import (
	"encoding/json"
	"slices"
	"sync"
)

// history keeps the newest messages in memory, oldest first, with their JSON form cached: every
// socket gets them when it connects, and a crowd of connections must not mean a crowd of
// database queries or re-encodings. It is safe for concurrent use.
type history struct {
	size int

	mu      sync.Mutex
	msgs    []Message
	encoded json.RawMessage // cache of msgs as a JSON array; nil when stale
}

func newHistory(size int, initial []Message) *history {
	h := &history{size: size}
	for _, m := range initial {
		h.add(m)
	}
	return h
}

func (h *history) add(m Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Messages stored concurrently may arrive here out of order: keep them sorted by id.
	i := len(h.msgs)
	for i > 0 && h.msgs[i-1].ID > m.ID {
		i--
	}
	h.msgs = slices.Insert(h.msgs, i, m)
	if len(h.msgs) > h.size {
		h.msgs = append(h.msgs[:0:0], h.msgs[len(h.msgs)-h.size:]...)
	}
	h.encoded = nil
}

// json returns the messages as a JSON array, encoded once per change.
func (h *history) json() (json.RawMessage, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.encoded == nil {
		msgs := h.msgs
		if msgs == nil {
			msgs = []Message{}
		}
		b, err := json.Marshal(msgs)
		if err != nil {
			return nil, err
		}
		h.encoded = b
	}
	return h.encoded, nil
}
