package raft

// Benchmarks of agreement on a reliable labrpc network of 3 peers. They stand
// alone: graders replace config.go and test_test.go, so nothing here uses them.
//
//	go test -run '^$' -bench Agreement -benchtime 5000x -count 5 ./raft
//
// (A fixed -benchtime keeps the log near the size a benchmark names: it grows
// by b.N during the run.) Each reports, besides ns/op (one agreement: Start on
// the leader until the leader's service has it), rpcs/op, commits/s, the
// calls of Persister.Save and the bytes handed to it per agreement over all
// peers (saves/op, persistB/op), and the garbage collections per thousand
// agreements (GCs/1000op). Every save hands over the whole Raft state, as the
// course's Persister API demands; our Persister copies only the bytes that
// changed, while the course's own copies everything, so with it the time per
// agreement grows with the log.

import (
	"encoding/binary"
	"fmt"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"6.5840/labrpc"
)

// benchCluster is a small cluster for benchmarks and our own tests: n peers on
// one labrpc network, each with a service that records what it applies,
// checks the order, and optionally snapshots every snapshotEvery entries.
type benchCluster struct {
	tb         testing.TB
	net        *labrpc.Network
	peers      []*Raft
	persisters []*Persister
	services   []*benchService
	stop       chan struct{}
	readers    sync.WaitGroup
	abort      chan struct{} // closed when proposals should stop waiting
	abortOnce  sync.Once
}

// benchService is one peer's service: it reads applyCh.
type benchService struct {
	mu          sync.Mutex
	lastApplied int                      // index of the last command or snapshot taken
	waiters     map[int]chan interface{} // index -> receives the command applied there
	applied     atomic.Int64             // commands applied, for tests
	snapshots   atomic.Int64             // snapshots from the leader taken, for tests
}

// newBenchCluster builds and starts n peers, with unbuffered applyCh.
func newBenchCluster(tb testing.TB, n int, snapshotEvery int) *benchCluster {
	return newBenchClusterBuffered(tb, n, snapshotEvery, 0)
}

// newBenchClusterBuffered builds and starts n peers whose applyCh holds
// applyBuffer messages.
func newBenchClusterBuffered(tb testing.TB, n, snapshotEvery, applyBuffer int) *benchCluster {
	c := &benchCluster{tb: tb, net: labrpc.MakeNetwork(), stop: make(chan struct{}), abort: make(chan struct{})}
	for i := 0; i < n; i++ {
		ends := make([]*labrpc.ClientEnd, n)
		for j := range ends {
			name := fmt.Sprintf("bench-%d-%d", i, j)
			ends[j] = c.net.MakeEnd(name)
			c.net.Connect(name, j)
			c.net.Enable(name, true)
		}
		ps := MakePersister()
		applyCh := make(chan ApplyMsg, applyBuffer)
		rf := Make(ends, i, ps, applyCh)
		srv := labrpc.MakeServer()
		srv.AddService(labrpc.MakeService(rf))
		c.net.AddServer(i, srv)
		svc := &benchService{waiters: map[int]chan interface{}{}}
		c.peers, c.persisters, c.services = append(c.peers, rf), append(c.persisters, ps), append(c.services, svc)
		c.readers.Add(1)
		go c.read(rf, svc, applyCh, snapshotEvery)
	}
	return c
}

// read is peer rf's service: it takes every message from applyCh, checks that
// commands come in order without gaps, wakes whoever waits for an index, and
// snapshots every snapshotEvery commands from this same goroutine, as
// services do.
func (c *benchCluster) read(rf *Raft, svc *benchService, applyCh chan ApplyMsg, snapshotEvery int) {
	defer c.readers.Done()
	for {
		var msg ApplyMsg
		select {
		case msg = <-applyCh:
		case <-c.stop:
			return
		}
		svc.mu.Lock()
		switch {
		case msg.CommandValid:
			if msg.CommandIndex != svc.lastApplied+1 {
				c.tb.Errorf("S%d applied index %d after %d", rf.me, msg.CommandIndex, svc.lastApplied)
			}
			svc.lastApplied = msg.CommandIndex
			svc.applied.Add(1)
			if w, ok := svc.waiters[msg.CommandIndex]; ok {
				w <- msg.Command
				delete(svc.waiters, msg.CommandIndex)
			}
		case msg.SnapshotValid:
			if msg.SnapshotIndex <= svc.lastApplied {
				c.tb.Errorf("S%d got a snapshot through %d after applying %d", rf.me, msg.SnapshotIndex, svc.lastApplied)
			}
			svc.lastApplied = msg.SnapshotIndex
			svc.snapshots.Add(1)
		}
		last := svc.lastApplied
		svc.mu.Unlock()
		if msg.CommandValid && snapshotEvery > 0 && last%snapshotEvery == 0 {
			rf.Snapshot(last, binary.AppendUvarint(nil, uint64(last)))
		}
	}
}

