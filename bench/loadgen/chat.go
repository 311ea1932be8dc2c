//go:build linux

package main

// The chat scenario: chat traffic through the real app (cmd/herald), not a
// bench peer. Every client is a receiver, signed in by its session cookie
// (-cookies); some of them are also senders (-senders). Each sender emits
//
//	42<seq>["chat message","<sender>:<seq>:<sentAt unix ns>"]
//
// -rate times a second, seq 0, 1, 2, … doubling as the ack id, and records
// the ack 43<seq>[{"ok":true,"id":N}] (or ok:false). Every receiver parses
// each "chat message" event it gets back, {username, message, id, time}: the
// text gives the sender, the seq and the send time, hence the delivery
// latency, and a bitmap per receiver over (sender, seq) finds duplicates and
// losses. A message acked ok must reach every receiver that was connected
// for the whole phase (clients never reconnect: those alive at the end).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"math/bits"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/bench/internal/result"
)

// chatConfig is the chat part of a worker's configuration.
type chatConfig struct {
	Clients  int     `json:"clients"`  // all the run's clients, every one a receiver
	Senders  int     `json:"senders"`  // how many of them also send
	Messages int     `json:"messages"` // messages per sender
	Rate     float64 `json:"rate"`     // messages per second per sender
}

// slots is the number of distinct messages of the run: one per (sender, seq).
func (c *chatConfig) slots() int { return c.Senders * c.Messages }

// senderClient returns the index, among all the run's clients, of sender k:
// the senders are spread evenly over the clients, hence over the workers.
func (c *chatConfig) senderClient(k int) int { return k * c.Clients / c.Senders }

// chatState is a worker's side of the chat scenario.
type chatState struct {
	w         *worker
	cfg       chatConfig
	senders   []*sender // this worker's senders, by increasing k
	ackHist   *result.Histogram
	delivered atomic.Int64 // distinct (client, message) received, every client
	sent      atomic.Int64
	skipped   atomic.Int64
	ackOK     atomic.Int64
	rejected  atomic.Int64

	mu           sync.Mutex
	rejectSample string
}

// sender is one client's sending side.
type sender struct {
	k      int // the sender's number among all senders
	c      *clientState
	sentAt []atomic.Int64  // per seq: unix ns just before the write; 0 = not sent
	acked  []atomic.Uint32 // per seq: ackNone, ackOK or ackRejected
}

const (
	ackNone uint32 = iota
	ackOK
	ackRejected
)

// newChatState picks the worker's senders among its clients.
func newChatState(w *worker) *chatState {
	cfg := *w.cfg.Chat
	ch := &chatState{w: w, cfg: cfg, ackHist: result.NewHistogram()}
	for k := range cfg.Senders {
		i := cfg.senderClient(k) - w.cfg.Offset
		if i < 0 || i >= len(w.clients) {
			continue
		}
		s := &sender{k: k, c: w.clients[i],
			sentAt: make([]atomic.Int64, cfg.Messages), acked: make([]atomic.Uint32, cfg.Messages)}
		w.clients[i].snd = s
		ch.senders = append(ch.senders, s)
	}
	return ch
}

// chatMessage records a "chat message" event received by c.
func (c *clientState) chatMessage(arg []byte, at int64) {
	ch := c.w.chat
	if ch == nil {
		return // not a chat run
	}
	k, seq, sent, ok := parseChatText(arg)
	if !ok || k < 0 || k >= int64(ch.cfg.Senders) || seq < 0 || seq >= int64(ch.cfg.Messages) {
		c.w.bad.Add(1)
		return
	}
	slot := k*int64(ch.cfg.Messages) + seq
	bit := uint64(1) << (slot % 64)
	if old := c.seen[slot/64].Or(bit); old&bit != 0 {
		c.w.dups.Add(1)
		return
	}
	c.w.hist.Record(at - sent)
	c.chatGot.Add(1)
	ch.delivered.Add(1)
}

