//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/herald-chat/herald/bench/internal/result"
)

// workerProc is a running worker process and the lines it writes.
type workerProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan workerMsg
	errc  chan error // receives once when stdout ends
}

func startWorker(cfg workerConfig) (*workerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-worker")
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	cmd.Stderr = os.Stderr
	// A worker must not outlive its coordinator.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	wp := &workerProc{cmd: cmd, stdin: stdin, lines: make(chan workerMsg, 16), errc: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var m workerMsg
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				wp.errc <- fmt.Errorf("worker %d: bad line %.80q: %w", cfg.ID, sc.Bytes(), err)
				return
			}
			wp.lines <- m
		}
		wp.errc <- fmt.Errorf("worker %d: output ended: %v", cfg.ID, sc.Err())
	}()
	b, _ := json.Marshal(cfg)
	if _, err := fmt.Fprintf(stdin, "%s\n", b); err != nil {
		wp.kill()
		return nil, err
	}
	return wp, nil
}

// await returns the worker's next line, of the given type.
func (wp *workerProc) await(ctx context.Context, typ string, timeout time.Duration) (workerMsg, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m := <-wp.lines:
		if m.Type != typ {
			return m, fmt.Errorf("worker: want %q, got %q", typ, m.Type)
		}
		return m, nil
	case err := <-wp.errc:
		return workerMsg{}, err
	case <-t.C:
		return workerMsg{}, fmt.Errorf("worker: no %q within %v", typ, timeout)
	case <-ctx.Done():
		return workerMsg{}, ctx.Err()
	}
}

func (wp *workerProc) send(cmd string) error {
	_, err := io.WriteString(wp.stdin, cmd+"\n")
	return err
}

// stop asks the worker to close its clients and waits for it, then kills it.
func (wp *workerProc) stop(wait time.Duration) {
	_ = wp.send("close")
	_ = wp.stdin.Close()
	done := make(chan struct{})
	go func() { _ = wp.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		_ = wp.cmd.Process.Kill()
		<-done
	}
}

func (wp *workerProc) kill() {
	_ = wp.cmd.Process.Kill()
	_ = wp.cmd.Wait()
}

// pool is the set of workers of one run.
type pool []*workerProc

