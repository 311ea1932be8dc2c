// Package chat is the chat room's domain: who is online (distinct users, counted from their
// sockets), the merged "user count" broadcasts, join and leave announcements, and chat messages
// with validation, rate limits, storage and history. It is wired to a socketio.Server and talks to
// storage through store.MessageStore.
package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herald-chat/herald/internal/store"
	"github.com/herald-chat/herald/socketio"
)

// Event names and payload keys are fixed by the learning app whose client code Herald serves.
const (
	EventUserCount   = "user count"
	EventUser        = "user"
	EventChatMessage = "chat message"
	EventHistory     = "history"
)

// Identity is the signed-in user behind a socket.
type Identity struct {
	UserID    int64
	Username  string
	SessionID string // the login session, so that logging out can end its sockets
}

// Authenticator finds the signed-in user of an Engine.IO handshake request (from its session
// cookie).
type Authenticator interface {
	Authenticate(r *http.Request) (Identity, bool)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (Identity, bool)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (Identity, bool) { return f(r) }

// Observer is told what happens in the room, for metrics. Its methods must be fast and safe for
// concurrent use.
type Observer interface {
	UsersOnline(n int)
	MessageStored()
	Broadcast(event string, took time.Duration)
}

// The default message rate limit: DefaultRateBurst messages at once, then one per
// DefaultRateInterval, per user.
const (
	DefaultRateBurst    = 10
	DefaultRateInterval = 300 * time.Millisecond
)

// Config holds the room's settings; zero fields take the defaults named on them.
type Config struct {
	// MaxMessageLen is the longest message, in characters. Default 1000.
	MaxMessageLen int
	// HistorySize is how many messages a connecting socket receives. Default 50.
	HistorySize int
	// CountWindow merges "user count" changes that land within it. Default 50ms.
	CountWindow time.Duration
	// AnnounceMaxUsers: while more users than this are online, joins and leaves are no longer
	// announced one by one (only the count changes), so that a crowd does not cost N²
	// deliveries. Default 100.
	AnnounceMaxUsers int
	// RateBurst and RateInterval limit each user to RateBurst messages at once, then one per
	// RateInterval, in the default RateLimiter. Defaults DefaultRateBurst and
	// DefaultRateInterval.
	RateBurst    int
	RateInterval time.Duration
	// RateLimiter limits each user's messages, across their sockets and reconnections. Default a
	// MemoryRateLimiter of RateBurst and RateInterval: one server. The room does not close it.
	RateLimiter RateLimiter
	// StoreTimeout bounds storing one message. Default 5s.
	StoreTimeout time.Duration
	// Presence counts who is online. Default a MemoryPresence: one server. The room does not
	// close it.
	Presence Presence
	// Logger receives diagnostics. Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxMessageLen <= 0 {
		c.MaxMessageLen = 1000
	}
	if c.HistorySize <= 0 {
		c.HistorySize = 50
	}
	if c.CountWindow <= 0 {
		c.CountWindow = 50 * time.Millisecond
	}
	if c.AnnounceMaxUsers <= 0 {
		c.AnnounceMaxUsers = 100
	}
	if c.RateBurst <= 0 {
		c.RateBurst = DefaultRateBurst
	}
	if c.RateInterval <= 0 {
		c.RateInterval = DefaultRateInterval
	}
	if c.StoreTimeout <= 0 {
		c.StoreTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Presence == nil {
		c.Presence = NewMemoryPresence()
	}
	if c.RateLimiter == nil {
		c.RateLimiter = NewMemoryRateLimiter(c.RateBurst, c.RateInterval)
	}
	return c
}

// Message is a chat line as clients receive it.
type Message struct {
	Username string    `json:"username"`
	Message  string    `json:"message"`
	ID       int64     `json:"id"`
	Time     time.Time `json:"time"`
}

// userEvent announces that a user came online or went offline.
type userEvent struct {
	Username     string `json:"username"`
	CurrentUsers int    `json:"currentUsers"`
	Connected    bool   `json:"connected"`
}

// ackReply answers a client's "chat message" ack callback.
type ackReply struct {
	OK    bool   `json:"ok"`
	ID    int64  `json:"id,omitempty"`
	Error string `json:"error,omitempty"`
}

// Errors a sender sees in its ack.
var (
	ErrEmpty    = errors.New("message is empty")
	ErrTooLong  = errors.New("message is too long")
	ErrTooFast  = errors.New("you are sending messages too fast")
	ErrNotText  = errors.New("message must be text")
	errInternal = errors.New("message could not be stored, try again")
)

// Room is the chat room on a Socket.IO namespace. It is safe for concurrent use.
type Room struct {
	cfg      Config
	nsp      *socketio.Namespace
	messages store.MessageStore
	obs      Observer
	log      *slog.Logger

	presence Presence
	counts   *countBroadcaster
	limiter  RateLimiter
	history  *history
}

// sessionRoom names the Socket.IO room of one login session's sockets.
func sessionRoom(sessionID string) string { return "session:" + sessionID }

// New loads the recent history and attaches the room to nsp: authentication middleware, the
// connection handler and the "chat message" handler. obs may be nil.
func New(ctx context.Context, cfg Config, nsp *socketio.Namespace, messages store.MessageStore, auth Authenticator, obs Observer) (*Room, error) {
	cfg = cfg.withDefaults()
	recent, err := messages.Recent(ctx, cfg.HistorySize)
	if err != nil {
		return nil, fmt.Errorf("chat: loading history: %w", err)
	}
	initial := make([]Message, len(recent))
	for i, m := range recent {
		initial[i] = fromStore(m)
	}
	if obs == nil {
		obs = nopObserver{}
	}
	r := &Room{
		cfg:      cfg,
		nsp:      nsp,
		messages: messages,
		obs:      obs,
		log:      cfg.Logger,
		presence: cfg.Presence,
		limiter:  cfg.RateLimiter,
		history:  newHistory(cfg.HistorySize, initial),
	}
	r.counts = &countBroadcaster{window: cfg.CountWindow, lastSent: -1, read: r.presence.Online, refresh: r.refreshCount, emit: r.broadcastCount}
	r.presence.Watch(r.counts.changed, r.announceLeft)
	// Messages stored on the other servers of a cluster join this server's history too.
	nsp.OnServerSideEmit(eventStored, r.onStoredElsewhere)
	nsp.Use(func(s *socketio.Socket) error {
		id, ok := auth.Authenticate(s.Request())
		if !ok {
			return &socketio.ConnectError{Message: "unauthorized"}
		}
		s.SetData(id)
		return nil
	})
	nsp.OnConnection(r.connected)
	return r, nil
}

func fromStore(m store.Message) Message {
	return Message{Username: m.Username, Message: m.Text, ID: m.ID, Time: m.Time}
}

// UsersOnline returns the number of distinct users online.
func (r *Room) UsersOnline() int { return r.presence.Online() }

// EndSession disconnects every socket of a login session (on logout).
func (r *Room) EndSession(sessionID string) {
	r.nsp.In(sessionRoom(sessionID)).DisconnectSockets(true)
}

// Close stops pending broadcasts.
func (r *Room) Close() { r.counts.stop() }

// presenceTimeout bounds one update of the shared presence; past it the room goes on with what
// this server knows, and the presence catches up by itself.
const presenceTimeout = 2 * time.Second

// eventStored is the server-side event by which a server of a cluster tells the others about a
// message it stored, for their histories.
const eventStored = "herald:stored"

func (r *Room) connected(s *socketio.Socket) {
	id, _ := s.Data().(Identity)
	s.Join(sessionRoom(id.SessionID))
	s.On(EventChatMessage, r.onChatMessage)
	s.OnDisconnect(func(string) { r.disconnected(s, id) })

	ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
	first, err := r.presence.Connect(ctx, s.ID(), User{ID: id.UserID, Name: id.Username})
	cancel()
	if err != nil {
		r.log.Warn("chat: presence update failed; counting from this server's sockets", "err", err)
	}
	online := r.presence.Online()
	r.obs.UsersOnline(online)
	r.counts.sendCurrent(func(n int) { _ = s.Emit(EventUserCount, n) })
	if h, err := r.history.json(); err == nil {
		_ = s.Emit(EventHistory, h)
	}
	if first {
		r.counts.changed()
		if online <= r.cfg.AnnounceMaxUsers {
			r.broadcast(s.Broadcast().Emit, EventUser, userEvent{Username: id.Username, CurrentUsers: online, Connected: true})
		}
	}
}

func (r *Room) disconnected(s *socketio.Socket, id Identity) {
	ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
	last, _, err := r.presence.Disconnect(ctx, s.ID())
	cancel()
	if err != nil {
		r.log.Warn("chat: presence update failed; counting from this server's sockets", "err", err)
	}
	if !last {
		return
	}
	online := r.presence.Online()
	r.obs.UsersOnline(online)
	r.counts.changed()
	if online <= r.cfg.AnnounceMaxUsers {
		r.broadcast(r.nsp.Except(s.ID()).Emit, EventUser, userEvent{Username: id.Username, CurrentUsers: online, Connected: false})
	}
}

// announceLeft tells everyone about users who went offline because the server their sockets were
// on died: this server noticed, and announces them once for the whole cluster.
func (r *Room) announceLeft(users []User) {
	online := r.presence.Online()
	r.obs.UsersOnline(online)
	r.counts.changed()
	if online > r.cfg.AnnounceMaxUsers {
		return
	}
	for _, u := range users {
		r.broadcast(r.nsp.Emit, EventUser, userEvent{Username: u.Name, CurrentUsers: online, Connected: false})
	}
}

// broadcastCount sends the count to this server's clients: every server of a cluster sends it to
// its own when the count changes, so each client gets one emission per change however many
// servers there are.
func (r *Room) broadcastCount(n int) {
	r.obs.UsersOnline(n)
	r.broadcast(r.nsp.Local().Emit, EventUserCount, n)
}

// refreshCount brings the presence's count up to date before it is broadcast.
func (r *Room) refreshCount() {
	ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
	defer cancel()
	if err := r.presence.Refresh(ctx); err != nil {
		r.log.Warn("chat: reading the user count failed; sending the last known", "err", err)
	}
}

// onStoredElsewhere adds a message another server stored to this server's history.
func (r *Room) onStoredElsewhere(e *socketio.ServerSideEvent) {
	var m Message
	if err := e.Bind(&m); err != nil || m.ID <= 0 {
		r.log.Debug("chat: ignoring a malformed stored-message notice", "err", err)
		return
	}
	r.history.add(m)
}

// broadcast sends one event through emit (a namespace's or a broadcast operator's) and records
// how long queueing it to every recipient took.
func (r *Room) broadcast(emit func(event string, args ...any) error, event string, arg any) {
	start := time.Now()
	if err := emit(event, arg); err != nil {
		r.log.Error("chat: broadcast failed", "event", event, "err", err)
		return
	}
	r.obs.Broadcast(event, time.Since(start))
}

// onChatMessage validates, rate-limits and stores a message, then sends it to everyone and
// acknowledges it: the ack says ok only once the message is durable.
func (r *Room) onChatMessage(e *socketio.Event) {
	id, _ := e.Socket.Data().(Identity)
	msg, err := r.accept(e, id)
	if err != nil {
		_ = e.Ack(ackReply{Error: err.Error()})
		return
	}
	r.broadcast(r.nsp.Emit, EventChatMessage, msg)
	_ = e.Ack(ackReply{OK: true, ID: msg.ID})
}

func (r *Room) accept(e *socketio.Event, id Identity) (Message, error) {
	var text string
	if e.Len() < 1 || e.Bind(&text) != nil {
		return Message{}, ErrNotText
	}
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return Message{}, ErrEmpty
	case utf8.RuneCountInString(text) > r.cfg.MaxMessageLen:
		return Message{}, fmt.Errorf("%w (at most %s characters)", ErrTooLong, strconv.Itoa(r.cfg.MaxMessageLen))
	case !utf8.ValidString(text), strings.IndexByte(text, 0) >= 0:
		// NUL is no chat text, and PostgreSQL could not store it.
		return Message{}, ErrNotText
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.StoreTimeout)
	defer cancel()
	if !r.limiter.Allow(ctx, id.UserID) {
		return Message{}, ErrTooFast
	}
	stored, err := r.messages.Append(ctx, store.Message{UserID: id.UserID, Username: id.Username, Text: text})
	if err != nil {
		r.log.Error("chat: storing message", "user", id.Username, "err", err)
		return Message{}, errInternal
	}
	r.obs.MessageStored()
	m := fromStore(stored)
	r.history.add(m)
	if err := r.nsp.ServerSideEmit(eventStored, m); err != nil {
		r.log.Warn("chat: telling the other servers about a message", "err", err)
	}
	return m, nil
}

type nopObserver struct{}

func (nopObserver) UsersOnline(int)                 {}
func (nopObserver) MessageStored()                  {}
func (nopObserver) Broadcast(string, time.Duration) {}