// ack records the server's answer to one of c's chat messages.
func (c *clientState) ack(id int64, arg []byte, at int64) {
	s, ch := c.snd, c.w.chat
	if s == nil || ch == nil || id < 0 || id >= int64(len(s.sentAt)) {
		c.w.bad.Add(1)
		return
	}
	sent := s.sentAt[id].Load()
	state := ackRejected
	if bytes.Contains(arg, []byte(`"ok":true`)) {
		state = ackOK
	}
	if sent == 0 || !s.acked[id].CompareAndSwap(ackNone, state) {
		c.w.bad.Add(1) // an ack for nothing sent, or a second one
		return
	}
	ch.ackHist.Record(at - sent)
	if state == ackOK {
		ch.ackOK.Add(1)
		return
	}
	ch.rejected.Add(1)
	ch.mu.Lock()
	if ch.rejectSample == "" {
		ch.rejectSample = fmt.Sprintf("%.200s", arg)
	}
	ch.mu.Unlock()
}

// messageKey starts the text of a chat message in the event's payload.
var messageKey = []byte(`"message":"`)

// parseChatText finds "message":"<k>:<seq>:<sentAt>" in a chat message
// payload, {"username":…,"message":…,"id":…,"time":…}.
func parseChatText(obj []byte) (k, seq, sentAt int64, ok bool) {
	i := bytes.Index(obj, messageKey)
	if i < 0 {
		return 0, 0, 0, false
	}
	b := obj[i+len(messageKey):]
	var f [3]int64
	for n := range f {
		j := 0
		for j < len(b) && j < 19 && b[j] >= '0' && b[j] <= '9' {
			f[n] = f[n]*10 + int64(b[j]-'0')
			j++
		}
		want := byte(':')
		if n == 2 {
			want = '"'
		}
		if j == 0 || j >= len(b) || b[j] != want {
			return 0, 0, 0, false
		}
		b = b[j+1:]
	}
	return f[0], f[1], f[2], true
}

// appendChatPacket appends the EVENT packet of message seq of sender k, with
// seq as its ack id.
func appendChatPacket(b []byte, k, seq int, sentAt int64) []byte {
	b = append(b, "42"...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `["chat message","`...)
	b = strconv.AppendInt(b, int64(k), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, sentAt, 10)
	return append(b, `"]`...)
}

// send emits the worker's senders' messages on schedule: message seq of
// sender k is due at start + (seq + k/senders) / rate, so that the senders
// of all workers take turns evenly.
func (ch *chatState) send(ctx context.Context, startAt int64) {
	start := time.Unix(0, startAt)
	cfg := ch.cfg
	buf := make([]byte, 0, 128)
	for seq := range cfg.Messages {
		for _, s := range ch.senders {
			at := (float64(seq) + float64(s.k)/float64(cfg.Senders)) / cfg.Rate
			if sleepCtx(ctx, time.Until(start.Add(time.Duration(at*float64(time.Second))))) != nil {
				return
			}
			if !s.c.alive.Load() || s.c.out == nil {
				ch.skipped.Add(1)
				continue
			}
			now := time.Now().UnixNano()
			buf = appendChatPacket(buf[:0], s.k, seq, now)
			s.sentAt[seq].Store(now)
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := s.c.out.send(wctx, buf)
			cancel()
			if err != nil {
				ch.skipped.Add(1)
				continue
			}
			ch.sent.Add(1)
		}
	}
}

func (ch *chatState) status(m *workerMsg) {
	m.ChatSent = ch.sent.Load()
	m.ChatSkipped = ch.skipped.Load()
	m.ChatAckOK = ch.ackOK.Load()
	m.ChatRejected = ch.rejected.Load()
}

