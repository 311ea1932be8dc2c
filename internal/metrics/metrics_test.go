package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHandlerExposesHeraldMetrics(t *testing.T) {
	m := New(func() int { return 7 })
	m.UsersOnline(3)
	m.MessageStored()
	m.MessageStored()
	m.Broadcast("user count", 2*time.Millisecond)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"herald_sockets 7",
		"herald_users_online 3",
		"herald_messages_total 2",
		`herald_broadcast_duration_seconds_count{event="user count"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics output lacks %q", want)
		}
	}
}
