package main

import (
	"fmt"
	"sync"

	"6.5840/kvraft"
	"6.5840/labrpc"
	"6.5840/raft"
)

// cluster is a set of kvraft servers on one simulated network, with the
// faults kvsim injects: crashes, restarts and partitions. Clients are
// connected to every live server at all times; partitions cut the links
// between servers only.
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
}

func newCluster(n, maxraftstate int) *cluster {
	c := &cluster{
		net:          labrpc.MakeNetwork(),
		n:            n,
		maxraftstate: maxraftstate,
		kvs:          make([]*kvraft.KVServer, n),
		persisters:   make([]*raft.Persister, n),
		endnames:     make([][]string, n),
		group:        make([]int, n),
	}
	for i := range c.persisters {
		c.persisters[i] = raft.MakePersister()
	}
	for i := 0; i < n; i++ {
		c.start(i)
	}
	return c
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

	srv := labrpc.MakeServer()
	srv.AddService(labrpc.MakeService(kv))
	srv.AddService(labrpc.MakeService(kv.Raft()))
	c.mu.Lock()
	c.kvs[i] = kv
	c.net.AddServer(i, srv)
	c.applyLinksLocked()
	c.mu.Unlock()
}

// crash stops server i: it disappears from the network and its goroutines
// stop. Its persister keeps what it saved.
func (c *cluster) crash(i int) {
	c.mu.Lock()
	kv := c.kvs[i]
	c.kvs[i] = nil
	c.net.DeleteServer(i)
	for j := 0; j < c.n; j++ {
		c.net.Enable(c.endnames[i][j], false)
	}
	c.noteStateSizeLocked(i)
	c.mu.Unlock()
	if kv != nil {
		kv.Kill()
		c.mu.Lock()
		c.deadStats = addStats(c.deadStats, kv.Stats())
		c.mu.Unlock()
	}
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

// clusterState is what the status line and the summary show of the cluster.
type clusterState struct {
	sample   // connected majority and leader, as assess defines them
	crashed  []int
	cutOff   []int // live servers outside the largest group
	maxState int   // largest persisted Raft state seen so far, in bytes
	taken    int   // snapshots taken by services, over all incarnations
	install  int   // snapshots installed from leaders, over all incarnations
}

// views samples what each server is: up or not, its group, its term and
// whether it believes it leads. It holds c.mu only to copy the servers;
// GetState takes each peer's own lock.
func (c *cluster) views() []serverView {
	c.mu.Lock()
	kvs := append([]*kvraft.KVServer(nil), c.kvs...)
	group := append([]int(nil), c.group...)
	c.mu.Unlock()
	return viewsOf(kvs, group)
}

func viewsOf(kvs []*kvraft.KVServer, group []int) []serverView {
	views := make([]serverView, len(kvs))
	for i, kv := range kvs {
		views[i].group = group[i]
		if kv != nil {
			views[i].up = true
			views[i].term, views[i].isLeader = kv.Raft().GetState()
		}
	}
	return views
}

// observe samples the cluster for the status line and the summary.
func (c *cluster) observe() clusterState {
	c.mu.Lock()
	kvs := append([]*kvraft.KVServer(nil), c.kvs...)
	group := append([]int(nil), c.group...)
	for i := range kvs {
		c.noteStateSizeLocked(i)
	}
	st := clusterState{maxState: c.maxState}
	stats := c.deadStats
	c.mu.Unlock()

	views := viewsOf(kvs, group)
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
	for i, kv := range kvs {
		if kv == nil {
			st.crashed = append(st.crashed, i)
			continue
		}
		if group[i] != biggest {
			st.cutOff = append(st.cutOff, i)
		}
		stats = addStats(stats, kv.Stats())
	}
	st.taken, st.install = stats.SnapshotsTaken, stats.SnapshotsInstalled
	return st
}

func (c *cluster) noteStateSizeLocked(i int) {
	if size := c.persisters[i].RaftStateSize(); size > c.maxState {
		c.maxState = size
	}
}

// shutdown kills every server and stops the network.
func (c *cluster) shutdown() {
	c.mu.Lock()
	kvs := append([]*kvraft.KVServer(nil), c.kvs...)
	for i := range c.kvs {
		c.noteStateSizeLocked(i)
		c.kvs[i] = nil
	}
	c.mu.Unlock()
	for _, kv := range kvs {
		if kv != nil {
			kv.Kill()
		}
	}
	c.net.Cleanup()
}
