package main

// The cluster scenarios: several server processes of one peer on one
// throwaway redis-server, the clients spread evenly over them, the control
// client on the first, so that every event crosses from one process to the
// others through Redis (Herald: socketio/redisadapter; Node:
// @socket.io/redis-adapter). Every server process and Redis run pinned to
// the server CPUs, and the CPU and memory figures are their sum.
//
//	cluster       the fan-out on -cluster-nodes Herald nodes, as many Node nodes, and one
//	              Herald process holding the same clients (what "cross-node" is compared with)
//	cluster-chat  the chat scenario on -cluster-nodes nodes of the real app, sharing a SQLite file
//	cluster-max   the fan-out on -cluster-nodes Herald nodes holding as many clients as the
//	              machine does (-cluster-max-clients), at a low rate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/herald-chat/herald/bench/internal/result"
)

// Scenario names of the cluster cases (-scenarios).
const (
	scenarioCluster     = "cluster"
	scenarioClusterChat = "cluster-chat"
	scenarioClusterMax  = "cluster-max"
)

// maxPerServer is the most clients one server process may be given: the
// process may hold 20,000 open files, and needs a few for itself.
const maxPerServer = 19900

// loadgenScenario is the load generator's scenario for a case's scenario.
func loadgenScenario(sc string) string {
	switch sc {
	case scenarioCluster, scenarioClusterMax:
		return result.ScenarioFanout
	case scenarioClusterChat:
		return result.ScenarioChat
	}
	return sc
}

// clusterCases are the cases of the cluster scenario in s.scenarios, or nil.
func clusterCases(s settings, sc string) ([]benchCase, error) {
	nodes := s.clusterNodes
	if nodes < 2 {
		return nil, fmt.Errorf("-cluster-nodes %d: want at least 2", nodes)
	}
	common := []string{"-connect-rate", fmtFloat(s.connectRate)}
	fanout := func(key string, n int, rate float64, d time.Duration, vs []variant) benchCase {
		return benchCase{
			Key: key, Scenario: sc, Clients: n, Variants: vs,
			Args: append([]string{"-duration", d.String(), "-rate", fmtFloat(rate),
				"-drain", s.drain.String()}, common...),
			Timeout: setupTime(n, s.connectRate) + d + s.drain + 2*time.Minute,
		}
	}
	var herald, node bool
	for _, p := range s.peers {
		herald = herald || p == peerHerald
		node = node || p == peerNode
	}
	switch sc {
	case scenarioCluster:
		var vs []variant
		if herald {
			vs = append(vs, variant{Peer: peerHerald, Mode: "none", Nodes: nodes})
		}
		if node {
			vs = append(vs, variant{Peer: peerNode, Mode: "none", Nodes: nodes})
		}
		if herald {
			vs = append(vs, variant{Peer: peerHerald, Mode: "none", Nodes: 1})
		}
		if len(vs) == 0 {
			return nil, nil
		}
		var cs []benchCase
		for _, n := range s.clusterClients {
			if n > maxPerServer {
				return nil, fmt.Errorf("-cluster-clients %d: the single-node comparison holds them all, at most %d", n, maxPerServer)
			}
			cs = append(cs, fanout(fmt.Sprintf("cluster-%d", n), n, s.rate, s.duration, vs))
		}
		return cs, nil
	case scenarioClusterMax:
		if !herald {
			return nil, nil
		}
		n := s.clusterMaxClients
		if n > nodes*maxPerServer {
			return nil, fmt.Errorf("-cluster-max-clients %d: more than %d nodes × %d", n, nodes, maxPerServer)
		}
		vs := []variant{{Peer: peerHerald, Mode: "none", Nodes: nodes}}
		return []benchCase{fanout(fmt.Sprintf("cluster-max-%d", n), n, s.clusterMaxRate, s.clusterMaxDuration, vs)}, nil
	case scenarioClusterChat:
		c, err := chatCase(s)
		if err != nil {
			return nil, err
		}
		c.Key = "cluster-" + c.Key
		c.Scenario = sc
		c.Variants = []variant{{Peer: peerApp, Mode: "none", Nodes: nodes}}
		return []benchCase{c}, nil
	}
	return nil, fmt.Errorf("unknown scenario %q", sc)
}

