//go:build soak && linux

// The soak: one real herald process (GC_HEADROOM_MB=0, so its heap and RSS follow what it
// keeps), clients of every kind in separate processes, and after each phase the server's own
// figures from /metrics compared with where they started.
//
//	make soak                          # about 4 minutes
//	SOAKTIME=10m SOAKCLIENTS=4000 make soak
//
// SOAKTIME is the length of the churn phase (default 2m); SOAKCLIENTS the number of sockets of
// the reconnect storm (default 500, 500 per Node process); SOAKPHASES a comma-separated choice
// of churn, slow and storm (default all three). The tolerances are the drift* constants below.
package soak_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const (
	// driftGoroutines and driftFDs are how many goroutines and open files the server may keep
	// above its baseline once a phase's clients are gone.
	driftGoroutines = 10
	driftFDs        = 10
	// driftHeap and driftRSS are how much more heap in use and resident memory it may keep.
	// With the collector's headroom off the heap is back near the live heap after a cycle; RSS
	// lags behind it by what the runtime has not yet returned to the system.
	driftHeap = 32 << 20
	driftRSS  = 64 << 20
	// settleTimeout bounds the wait for the figures to come back after a phase: it covers the
	// 45 s (ping interval + timeout) in which the server notices a client that vanished.
	settleTimeout = 2 * time.Minute
	// socketsPerProcess is how many sockets one Node process holds: far below the 20,000 file
	// descriptors a process may have.
	socketsPerProcess = 500
)

func soakSettings(t *testing.T) (churn time.Duration, storm int) {
	t.Helper()
	// 2000 storm clients: on a quiet 2-core machine all of them are back 5.6 s after the restart
	// (1000: 3.6 s). On the same machine at load average 35-45, 1000 and 2000 kept flapping and
	// were not all back within 4 minutes (clients still on long-polling hit their ping timeout);
	// SOAKCLIENTS=500 is the size that held there.
	churn, storm = 2*time.Minute, 2000
	if v := os.Getenv("SOAKTIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second {
			t.Fatalf("SOAKTIME=%q: want a duration of at least 10s", v)
		}
		churn = d
	}
	if v := os.Getenv("SOAKCLIENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 || n > 100000 {
			t.Fatalf("SOAKCLIENTS=%q: want a number from 10 to 100000", v)
		}
		storm = n
	}
	return churn, storm
}

// soak is the state shared by the phases.
type soak struct {
	t        *testing.T
	srv      *server
	cookies  []string
	baseline sample
	report   []string
}

func TestSoak(t *testing.T) {
	churn, storm := soakSettings(t)
	dir := t.TempDir()
	bin := buildHerald(t, dir)
	users := max(storm, 1000)
	db := filepath.Join(dir, "herald.db")
	start := time.Now()
	cookies := seedUsers(t, db, users)
	t.Logf("seeded %d users with sessions in %v", users, time.Since(start).Round(time.Millisecond))
	s := &soak{t: t, srv: startServer(t, bin, db), cookies: cookies}

	// The baseline is taken after one socket has come and gone, so what the first connection
	// opens once for good (the database's connections, the writers' pool) is not counted as drift.
	s.warmUp()
	s.baseline = s.settle("baseline", sample{})
	t.Cleanup(func() {
		t.Logf("soak figures (server process, from /metrics; tolerances: goroutines +%d, fds +%d, heap +%d MiB, RSS +%d MiB, users 0, sockets 0):\n%s",
			driftGoroutines, driftFDs, driftHeap>>20, driftRSS>>20, strings.Join(s.report, "\n"))
	})

	phases := []struct {
		key, name string
		run       func() sample
	}{
		{"churn", "churn", func() sample { return s.churn(churn) }},
		{"slow", "slow reader under fan-out", s.slowReader},
		{"storm", "reconnect storm", func() sample { return s.storm(storm) }},
	}
	only := os.Getenv("SOAKPHASES")
	for _, p := range phases {
		if only == "" || slices.Contains(strings.Split(only, ","), p.key) {
			s.phase(p.name, p.run)
		}
	}
}

// warmUp connects and disconnects one socket of each transport.
func (s *soak) warmUp() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := dialWS(ctx, s.srv.url, s.cookies[0], 0)
	if err != nil {
		s.t.Fatalf("warm-up WebSocket: %v", err)
	}
	_ = w.conn.Close(websocket.StatusNormalClosure, "")
	p, err := dialPoll(ctx, s.srv.url, s.cookies[1])
	if err != nil {
		s.t.Fatalf("warm-up polling: %v", err)
	}
	_, _ = p.do(ctx, "POST", p.url, "1")
	p.dialer.reset()
}