// report fills in the chat results: latencies, the messages acked ok by
// this worker's senders, and how many of its clients alive now received
// each message.
func (ch *chatState) report(m *workerMsg) {
	w, cfg := ch.w, ch.cfg
	m.Delivered = ch.delivered.Load()
	m.Dups = w.dups.Load()
	m.Bad = w.bad.Load()
	lat, ack := w.hist.Sparse(), ch.ackHist.Sparse()
	m.Latency, m.AckLatency = &lat, &ack
	ch.mu.Lock()
	m.RejectSample = ch.rejectSample
	ch.mu.Unlock()
	slots := cfg.slots()
	m.ChatOK = make([]uint64, (slots+63)/64)
	for _, s := range ch.senders {
		for seq := range s.acked {
			if s.acked[seq].Load() == ackOK {
				slot := s.k*cfg.Messages + seq
				m.ChatOK[slot/64] |= 1 << (slot % 64)
			}
		}
	}
	m.ChatCounts = make([]int32, slots)
	m.Alive = 0
	for _, c := range w.clients {
		if !c.alive.Load() {
			continue
		}
		m.Alive++
		for i := range c.seen {
			for word := c.seen[i].Load(); word != 0; word &= word - 1 {
				m.ChatCounts[i*64+bits.TrailingZeros64(word)]++
			}
		}
	}
}

// readCookies returns lines [from, from+n) of the cookie file.
func readCookies(path string, from, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	out := make([]string, 0, n)
	for line := 0; sc.Scan() && len(out) < n; line++ {
		if line >= from {
			out = append(out, string(bytes.TrimSpace(sc.Bytes())))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) < n {
		return nil, fmt.Errorf("%s: %d cookies for clients %d–%d", path, from+len(out), from, from+n-1)
	}
	return out, nil
}

// chatPlan returns the chat configuration of a run.
func chatPlan(o options) (*chatConfig, error) {
	if o.senders < 1 || o.senders > o.clients {
		return nil, fmt.Errorf("-senders %d: want 1 to -clients (%d)", o.senders, o.clients)
	}
	if o.msgRate <= 0 {
		return nil, fmt.Errorf("-rate %v: want a positive rate", o.msgRate)
	}
	return &chatConfig{Clients: o.clients, Senders: o.senders, Rate: o.msgRate,
		Messages: max(1, int(math.Round(o.msgRate*o.duration.Seconds())))}, nil
}

// runChat starts the senders, waits until every message acked ok has
// reached every client alive or the drain time is over, and measures.
func runChat(ctx context.Context, o options, res *result.Run, workers pool, sp *sampler, cfg *chatConfig) error {
	// Let the arrivals' work (history, counts) finish before measuring memory at rest.
	if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
		return err
	}
	res.RSSIdle = sp.sample().RSS
	st0, err := workers.ask(ctx, "status", "status", 10*time.Second)
	if err != nil {
		return err
	}
	lg0 := sum(st0).CPUSecs + selfCPUSeconds()
	s2 := sp.sample()
	start := time.Now().Add(100 * time.Millisecond)
	if _, err := workers.ask(ctx, fmt.Sprintf("chat %d", start.UnixNano()), "chat", 10*time.Second); err != nil {
		return err
	}
	planned := int64(cfg.slots())
	end := start.Add(time.Duration(float64(cfg.Messages) / cfg.Rate * float64(time.Second)))
	if err := sleepCtx(ctx, time.Until(end)); err != nil {
		return err
	}
	last, err := workers.pollStatus(ctx, "status", 50*time.Millisecond, time.Now().Add(o.drain), func(m workerMsg) bool {
		return m.ChatSent+m.ChatSkipped >= planned &&
			m.ChatAckOK+m.ChatRejected >= m.ChatSent &&
			m.Ticks >= m.ChatAckOK*int64(m.Alive)
	})
	if err != nil {
		return err
	}
	s3 := sp.sample()
	res.ChatSeconds = time.Since(start).Seconds()
	res.MessageRate = cfg.Rate
	res.Senders = cfg.Senders
	res.ServerCPULoad = s3.CPU - s2.CPU
	res.RSSLoad = s3.RSS
	res.ServerThreadsLoad = s3.Threads
	res.Pings = last.Pings
	if last.Ticks > 0 {
		res.LoadgenCPUPerDeliver = (last.CPUSecs + selfCPUSeconds() - lg0) / float64(last.Ticks) * 1e6
	}
	return nil
}