// servers are what one run measures: one server process, or the nodes of a
// cluster and its Redis.
type servers struct {
	procs []*peerProc // the Socket.IO servers; the control client connects to the first
	redis *peerProc   // nil outside a cluster
	dirs  []string    // temporary directories, removed once everything has stopped
}

// urls is the load generator's -url: the servers' base URLs with the given scheme (http or
// https), comma-separated.
func (sv *servers) urls(scheme string) string {
	var us []string
	for _, p := range sv.procs {
		us = append(us, fmt.Sprintf("%s://127.0.0.1:%d", scheme, p.port))
	}
	return strings.Join(us, ",")
}

// pids is the load generator's -server-pid: every process whose cost is the
// servers', Redis last.
func (sv *servers) pids() string {
	var ps []string
	for _, p := range sv.procs {
		ps = append(ps, strconv.Itoa(p.pid))
	}
	if sv.redis != nil {
		ps = append(ps, strconv.Itoa(sv.redis.pid))
	}
	return strings.Join(ps, ",")
}

// stop stops the servers, then Redis.
func (sv *servers) stop() {
	for _, p := range sv.procs {
		p.stop()
	}
	if sv.redis != nil {
		sv.redis.stop()
	}
	for _, d := range sv.dirs {
		_ = os.RemoveAll(d)
	}
}

// startCluster starts Redis and v.Nodes processes of v's peer on it.
func (tc *toolchain) startCluster(ctx context.Context, v variant, pingInterval time.Duration, cpus string) (*servers, error) {
	sv := &servers{}
	r, dir, err := startRedis(ctx, cpus)
	if err != nil {
		return nil, err
	}
	sv.redis, sv.dirs = r, append(sv.dirs, dir)
	url := redisURL(r)
	for range v.Nodes {
		p, err := tc.startPeer(ctx, v, pingInterval, cpus, "BENCH_REDIS_URL="+url)
		if err != nil {
			sv.stop()
			return nil, err
		}
		sv.procs = append(sv.procs, p)
	}
	return sv, nil
}

// startRedis runs a throwaway redis-server on a free loopback port, without
// persistence, in a new temporary directory, and waits for it to answer PING.
func startRedis(ctx context.Context, cpus string) (*peerProc, string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, "", errors.New("redis-server is not installed (apt-get install redis-server)")
	}
	dir, err := os.MkdirTemp("", "herald-bench-redis-")
	if err != nil {
		return nil, "", err
	}
	for range 5 { // a free port found may be taken before redis binds it: try another
		port, err := freePort()
		if err != nil {
			continue
		}
		argv := pinned(cpus, []string{bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
			"--logfile", filepath.Join(dir, "redis.log")})
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.SysProcAttr = childAttr()
		if err := cmd.Start(); err != nil {
			_ = os.RemoveAll(dir)
			return nil, "", err
		}
		p := &peerProc{cmd: cmd, pid: cmd.Process.Pid, port: port, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(p.done) }()
		if err := waitRedis(ctx, p, 10*time.Second); err == nil {
			return p, dir, nil
		} else if ctx.Err() != nil {
			p.stop()
			_ = os.RemoveAll(dir)
			return nil, "", err
		}
		p.stop()
	}
	log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
	_ = os.RemoveAll(dir)
	return nil, "", fmt.Errorf("redis-server did not start: %s", strings.TrimSpace(string(log)))
}

// waitRedis sends PING until Redis answers +PONG.
func waitRedis(ctx context.Context, p *peerProc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	addr := fmt.Sprintf("127.0.0.1:%d", p.port)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") {
				return nil
			}
		}
		select {
		case <-p.done:
			return errors.New("redis-server exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server did not answer within %v", timeout)
		}
	}
}

// redisURL is the redis:// URL of a Redis started by startRedis.
func redisURL(r *peerProc) string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }
