// Package sioclient is a small Socket.IO v5 client over Engine.IO v4 WebSocket, for Herald's own
// tests: it joins one namespace, receives events (binary attachments included), emits with and
// without acks, and answers the server's acks. It is not a production client; the interop tests
// use the official npm socket.io-client.
package sioclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Event is an event the server sent.
type Event struct {
	// Name is the event's name.
	Name string
	// Args are its arguments, decoded by encoding/json into generic values, with each binary
	// attachment as []byte.
	Args []any
	// Raw is the packet's JSON array [name, args...], placeholders left in.
	Raw string

	ackID int64
	c     *Client
}

// Ack answers an event the server sent with EmitWithAck.
func (e *Event) Ack(ctx context.Context, args ...any) error {
	if e.ackID < 0 {
		return errors.New("sioclient: the event asks for no ack")
	}
	data, err := json.Marshal(args)
	if err != nil {
		return err
	}
	return e.c.writeText(ctx, "43"+e.c.nspPrefix()+strconv.FormatInt(e.ackID, 10)+string(data))
}

// Options configure Dial.
type Options struct {
	// Namespace to join; default "/".
	Namespace string
	// Auth is the CONNECT payload (the client's auth option), encoded as JSON; nil sends none.
	Auth any
	// Header is sent with the WebSocket handshake (e.g. a Cookie).
	Header http.Header
	// AutoAck, when set, answers every event that asks for an ack with its result.
	AutoAck func(e *Event) []any
}

// Client is one connection joined to one namespace. It is safe for concurrent use.
type Client struct {
	// ID is the socket id the server gave at CONNECT.
	ID string

	conn    *websocket.Conn
	nsp     string
	autoAck func(*Event) []any
	events  chan *Event
	done    chan struct{}

	mu      sync.Mutex
	err     error                // why the connection ended; set before done is closed
	acks    map[int64]chan []any // emits waiting for the server's ack
	nextAck int64
	writeMu sync.Mutex
	// pending is a binary packet waiting for its attachments.
	pending struct {
		p    *packet
		want int
	}
}

// ErrRefused is wrapped by Dial's error when the server answers CONNECT with CONNECT_ERROR.
var ErrRefused = errors.New("sioclient: connection refused")

// Dial opens a WebSocket session at url (the server's base URL, e.g. http://127.0.0.1:1234, to
// which /socket.io/ is added) and joins the namespace.
func Dial(ctx context.Context, url string, opts Options) (*Client, error) {
	nsp := opts.Namespace
	if nsp == "" {
		nsp = "/"
	}
	ws := "ws" + strings.TrimPrefix(strings.TrimSuffix(url, "/"), "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPHeader: opts.Header})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(-1)
	c := &Client{conn: conn, nsp: nsp, autoAck: opts.AutoAck, events: make(chan *Event, 1024), done: make(chan struct{}), acks: map[int64]chan []any{}}
	if err := c.handshake(ctx, opts.Auth); err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

func (c *Client) nspPrefix() string {
	if c.nsp == "/" {
		return ""
	}
	return c.nsp + ","
}

// handshake reads the open packet, sends CONNECT and reads its answer.
func (c *Client) handshake(ctx context.Context, auth any) error {
	_, open, err := c.conn.Read(ctx)
	if err != nil {
		return err
	}
	if len(open) == 0 || open[0] != '0' {
		return fmt.Errorf("sioclient: bad open packet %q", open)
	}
	connect := "40" + c.nspPrefix()
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			return err
		}
		connect += string(b)
	}
	if err := c.writeText(ctx, connect); err != nil {
		return err
	}
	for {
		_, msg, err := c.conn.Read(ctx)
		if err != nil {
			return err
		}
		s := string(msg)
		if s == "2" {
			if err := c.writeText(ctx, "3"); err != nil {
				return err
			}
			continue
		}
		p, err := parsePacket(strings.TrimPrefix(s, "4"))
		if err != nil || p.nsp != c.nsp {
			return fmt.Errorf("sioclient: unexpected %q while connecting", s)
		}
		switch p.typ {
		case '0':
			var reply struct{ SID string }
			if err := json.Unmarshal([]byte(p.data), &reply); err != nil || reply.SID == "" {
				return fmt.Errorf("sioclient: bad CONNECT reply %q", s)
			}
			c.ID = reply.SID
			return nil
		case '4':
			return fmt.Errorf("%w: %s", ErrRefused, p.data)
		default:
			return fmt.Errorf("sioclient: unexpected %q while connecting", s)
		}
	}
}

