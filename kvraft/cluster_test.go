package kvraft

// A small cluster builder for our own tests and benchmarks. It stands alone:
// graders replace config.go and test_test.go, so nothing here uses them, and
// no name here is one of theirs (../shared/tools/compat/reserved.txt).

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"6.5840/labrpc"
	"6.5840/raft"
)

// kvCluster is n KVServers on one labrpc network. Servers can be cut off
// (all their links down) and crashed and restarted (with a copy of their
// persister, as after a real crash). Every Clerk gets its own ends.
type kvCluster struct {
	tb           testing.TB
	net          *labrpc.Network
	n            int
	maxraftstate int
	goroutines   int // before the cluster started; cleanup waits to return to it
	watchdog     *time.Timer

	mu         sync.Mutex
	servers    []*KVServer // nil while crashed
	persisters []*raft.Persister
	generation []int      // restarts of each server, to name fresh ends
	peerEnds   [][]string // peerEnds[i][j]: the end server i uses to reach server j's Raft
	cutOff     []bool     // all links to and from the server are down
	clerkEnds  [][]string // clerkEnds[c][j]: Clerk c's end to server j
}

// newKVCluster starts n servers and returns once they are all running (not
// necessarily once a leader is elected). It registers cleanup with tb.
func newKVCluster(tb testing.TB, n, maxraftstate int) *kvCluster {
	c := &kvCluster{
		tb:           tb,
		net:          labrpc.MakeNetwork(),
		n:            n,
		maxraftstate: maxraftstate,
		goroutines:   runtime.NumGoroutine(),
		servers:      make([]*KVServer, n),
		persisters:   make([]*raft.Persister, n),
		generation:   make([]int, n),
		peerEnds:     make([][]string, n),
		cutOff:       make([]bool, n),
	}
	for i := 0; i < n; i++ {
		c.persisters[i] = raft.MakePersister()
		c.startServer(i)
	}
	if _, isTest := tb.(*testing.T); isTest {
		// A Clerk retries forever, so a service that never makes
		// progress would hang the test: bound it, with the stacks.
		c.watchdog = time.AfterFunc(clusterTimeLimit, func() {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			panic(fmt.Sprintf("%s ran longer than %v; goroutines:\n%s", tb.Name(), clusterTimeLimit, buf))
		})
	}
	tb.Cleanup(c.cleanup)
	return c
}

// clusterTimeLimit bounds each of our cluster tests.
const clusterTimeLimit = 2 * time.Minute

// serverName is server i's name on the network.
func serverName(i int) string { return fmt.Sprintf("kv-server-%d", i) }

// startServer (re)starts server i on its persister.
func (c *kvCluster) startServer(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation[i]++
	ends := make([]*labrpc.ClientEnd, c.n)
	c.peerEnds[i] = make([]string, c.n)
	for j := 0; j < c.n; j++ {
		name := fmt.Sprintf("kv-peer-%d-%d-gen%d", i, j, c.generation[i])
		ends[j] = c.net.MakeEnd(name)
		c.net.Connect(name, serverName(j))
		c.peerEnds[i][j] = name
	}
	kv := StartKVServer(ends, i, c.persisters[i], c.maxraftstate)
	srv := labrpc.MakeServer()
	srv.AddService(labrpc.MakeService(kv))
	srv.AddService(labrpc.MakeService(kv.rf))
	c.net.AddServer(serverName(i), srv)
	c.servers[i] = kv
	c.applyLinksLocked()
}

// crashServer crashes server i: it vanishes from the network, its persister
// is replaced by a copy (so the dying peer cannot change what a restart
// sees), and it is killed.
func (c *kvCluster) crashServer(i int) {
	c.mu.Lock()
	kv := c.servers[i]
	c.servers[i] = nil
	c.net.DeleteServer(serverName(i))
	c.persisters[i] = c.persisters[i].Copy()
	c.mu.Unlock()
	if kv != nil {
		kv.Kill()
	}
}

// setCutOff cuts server i off from everyone (true) or reconnects it.
func (c *kvCluster) setCutOff(i int, cut bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cutOff[i] = cut
	c.applyLinksLocked()
}

// applyLinksLocked enables every end whose two sides are both up.
func (c *kvCluster) applyLinksLocked() {
	for i := range c.peerEnds {
		for j, name := range c.peerEnds[i] {
			c.net.Enable(name, !c.cutOff[i] && !c.cutOff[j])
		}
	}
	for _, ends := range c.clerkEnds {
		for j, name := range ends {
			c.net.Enable(name, !c.cutOff[j])
		}
	}
}

// makeClerk returns a Clerk with its own ends to every server.
func (c *kvCluster) makeClerk() *Clerk {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := len(c.clerkEnds)
	names := make([]string, c.n)
	ends := make([]*labrpc.ClientEnd, c.n)
	for j := 0; j < c.n; j++ {
		names[j] = fmt.Sprintf("kv-clerk-%d-%d", id, j)
		ends[j] = c.net.MakeEnd(names[j])
		c.net.Connect(names[j], serverName(j))
	}
	c.clerkEnds = append(c.clerkEnds, names)
	c.applyLinksLocked()
	return MakeClerk(ends)
}

// server returns server i (nil while crashed).
func (c *kvCluster) server(i int) *KVServer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.servers[i]
}

// awaitLeader returns the server that leads in the highest term among those
// not cut off, polling until there is one or the deadline passes.
func (c *kvCluster) awaitLeader(timeout time.Duration) int {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		best, bestTerm := -1, -1
		for i := 0; i < c.n; i++ {
			c.mu.Lock()
			kv, cut := c.servers[i], c.cutOff[i]
			c.mu.Unlock()
			if kv == nil || cut {
				continue
			}
			if term, isLeader := kv.rf.GetState(); isLeader && term > bestTerm {
				best, bestTerm = i, term
			}
		}
		if best >= 0 {
			return best
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.tb.Fatalf("no leader among the connected servers within %v", timeout)
	return -1
}

// awaitApplied polls until server i has applied through index.
func (c *kvCluster) awaitApplied(i, index int, timeout time.Duration) {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		kv := c.server(i)
		kv.mu.Lock()
		applied := kv.sm.lastApplied
		kv.mu.Unlock()
		if applied >= index {
			return
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("server %d applied through %d, not %d, within %v", i, applied, index, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// maxRaftStateSize returns the largest persisted Raft state of the servers.
func (c *kvCluster) maxRaftStateSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	largest := 0
	for _, ps := range c.persisters {
		largest = max(largest, ps.RaftStateSize())
	}
	return largest
}

// snapshotsInstalled returns how many snapshots from a leader the running
// servers have installed, summed.
func (c *kvCluster) snapshotsInstalled() int {
	total := 0
	for i := 0; i < c.n; i++ {
		if kv := c.server(i); kv != nil {
			total += kv.Stats().SnapshotsInstalled
		}
	}
	return total
}

// rpcs returns the number of RPCs sent so far, by Clerks and Raft peers.
func (c *kvCluster) rpcs() int { return c.net.GetTotalCount() }

// cleanup kills every server, shuts the network down, and fails the test if
// goroutines are left behind.
func (c *kvCluster) cleanup() {
	if c.watchdog != nil {
		c.watchdog.Stop()
	}
	for i := 0; i < c.n; i++ {
		c.crashServer(i)
	}
	c.net.Cleanup()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > c.goroutines {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			c.tb.Errorf("%d goroutines left behind (started with %d):\n%s",
				runtime.NumGoroutine(), c.goroutines, strings.TrimSpace(string(buf)))
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
