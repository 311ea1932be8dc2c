//go:build linux

package main

// A worker process opens its share of the clients and reports on them. The
// coordinator writes a workerConfig as the first line of the worker's stdin,
// then one command per line; the worker answers each with one JSON line on
// stdout:
//
//	(start)  → {"type":"connected",...}  once every client has tried to connect
//	status N → {"type":"status",...}     how many clients hold user count N, ticks so far
//	chat T   → {"type":"chat"}           the chat senders start sending at unix ns T
//	report   → {"type":"report",...}     latencies, losses, own CPU
//	close    → (no answer) close every client and exit
//
// End of stdin is taken as close.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/herald-chat/herald/bench/internal/result"
)

// workerConfig is the first line of a worker's stdin.
type workerConfig struct {
	ID          int     `json:"id"`
	URL         string  `json:"url"`
	Transport   string  `json:"transport"`
	Clients     int     `json:"clients"`
	Rate        float64 `json:"rate"`        // connection attempts per second; 0 = as fast as Concurrency allows
	Concurrency int     `json:"concurrency"` // handshakes in flight at most
	LocalIP     string  `json:"localIP"`     // source address, "" for the default
	Messages    int     `json:"messages"`    // fanout messages to track by sequence number
	StartAt     int64   `json:"startAt"`     // unix ns at which to begin connecting
	DialTimeout float64 `json:"dialTimeout"` // seconds per connection attempt
	// Client selects how clients receive: "epoll" (default; the lean
	// receive paths of rawws.go and rawpoll.go) or "goroutine"
	// (coder/websocket or net/http, one goroutine per client; a cross-check).
	Client string `json:"client"`
	// Spin is how long, in seconds, an epoll loop keeps polling after an event before it sleeps
	// in epoll_wait again (see loop.spin).
	Spin float64 `json:"spin,omitempty"`
	// Offset is the index of the worker's first client among all the
	// run's clients.
	Offset int `json:"offset"`
	// Cookies names a file of Cookie header values, one a line: client
	// Offset+i sends line Offset+i in its handshake. "" = no cookies.
	Cookies string `json:"cookies,omitempty"`
	// Chat is set in the chat scenario.
	Chat *chatConfig `json:"chat,omitempty"`
	// URLs, when there are several servers (a cluster), spread the clients over them in
	// contiguous blocks of the run's Total clients: client Offset+i connects to
	// URLs[(Offset+i)*len(URLs)/Total]. The control client is on URLs[0]; a client on
	// any other is "remote" and its latencies also go into a histogram of their own.
	URLs  []string `json:"urls,omitempty"`
	Total int      `json:"total,omitempty"`
}

