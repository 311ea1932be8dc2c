// Command heraldnode is a Herald node of the mixed cluster test (test/cluster): a socketio.Server
// on the Redis adapter, remote-controlled over the same line protocol as its Node.js twin,
// node-node.mjs (read the commands there). It is built and run by the tests only.
//
// Usage: heraldnode <redis url> <node name>
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/herald-chat/herald/socketio"
	"github.com/herald-chat/herald/socketio/redisadapter"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: heraldnode <redis url> <node name>")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "heraldnode:", err)
		os.Exit(1)
	}
}

// node is one Herald node and what it observed. Its output is written by one goroutine at a time
// (mu).
type node struct {
	name string
	io   *socketio.Server
	out  *json.Encoder

	mu           sync.Mutex
	serverEvents []serverEvent
}

// serverEvent is a server-side event this node received.
type serverEvent struct {
	Event string `json:"event"`
	Args  []any  `json:"args"`
	Ack   bool   `json:"ack"`
}

// command is one line of the control protocol; which fields are set depends on Op.
type command struct {
	ID        int      `json:"id"`
	Op        string   `json:"op"`
	Nsp       string   `json:"nsp"`
	Event     string   `json:"event"`
	Args      []any    `json:"args"`
	Rooms     []string `json:"rooms"`
	Except    []string `json:"except"`
	Add       []string `json:"add"`
	Remove    []string `json:"remove"`
	Close     bool     `json:"close"`
	Local     bool     `json:"local"`
	TimeoutMs int      `json:"timeoutMs"`
}

// answer is the reply to one command.
type answer struct {
	ID     int    `json:"id"`
	Result any    `json:"result"`
	Error  string `json:"error,omitempty"`
}

// fetched is a socket in the answer to fetch.
type fetched struct {
	ID        string             `json:"id"`
	Rooms     []string           `json:"rooms"`
	Data      any                `json:"data"`
	Handshake socketio.Handshake `json:"handshake"`
	Local     bool               `json:"local"`
}

func run(redisURL, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	cluster, err := redisadapter.New(ctx, redisadapter.Config{
		URL:                              redisURL,
		RequestsTimeout:                  requestsTimeout(),
		PublishOnSpecificResponseChannel: os.Getenv("SPECIFIC_RESPONSE_CHANNEL") == "1",
	})
	cancel()
	if err != nil {
		return err
	}
	defer cluster.Close()
	n := &node{name: name, out: json.NewEncoder(os.Stdout)}
	n.io = socketio.NewServer(socketio.Config{AdapterFactory: cluster.AdapterFactory})
	n.io.OnConnection(n.onConnection)
	n.io.Of("/admin").OnConnection(n.onConnection)
	for _, event := range []string{"ss", "ss2"} {
		n.io.OnServerSideEmit(event, n.onServerSideEvent)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: n.io, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	n.print(map[string]any{"ev": "ready", "port": ln.Addr().(*net.TCPAddr).Port})

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 16<<20)
	for in.Scan() {
		var cmd command
		if err := json.Unmarshal(in.Bytes(), &cmd); err != nil {
			return fmt.Errorf("command %q: %w", in.Text(), err)
		}
		go n.answer(cmd) // commands that wait for the cluster must not hold up the others
	}
	// stdin closed: the test is done with this node.
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = n.io.Close(ctx)
	return srv.Close()
}

// requestsTimeout is REQUESTS_TIMEOUT_MS, the test's bound on requests to the other nodes.
func requestsTimeout() time.Duration {
	var ms int
	if _, err := fmt.Sscan(os.Getenv("REQUESTS_TIMEOUT_MS"), &ms); err != nil || ms <= 0 {
		return 2 * time.Second
	}
	return time.Duration(ms) * time.Millisecond
}

func (n *node) print(v any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	_ = n.out.Encode(v)
}

// onConnection names the socket and puts it in the rooms its client asked for.
func (n *node) onConnection(s *socketio.Socket) {
	var auth struct {
		Name  string   `json:"name"`
		Rooms []string `json:"rooms"`
	}
	_ = json.Unmarshal(s.Handshake().Auth, &auth)
	s.SetData(map[string]any{"name": auth.Name, "node": n.name, "kind": "herald"})
	s.Join(auth.Rooms...)
}

// onServerSideEvent records the event and answers its ack, as node-node.mjs does.
func (n *node) onServerSideEvent(e *socketio.ServerSideEvent) {
	args, err := e.Args()
	if err != nil {
		args = []any{"undecodable: " + err.Error()}
	}
	n.mu.Lock()
	n.serverEvents = append(n.serverEvents, serverEvent{Event: e.Name, Args: argsToWire(args), Ack: e.HasAck()})
	n.mu.Unlock()
	if e.HasAck() {
		_ = e.Ack(map[string]any{"node": n.name, "event": e.Name, "args": argsToWire(args)})
	}
}

func (n *node) selector(cmd command) *socketio.BroadcastOperator {
	nsp := cmd.Nsp
	if nsp == "" {
		nsp = "/"
	}
	op := n.io.Of(nsp).To(cmd.Rooms...)
	if len(cmd.Except) > 0 {
		op = op.Except(cmd.Except...)
	}
	if cmd.Local {
		op = op.Local()
	}
	return op
}

func (n *node) answer(cmd command) {
	result, err := n.do(cmd)
	a := answer{ID: cmd.ID, Result: result}
	if err != nil {
		a.Error = err.Error()
	}
	n.print(a)
}

func (n *node) do(cmd command) (any, error) {
	args := argsFromWire(cmd.Args)
	switch cmd.Op {
	case "emit":
		return true, n.selector(cmd).Emit(cmd.Event, args...)
	case "emitWithAck":
		timeout := time.Duration(cmd.TimeoutMs) * time.Millisecond
		if timeout <= 0 {
			timeout = 2 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		replies, err := n.selector(cmd).EmitWithAck(ctx, cmd.Event, args...)
		firsts := make([]any, 0, len(replies))
		for _, r := range replies {
			if len(r) > 0 {
				firsts = append(firsts, toWire(r[0]))
			} else {
				firsts = append(firsts, nil)
			}
		}
		return firsts, err
	case "join":
		n.selector(cmd).SocketsJoin(cmd.Add...)
		return true, nil
	case "leave":
		n.selector(cmd).SocketsLeave(cmd.Remove...)
		return true, nil
	case "disconnect":
		n.selector(cmd).DisconnectSockets(cmd.Close)
		return true, nil
	case "fetch":
		sockets, err := n.selector(cmd).FetchSockets(context.Background())
		list := make([]fetched, 0, len(sockets))
		for _, s := range sockets {
			list = append(list, fetched{ID: s.ID, Rooms: s.Rooms, Data: s.Data, Handshake: s.Handshake, Local: s.IsLocal()})
		}
		return list, err
	case "serverSideEmit":
		return true, n.io.ServerSideEmit(cmd.Event, args...)
	case "serverSideEmitWithAck":
		replies, err := n.io.ServerSideEmitWithAck(context.Background(), cmd.Event, args...)
		return replies, err
	case "serverCount":
		return n.io.ServerCount(context.Background())
	case "serverEvents":
		n.mu.Lock()
		defer n.mu.Unlock()
		return append([]serverEvent{}, n.serverEvents...), nil
	}
	return nil, errors.New("unknown op " + cmd.Op)
}