// cleanup kills every peer and stops the services and the network.
func (c *benchCluster) cleanup() {
	for _, rf := range c.peers {
		rf.Kill()
	}
	close(c.stop)
	c.readers.Wait()
	c.net.Cleanup()
}

// leader waits up to 10 seconds for one peer to believe it leads, and
// returns it. Test goroutine only.
func (c *benchCluster) leader() int {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if l := c.findLeader(); l >= 0 {
			return l
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.tb.Fatalf("no leader elected within 10 s")
	return -1
}

// findLeader returns the peer that believes it leads in the highest term,
// or -1 if none does.
func (c *benchCluster) findLeader() int {
	leader, top := -1, -1
	for i, rf := range c.peers {
		if term, isLeader := rf.GetState(); isLeader && term > top {
			leader, top = i, term
		}
	}
	return leader
}

// propose starts cmd on peer and waits until that peer's service applies
// whatever commits at the index Start returned. It returns false if the peer
// does not lead, or a different command took the index, or the proposals
// were aborted (see abortAfter) first.
func (c *benchCluster) propose(peer int, cmd interface{}) bool {
	return c.proposeWithin(peer, cmd, 0)
}

// proposeWithin is propose that also gives up after timeout (0: never): a
// command a deposed leader took may never be committed at its index.
func (c *benchCluster) proposeWithin(peer int, cmd interface{}, timeout time.Duration) bool {
	svc := c.services[peer]
	svc.mu.Lock() // held across Start, so the index cannot be applied before we wait for it
	index, _, ok := c.peers[peer].Start(cmd)
	if !ok {
		svc.mu.Unlock()
		return false
	}
	w := make(chan interface{}, 1)
	svc.waiters[index] = w
	svc.mu.Unlock()
	var expired <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case got := <-w:
		return got == cmd
	case <-c.abort:
		return false
	case <-expired:
		return false
	}
}

// abortAfter makes every waiting proposal give up after d, so a lost
// command cannot hang a benchmark; the returned function cancels it.
func (c *benchCluster) abortAfter(d time.Duration) (cancel func() bool) {
	return time.AfterFunc(d, func() { c.abortOnce.Do(func() { close(c.abort) }) }).Stop
}

// proposeBurst starts count commands back to back on peer and waits until
// every peer has applied the last of them.
func (c *benchCluster) proposeBurst(peer, count int, next func() interface{}) {
	last := 0
	for i := 0; i < count; i++ {
		index, _, ok := c.peers[peer].Start(next())
		if !ok {
			c.tb.Fatalf("S%d lost leadership while filling the log", peer)
		}
		last = index
	}
	c.waitApplied(last, 30*time.Second)
}

// waitApplied waits until every peer's service has applied index.
func (c *benchCluster) waitApplied(index int, timeout time.Duration) {
	if !c.allAppliedWithin(index, timeout) {
		c.tb.Fatalf("index %d not applied everywhere within %v", index, timeout)
	}
}

// allAppliedWithin reports whether every peer's service has applied
// through index within timeout.
func (c *benchCluster) allAppliedWithin(index int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for _, svc := range c.services {
		for {
			svc.mu.Lock()
			done := svc.lastApplied >= index
			svc.mu.Unlock()
			if done {
				break
			}
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(time.Millisecond)
		}
	}
	return true
}

// totals returns the RPCs made so far, and the saves and bytes saved by
// all peers.
func (c *benchCluster) totals() (rpcs int, saves, persisted int64) {
	for _, rf := range c.peers {
		saves += rf.persistCount.Load()
		persisted += rf.persistedBytes.Load()
	}
	return c.net.GetTotalCount(), saves, persisted
}

