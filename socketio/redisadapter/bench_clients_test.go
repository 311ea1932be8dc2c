package redisadapter

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/herald-chat/herald/internal/redistest"
)

// BenchmarkPublishClients compares the two Redis clients the project may use on the broadcast
// path: publishing a typical broadcast (a chat message, as this adapter encodes it) on a
// namespace's broadcast channel, with one other server PSUBSCRIBEd so that Redis does its fan-out
// work too. Modes:
//   - batch64: bursts of 64 messages pipelined in one round trip, as the publisher sends a burst;
//   - single: one message per round trip, as the publisher sends on an idle server;
//   - parallel: 16 goroutines per CPU (32 here) each publish on their own, the client's pipelining merging them
//     (rueidis auto-pipelining, go-redis's pool), which is what an adapter without a publisher
//     goroutine would do.
//
// Besides ns/op and allocations it reports redis-cpu-ns/op, the CPU time redis-server spent per
// message (INFO cpu before and after). The results and the choice are in bench/RESULTS.md; the
// two clients must be measured in the same run, alternately, on this shared machine:
//
//	for i in 1 2 3; do for c in rueidis goredis; do
//	  go test ./socketio/redisadapter -run '^$' -bench "PublishClients/$c/" -benchmem -count 1
//	done; done
func BenchmarkPublishClients(b *testing.B) {
	redis := redistest.Start(b)
	msg := realMessages(b).broadcasts[0]
	channel := "bench#/#"
	drainSubscriber(b, redis.Addr(), channel+"*")

	ctx := context.Background()
	ru, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{redis.Addr()}, DisableCache: true})
	if err != nil {
		b.Fatal(err)
	}
	defer ru.Close()
	gr := goredis.NewClient(&goredis.Options{Addr: redis.Addr()})
	defer gr.Close()

	clients := []struct {
		name   string
		batch  func(n int) error
		single func() error
	}{
		{"rueidis", func(n int) error {
			cmds := make(rueidis.Commands, n)
			for i := range cmds {
				cmds[i] = ru.B().Publish().Channel(channel).Message(rueidis.BinaryString(msg)).Build()
			}
			for _, r := range ru.DoMulti(ctx, cmds...) {
				if err := r.Error(); err != nil {
					return err
				}
			}
			return nil
		}, func() error {
			return ru.Do(ctx, ru.B().Publish().Channel(channel).Message(rueidis.BinaryString(msg)).Build()).Error()
		}},
		{"goredis", func(n int) error {
			pipe := gr.Pipeline()
			for range n {
				pipe.Publish(ctx, channel, msg)
			}
			_, err := pipe.Exec(ctx)
			return err
		}, func() error {
			return gr.Publish(ctx, channel, msg).Err()
		}},
	}
	for _, c := range clients {
		b.Run(c.name+"/batch64", func(b *testing.B) {
			measure(b, redis, func() {
				for i := 0; i < b.N; i += 64 {
					if err := c.batch(min(64, b.N-i)); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
		b.Run(c.name+"/single", func(b *testing.B) {
			measure(b, redis, func() {
				for range b.N {
					if err := c.single(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.SetParallelism(16) // many goroutines broadcasting at once
			measure(b, redis, func() {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := c.single(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

// measure runs f, reporting allocations and redis-server's CPU time per operation.
func measure(b *testing.B, redis *redistest.Server, f func()) {
	b.ReportAllocs()
	before := redisCPU(b, redis.Addr())
	b.ResetTimer()
	f()
	b.StopTimer()
	b.ReportMetric(float64(redisCPU(b, redis.Addr())-before)/float64(b.N), "redis-cpu-ns/op")
}

// redisCPU returns the CPU time redis-server used so far (INFO cpu: used_cpu_user +
// used_cpu_sys), in nanoseconds.
func redisCPU(b *testing.B, addr string) int64 {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "INFO cpu\r\n"); err != nil {
		b.Fatal(err)
	}
	r := bufio.NewReader(conn)
	header, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(header, "$") {
		b.Fatalf("INFO cpu: %q %v", header, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(header[1:]))
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(string(body), "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		if k == "used_cpu_user" || k == "used_cpu_sys" {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return int64(total * 1e9)
}

// drainSubscriber PSUBSCRIBEs to pattern on a raw connection that reads and discards everything,
// standing for another server of the cluster.
func drainSubscriber(b *testing.B, addr, pattern string) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	if _, err := fmt.Fprintf(conn, "*2\r\n$10\r\nPSUBSCRIBE\r\n$%d\r\n%s\r\n", len(pattern), pattern); err != nil {
		b.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, conn) }()
}