// workerMsg is any line a worker writes.
type workerMsg struct {
	Type string `json:"type"`

	// connected
	OK         int    `json:"ok,omitempty"`
	Errors     int    `json:"errors,omitempty"`
	ErrSample  string `json:"errSample,omitempty"`
	FirstStart int64  `json:"firstStart,omitempty"` // unix ns of the first dial
	LastDone   int64  `json:"lastDone,omitempty"`   // unix ns of the last CONNECT reply

	// status
	AtCount     int   `json:"atCount,omitempty"`     // clients holding the asked count
	CountSince  int64 `json:"countSince,omitempty"`  // latest time one of them got to it, unix ns
	Ticks       int64 `json:"ticks,omitempty"`       // tick events received so far
	Alive       int   `json:"alive,omitempty"`       // clients still connected
	Pings       int64 `json:"pings,omitempty"`       // pings answered
	CountEvents int64 `json:"countEvents,omitempty"` // 'user count' events received

	// status and report, chat scenario
	ChatSent     int64 `json:"chatSent,omitempty"`     // messages written by this worker's senders
	ChatSkipped  int64 `json:"chatSkipped,omitempty"`  // messages not sent: the sender was gone or the write failed
	ChatAckOK    int64 `json:"chatAckOK,omitempty"`    // acks with ok:true
	ChatRejected int64 `json:"chatRejected,omitempty"` // acks with ok:false

	// report
	Delivered int64          `json:"delivered,omitempty"`
	Lost      int64          `json:"lost,omitempty"`
	Dups      int64          `json:"dups,omitempty"`
	Bad       int64          `json:"bad,omitempty"` // events that did not parse or had a seq out of range
	Latency   *result.Sparse `json:"latency,omitempty"`
	// LatencyRemote is the latency of the clients on another server than the control
	// client's (several URLs only).
	LatencyRemote *result.Sparse `json:"latencyRemote,omitempty"`
	ReadLag       *result.Sparse `json:"readLag,omitempty"` // kernel receive time → read, per read
	CPUSecs       float64        `json:"cpuSecs,omitempty"` // the worker's own CPU time so far (status, report)

	// report, chat scenario
	AckLatency   *result.Sparse `json:"ackLatency,omitempty"`
	RejectSample string         `json:"rejectSample,omitempty"`
	ChatOK       []uint64       `json:"chatOK,omitempty"`     // bitmap over message slots: acked ok by this worker's senders
	ChatCounts   []int32        `json:"chatCounts,omitempty"` // per message slot: clients alive now that received it
}

// clientState is what one client has seen. Its fields are atomics: the
// client's read goroutine writes them, status and report read them.
type clientState struct {
	w          *worker
	count      atomic.Int64 // latest 'user count', -1 before the first
	countSince atomic.Int64 // unix ns when count took its value
	seen       []atomic.Uint64
	alive      atomic.Bool
	connected  bool         // set before the read goroutine starts; read after report's caller saw "connected"
	chatGot    atomic.Int64 // distinct chat messages received
	snd        *sender      // set if the client is also a chat sender
	url        string       // the server it connects to
	remote     bool         // on another server than the control client's
	out        packetSender // how to send packets, once connected
}

// packetSender writes raw Engine.IO packets: *rawConn and eioClient.
type packetSender interface {
	send(ctx context.Context, p []byte) error
}

func (c *clientState) event(name string, arg []byte, at int64) {
	switch name {
	case "chat message":
		c.chatMessage(arg, at)
	case "tick":
		seq, ok1 := numField(arg, "seq")
		sent, ok2 := numField(arg, "sentAt")
		if !ok1 || !ok2 {
			c.w.bad.Add(1)
			return
		}
		if seq < 0 {
			return // a warm-up event: not measured
		}
		c.w.ticks.Add(1)
		c.w.hist.Record(at - sent)
		if c.remote {
			c.w.remoteHist.Record(at - sent)
		}
		if int(seq) >= c.w.cfg.Messages {
			c.w.bad.Add(1)
			return
		}
		bit := uint64(1) << (seq % 64)
		if old := c.seen[seq/64].Or(bit); old&bit != 0 {
			c.w.dups.Add(1)
		}
	case "user count":
		n, ok := parseNum(arg)
		if !ok {
			c.w.bad.Add(1)
			return
		}
		c.w.countEvents.Add(1)
		if c.count.Swap(n) != n {
			c.countSince.Store(at)
		}
	}
}

func (c *clientState) ping() { c.w.pings.Add(1) }

// worker is the state of one worker process.
type worker struct {
	cfg         workerConfig
	hist        *result.Histogram
	remoteHist  *result.Histogram // the remote clients' latencies (several URLs)
	readLag     *result.Histogram // how long received data waited in the sockets before a read
	clients     []*clientState
	ticks       atomic.Int64
	dups        atomic.Int64
	bad         atomic.Int64
	pings       atomic.Int64
	countEvents atomic.Int64
	chat        *chatState // nil outside the chat scenario
}