// benchAgreement measures agreements by proposers goroutines, each doing
// Start-and-wait in a loop, after filling the log with prefill entries.
// Each peer's service snapshots every snapshotEvery entries (0: never) and
// reads an applyCh that holds applyBuffer messages.
func benchAgreement(b *testing.B, proposers, prefill, snapshotEvery, applyBuffer int) {
	if fullChecks.Load() && !debugEnabled {
		// Measure what users run: without the checks that read the whole log.
		fullChecks.Store(false)
		defer fullChecks.Store(true)
	}
	c := newBenchClusterBuffered(b, 3, snapshotEvery, applyBuffer)
	defer c.cleanup()
	leader := c.leader()
	var counter atomic.Int64
	next := func() interface{} { return int(counter.Add(1)) }
	c.proposeBurst(leader, prefill, next)
	var current atomic.Int64 // the leader proposals go to
	current.Store(int64(leader))
	var retries atomic.Int64 // proposals that found no leader, or lost their index
	term0, _ := c.peers[leader].GetState()

	rpcs0, saves0, persisted0 := c.totals()
	gc0 := gcCycles()
	var remaining atomic.Int64
	remaining.Store(int64(b.N))
	var failed atomic.Bool
	var wg sync.WaitGroup
	defer c.abortAfter(5 * time.Minute)()
	b.ResetTimer()
	start := time.Now()
	for p := 0; p < proposers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for remaining.Add(-1) >= 0 {
				// A leader can lose office (on a loaded machine a
				// heartbeat can come late): propose again to the new one.
				for attempt := 0; !c.propose(int(current.Load()), next()); attempt++ {
					retries.Add(1)
					if attempt == 100 {
						failed.Store(true)
						return
					}
					time.Sleep(10 * time.Millisecond)
					if l := c.findLeader(); l >= 0 {
						current.Store(int64(l))
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() {
		b.Fatalf("a command found no leader to commit it in 100 attempts")
	}
	rpcs1, saves1, persisted1 := c.totals()
	gc1 := gcCycles()
	b.ReportMetric(float64(rpcs1-rpcs0)/float64(b.N), "rpcs/op")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commits/s")
	b.ReportMetric(float64(saves1-saves0)/float64(b.N), "saves/op")
	b.ReportMetric(float64(persisted1-persisted0)/float64(b.N), "persistB/op")
	b.ReportMetric((gc1-gc0)*1000/float64(b.N), "GCs/1000op")
	if n := retries.Load(); n > 0 {
		term1, _ := c.peers[current.Load()].GetState()
		b.ReportMetric(float64(n), "retries")
		b.ReportMetric(float64(term1-term0), "newterms")
	}
}

// gcCycles returns the number of garbage collections completed so far.
func gcCycles() float64 {
	sample := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0 // not supported by this runtime
	}
	return float64(sample[0].Value.Uint64())
}

// BenchmarkAgreementSequential measures one agreement at a time, with the log
// already holding 2,000 or 10,000 entries (it grows by b.N during the run, so
// keep -benchtime moderate, e.g. 2000x), and with a service that snapshots
// every 1,000 entries.
func BenchmarkAgreementSequential(b *testing.B) {
	for _, prefill := range []int{2000, 10000} {
		b.Run(fmt.Sprintf("log=%d", prefill), func(b *testing.B) { benchAgreement(b, 1, prefill, 0, 0) })
	}
	b.Run("log=10000/snapshotEvery=1000", func(b *testing.B) { benchAgreement(b, 1, 10000, 1000, 0) })
}

// BenchmarkAgreementConcurrent64 measures throughput with 64 goroutines each
// starting a command and waiting for it: batching should make it far higher,
// with fewer RPCs per command, than the sequential case. With an unbuffered
// applyCh (as the course's tests use) every message is a handoff between the
// applier and the service, which bounds throughput; the last variant gives
// the service a buffered applyCh.
func BenchmarkAgreementConcurrent64(b *testing.B) {
	b.Run("log=2000", func(b *testing.B) { benchAgreement(b, 64, 2000, 0, 0) })
	b.Run("log=2000/snapshotEvery=1000", func(b *testing.B) { benchAgreement(b, 64, 2000, 1000, 0) })
	b.Run("log=2000/snapshotEvery=1000/applyBuffer=256", func(b *testing.B) { benchAgreement(b, 64, 2000, 1000, 256) })
}
