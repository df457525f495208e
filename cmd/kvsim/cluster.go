package main

import (
	"fmt"
	"sync"
	"time"

	"6.5840/kvraft"
	"6.5840/labrpc"
	"6.5840/raft"
)

// cluster is a set of kvraft servers on one simulated network, with the
// faults kvsim injects: crashes, restarts and partitions. Clients are
// connected to every live server at all times; partitions cut the links
// between servers only.
//
// A poller goroutine per server asks its Raft peer for its term and role
// every pollInterval and keeps the answer in polled, so that views and
// observe never wait for a peer's lock: a peer starved of CPU may hold it
// for a second or more while it persists, and the faults and the
// measurements must go on meanwhile. A peer cannot change role while
// another goroutine holds its lock, so its last answer stays a fair view
// of it; the servers' up or down and their groups, which kvsim itself
// changes, are always current.
type cluster struct {
	net          *labrpc.Network
	n            int
	maxraftstate int

	mu         sync.Mutex
	kvs        []*kvraft.KVServer // nil: crashed
	persisters []*raft.Persister
	endnames   [][]string   // endnames[i][j]: server i's end to server j
	group      []int        // partition group of each server; equal groups can talk
	incarn     int          // makes end names unique across restarts
	clerks     int          // makes clerk end names unique
	maxState   int          // largest persisted Raft state seen
	deadStats  kvraft.Stats // summed over crashed incarnations
	faultsOn   faultSet     // the faults in an episode now
	polled     []peerState  // each server's latest term and role; zero while crashed

	killing     sync.WaitGroup // crashed incarnations still stopping
	stopPolling chan struct{}  // closed by shutdown
	pollers     sync.WaitGroup
}

// peerState is what a poller last heard from a Raft peer.
type peerState struct {
	term     int
	isLeader bool
}

// pollInterval is how often each server's term and role are read: twice
// per sample, so that a sample's view is at most about 5 ms old.
const pollInterval = sampleInterval / 2

func newCluster(n, maxraftstate int) *cluster {
	c := &cluster{
		net:          labrpc.MakeNetwork(),
		n:            n,
		maxraftstate: maxraftstate,
		kvs:          make([]*kvraft.KVServer, n),
		persisters:   make([]*raft.Persister, n),
		endnames:     make([][]string, n),
		group:        make([]int, n),
		polled:       make([]peerState, n),
		stopPolling:  make(chan struct{}),
	}
	for i := range c.persisters {
		c.persisters[i] = raft.MakePersister()
	}
	for i := 0; i < n; i++ {
		c.start(i)
	}
	c.pollers.Add(n)
	for i := 0; i < n; i++ {
		go c.poll(i)
	}
	return c
}

// poll keeps c.polled[i], and the largest state size seen, up to date
// until shutdown.
func (c *cluster) poll(i int) {
	defer c.pollers.Done()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		select {
		case <-c.stopPolling:
			return
		case <-tick.C:
		}
		c.mu.Lock()
		kv, persister := c.kvs[i], c.persisters[i]
		c.mu.Unlock()
		if kv == nil {
			continue
		}
		c.noteStateSize(persister)
		var st peerState
		st.term, st.isLeader = kv.Raft().GetState()
		c.mu.Lock()
		if c.kvs[i] == kv { // not crashed meanwhile
			c.polled[i] = st
		}
		c.mu.Unlock()
	}
}

// start starts server i from what its persister holds. The caller must
// not hold c.mu.
func (c *cluster) start(i int) {
	c.mu.Lock()
	c.incarn++
	ends := make([]*labrpc.ClientEnd, c.n)
	c.endnames[i] = make([]string, c.n)
	for j := 0; j < c.n; j++ {
		name := fmt.Sprintf("s%d-s%d-#%d", i, j, c.incarn)
		c.endnames[i][j] = name
		ends[j] = c.net.MakeEnd(name)
		c.net.Connect(name, j)
	}
	// A restarted server gets a copy, so that a late write by its crashed
	// incarnation cannot reach the new one.
	c.persisters[i] = c.persisters[i].Copy()
	persister := c.persisters[i]
	c.mu.Unlock()

	kv := kvraft.StartKVServer(ends, i, persister, c.maxraftstate)
	var st peerState
	st.term, st.isLeader = kv.Raft().GetState() // no one else knows it yet: this cannot wait long

	srv := labrpc.MakeServer()
	srv.AddService(labrpc.MakeService(kv))
	srv.AddService(labrpc.MakeService(kv.Raft()))
	c.mu.Lock()
	c.kvs[i] = kv
	c.polled[i] = st
	c.net.AddServer(i, srv)
	c.applyLinksLocked()
	c.mu.Unlock()
}

// crash stops server i: it disappears from the network at once, and its
// goroutines stop in the background (Kill waits for calls in flight, which
// a held-back reply keeps for up to 2.2 s); waitCrashed waits for them. Its
// persister keeps what it saved.
func (c *cluster) crash(i int) {
	c.mu.Lock()
	kv := c.kvs[i]
	c.kvs[i] = nil
	c.polled[i] = peerState{}
	c.net.DeleteServer(i)
	for j := 0; j < c.n; j++ {
		c.net.Enable(c.endnames[i][j], false)
	}
	persister := c.persisters[i]
	c.mu.Unlock()
	c.noteStateSize(persister)
	if kv != nil {
		c.killing.Add(1)
		go func() {
			defer c.killing.Done()
			kv.Kill()
			c.mu.Lock()
			c.deadStats = addStats(c.deadStats, kv.Stats())
			c.mu.Unlock()
		}()
	}
}

