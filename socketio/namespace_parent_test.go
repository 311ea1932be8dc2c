package socketio

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestParentNamespace: a client connecting to a name a parent matches creates the child; the
// parent's middleware, connection and event handlers apply to it; other names are refused; a
// broadcast on the parent reaches every child; an empty child is cleaned up when configured.
func TestParentNamespace(t *testing.T) {
	e := newSIOEnv(t, Config{CleanupEmptyChildNamespaces: true})
	parent := e.srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	parent.Use(func(s *Socket) error {
		var auth struct{ Token string }
		if json.Unmarshal(s.Handshake().Auth, &auth) != nil || auth.Token != "ok" {
			return &ConnectError{Message: "no token"}
		}
		return nil
	})
	parent.OnConnection(func(s *Socket) { _ = s.Emit("welcome", s.Namespace().Name()) })
	parent.On("echo", func(ev *Event) {
		var v string
		_ = ev.Bind(&v)
		_ = ev.Socket.Emit("echoed", v)
	})
	byFunc := e.srv.OfFunc(func(name string, auth json.RawMessage) bool {
		return strings.HasPrefix(name, "/team-") && strings.Contains(string(auth), "member")
	})
	byFunc.OnConnection(func(s *Socket) { _ = s.Emit("team", s.Namespace().Name()) })

	a := e.dial(t)
	a.connect("/room-1", `{"token":"ok"}`)
	a.expect(`2/room-1,["welcome","/room-1"]`)
	a.send(`2/room-1,["echo","hi"]`)
	a.expect(`2/room-1,["echoed","hi"]`)

	b := e.dial(t)
	b.connect("/room-2", `{"token":"ok"}`)
	b.expect(`2/room-2,["welcome","/room-2"]`)
	if n := len(parent.Children()); n != 2 {
		t.Fatalf("%d children, want 2", n)
	}
	if err := parent.Emit("all"); err != nil {
		t.Fatal(err)
	}
	a.expect(`2/room-1,["all"]`)
	b.expect(`2/room-2,["all"]`)

	refused := e.dial(t)
	refused.send(`0/room-3,{"token":"bad"}`)
	refused.expect(`4/room-3,{"message":"no token"}`)
	refused.send(`0/elsewhere,`)
	refused.expect(`4/elsewhere,{"message":"Invalid namespace"}`)
	refused.send(`0/team-x,{"role":"guest"}`)
	refused.expect(`4/team-x,{"message":"Invalid namespace"}`)
	refused.connect("/team-x", `{"role":"member"}`)
	refused.expect(`2/team-x,["team","/team-x"]`)

	// room-2 empties: it is cleaned up; room-1, still in use, stays.
	b.send(`1/room-2,`)
	sioWaitFor(t, "the empty child to go", func() bool { return len(parent.Children()) == 1 })
	if e.srv.namespace("/room-2") != nil {
		t.Error("the empty child is still a namespace of the server")
	}
	// A new client makes it again.
	b.connect("/room-2", `{"token":"ok"}`)
	b.expect(`2/room-2,["welcome","/room-2"]`)
}