func runWorker(stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	if !in.Scan() {
		return errors.New("worker: no config on stdin")
	}
	var cfg workerConfig
	if err := json.Unmarshal(in.Bytes(), &cfg); err != nil {
		return fmt.Errorf("worker: config: %w", err)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 200
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 15
	}
	w := &worker{cfg: cfg, hist: result.NewHistogram(), remoteHist: result.NewHistogram(), readLag: result.NewHistogram()}
	enc := json.NewEncoder(stdout)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hc := newHTTPClient(cfg.LocalIP, 2*cfg.Clients+16)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}()

	slots := cfg.Messages
	if cfg.Chat != nil {
		slots = cfg.Chat.slots()
	}
	words := (slots + 63) / 64
	w.clients = make([]*clientState, cfg.Clients)
	for i := range w.clients {
		c := &clientState{w: w, seen: make([]atomic.Uint64, words), url: cfg.URL}
		if n := len(cfg.URLs); n > 1 && cfg.Total > 0 {
			k := min((cfg.Offset+i)*n/cfg.Total, n-1)
			c.url, c.remote = cfg.URLs[k], k > 0
		}
		c.count.Store(-1)
		w.clients[i] = c
	}
	var cookies []string
	if cfg.Cookies != "" {
		var err error
		if cookies, err = readCookies(cfg.Cookies, cfg.Offset, cfg.Clients); err != nil {
			return err
		}
	}
	if cfg.Chat != nil {
		w.chat = newChatState(w)
	}

	msg := w.connectAll(ctx, hc, &wg, cookies)
	if err := enc.Encode(msg); err != nil {
		return err
	}

	for in.Scan() {
		cmd := strings.Fields(in.Text())
		if len(cmd) == 0 {
			continue
		}
		switch cmd[0] {
		case "status":
			want := int64(-1)
			if len(cmd) > 1 {
				want, _ = strconv.ParseInt(cmd[1], 10, 64)
			}
			if err := enc.Encode(w.status(want)); err != nil {
				return err
			}
		case "chat":
			if w.chat == nil || len(cmd) < 2 {
				return errors.New("worker: chat: not a chat run, or no start time")
			}
			at, err := strconv.ParseInt(cmd[1], 10, 64)
			if err != nil {
				return fmt.Errorf("worker: chat: %w", err)
			}
			wg.Go(func() { w.chat.send(ctx, at) })
			if err := enc.Encode(workerMsg{Type: "chat"}); err != nil {
				return err
			}
		case "report":
			if err := enc.Encode(w.report()); err != nil {
				return err
			}
		case "close":
			return nil
		default:
			return fmt.Errorf("worker: unknown command %q", cmd[0])
		}
	}
	return in.Err()
}