// ask sends cmd to every worker and returns their answers.
func (p pool) ask(ctx context.Context, cmd, typ string, timeout time.Duration) ([]workerMsg, error) {
	for _, w := range p {
		if err := w.send(cmd); err != nil {
			return nil, err
		}
	}
	out := make([]workerMsg, len(p))
	for i, w := range p {
		m, err := w.await(ctx, typ, timeout)
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

func (p pool) stop() {
	var wg sync.WaitGroup
	for _, w := range p {
		wg.Go(func() { w.stop(10 * time.Second) })
	}
	wg.Wait()
}

// sum adds up the status answers.
func sum(ms []workerMsg) (s workerMsg) {
	for _, m := range ms {
		s.AtCount += m.AtCount
		s.Ticks += m.Ticks
		s.Alive += m.Alive
		s.Pings += m.Pings
		s.CountEvents += m.CountEvents
		s.Delivered += m.Delivered
		s.Lost += m.Lost
		s.Dups += m.Dups
		s.Bad += m.Bad
		s.CPUSecs += m.CPUSecs
		s.ChatSent += m.ChatSent
		s.ChatSkipped += m.ChatSkipped
		s.ChatAckOK += m.ChatAckOK
		s.ChatRejected += m.ChatRejected
		s.CountSince = max(s.CountSince, m.CountSince)
	}
	return s
}

// sampler reads the server's cost, or nothing without a PID: with several
// (a cluster), the sum over them.
type sampler struct {
	pids []int
	errs []string
}

func (s *sampler) sample() procSample {
	var sum procSample
	for _, pid := range s.pids {
		ps, err := sampleProc(pid)
		if err != nil {
			s.errs = append(s.errs, err.Error())
		}
		sum.CPU += ps.CPU
		sum.PerPID = append(sum.PerPID, ps.CPU)
		sum.RSS += ps.RSS
		sum.Threads += ps.Threads
	}
	return sum
}

// nopHandler ignores what the control client receives.
type nopHandler struct{}

func (nopHandler) event(string, []byte, int64) {}
func (nopHandler) ping()                       {}

// coordinate runs one scenario.
func coordinate(ctx context.Context, o options) (*result.Run, error) {
	switch o.scenario {
	case result.ScenarioFanout, result.ScenarioIdle, result.ScenarioCrowd, result.ScenarioConnect, result.ScenarioPolling, result.ScenarioChat:
	default:
		return nil, fmt.Errorf("unknown scenario %q", o.scenario)
	}
	if o.client != "epoll" && o.client != "goroutine" {
		return nil, fmt.Errorf("-client %q: want epoll or goroutine", o.client)
	}
	if strings.HasPrefix(o.url, "https://") && o.client == "epoll" {
		return nil, errors.New("-url https://…: the epoll client speaks plain TCP only; use -client goroutine")
	}
	if o.clients < 1 {
		return nil, errors.New("-clients must be at least 1")
	}
	wallStart := time.Now()
	transport := "websocket"
	if o.scenario == result.ScenarioPolling {
		transport = "polling"
	}
	nw := o.workers
	if nw <= 0 {
		nw = (o.clients + o.perWorker - 1) / o.perWorker
	}
	nw = min(nw, o.clients)
	srcIPs := o.srcIPs
	if srcIPs < 0 {
		srcIPs = 0
		if o.clients > 25000 {
			srcIPs = nw
		}
	}
	urls := splitURLs(o.url)
	if len(urls) == 0 {
		return nil, errors.New("-url: no server")
	}
	res := &result.Run{Scenario: o.scenario, Transport: transport, Clients: o.clients, Workers: nw}
	if len(o.serverPIDs) > 0 {
		res.ServerPID = o.serverPIDs[0]
	}
	if len(o.serverPIDs) > 1 {
		res.ServerPIDs = o.serverPIDs
	}
	if len(urls) > 1 {
		res.Servers = len(urls)
	}
	if o.pingInterval > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("server pingInterval %v", o.pingInterval))
	}
	sp := &sampler{pids: o.serverPIDs}

	connectRate := o.connectRate
	if o.scenario == result.ScenarioCrowd {
		connectRate = float64(o.clients) / math.Max(o.window.Seconds(), 0.001)
	}
	if o.scenario == result.ScenarioConnect {
		connectRate = 0
	}
	messages := 0
	fanout := o.scenario == result.ScenarioFanout || o.scenario == result.ScenarioPolling
	if fanout {
		messages = max(1, int(math.Round(o.msgRate*o.duration.Seconds())))
	}
	var chat *chatConfig
	if o.scenario == result.ScenarioChat {
		var err error
		if chat, err = chatPlan(o); err != nil {
			return nil, err
		}
	}

	s0 := sp.sample()
	res.RSSBefore = s0.RSS

	// The control client connects first, so that it is there for the count.
	var control eioClient
	if fanout {
		cctx, cancel := context.WithTimeout(ctx, o.dialTimeout)
		c, err := dialWS(cctx, urls[0], newHTTPClient("", 4), "")
		cancel()
		if err != nil {
			return nil, fmt.Errorf("control client: %w", err)
		}
		control = c
		defer c.close()
		go func() { _ = c.run(ctx, nopHandler{}) }()
	}

	// Start the workers, all connecting from the same instant.
	startAt := time.Now().Add(300 * time.Millisecond).UnixNano()
	var workers pool
	defer func() { workers.stop() }()
	offset := 0
	for i := range nw {
		n := o.clients / nw
		if i < o.clients%nw {
			n++
		}
		cfg := workerConfig{
			ID: i, URL: urls[0], Transport: transport, Clients: n, Offset: offset, Cookies: o.cookies, Chat: chat,
			Rate:        connectRate / float64(nw),
			Concurrency: max(1, o.concurrency/nw),
			Messages:    messages,
			StartAt:     startAt,
			DialTimeout: o.dialTimeout.Seconds(),
			Client:      o.client,
			Spin:        o.spin.Seconds(),
		}
		if len(urls) > 1 {
			cfg.URLs, cfg.Total = urls, o.clients
		}
		if srcIPs > 0 {
			cfg.LocalIP = fmt.Sprintf("127.0.0.%d", 2+i%srcIPs%250)
		}
		offset += n
		w, err := startWorker(cfg)
		if err != nil {
			return nil, err
		}
		workers = append(workers, w)
	}

	// Connect phase.
	connectBudget := o.dialTimeout + 60*time.Second
	if connectRate > 0 {
		connectBudget += time.Duration(float64(o.clients) / connectRate * float64(time.Second))
	}
	var conns []workerMsg
	for _, w := range workers {
		m, err := w.await(ctx, "connected", connectBudget)
		if err != nil {
			return nil, err
		}
		conns = append(conns, m)
	}
	var firstStart, lastDone int64
	for _, m := range conns {
		res.ConnectOK += m.OK
		res.ConnectErrors += m.Errors
		if res.ConnectErrSample == "" {
			res.ConnectErrSample = m.ErrSample
		}
		if firstStart == 0 || m.FirstStart < firstStart {
			firstStart = m.FirstStart
		}
		lastDone = max(lastDone, m.LastDone)
	}
	if lastDone > firstStart {
		res.ConnectSeconds = float64(lastDone-firstStart) / 1e9
		res.ConnectRate = float64(res.ConnectOK) / res.ConnectSeconds
	}
	s1 := sp.sample()
	res.ServerCPUConnect = s1.CPU - s0.CPU
	if res.ConnectOK > 0 && s1.CPU > 0 {
		res.CPUPerSessionUS = res.ServerCPUConnect / float64(res.ConnectOK) * 1e6
	}
	if res.ConnectOK == 0 {
		return nil, fmt.Errorf("no client connected (%d errors; first: %s)", res.ConnectErrors, res.ConnectErrSample)
	}

	var err error
	switch o.scenario {
	case result.ScenarioFanout, result.ScenarioPolling:
		err = runFanout(ctx, o, res, workers, control, sp, messages)
	case result.ScenarioIdle:
		err = runIdle(ctx, o, res, workers, sp)
	case result.ScenarioCrowd:
		err = runCrowd(ctx, o, res, workers, sp, s0, firstStart, lastDone)
	case result.ScenarioConnect:
		res.RSSIdle = s1.RSS
	case result.ScenarioChat:
		err = runChat(ctx, o, res, workers, sp, chat)
	}
	if err != nil {
		return nil, err
	}
	if res.RSSIdle > 0 && res.RSSBefore > 0 {
		res.RSSPerConnIdle = float64(res.RSSIdle-res.RSSBefore) / float64(res.ConnectOK)
	}
	if res.RSSLoad > 0 && res.RSSBefore > 0 {
		res.RSSPerConnLoad = float64(res.RSSLoad-res.RSSBefore) / float64(res.ConnectOK)
	}

	reports, err := workers.ask(ctx, "report", "report", 30*time.Second)
	if err != nil {
		return nil, err
	}
	tot := sum(reports)
	res.LoadgenCPUSecs = tot.CPUSecs + selfCPUSeconds()
	res.WallSeconds = time.Since(wallStart).Seconds()
	res.LoadgenUtil = res.LoadgenCPUSecs / res.WallSeconds
	if fanout {
		h, lag, remote := result.NewHistogram(), result.NewHistogram(), result.NewHistogram()
		for _, r := range reports {
			if r.Latency != nil {
				h.Merge(*r.Latency)
			}
			if r.LatencyRemote != nil {
				remote.Merge(*r.LatencyRemote)
			}
			if r.ReadLag != nil {
				lag.Merge(*r.ReadLag)
			}
		}
		if lag.Count() > 0 {
			res.ReadLagP99MS = float64(lag.Quantile(0.99)) / 1e6
		}
		res.Expected = int64(res.ConnectOK) * int64(messages)
		res.Delivered = tot.Delivered
		res.Lost = tot.Lost
		res.Duplicates = tot.Dups
		res.LatencyP50MS, res.LatencyP99MS, res.LatencyMaxMS, res.Latency = msSummary(h)
		if remote.Count() > 0 {
			res.LatencyRemoteP50MS, res.LatencyRemoteP99MS, res.LatencyRemoteMaxMS, res.LatencyRemote = msSummary(remote)
		}
		if res.Delivered > 0 && res.ServerCPULoad > 0 {
			res.CPUPerDeliver = res.ServerCPULoad / float64(res.Delivered) * 1e6
		}
	}
	if chat != nil {
		mergeChat(res, reports, chat)
	}
	if tot.Bad > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d events or acks did not parse or had an unexpected seq", tot.Bad))
	}
	if res.ConnectErrors > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d connect errors, first: %s", res.ConnectErrors, res.ConnectErrSample))
	}
	if res.LoadgenUtil > 0.85 {
		res.Notes = append(res.Notes, fmt.Sprintf("the load generator used %.0f%% of a core: latencies may measure the client", res.LoadgenUtil*100))
	}
	// Judged only with enough server CPU to read: /proc counts 10 ms ticks. With the kernel's
	// receive stamps (a read lag was measured) the client's own delay is not in the latency.
	if res.ServerCPULoad >= 0.2 && res.LoadgenCPUPerDeliver > 0.8*res.CPUPerDeliver && res.ReadLagP99MS == 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("receiving cost the load generator %.1f µs per delivery, sending cost the server %.1f: latencies may measure the client",
			res.LoadgenCPUPerDeliver, res.CPUPerDeliver))
	}
	if len(sp.errs) > 0 {
		res.Notes = append(res.Notes, "sampling the server: "+sp.errs[0])
	}
	return res, nil
}

