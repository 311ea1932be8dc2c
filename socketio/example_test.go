package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/herald-chat/herald/socketio"
)

// Example shows a minimal chat server: every socket joins a room, and each "chat message" it
// sends is broadcast to the room. (The clients here speak the wire protocol by hand so that the
// example runs on its own; a browser would use the official socket.io-client.)
func Example() {
	srv := socketio.NewServer(socketio.Config{})
	srv.OnConnection(func(s *socketio.Socket) {
		s.Join("lobby")
		s.On("chat message", func(e *socketio.Event) {
			var text string
			if err := e.Bind(&text); err != nil {
				return
			}
			// Everyone in the lobby, the sender included. s.To("lobby") would leave the
			// sender out, and srv.Emit would reach every socket of the namespace.
			_ = srv.To("lobby").Emit("chat message", text)
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer shutdown(srv)

	alice := dialExample(ts.URL, "")
	defer alice.close()
	bob := dialExample(ts.URL, "")
	defer bob.close()

	alice.send(`42["chat message","hello, lobby"]`)
	fmt.Println("alice got:", alice.recv())
	fmt.Println("bob got:", bob.recv())
	// Output:
	// alice got: 42["chat message","hello, lobby"]
	// bob got: 42["chat message","hello, lobby"]
}

// ExampleNamespace_Use shows authentication in a middleware: the client's auth payload is
// checked before the connection handlers run, and a refusal reaches the client's connect_error
// with a message and data.
func ExampleNamespace_Use() {
	srv := socketio.NewServer(socketio.Config{})
	srv.Use(func(s *socketio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(s.Handshake().Auth, &auth); err != nil || auth.Token != "s3cret" {
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]string{"hint": "sign in"}}
		}
		s.SetData("user-from-token")
		return nil
	})
	srv.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("welcome", s.Data())
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer shutdown(srv)

	denied := dialExample(ts.URL, `{"token":"guess"}`)
	defer denied.close()
	fmt.Println("denied:", denied.connectReply)
	allowed := dialExample(ts.URL, `{"token":"s3cret"}`)
	defer allowed.close()
	fmt.Println("allowed:", allowed.recv())
	// Output:
	// denied: 44{"data":{"hint":"sign in"},"message":"unauthorized"}
	// allowed: 42["welcome","user-from-token"]
}

// ExampleEvent_Ack shows answering a client's acknowledgement callback (the client side is
// socket.emit("add", 2, 3, (sum) => …)).
func ExampleEvent_Ack() {
	srv := socketio.NewServer(socketio.Config{})
	srv.Of("/").On("add", func(e *socketio.Event) {
		var a, b int
		if err := e.Bind(&a, &b); err != nil {
			return
		}
		_ = e.Ack(a + b)
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer shutdown(srv)

	c := dialExample(ts.URL, "")
	defer c.close()
	c.send(`427["add",2,3]`) // ack id 7
	fmt.Println(c.recv())
	// Output:
	// 437[5]
}

// ExampleSocket_EmitWithAck shows the server asking a client and waiting for its answer, with a
// timeout.
func ExampleSocket_EmitWithAck() {
	srv := socketio.NewServer(socketio.Config{})
	answers := make(chan string, 1)
	srv.OnConnection(func(s *socketio.Socket) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			args, err := s.EmitWithAck(ctx, "ready?")
			switch {
			case errors.Is(err, context.DeadlineExceeded):
				answers <- "no answer in time"
			case err != nil:
				answers <- err.Error()
			default:
				answers <- fmt.Sprint("client said ", args)
			}
		}()
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer shutdown(srv)

	c := dialExample(ts.URL, "")
	defer c.close()
	question := c.recv() // 42<id>["ready?"]
	id := strings.TrimSuffix(strings.TrimPrefix(question, "42"), `["ready?"]`)
	c.send("43" + id + `["yes",true]`)
	fmt.Println(<-answers)
	// Output:
	// client said [yes true]
}

// shutdown closes the server gracefully, giving up after a second.
func shutdown(srv *socketio.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Close(ctx)
}

// exampleClient is a bare Socket.IO client over WebSocket, enough for the examples.
type exampleClient struct {
	conn         *websocket.Conn
	connectReply string
}

// dialExample connects to the main namespace with the given auth payload ("" for none) and
// keeps the server's answer (40… or 44…) in connectReply.
func dialExample(base, auth string) *exampleClient {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		panic(err)
	}
	c := &exampleClient{conn: conn}
	c.recv() // the Engine.IO open packet
	c.send("40" + auth)
	c.connectReply = c.recv()
	return c
}

func (c *exampleClient) send(s string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		panic(err)
	}
}

// recv returns the next message, skipping heartbeat pings.
func (c *exampleClient) recv() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return "error: " + err.Error()
		}
		if string(b) != "2" {
			return string(b)
		}
		_ = c.conn.Write(ctx, websocket.MessageText, []byte("3"))
	}
}

func (c *exampleClient) close() { _ = c.conn.Close(websocket.StatusNormalClosure, "") }
