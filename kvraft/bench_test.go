package kvraft

// Benchmarks of the whole service: Clerks on a reliable labrpc network
// talking to 3 servers, with maxraftstate -1 (never snapshot) and 1000.
//
//	go test -run '^$' -bench Clerk -count 5 ./kvraft
//
// Besides ns/op (one Clerk operation, from call to return), each reports
// rpcs/op (Clerk and Raft RPCs, over all servers) and max-raftstate-bytes
// (the largest persisted Raft state of any server, sampled every few
// milliseconds and at the end); the concurrent ones also report ops/s.

import (
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchKeys is the key space of the benchmarks.
const benchKeys = 1000

// benchMaxraftstates are the settings every benchmark runs with.
var benchMaxraftstates = []int{-1, 1000}

// benchValue is a value of typical size for the course's tests.
const benchValue = "value-0123456789"

// raftStateSampler records the largest persisted Raft state of a cluster
// while a benchmark runs.
type raftStateSampler struct {
	c       *kvCluster
	largest atomic.Int64
	stop    chan struct{}
	done    chan struct{}
}

func startRaftStateSampler(c *kvCluster) *raftStateSampler {
	s := &raftStateSampler{c: c, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		ticker := time.NewTicker(2 * time.Millisecond)
		defer ticker.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-ticker.C:
			}
		}
	}()
	return s
}

func (s *raftStateSampler) sample() {
	if size := int64(s.c.maxRaftStateSize()); size > s.largest.Load() {
		s.largest.Store(size)
	}
}

// finish stops the sampler and returns the largest size seen.
func (s *raftStateSampler) finish() int {
	close(s.stop)
	<-s.done
	s.sample()
	return int(s.largest.Load())
}

// benchSequential measures one Clerk doing b.N operations one after another.
func benchSequential(b *testing.B, doGet bool) {
	for _, maxraftstate := range benchMaxraftstates {
		b.Run(fmt.Sprintf("maxraftstate=%d", maxraftstate), func(b *testing.B) {
			c := newKVCluster(b, 3, maxraftstate)
			ck := c.makeClerk()
			for k := 0; k < benchKeys; k++ { // warm up: a leader, and every key present
				ck.Put(fmt.Sprint(k), benchValue)
			}
			sampler := startRaftStateSampler(c)
			rpcsBefore, installsBefore := c.rpcs(), c.snapshotsInstalled()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				key := fmt.Sprint(i % benchKeys)
				if doGet {
					if v := ck.Get(key); v != benchValue {
						b.Fatalf("Get(%s) = %q, want %q", key, v, benchValue)
					}
				} else {
					ck.Put(key, benchValue)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(c.rpcs()-rpcsBefore)/float64(b.N), "rpcs/op")
			b.ReportMetric(float64(sampler.finish()), "max-raftstate-bytes")
			b.ReportMetric(float64(c.snapshotsInstalled()-installsBefore), "installs")
		})
	}
}

// BenchmarkClerkSequentialPut: one Clerk, one Put at a time.
func BenchmarkClerkSequentialPut(b *testing.B) { benchSequential(b, false) }

// BenchmarkClerkSequentialGet: one Clerk, one Get at a time.
func BenchmarkClerkSequentialGet(b *testing.B) { benchSequential(b, true) }

// benchConcurrent measures clerks Clerks, each in its own goroutine, sharing
// b.N operations: half Puts and half Gets of random keys.
func benchConcurrent(b *testing.B, clerks int) {
	for _, maxraftstate := range benchMaxraftstates {
		b.Run(fmt.Sprintf("maxraftstate=%d", maxraftstate), func(b *testing.B) {
			c := newKVCluster(b, 3, maxraftstate)
			cks := make([]*Clerk, clerks)
			for i := range cks {
				cks[i] = c.makeClerk()
			}
			for k := 0; k < benchKeys; k++ {
				cks[k%clerks].Put(fmt.Sprint(k), benchValue)
			}
			for _, ck := range cks { // every Clerk learns the leader
				ck.Get("0")
			}
			sampler := startRaftStateSampler(c)
			rpcsBefore, installsBefore := c.rpcs(), c.snapshotsInstalled()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for i, ck := range cks {
				wg.Add(1)
				go func(ck *Clerk, seed int64) {
					defer wg.Done()
					rng := rand.New(rand.NewSource(seed))
					for next.Add(1) <= int64(b.N) {
						key := fmt.Sprint(rng.Intn(benchKeys))
						if rng.Intn(2) == 0 {
							ck.Put(key, benchValue)
						} else if v := ck.Get(key); v != benchValue {
							b.Errorf("Get(%s) = %q, want %q", key, v, benchValue)
							return
						}
					}
				}(ck, int64(i))
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
			b.ReportMetric(float64(c.rpcs()-rpcsBefore)/float64(b.N), "rpcs/op")
			b.ReportMetric(float64(sampler.finish()), "max-raftstate-bytes")
			b.ReportMetric(float64(c.snapshotsInstalled()-installsBefore), "installs")
		})
	}
}

// BenchmarkClerksConcurrent16: 16 Clerks at once.
func BenchmarkClerksConcurrent16(b *testing.B) { benchConcurrent(b, 16) }

// BenchmarkClerksConcurrent64: 64 Clerks at once.
func BenchmarkClerksConcurrent64(b *testing.B) { benchConcurrent(b, 64) }