// runFanout sends the fanout events at the configured rate from the control
// client and waits for them to be delivered.
func runFanout(ctx context.Context, o options, res *result.Run, workers pool, control eioClient, sp *sampler, messages int) error {
	// Let the last handshakes' work finish before measuring memory at rest.
	if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
		return err
	}
	s2 := sp.sample()
	res.RSSIdle = s2.RSS
	type payload struct {
		Seq    int   `json:"seq"`
		SentAt int64 `json:"sentAt"`
	}
	// Warm-up events (negative seq) are sent first, at the same rate, and
	// not measured: they take the first-use costs out of the numbers.
	for i := range o.warmup {
		ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := control.emit(ectx, "fanout", payload{Seq: -1 - i, SentAt: time.Now().UnixNano()})
		cancel()
		if err != nil {
			return fmt.Errorf("control client: warm-up emit: %w", err)
		}
		if err := sleepCtx(ctx, time.Duration(float64(time.Second)/o.msgRate)); err != nil {
			return err
		}
	}
	st0, err := workers.ask(ctx, "status", "status", 10*time.Second)
	if err != nil {
		return err
	}
	lg0 := sum(st0).CPUSecs + selfCPUSeconds()
	s2 = sp.sample()
	start := time.Now()
	for i := range messages {
		due := start.Add(time.Duration(float64(i) / o.msgRate * float64(time.Second)))
		if err := sleepCtx(ctx, time.Until(due)); err != nil {
			return err
		}
		ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := control.emit(ectx, "fanout", payload{Seq: i, SentAt: time.Now().UnixNano()})
		cancel()
		if err != nil {
			return fmt.Errorf("control client: emit %d: %w", i, err)
		}
		res.MessagesSent++
	}
	res.MessageRate = o.msgRate
	want := int64(res.ConnectOK) * int64(messages)
	last, err := workers.pollStatus(ctx, "status", 50*time.Millisecond, time.Now().Add(o.drain), func(m workerMsg) bool {
		return m.Ticks >= want
	})
	if err != nil {
		return err
	}
	s3 := sp.sample()
	lg1 := last.CPUSecs + selfCPUSeconds()
	if last.Ticks > 0 {
		res.LoadgenCPUPerDeliver = (lg1 - lg0) / float64(last.Ticks) * 1e6
	}
	res.ServerCPULoad = s3.CPU - s2.CPU
	if len(s3.PerPID) > 1 && len(s3.PerPID) == len(s2.PerPID) {
		for i := range s3.PerPID {
			res.ServerCPULoadPerPID = append(res.ServerCPULoadPerPID, s3.PerPID[i]-s2.PerPID[i])
		}
	}
	res.RSSLoad = s3.RSS
	res.ServerThreadsLoad = s3.Threads
	res.Alive = last.Alive
	res.Pings = last.Pings
	res.Disconnects = res.ConnectOK - last.Alive
	return nil
}

