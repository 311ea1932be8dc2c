package socketio

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestEmitWithAckReleasedWhenClientLeavesNamespace: a handler waiting for an ack from a client
// that then leaves the namespace (keeping its connection) gets ErrDisconnected at once, and the
// socket leaves: the wait must not hold up the close queued behind it.
func TestEmitWithAckReleasedWhenClientLeavesNamespace(t *testing.T) {
	e := newSIOEnv(t, Config{})
	result := make(chan error, 1)
	left := make(chan string, 1)
	e.srv.Of("/").On("ask me", func(ev *Event) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := ev.Socket.EmitWithAck(ctx, "question")
		result <- err
	})
	e.srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { left <- r }) })
	c := e.dial(t)
	c.connect("/", "")
	c.send(`2["ask me"]`)
	if got := c.recv(); !strings.HasPrefix(got, `2`) || !strings.Contains(got, `"question"`) {
		t.Fatalf("got %q, want the question with an ack id", got)
	}
	c.send("1") // leave "/" but keep the connection
	if err := recvTimeout(t, result, "EmitWithAck to return"); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("EmitWithAck = %v, want ErrDisconnected", err)
	}
	if r := recvTimeout(t, left, "the disconnect handler"); r != ReasonClientDisconnect {
		t.Fatalf("reason %q", r)
	}
	sioWaitFor(t, "the namespace to be empty", func() bool { return e.srv.Of("/").Count() == 0 })
}
