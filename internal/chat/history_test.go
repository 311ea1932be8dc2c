package chat

import (
	"encoding/json"
	"testing"
)

func TestHistoryKeepsNewestSortedByID(t *testing.T) {
	h := newHistory(3, []Message{{ID: 1}, {ID: 2}})
	h.add(Message{ID: 4})
	h.add(Message{ID: 3}) // stored concurrently, arrives late
	h.add(Message{ID: 5})
	raw, err := h.json()
	if err != nil {
		t.Fatal(err)
	}
	var got []Message
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != 3 || got[1].ID != 4 || got[2].ID != 5 {
		t.Fatalf("history = %+v, want ids 3,4,5", got)
	}
}

func TestHistoryEmptyIsArray(t *testing.T) {
	raw, err := newHistory(50, nil).json()
	if err != nil || string(raw) != "[]" {
		t.Fatalf("empty history = %s, %v; want []", raw, err)
	}
}