// runIdle keeps the clients connected for the idle duration, then measures.
func runIdle(ctx context.Context, o options, res *result.Run, workers pool, sp *sampler) error {
	s0 := sp.sample()
	start := time.Now()
	if err := sleepCtx(ctx, o.duration); err != nil {
		return err
	}
	res.IdleSeconds = time.Since(start).Seconds()
	st, err := workers.ask(ctx, "status", "status", 10*time.Second)
	if err != nil {
		return err
	}
	s := sp.sample()
	tot := sum(st)
	res.RSSIdle = s.RSS
	res.ServerThreadsLoad = s.Threads
	res.Alive = tot.Alive
	res.Pings = tot.Pings
	res.Disconnects = res.ConnectOK - tot.Alive
	res.ServerCPULoad = s.CPU - s0.CPU // the heartbeats' cost
	return nil
}

// runCrowd waits until every client holds the final count.
func runCrowd(ctx context.Context, o options, res *result.Run, workers pool, sp *sampler, s0 procSample, firstStart, lastConnect int64) error {
	final := res.ConnectOK
	res.FinalCount = final
	tot, err := workers.pollStatus(ctx, fmt.Sprintf("status %d", final), 20*time.Millisecond, time.Now().Add(o.settle), func(m workerMsg) bool {
		return m.AtCount >= final
	})
	if err != nil {
		return err
	}
	s := sp.sample()
	res.Settled = tot.AtCount >= final
	res.Stale = final - tot.AtCount
	res.CountUpdates = tot.CountEvents
	res.Alive = tot.Alive
	res.RSSIdle = s.RSS
	if s.CPU > 0 {
		res.CrowdCPUSecs = s.CPU - s0.CPU
	}
	res.CrowdWallSecs = float64(time.Now().UnixNano()-firstStart) / 1e9
	if res.Settled {
		res.SettleMS = math.Max(0, float64(tot.CountSince-lastConnect)/1e6)
	}
	return nil
}