// waitCrashed waits until every crashed incarnation has stopped.
func (c *cluster) waitCrashed() {
	c.killing.Wait()
}

func addStats(a, b kvraft.Stats) kvraft.Stats {
	a.SnapshotsTaken += b.SnapshotsTaken
	a.SnapshotsInstalled += b.SnapshotsInstalled
	return a
}

func (c *cluster) isCrashed(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kvs[i] == nil
}

// partition places the servers in groups; servers talk only within a group.
func (c *cluster) partition(group []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	copy(c.group, group)
	c.applyLinksLocked()
}

// heal connects every server with every other.
func (c *cluster) heal() {
	c.partition(make([]int, c.n))
}

func (c *cluster) applyLinksLocked() {
	for i := 0; i < c.n; i++ {
		if c.kvs[i] == nil {
			continue
		}
		for j := 0; j < c.n; j++ {
			c.net.Enable(c.endnames[i][j], c.group[i] == c.group[j])
		}
	}
}

// setFault starts or stops an episode of fault f. Drops and reorder switch
// the network's unreliability and long reordering; partitions and crashes
// are only noted, as the schedule carries them out.
func (c *cluster) setFault(f fault, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faultsOn[f] = on
	switch f {
	case drops:
		c.net.Reliable(!on)
	case reorder:
		c.net.LongReordering(on)
	}
}

// makeClerk returns a Clerk connected to every server.
func (c *cluster) makeClerk() *kvraft.Clerk {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clerks++
	ends := make([]*labrpc.ClientEnd, c.n)
	for j := 0; j < c.n; j++ {
		name := fmt.Sprintf("clerk%d-s%d", c.clerks, j)
		ends[j] = c.net.MakeEnd(name)
		c.net.Connect(name, j)
		c.net.Enable(name, true)
	}
	return kvraft.MakeClerk(ends)
}

// clusterState is what the status line shows of the cluster.
type clusterState struct {
	sample   // connected majority and leader, as assess defines them
	crashed  []int
	cutOff   []int    // live servers outside the largest group
	faultsOn faultSet // the faults in an episode
}

// views gives what each server is: up or not, its group, its term and
// whether it believes it leads, as its poller last heard. It never waits
// for a peer.
func (c *cluster) views() []serverView {
	c.mu.Lock()
	defer c.mu.Unlock()
	views := make([]serverView, c.n)
	for i, kv := range c.kvs {
		views[i] = serverView{up: kv != nil, group: c.group[i], term: c.polled[i].term, isLeader: c.polled[i].isLeader}
	}
	return views
}

// observe gives the cluster's state for the status line. It never waits
// for a peer.
func (c *cluster) observe() clusterState {
	views := c.views()
	c.mu.Lock()
	st := clusterState{faultsOn: c.faultsOn}
	c.mu.Unlock()
	st.sample = assess(views)
	size := map[int]int{}
	for _, v := range views {
		if v.up {
			size[v.group]++
		}
	}
	biggest, best := 0, -1
	for g, n := range size {
		if n > best || (n == best && g < biggest) {
			biggest, best = g, n
		}
	}
	for i, v := range views {
		switch {
		case !v.up:
			st.crashed = append(st.crashed, i)
		case v.group != biggest:
			st.cutOff = append(st.cutOff, i)
		}
	}
	return st
}

// raftStats gives, for the summary, the snapshots taken and installed over
// all incarnations and the largest persisted Raft state seen. It asks each
// live server for its counters, which waits for the server's lock.
func (c *cluster) raftStats() (taken, installed, maxState int) {
	c.mu.Lock()
	kvs := append([]*kvraft.KVServer(nil), c.kvs...)
	persisters := append([]*raft.Persister(nil), c.persisters...)
	stats := c.deadStats
	c.mu.Unlock()
	for i, kv := range kvs {
		c.noteStateSize(persisters[i])
		if kv != nil {
			stats = addStats(stats, kv.Stats())
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return stats.SnapshotsTaken, stats.SnapshotsInstalled, c.maxState
}

// noteStateSize records the size of the Raft state p holds, if it is the
// largest yet. The caller must not hold c.mu: the persister has its own
// lock, which a peer holds while it saves.
func (c *cluster) noteStateSize(p *raft.Persister) {
	size := p.RaftStateSize()
	c.mu.Lock()
	c.maxState = max(c.maxState, size)
	c.mu.Unlock()
}

// shutdown stops the pollers, kills every server and stops the network.
func (c *cluster) shutdown() {
	close(c.stopPolling)
	c.pollers.Wait()
	c.mu.Lock()
	kvs := append([]*kvraft.KVServer(nil), c.kvs...)
	for i := range c.kvs {
		c.kvs[i] = nil
	}
	c.mu.Unlock()
	for _, kv := range kvs {
		if kv != nil {
			kv.Kill()
		}
	}
	c.waitCrashed()
	c.net.Cleanup()
}
