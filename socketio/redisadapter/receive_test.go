package redisadapter

import (
	"strings"
	"testing"

	"github.com/redis/rueidis"
)

// TestDroppedByReason: each kind of bad message is dropped and counted under its reason.
func TestDroppedByReason(t *testing.T) {
	a, c := offlineAdapter(t)
	many := `"r"` + strings.Repeat(`,"r"`, maxRoomsInSelector)
	cases := []struct {
		name   string
		send   func()
		reason DropReason
	}{
		{"unknown JSON request", func() { a.onRequest([]byte(`{"uid":"x","type":42}`)) }, DropUnknownType},
		{"unknown msgpack request", func() { a.onRequest([]byte("\x82\xa4type\x05\xa3uid\xa1x")) }, DropUnknownType},
		{"unknown msgpack response", func() { a.onResponse([]byte("\x82\xa4type\x03\xa9requestId\xa1r")) }, DropUnknownType},
		{"request not JSON", func() { a.onRequest([]byte(`{"type":`)) }, DropMalformed},
		{"broadcast not msgpack", func() { a.onBroadcast(a.broadcastChannel, []byte{0xc1}) }, DropMalformed},
		{"broadcast of wrong shape", func() { a.onBroadcast(a.broadcastChannel, []byte("\x91\xa1x")) }, DropMalformed},
		{"huge array claimed", func() { a.onBroadcast(a.broadcastChannel, []byte("\xdd\xff\xff\xff\xff")) }, DropMalformed},
		{"too many rooms", func() { a.onRequest([]byte(`{"uid":"x","type":0,"rooms":[` + many + `]}`)) }, DropTooManyRooms},
		{"too big", func() {
			c.sub.onMessage(rueidis.PubSubMessage{Channel: a.requestChannel, Message: strings.Repeat("x", c.cfg.MaxMessageBytes+1)})
		}, DropTooBig},
	}
	for _, tc := range cases {
		before := c.Stats()
		tc.send()
		after := c.Stats()
		if after.Dropped != before.Dropped+1 || after.DroppedBy[tc.reason] != before.DroppedBy[tc.reason]+1 {
			t.Errorf("%s: dropped %d→%d, %s %d→%d; want one more of each", tc.name,
				before.Dropped, after.Dropped, tc.reason, before.DroppedBy[tc.reason], after.DroppedBy[tc.reason])
		}
	}
}