// mergeChat adds up the workers' chat reports.
func mergeChat(res *result.Run, reports []workerMsg, cfg *chatConfig) {
	lat, ack := result.NewHistogram(), result.NewHistogram()
	slots := cfg.slots()
	okBits := make([]uint64, (slots+63)/64)
	counts := make([]int64, slots)
	alive := 0
	for _, r := range reports {
		if r.Latency != nil {
			lat.Merge(*r.Latency)
		}
		if r.AckLatency != nil {
			ack.Merge(*r.AckLatency)
		}
		for i, w := range r.ChatOK {
			if i < len(okBits) {
				okBits[i] |= w
			}
		}
		for i, n := range r.ChatCounts {
			if i < slots {
				counts[i] += int64(n)
			}
		}
		alive += r.Alive
		res.MessagesSent += int(r.ChatSent)
		res.ChatSkipped += r.ChatSkipped
		res.AckedOK += r.ChatAckOK
		res.Rejected += r.ChatRejected
		res.Delivered += r.Delivered
		res.Duplicates += r.Dups
		if res.RejectSample == "" {
			res.RejectSample = r.RejectSample
		}
	}
	res.Alive = alive
	res.Disconnects = res.ConnectOK - alive
	res.Unacked = int64(res.MessagesSent) - res.AckedOK - res.Rejected
	res.Expected = res.AckedOK * int64(alive)
	var notOK int64 // messages some client received that were not acked ok
	for slot, n := range counts {
		if okBits[slot/64]&(1<<(slot%64)) != 0 {
			res.Lost += int64(alive) - n
			if n < int64(alive) {
				res.LostMessages++
			}
		} else if n > 0 {
			notOK++
		}
	}
	res.LatencyP50MS, res.LatencyP99MS, res.LatencyMaxMS, res.Latency = msSummary(lat)
	res.AckP50MS, res.AckP99MS, res.AckMaxMS, res.AckLatency = msSummary(ack)
	if res.Delivered > 0 && res.ServerCPULoad > 0 {
		res.CPUPerDeliver = res.ServerCPULoad / float64(res.Delivered) * 1e6
	}
	if res.ChatSeconds > 0 {
		// Deliveries per second offered while sending, and sustained over the phase.
		offered := float64(cfg.slots()) * float64(res.ConnectOK) / (float64(cfg.Messages) / cfg.Rate)
		all := float64(res.MessagesSent) * float64(alive)
		if float64(res.Delivered) < 0.9*all {
			res.Notes = append(res.Notes, fmt.Sprintf("the app could not keep up: %.0f%% of the messages sent × receivers were delivered by the end of the drain wait, "+
				"%.0f deliveries/s against %.0f/s offered, the app using %.0f%% of a core",
				100*float64(res.Delivered)/all, float64(res.Delivered)/res.ChatSeconds, offered, 100*res.ServerCPULoad/res.ChatSeconds))
		}
	}
	if res.Rejected > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d messages rejected (ack ok:false), first: %s", res.Rejected, res.RejectSample))
	}
	if res.Unacked > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d messages sent got no ack by the end of the drain wait", res.Unacked))
	}
	if res.ChatSkipped > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d messages not sent: their sender was disconnected or the write failed", res.ChatSkipped))
	}
	if notOK > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d messages were delivered without an ok ack", notOK))
	}
	if res.Lost > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d deliveries lost or late: %d messages acked ok did not reach all %d clients connected throughout", res.Lost, res.LostMessages, alive))
	}
	if res.Disconnects > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d clients were disconnected during the run", res.Disconnects))
	}
}
