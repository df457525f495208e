package raft_test

// A follower that takes long to receive a snapshot (a large one over a slow
// link) gets it once, and heartbeats meanwhile, so nobody starts an
// election. The test sits outside package raft so that it can put a
// wrapper named Raft (labrpc names a service after its type) between the
// network and each peer, to slow InstallSnapshot down and count calls.

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"6.5840/labrpc"
	"6.5840/raft"
)

// Raft wraps a peer's handlers: it counts the requests it is sent, and
// delays InstallSnapshot by snapshotDelay before handing it on.
type Raft struct {
	rf            *raft.Raft
	snapshotDelay atomic.Int64 // nanoseconds
	installs      atomic.Int64 // InstallSnapshot calls received
	installing    atomic.Bool  // an InstallSnapshot is being delayed
	appendsDuring atomic.Int64 // AppendEntries received while installing
	heard         atomic.Bool  // an AppendEntries arrived since the counters were reset
	watch         atomic.Int64 // the candidate whose vote requests count, after it heard a leader
	watched       *Raft        // its wrapper
	votes         atomic.Int64 // RequestVote calls from watch received after it heard a leader
}

func (w *Raft) AppendEntries(args *raft.AppendEntriesArgs, reply *raft.AppendEntriesReply) {
	w.heard.Store(true)
	if w.installing.Load() {
		w.appendsDuring.Add(1)
	}
	w.rf.AppendEntries(args, reply)
}

func (w *Raft) RequestVote(args *raft.RequestVoteArgs, reply *raft.RequestVoteReply) {
	if w.watched != nil && int64(args.CandidateId) == w.watch.Load() && w.watched.heard.Load() {
		w.votes.Add(1)
	}
	w.rf.RequestVote(args, reply)
}

func (w *Raft) InstallSnapshot(args *raft.InstallSnapshotArgs, reply *raft.InstallSnapshotReply) {
	w.installs.Add(1)
	w.installing.Store(true)
	time.Sleep(time.Duration(w.snapshotDelay.Load()))
	w.installing.Store(false)
	w.rf.InstallSnapshot(args, reply)
}

// snapshottingPeer is one peer with a service that snapshots every 10
// commands and records what it applied.
type snapshottingPeer struct {
	rf        *raft.Raft
	wrapper   *Raft
	applied   atomic.Int64 // index of the last command or snapshot applied
	snapshots atomic.Int64 // snapshots taken from the leader
}

func TestSlowSnapshotIsSentOnceWithHeartbeats(t *testing.T) {
	const n = 3
	net := labrpc.MakeNetwork()
	defer net.Cleanup()
	peers := make([]*snapshottingPeer, n)
	var readers sync.WaitGroup
	stop := make(chan struct{})
	for i := range peers {
		ends := make([]*labrpc.ClientEnd, n)
		for j := range ends {
			name := fmt.Sprintf("slow-%d-%d", i, j)
			ends[j] = net.MakeEnd(name)
			net.Connect(name, j)
			net.Enable(name, true)
		}
		applyCh := make(chan raft.ApplyMsg)
		p := &snapshottingPeer{rf: raft.Make(ends, i, raft.MakePersister(), applyCh)}
		p.wrapper = &Raft{rf: p.rf}
		srv := labrpc.MakeServer()
		srv.AddService(labrpc.MakeService(p.wrapper))
		net.AddServer(i, srv)
		peers[i] = p
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				case m := <-applyCh:
					if m.SnapshotValid {
						p.applied.Store(int64(m.SnapshotIndex))
						p.snapshots.Add(1)
					} else if m.CommandValid {
						p.applied.Store(int64(m.CommandIndex))
						if m.CommandIndex%10 == 0 {
							p.rf.Snapshot(m.CommandIndex, binary.AppendUvarint(nil, uint64(m.CommandIndex)))
						}
					}
				}
			}
		}()
	}
	defer func() {
		for _, p := range peers {
			p.rf.Kill()
		}
		close(stop)
		readers.Wait()
	}()
	leader := -1
	for deadline := time.Now().Add(5 * time.Second); leader < 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no leader within 5 s")
		}
		for i, p := range peers {
			if _, isLeader := p.rf.GetState(); isLeader {
				leader = i
			}
		}
	}
	term, _ := peers[leader].rf.GetState()
	lagging := (leader + 1) % n
	connect := func(on bool) {
		for j := 0; j < n; j++ {
			if j != lagging {
				net.Enable(fmt.Sprintf("slow-%d-%d", lagging, j), on)
				net.Enable(fmt.Sprintf("slow-%d-%d", j, lagging), on)
			}
		}
	}
	connect(false)
	// Silent for longer than the leader keeps compacted entries for it.
	time.Sleep(time.Second)
	for i := 1; i <= 40; i++ {
		if _, _, ok := peers[leader].rf.Start(i); !ok {
			t.Fatalf("S%d lost its leadership", leader)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); peers[leader].applied.Load() < 40; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("40 commands not applied by the leader within 5 s")
		}
	}
	const delay = 1500 * time.Millisecond // five times the shortest election timeout
	peers[lagging].wrapper.snapshotDelay.Store(int64(delay))
	for _, p := range peers {
		p.wrapper.installs.Store(0)
		p.wrapper.votes.Store(0)
		p.wrapper.heard.Store(false)
		p.wrapper.watch.Store(int64(lagging))
		p.wrapper.watched = peers[lagging].wrapper
	}
	connect(true)
	time.Sleep(delay + 1500*time.Millisecond)

	if got := peers[lagging].snapshots.Load(); got != 1 || peers[lagging].applied.Load() != 40 {
		t.Fatalf("the lagging peer took %d snapshots and applied through %d; want 1 snapshot, through 40",
			got, peers[lagging].applied.Load())
	}
	if got := peers[lagging].wrapper.installs.Load(); got != 1 {
		t.Fatalf("the leader sent %d copies of the snapshot; want 1", got)
	}
	// Heartbeats every 100 ms while the snapshot takes 1.5 s: allow for
	// a loaded machine.
	if got := peers[lagging].wrapper.appendsDuring.Load(); got < 5 {
		t.Fatalf("the lagging peer got %d AppendEntries while its snapshot travelled for %v; want heartbeats", got, delay)
	}
	for i, p := range peers {
		if votes := p.wrapper.votes.Load(); votes != 0 {
			t.Fatalf("S%d was asked by the lagging S%d for %d votes after it heard the leader: it started an election", i, lagging, votes)
		}
		if now, _ := p.rf.GetState(); now != term {
			t.Fatalf("S%d is in term %d; want %d", i, now, term)
		}
	}
}