// connectAll opens the worker's clients at the configured rate, each in its
// own goroutine (added to wg), and returns once every attempt has ended.
// Client i sends cookies[i], if there are cookies.
func (w *worker) connectAll(ctx context.Context, hc *http.Client, wg *sync.WaitGroup, cookies []string) workerMsg {
	cfg := w.cfg
	if d := time.Until(time.Unix(0, cfg.StartAt)); d > 0 && d < time.Minute {
		time.Sleep(d)
	}
	var loops []*loop
	if cfg.Client != "goroutine" {
		for range max(1, runtime.GOMAXPROCS(0)) {
			l, err := newLoop()
			if err != nil {
				return workerMsg{Type: "connected", Errors: len(w.clients), ErrSample: err.Error()}
			}
			l.lag = w.readLag
			l.spin = time.Duration(cfg.Spin * float64(time.Second))
			loops = append(loops, l)
			wg.Go(func() { l.run(ctx) })
		}
	}
	dialer := newDialer(cfg.LocalIP)
	sem := make(chan struct{}, cfg.Concurrency)
	var (
		mu        sync.Mutex
		ok, nerr  int
		errSample string
		lastDone  int64
		attempts  sync.WaitGroup
	)
	start := time.Now()
	for i, c := range w.clients {
		if cfg.Rate > 0 {
			due := start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		cookie := ""
		if cookies != nil {
			cookie = cookies[i]
		}
		sem <- struct{}{}
		attempts.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			dctx, dcancel := context.WithTimeout(ctx, time.Duration(cfg.DialTimeout*float64(time.Second)))
			var (
				cl  eioClient
				rc  *rawConn
				err error
			)
			switch {
			case cfg.Transport == "polling" && loops == nil:
				cl, err = dialPolling(dctx, c.url, hc, cookie)
			case loops != nil:
				if cfg.Transport == "polling" {
					rc, err = dialRawPolling(dctx, c.url, hc, dialer, cookie)
				} else {
					rc, err = dialRaw(dctx, c.url, dialer, cookie)
				}
				if err == nil {
					c.out = rc
					c.alive.Store(true)
					if err = loops[i%len(loops)].add(rc, c, &c.alive); err != nil {
						c.alive.Store(false)
					}
				}
			default:
				cl, err = dialWS(dctx, c.url, hc, cookie)
			}
			if err == nil && cl != nil {
				c.out = cl
			}
			dcancel()
			now := time.Now().UnixNano()
			mu.Lock()
			if err != nil {
				nerr++
				if errSample == "" {
					errSample = err.Error()
				}
			} else {
				ok++
				if now > lastDone {
					lastDone = now
				}
				c.connected = true
				if cl != nil {
					c.alive.Store(true)
				}
			}
			mu.Unlock()
			<-sem
			attempts.Done()
			if err != nil || cl == nil {
				return // failed, or served by a loop
			}
			_ = cl.run(ctx, c)
			c.alive.Store(false)
			cl.close()
		}()
	}
	attempts.Wait()
	return workerMsg{Type: "connected", OK: ok, Errors: nerr, ErrSample: errSample,
		FirstStart: start.UnixNano(), LastDone: lastDone}
}

func (w *worker) status(want int64) workerMsg {
	m := workerMsg{Type: "status", Ticks: w.ticks.Load(), Pings: w.pings.Load(), CountEvents: w.countEvents.Load(),
		CPUSecs: selfCPUSeconds()}
	if w.chat != nil {
		m.Ticks = 0 // the chat scenario: distinct messages held by the clients alive
		w.chat.status(&m)
	}
	for _, c := range w.clients {
		if c.alive.Load() {
			m.Alive++
			if w.chat != nil {
				m.Ticks += c.chatGot.Load()
			}
		}
		if want >= 0 && c.count.Load() == want {
			m.AtCount++
			if s := c.countSince.Load(); s > m.CountSince {
				m.CountSince = s
			}
		}
	}
	return m
}

func (w *worker) report() workerMsg {
	m := w.status(-1)
	m.Type = "report"
	if w.chat != nil {
		w.chat.report(&m)
		return m
	}
	for _, c := range w.clients {
		if !c.connected {
			continue
		}
		var got int
		for i := range c.seen {
			got += bits.OnesCount64(c.seen[i].Load())
		}
		m.Delivered += int64(got)
		m.Lost += int64(w.cfg.Messages - got)
	}
	m.Dups = w.dups.Load()
	m.Bad = w.bad.Load()
	s := w.hist.Sparse()
	m.Latency = &s
	if len(w.cfg.URLs) > 1 {
		r := w.remoteHist.Sparse()
		m.LatencyRemote = &r
	}
	lag := w.readLag.Sparse()
	m.ReadLag = &lag
	return m
}

// selfCPUSeconds returns the user+system CPU time of this process.
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// workerMain is the entry point of `loadgen -worker`.
//
// With LOADGEN_CPUPROFILE=prefix in the environment, each worker writes a
// CPU profile to prefix.PID, to see what the load generator spends its time on.
func workerMain() {
	if prefix := os.Getenv("LOADGEN_CPUPROFILE"); prefix != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", prefix, os.Getpid()))
		if err == nil {
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	if err := runWorker(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}