func (c *Client) writeText(ctx context.Context, s string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.conn.Write(ctx, websocket.MessageText, []byte(s))
}

func (c *Client) readLoop() {
	var err error
	defer func() {
		c.mu.Lock()
		c.err = err
		acks := c.acks
		c.acks = nil
		c.mu.Unlock()
		for _, ch := range acks {
			close(ch)
		}
		close(c.done)
		_ = c.conn.CloseNow()
	}()
	for {
		var typ websocket.MessageType
		var msg []byte
		typ, msg, err = c.conn.Read(context.Background())
		if err != nil {
			return
		}
		if typ == websocket.MessageBinary {
			if err = c.attachment(msg); err != nil {
				return
			}
			continue
		}
		s := string(msg)
		switch {
		case s == "2":
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = c.writeText(ctx, "3")
			cancel()
			if err != nil {
				return
			}
		case strings.HasPrefix(s, "4"):
			var p *packet
			if p, err = parsePacket(s[1:]); err != nil {
				return
			}
			if p.attachments > 0 {
				c.pending.p, c.pending.want = p, p.attachments
				continue
			}
			if err = c.deliver(p); err != nil {
				return
			}
		case s == "1":
			err = errors.New("sioclient: the server closed the session")
			return
		}
	}
}

func (c *Client) attachment(b []byte) error {
	p := c.pending.p
	if p == nil {
		return errors.New("sioclient: unexpected binary message")
	}
	p.bins = append(p.bins, b)
	if c.pending.want--; c.pending.want > 0 {
		return nil
	}
	c.pending.p = nil
	return c.deliver(p)
}

// deliver hands a complete packet to whoever waits for it.
func (c *Client) deliver(p *packet) error {
	if p.nsp != c.nsp {
		return nil
	}
	switch p.typ {
	case '1':
		return errors.New("sioclient: the server disconnected the socket")
	case '2', '5':
		args, err := p.args()
		if err != nil {
			return err
		}
		if len(args) == 0 {
			return errors.New("sioclient: event without a name")
		}
		name, _ := args[0].(string)
		e := &Event{Name: name, Args: args[1:], Raw: p.data, ackID: p.id, c: c}
		if c.autoAck != nil && p.id >= 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := e.Ack(ctx, c.autoAck(e)...)
			cancel()
			if err != nil {
				return err
			}
		}
		select {
		case c.events <- e:
		default:
			return errors.New("sioclient: more than 1024 events unread")
		}
	case '3', '6':
		args, err := p.args()
		if err != nil {
			return err
		}
		c.mu.Lock()
		ch := c.acks[p.id]
		delete(c.acks, p.id)
		c.mu.Unlock()
		if ch != nil {
			ch <- args
		}
	}
	return nil
}

// Next returns the next event, or an error if none comes before ctx ends or the connection ends.
func (c *Client) Next(ctx context.Context) (*Event, error) {
	select {
	case e := <-c.events:
		return e, nil
	case <-c.done:
		select {
		case e := <-c.events:
			return e, nil
		default:
		}
		return nil, c.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Pending returns the events received and not yet taken with Next, taking them.
func (c *Client) Pending() []*Event {
	var out []*Event
	for {
		select {
		case e := <-c.events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// Emit sends an event.
func (c *Client) Emit(ctx context.Context, event string, args ...any) error {
	data, err := json.Marshal(append([]any{event}, args...))
	if err != nil {
		return err
	}
	return c.writeText(ctx, "42"+c.nspPrefix()+string(data))
}

// EmitWithAck sends an event and waits for the server's ack.
func (c *Client) EmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	data, err := json.Marshal(append([]any{event}, args...))
	if err != nil {
		return nil, err
	}
	ch := make(chan []any, 1)
	c.mu.Lock()
	if c.acks == nil {
		c.mu.Unlock()
		return nil, c.Err()
	}
	id := c.nextAck
	c.nextAck++
	c.acks[id] = ch
	c.mu.Unlock()
	if err := c.writeText(ctx, "42"+c.nspPrefix()+strconv.FormatInt(id, 10)+string(data)); err != nil {
		return nil, err
	}
	select {
	case args, ok := <-ch:
		if !ok {
			return nil, c.Err()
		}
		return args, nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err says why the connection ended, or is nil while it is open.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && c.acks == nil {
		return errors.New("sioclient: connection closed")
	}
	return c.err
}

// Close ends the connection.
func (c *Client) Close() error { return c.conn.Close(websocket.StatusNormalClosure, "") }