// phase runs one phase, which returns the figures at its peak, then waits for the server to
// settle and fails on what stays above the baseline.
func (s *soak) phase(name string, run func() sample) {
	s.t.Helper()
	start := time.Now()
	peak := run()
	s.report = append(s.report, fmt.Sprintf("  %-27s peak:    %v", name, peak))
	s.settle(name, s.baseline)
	s.t.Logf("phase %q took %v", name, time.Since(start).Round(time.Second))
}

// settle waits until the server has no sockets and no users and its figures are within the
// tolerances of base (when base is set), then records them. It fails the test when they stay
// out of bounds for settleTimeout.
func (s *soak) settle(name string, base sample) sample {
	s.t.Helper()
	start := time.Now()
	deadline := start.Add(settleTimeout)
	var last sample
	var why string
	for {
		m, err := s.srv.scrape()
		switch {
		case err != nil:
			why = err.Error()
		case m.sockets != 0 || m.users != 0:
			why = "clients still connected"
		case base.goroutines == 0:
			// The baseline itself: wait for a quiet moment (two equal readings).
			if m.goroutines == last.goroutines && m.fds == last.fds {
				why = ""
			} else {
				why = "still moving"
			}
		default:
			why = drift(m, base)
		}
		if err == nil {
			last = m
		}
		if why == "" {
			s.report = append(s.report, fmt.Sprintf("  %-27s settled: %v (after %v)", name, m, time.Since(start).Round(100*time.Millisecond)))
			return m
		}
		if time.Now().After(deadline) {
			s.report = append(s.report, fmt.Sprintf("  %-27s DRIFT:   %v (%s)", name, last, why))
			s.t.Fatalf("after %s the server did not come back to its baseline within %v: %s\n  baseline: %v\n  now:      %v",
				name, settleTimeout, why, base, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// drift says what in m is beyond the tolerances over base, or "".
func drift(m, base sample) string {
	var out []string
	if m.goroutines > base.goroutines+driftGoroutines {
		out = append(out, fmt.Sprintf("goroutines %d > %d+%d", m.goroutines, base.goroutines, driftGoroutines))
	}
	if m.fds > base.fds+driftFDs {
		out = append(out, fmt.Sprintf("fds %d > %d+%d", m.fds, base.fds, driftFDs))
	}
	if m.heap > base.heap+driftHeap {
		out = append(out, fmt.Sprintf("heap %.1f MiB > %.1f+%d MiB", m.heap/(1<<20), base.heap/(1<<20), driftHeap>>20))
	}
	if m.rss > base.rss+driftRSS {
		out = append(out, fmt.Sprintf("RSS %.1f MiB > %.1f+%d MiB", m.rss/(1<<20), base.rss/(1<<20), driftRSS>>20))
	}
	return strings.Join(out, ", ")
}

// peakTracker scrapes the server every second while a phase runs and keeps the highest
// figures.
type peakTracker struct {
	stop chan struct{}
	done chan sample
}

func (s *soak) trackPeak() *peakTracker {
	p := &peakTracker{stop: make(chan struct{}), done: make(chan sample, 1)}
	go func() {
		var peak sample
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if m, err := s.srv.scrape(); err == nil {
				peak.goroutines = max(peak.goroutines, m.goroutines)
				peak.fds = max(peak.fds, m.fds)
				peak.rss = max(peak.rss, m.rss)
				peak.heap = max(peak.heap, m.heap)
				peak.users = max(peak.users, m.users)
				peak.sockets = max(peak.sockets, m.sockets)
			}
			select {
			case <-p.stop:
				p.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakTracker) end() sample {
	close(p.stop)
	return <-p.done
}

// counters of the raw churn, reported at the end of the phase.
type rawCounts struct {
	handshakeResets, wsResets, pollResets, silentWS, abandonedPolls, errors atomic.Int64
}

// countError counts a failure to connect, unless it only means that the phase ended.
func (c *rawCounts) countError(ctx context.Context) {
	if ctx.Err() == nil {
		c.errors.Add(1)
	}
}

// churn runs every kind of connection churn for d: official clients on each transport setting
// (default = polling then upgrade, WebSocket only, polling only) that come and go, some before
// the handshake is done and some right after CONNECT; raw connections reset mid-handshake and
// mid-session; sockets that vanish (a Node process killed with its sockets open, WebSockets
// that go silent, polling sessions never polled again), which the server must reap by itself.
func (s *soak) churn(d time.Duration) sample {
	t := s.t
	peak := s.trackPeak()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	users := s.cookies

	var nodes []*nodeClients
	for i, tr := range []struct {
		name       string
		transports []string
	}{{"default", nil}, {"websocket", []string{"websocket"}}, {"polling", []string{"polling"}}} {
		// Each process has its own 200 users, so presence sees arrivals and departures.
		nodes = append(nodes, startNode(t, "churn-"+tr.name, s.srv.url, map[string]any{
			"mode": "churn", "cookies": users[i*200 : (i+1)*200], "transports": tr.transports,
			"loops": 15, "ms": d.Milliseconds(), "sendEvery": 7,
		}))
	}

	var raw rawCounts
	var wg sync.WaitGroup
	addr := strings.TrimPrefix(s.srv.url, "http://")
	rawUsers := users[600:800]
	pick := func() string { return rawUsers[rand.IntN(len(rawUsers))] }
	// Resets mid-handshake, of three kinds.
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				if err := resetMidHandshake(addr, pick(), i%3); err != nil {
					raw.errors.Add(1)
				}
				raw.handshakeResets.Add(1)
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	// Resets mid-session: a joined WebSocket, and a polling session with a poll pending.
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				if i%2 == 0 {
					w, err := dialWS(ctx, s.srv.url, pick(), 0)
					if err != nil {
						raw.countError(ctx)
						continue
					}
					time.Sleep(time.Duration(rand.IntN(50)) * time.Millisecond)
					w.reset()
					raw.wsResets.Add(1)
				} else {
					p, err := dialPoll(ctx, s.srv.url, pick())
					if err != nil {
						raw.countError(ctx)
						continue
					}
					p.resetDuringPoll(ctx)
					raw.pollResets.Add(1)
				}
			}
		}()
	}
	// Sockets that vanish: every 20 s, 20 WebSockets that stop reading and answering pings (the
	// TCP connection stays open) and 20 polling sessions that are never polled again; they are
	// closed on this side only after the server has let them go.
	var silentMu sync.Mutex
	var silent []*rawWS
	var abandoned []*rawPoll
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Second)
		defer tick.Stop()
		for ctx.Err() == nil {
			for range 20 {
				if w, err := dialWS(ctx, s.srv.url, pick(), 0); err == nil {
					silentMu.Lock()
					silent = append(silent, w)
					silentMu.Unlock()
					raw.silentWS.Add(1)
				}
				if p, err := dialPoll(ctx, s.srv.url, pick()); err == nil {
					silentMu.Lock()
					abandoned = append(abandoned, p)
					silentMu.Unlock()
					raw.abandonedPolls.Add(1)
				}
			}
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
	// Node processes killed with their sockets connected: one every 30 s.
	killed := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := 0; ; k++ {
			n := startNode(t, fmt.Sprintf("vanish-%d", k), s.srv.url, map[string]any{
				"mode": "hold", "cookies": users[800+(k%4)*50 : 850+(k%4)*50], "transports": nil,
			})
			if _, err := n.next("connected", time.Minute); err != nil {
				t.Errorf("vanishing clients %d: %v", k, err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(15 * time.Second):
			}
			n.vanish()
			killed++
			select {
			case <-ctx.Done():
				return
			case <-time.After(15 * time.Second):
			}
		}
	}()

	for _, n := range nodes {
		l, err := n.next("done", d+2*time.Minute)
		if err != nil {
			t.Error(err)
			continue
		}
		t.Logf("%s: %d connects (%d closed right at CONNECT), %d closed mid-handshake, %d connect errors, %d messages sent (%d refused: rate limit)",
			n.name, l.Connects, l.Instant, l.Early, l.Errors, l.Sent, l.Refused)
		if l.Connects == 0 || l.Errors > l.Connects/100 {
			t.Errorf("%s: %d connect errors for %d connects", n.name, l.Errors, l.Connects)
		}
	}
	cancel()
	wg.Wait()
	m := peak.end()
	t.Logf("raw: %d resets mid-handshake, %d WebSockets and %d polling sessions reset mid-session, %d silent WebSockets, %d abandoned polling sessions, %d errors; %d Node processes killed with 50 sockets each",
		raw.handshakeResets.Load(), raw.wsResets.Load(), raw.pollResets.Load(), raw.silentWS.Load(), raw.abandonedPolls.Load(), raw.errors.Load(), killed)
	// The vanished sockets must be let go by the server on its own (ping timeout); only then
	// are they closed here.
	waitSockets(t, s.srv, settleTimeout, 0)
	for _, w := range silent {
		w.reset()
	}
	for _, p := range abandoned {
		p.dialer.reset()
	}
	return m
}

// waitSockets waits until the server counts want sockets.
func waitSockets(t *testing.T, srv *server, timeout time.Duration, want int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m, err := srv.scrape()
		if err == nil && m.sockets == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server counts %d sockets after %v, want %d (%v)", m.sockets, timeout, want, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// slowReader: 300 official clients read a stream of chat messages from 50 senders while one
// raw WebSocket with a tiny receive window reads nothing. The server must drop the slow one
// (its write times out or its queue fills) and every other socket must get every message that
// was acknowledged.
func (s *soak) slowReader() sample {
	t := s.t
	peak := s.trackPeak()
	readers := []*nodeClients{
		startNode(t, "readers-1", s.srv.url, map[string]any{"mode": "hold", "cookies": s.cookies[0:150]}),
		startNode(t, "readers-2", s.srv.url, map[string]any{"mode": "hold", "cookies": s.cookies[150:300], "transports": []string{"websocket"}}),
	}
	senders := startNode(t, "senders", s.srv.url, map[string]any{"mode": "hold", "cookies": s.cookies[300:350]})
	for _, n := range append(readers, senders) {
		n.await("connected", time.Minute)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	slow, err := dialWS(ctx, s.srv.url, s.cookies[400], 2048)
	if err != nil {
		t.Fatalf("slow reader: %v", err)
	}
	defer slow.reset()
	waitSockets(t, s.srv, 30*time.Second, 351)

	// 20 messages from each sender, one a second (under the per-user rate limit), 400
	// characters each so that the slow reader's buffers fill fast.
	senders.send(map[string]any{"op": "send", "count": 20, "gapMs": 1000, "text": strings.Repeat("x", 400)})
	sent := senders.await("sent", 3*time.Minute)
	if len(sent.Acked) == 0 {
		t.Fatalf("no message was acknowledged (%d refused)", sent.Refused)
	}
	// Everyone but the slow reader stays; it is gone.
	waitSockets(t, s.srv, 30*time.Second, 350)
	gone := make(chan error, 1)
	go func() {
		for {
			if _, _, err := slow.conn.Read(ctx); err != nil {
				gone <- err
				return
			}
		}
	}()
	select {
	case err := <-gone:
		if ctx.Err() != nil {
			t.Errorf("the slow reader was not disconnected: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("the slow reader's connection was still open 30 s after the messages")
	}
	for _, n := range readers {
		var l nodeLine
		// Delivery to 300 sockets may trail the last ack a little: ask until nothing is missing.
		for range 20 {
			n.send(map[string]any{"op": "check", "ids": sent.Acked})
			l = n.await("checked", time.Minute)
			if l.Missing == 0 {
				break
			}
			time.Sleep(time.Second)
		}
		if l.Missing != 0 || l.Connects != l.Connected {
			t.Errorf("%s: %d deliveries missing over %d sockets, %d connects for %d connected", n.name, l.Missing, l.Sockets, l.Connects, l.Connected)
		}
	}
	t.Logf("fan-out: %d messages acknowledged (%d refused), each received by all 300 readers; the slow reader was dropped", len(sent.Acked), sent.Refused)
	m := peak.end()
	for _, n := range append(readers, senders) {
		n.exit()
	}
	return m
}

// storm connects n official clients with their own reconnection and backoff, restarts the
// server, and waits for every one of them to be back, counted as a user.
func (s *soak) storm(n int) sample {
	t := s.t
	// The clients arrive one process at a time; the storm is their return after the restart.
	var procs []*nodeClients
	for i := 0; i < n; i += socketsPerProcess {
		p := startNode(t, fmt.Sprintf("storm-%d", len(procs)), s.srv.url, map[string]any{
			"mode": "hold", "cookies": s.cookies[i:min(i+socketsPerProcess, n)], "reconnect": true,
		})
		p.await("connected", 2*time.Minute)
		procs = append(procs, p)
	}
	waitUsers(t, s.srv, time.Minute, n)
	before, _ := s.srv.scrape()
	t.Logf("storm: %d sockets of %d users connected: %v", n, n, before)

	restart := time.Now()
	s.srv.restart()
	up := time.Since(restart)
	peak := s.trackPeak()
	connects := 0
	for _, p := range procs {
		connects += p.await("connected", 4*time.Minute).Connects
	}
	waitUsers(t, s.srv, time.Minute, n)
	back := time.Since(restart)
	// Each socket connected once before the restart and once after, unless some were dropped
	// again while the storm lasted.
	t.Logf("storm: %d connect events for %d sockets (%d beyond one before and one after the restart)", connects, n, connects-2*n)
	m := peak.end()
	m.users = max(m.users, before.users)
	t.Logf("storm: the server was answering again %v after the restart began, and all %d clients were back (by their own backoff) %v after it", up.Round(time.Millisecond), n, back.Round(time.Millisecond))
	for _, p := range procs {
		p.exit()
	}
	return m
}

func waitUsers(t *testing.T, srv *server, timeout time.Duration, want int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m, err := srv.scrape()
		if err == nil && m.users == want && m.sockets == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v the server counts %d users and %d sockets, want %d (%v)", timeout, m.users, m.sockets, want, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
