// Package chatredis keeps the chat's cluster-wide state in Redis, for servers that share one
// room: who is online (Presence) and the per-user message rate limit. It is the only part of the
// chat that links a Redis client, so that a server without Redis does not.
package chatredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/herald-chat/herald/internal/chat"
	"github.com/herald-chat/herald/socketio"
)

// PresenceConfig holds a Presence's settings; zero fields take the defaults named on them.
type PresenceConfig struct {
	// Prefix starts every key. Default "herald:presence:". Servers of one room must agree on it.
	Prefix string
	// Lease is how long a server counts as alive after its last renewal: the users of a server
	// that dies leave the count at most Lease plus one RenewEvery later. Default 3s.
	Lease time.Duration
	// RenewEvery is how often a server renews its lease and reaps dead servers. Default 1s.
	RenewEvery time.Duration
	// Timeout bounds one round trip to Redis. Default 2s.
	Timeout time.Duration
	// Logger receives diagnostics. Default slog.Default().
	Logger *slog.Logger
}

func (c PresenceConfig) withDefaults() PresenceConfig {
	if c.Prefix == "" {
		c.Prefix = "herald:presence:"
	}
	if c.Lease <= 0 {
		c.Lease = 3 * time.Second
	}
	if c.RenewEvery <= 0 {
		c.RenewEvery = time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// eventChanged is the server-side event by which a server tells the others that the number of
// distinct users changed.
const eventChanged = "herald:presence"

// Presence is a chat.Presence shared by the servers of a cluster through Redis, with a lease per
// server: each server records which users have sockets on it, renews its lease every second,
// and reaps the servers whose lease expired, so that the users of a server killed with kill -9
// leave the count within seconds. After losing its lease or finding Redis empty (restarted), a
// server registers its users again. While Redis is unreachable it goes on with what its own
// sockets tell it, and the count is exact again once Redis is back. It is safe for concurrent use.
type Presence struct {
	cfg    PresenceConfig
	client rueidis.Client
	nsp    *socketio.Namespace
	node   string // this server's id
	epoch  string // what this server proposes as the epoch of a fresh state
	local  *chat.UserSockets

	mu      sync.Mutex
	count   int    // distinct users, as last known
	version int64  // of count, within its epoch
	known   string // the epoch of count
	stale   bool   // Redis missed a change of ours: register again
	changed func()
	left    func([]chat.User)

	stop context.CancelFunc
	done chan struct{}
}

// NewPresence registers this server (with no users) and starts renewing its lease. nsp is the
// room's namespace, through whose adapter the servers tell each other about changes.
func NewPresence(ctx context.Context, client rueidis.Client, nsp *socketio.Namespace, cfg PresenceConfig) (*Presence, error) {
	cfg = cfg.withDefaults()
	p := &Presence{cfg: cfg, client: client, nsp: nsp, node: randomHex(8), epoch: randomHex(8), local: chat.NewUserSockets(), done: make(chan struct{})}
	if err := p.register(ctx); err != nil {
		return nil, fmt.Errorf("chatredis: registering with redis: %w", err)
	}
	nsp.OnServerSideEmit(eventChanged, func(*socketio.ServerSideEvent) { p.notifyChanged() })
	runCtx, stop := context.WithCancel(context.Background())
	p.stop = stop
	go p.run(runCtx)
	return p, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Watch registers the room's callbacks.
func (p *Presence) Watch(changed func(), left func([]chat.User)) {
	p.mu.Lock()
	p.changed, p.left = changed, left
	p.mu.Unlock()
}

func (p *Presence) notifyChanged() {
	p.mu.Lock()
	f := p.changed
	p.mu.Unlock()
	if f != nil {
		f()
	}
}

// tellOthers asks the other servers to re-read the count.
func (p *Presence) tellOthers() {
	if err := p.nsp.ServerSideEmit(eventChanged); err != nil {
		p.cfg.Logger.Warn("chatredis: telling the other servers the count changed", "err", err)
	}
}

// Online returns the number of distinct users online in the cluster, as last known.
func (p *Presence) Online() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

// Connect records a socket of this server.
func (p *Presence) Connect(ctx context.Context, socketID string, u chat.User) (bool, error) {
	firstHere, _ := p.local.Add(socketID, u)
	if !firstHere {
		return false, nil // the user is on this server already: nothing changes in Redis
	}
	res, err := p.exec(ctx, connectScript, p.node, strconv.FormatInt(u.ID, 10), u.Name)
	if err == nil && res.flag < 0 {
		// Our lease is gone (reaped during a pause, or Redis restarted): register everyone,
		// this user included, and judge "first" from this server's view.
		err = p.register(ctx)
		res.flag = 1
	}
	if err != nil {
		p.guess(+1)
		return true, err
	}
	if res.flag == 1 {
		p.tellOthers()
	}
	return res.flag == 1, nil
}

// Disconnect forgets a socket of this server.
func (p *Presence) Disconnect(ctx context.Context, socketID string) (bool, chat.User, error) {
	lastHere, u, _ := p.local.Remove(socketID)
	if !lastHere {
		return false, u, nil
	}
	res, err := p.exec(ctx, disconnectScript, p.node, strconv.FormatInt(u.ID, 10))
	if err != nil {
		p.guess(-1)
		return true, u, err
	}
	if res.flag == 1 {
		p.tellOthers()
	}
	return res.flag == 1, u, nil
}

// guess adjusts the count by what this server saw while Redis could not be reached, and marks
// the state for registering again.
func (p *Presence) guess(delta int) {
	p.mu.Lock()
	p.count = max(0, p.count+delta)
	p.stale = true
	p.mu.Unlock()
}

// Refresh reads the count from Redis.
func (p *Presence) Refresh(ctx context.Context) error {
	_, err := p.exec(ctx, stateScript)
	return err
}

// result is what a script returns: its flag (or list) and the state.
type result struct {
	flag int64
	list []string
}

// exec runs a presence script with ARGV prefix, epoch, args... and records the state it returns.
func (p *Presence) exec(ctx context.Context, script *rueidis.Lua, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	reply, err := script.Exec(ctx, p.client, nil, append([]string{p.cfg.Prefix, p.epoch}, args...)).ToArray()
	if err != nil {
		return result{}, err
	}
	return p.record(reply)
}

// record reads a script's reply: {flag or list, {epoch, version, count}}. It is Redis's answer,
// but checked all the same.
func (p *Presence) record(reply []rueidis.RedisMessage) (result, error) {
	var r result
	if len(reply) != 2 {
		return r, errors.New("chatredis: unexpected script reply")
	}
	if list, err := reply[0].AsStrSlice(); err == nil {
		r.list = list
	} else if r.flag, err = reply[0].AsInt64(); err != nil {
		return r, fmt.Errorf("chatredis: script reply: %w", err)
	}
	st, err := reply[1].ToArray()
	if err != nil || len(st) != 3 {
		return r, errors.New("chatredis: unexpected state in script reply")
	}
	epoch, err1 := st[0].ToString()
	version, err2 := st[1].AsInt64()
	count, err3 := st[2].AsInt64()
	if err := errors.Join(err1, err2, err3); err != nil || count < 0 {
		return r, fmt.Errorf("chatredis: state in script reply: %w", err)
	}
	p.mu.Lock()
	// Replies to concurrent scripts arrive in any order: keep the newest state. A new epoch
	// means Redis started afresh, and its counter with it.
	if epoch != p.known || version >= p.version {
		p.known, p.version, p.count = epoch, version, int(count)
	}
	p.mu.Unlock()
	return r, nil
}

// register replaces this server's entry in Redis by its users now, with a fresh lease.
func (p *Presence) register(ctx context.Context) error {
	args := []string{p.node, strconv.FormatInt(p.cfg.Lease.Milliseconds(), 10)}
	for _, u := range p.local.Users() {
		args = append(args, strconv.FormatInt(u.ID, 10), u.Name)
	}
	p.mu.Lock()
	p.stale = false
	p.mu.Unlock()
	if _, err := p.exec(ctx, registerScript, args...); err != nil {
		p.mu.Lock()
		p.stale = true
		p.mu.Unlock()
		return err
	}
	return nil
}

// run renews the lease and reaps dead servers until ctx ends.
func (p *Presence) run(ctx context.Context) {
	defer close(p.done)
	t := time.NewTicker(p.cfg.RenewEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.tick(ctx)
	}
}

// tick is one renewal: register again if needed, renew the lease, reap the dead.
func (p *Presence) tick(ctx context.Context) {
	p.mu.Lock()
	stale := p.stale
	p.mu.Unlock()
	before := p.Online()
	if !stale {
		res, err := p.exec(ctx, renewScript, p.node, strconv.FormatInt(p.cfg.Lease.Milliseconds(), 10))
		if err != nil {
			p.cfg.Logger.Debug("chatredis: renewing the lease", "err", err)
			return
		}
		stale = res.flag == 0
	}
	if stale {
		if err := p.register(ctx); err != nil {
			p.cfg.Logger.Debug("chatredis: registering again", "err", err)
			return
		}
		p.cfg.Logger.Info("chatredis: registered this server's users again", "users", p.local.Online())
	}
	res, err := p.exec(ctx, reapScript)
	if err != nil {
		p.cfg.Logger.Debug("chatredis: reaping dead servers", "err", err)
		return
	}
	var left []chat.User
	for i := 0; i+1 < len(res.list); i += 2 {
		id, err := strconv.ParseInt(res.list[i], 10, 64)
		if err == nil {
			left = append(left, chat.User{ID: id, Name: res.list[i+1]})
		}
	}
	if len(left) > 0 {
		p.cfg.Logger.Info("chatredis: users of a dead server left", "users", len(left))
		p.mu.Lock()
		f := p.left
		p.mu.Unlock()
		if f != nil {
			f(left)
		}
	}
	if len(left) > 0 || stale {
		p.tellOthers() // the count changed by this server's doing
	}
	if p.Online() != before || len(left) > 0 || stale {
		p.notifyChanged()
	}
}

// Close stops renewing and takes this server out of Redis.
func (p *Presence) Close() error {
	p.stop()
	<-p.done
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Timeout)
	defer cancel()
	_, err := p.exec(ctx, leaveScript, p.node)
	if err == nil {
		p.tellOthers()
	}
	return err
}

var _ chat.Presence = (*Presence)(nil)