// pollStatus asks the workers for their summed status every interval until done says so or
// the deadline passes, and returns the last status.
func (p pool) pollStatus(ctx context.Context, cmd string, every time.Duration, deadline time.Time, done func(workerMsg) bool) (workerMsg, error) {
	for {
		st, err := p.ask(ctx, cmd, "status", 10*time.Second)
		if err != nil {
			return workerMsg{}, err
		}
		last := sum(st)
		if done(last) || time.Now().After(deadline) {
			return last, nil
		}
		if err := sleepCtx(ctx, every); err != nil {
			return workerMsg{}, err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// msSummary returns h's median, p99 and maximum in milliseconds, and its compact form.
func msSummary(h *result.Histogram) (p50, p99, max float64, compact *result.Sparse) {
	sp := h.Sparse()
	return float64(h.Quantile(0.50)) / 1e6, float64(h.Quantile(0.99)) / 1e6, float64(h.Max()) / 1e6, &sp
}

// printSummary writes a human-readable account of the run.
func printSummary(w io.Writer, r *result.Run) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s over %s: %d clients in %d workers\n", r.Scenario, r.Transport, r.Clients, r.Workers)
	fmt.Fprintf(&b, "  connect: %d ok, %d errors in %.2fs = %.0f sessions/s", r.ConnectOK, r.ConnectErrors, r.ConnectSeconds, r.ConnectRate)
	if r.CPUPerSessionUS > 0 {
		fmt.Fprintf(&b, ", server %.0f µs CPU/session", r.CPUPerSessionUS)
	}
	b.WriteString("\n")
	if r.MessagesSent > 0 && r.Scenario != result.ScenarioChat {
		fmt.Fprintf(&b, "  fanout: %d events at %.1f/s; delivered %d of %d, lost %d, dups %d\n",
			r.MessagesSent, r.MessageRate, r.Delivered, r.Expected, r.Lost, r.Duplicates)
		fmt.Fprintf(&b, "  latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms (to the kernel's receive time; the client's reads lagged it by %.3f ms at p99)\n", r.LatencyP50MS, r.LatencyP99MS, r.LatencyMaxMS, r.ReadLagP99MS)
		if r.Servers > 1 {
			fmt.Fprintf(&b, "  on the %d servers other than the sender's: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", r.Servers-1, r.LatencyRemoteP50MS, r.LatencyRemoteP99MS, r.LatencyRemoteMaxMS)
		}
		if r.CPUPerDeliver > 0 {
			fmt.Fprintf(&b, "  server: %.3fs CPU under load = %.2f µs per delivery\n", r.ServerCPULoad, r.CPUPerDeliver)
		}
		fmt.Fprintf(&b, "  loadgen: %.2f µs CPU per delivery received\n", r.LoadgenCPUPerDeliver)
	}
	if r.Scenario == result.ScenarioChat {
		fmt.Fprintf(&b, "  chat: %d senders × %.1f/s to %d receivers: %d sent, %d acked ok, %d rejected, %d unacked\n",
			r.Senders, r.MessageRate, r.Clients, r.MessagesSent, r.AckedOK, r.Rejected, r.Unacked)
		fmt.Fprintf(&b, "  delivered %d (expected %d to the %d clients connected throughout), lost %d, dups %d\n",
			r.Delivered, r.Expected, r.Alive, r.Lost, r.Duplicates)
		fmt.Fprintf(&b, "  delivery latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms; ack: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
			r.LatencyP50MS, r.LatencyP99MS, r.LatencyMaxMS, r.AckP50MS, r.AckP99MS, r.AckMaxMS)
		if r.CPUPerDeliver > 0 {
			fmt.Fprintf(&b, "  server: %.3fs CPU under load = %.2f µs per delivery\n", r.ServerCPULoad, r.CPUPerDeliver)
		}
		fmt.Fprintf(&b, "  loadgen: %.2f µs CPU per delivery received\n", r.LoadgenCPUPerDeliver)
	}
	if r.Scenario == result.ScenarioCrowd {
		fmt.Fprintf(&b, "  crowd: final count %d, settled %v (%d stale), %.1f ms after the last connect, %d count events, server CPU %.3fs\n",
			r.FinalCount, r.Settled, r.Stale, r.SettleMS, r.CountUpdates, r.CrowdCPUSecs)
	}
	if r.Scenario == result.ScenarioIdle {
		fmt.Fprintf(&b, "  idle: %.1fs, %d alive, %d pings answered\n", r.IdleSeconds, r.Alive, r.Pings)
	}
	if r.RSSBefore > 0 {
		fmt.Fprintf(&b, "  server RSS: before %.1f MiB, idle %.1f MiB (%.1f KiB/conn)", mib(r.RSSBefore), mib(r.RSSIdle), r.RSSPerConnIdle/1024)
		if r.RSSLoad > 0 {
			fmt.Fprintf(&b, ", after load %.1f MiB (%.1f KiB/conn)", mib(r.RSSLoad), r.RSSPerConnLoad/1024)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "  loadgen: %.2fs CPU over %.1fs (%.0f%% of a core)\n", r.LoadgenCPUSecs, r.WallSeconds, r.LoadgenUtil*100)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	_, _ = io.WriteString(w, b.String())
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
