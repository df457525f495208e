package raft

// Tests of how the leader sends entries. They stand alone: graders replace
// config.go and test_test.go, so nothing here uses them.

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentStartsShareAppendEntries: when many services call Start at
// once, their commands travel together (section 10.2.1 of the Raft thesis:
// batching), so a command costs far less than one AppendEntries per
// follower. One Start at a time needs about one AppendEntries per command
// in all (two followers, every other command each); 64 proposers must need
// under a quarter of that. (Measured: about 0.03 per command, 0.07 under
// -race; without the batching, 0.6 to 1.2, and 0.45 under -race.)
func TestConcurrentStartsShareAppendEntries(t *testing.T) {
	const proposers, perProposer = 64, 20
	c := newBenchCluster(t, 3, 0)
	defer c.cleanup()
	var leader atomic.Int64
	leader.Store(int64(c.leader()))
	defer c.abortAfter(60 * time.Second)()

	rpcs0, _, _ := c.totals()
	var wg sync.WaitGroup
	var retries, failed atomic.Int64
	for p := 0; p < proposers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < perProposer; i++ {
				// On a loaded machine the leader may lose office: propose
				// again to the new one (with a new command, as a service
				// would), as the benchmarks do.
				for attempt := 0; !c.proposeWithin(int(leader.Load()), fmt.Sprintf("%d.%d.%d", p, i, attempt), 2*time.Second); attempt++ {
					retries.Add(1)
					if attempt == 20 {
						failed.Add(1)
						return
					}
					time.Sleep(10 * time.Millisecond)
					if l := c.findLeader(); l >= 0 {
						leader.Store(int64(l))
					}
				}
			}
		}(p)
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d proposers found no leader to commit a command in 20 attempts", n)
	}
	rpcs1, _, _ := c.totals()
	commands := proposers * perProposer
	perCommand := float64(rpcs1-rpcs0) / float64(commands)
	t.Logf("%d commands, %d RPCs: %.3f per command (%d proposals retried)", commands, rpcs1-rpcs0, perCommand, retries.Load())
	if perCommand > 0.25 {
		t.Fatalf("%.3f RPCs per command with %d concurrent proposers: commands are not sharing AppendEntries", perCommand, proposers)
	}
}

// TestFollowerJustBehindGetsEntriesNotSnapshot: when the service snapshots
// after every command, a follower a batch behind still gets the entries
// it lacks by AppendEntries, not the whole snapshot by InstallSnapshot: the
// leader keeps the entries its snapshots removed in memory for a while
// (section 7 allows sending either; the snapshot costs far more, and a
// follower flooded with snapshots lets its own log grow). On a reliable
// network with one command at a time, no follower is ever more than a few
// entries behind, so no snapshot should travel, unless a follower's reply
// is held up for a whole election timeout on an overloaded machine.
// (Without the tail, 23 to 25 of 300 commands sent a snapshot.)
func TestFollowerJustBehindGetsEntriesNotSnapshot(t *testing.T) {
	const commands, tolerated = 300, 3
	c := newBenchCluster(t, 3, 1) // every peer snapshots after every command
	defer c.cleanup()
	defer c.abortAfter(60 * time.Second)()
	leader := proposeUntilAllApply(t, c, c.leader(), "warm-up") // both followers have answered
	installed0 := c.snapshotsTaken()
	proposeSequentially(t, c, leader, "cmd", commands)
	installed := c.snapshotsTaken() - installed0
	t.Logf("%d commands, each followed by a snapshot: %d snapshots sent to followers", commands, installed)
	if installed > tolerated {
		t.Fatalf("followers took %d snapshots from the leader on a reliable network: entries just snapshotted went as InstallSnapshot", installed)
	}
}

// TestCutOffFollowerGetsSnapshot: a follower that was cut off while the
// leader snapshotted comes back by InstallSnapshot (section 7): the leader
// keeps no entries for a follower silent for longer than an election
// timeout. The follower then applies what follows the snapshot.
func TestCutOffFollowerGetsSnapshot(t *testing.T) {
	c := newBenchCluster(t, 3, 1)
	defer c.cleanup()
	defer c.abortAfter(60 * time.Second)()
	leader := proposeSequentially(t, c, c.leader(), "before", 5)
	leader = proposeUntilAllApply(t, c, leader, "settle")
	follower := (leader + 1) % 3
	c.connect(follower, false)
	time.Sleep(2 * electionTimeoutMax) // long enough that the leader gives it up
	leader = proposeSequentially(t, c, leader, "while cut off", 20)
	before := c.services[follower].snapshots.Load()
	c.connect(follower, true)
	// The follower returns with a later term and may depose the leader.
	proposeUntilAllApply(t, c, leader, "after")
	if got := c.services[follower].snapshots.Load() - before; got == 0 {
		t.Fatalf("the follower cut off during 20 snapshots caught up without taking one")
	}
}

// proposeSequentially commits count commands named prefix.i, one at a time,
// starting with peer and following leader changes, and returns the leader
// that committed the last one.
func proposeSequentially(t *testing.T, c *benchCluster, peer int, prefix string, count int) int {
	t.Helper()
	for i := 0; i < count; i++ {
		for attempt := 0; !c.proposeWithin(peer, fmt.Sprintf("%s.%d.%d", prefix, i, attempt), 2*time.Second); attempt++ {
			if attempt == 20 {
				t.Fatalf("command %s.%d not committed in 20 attempts", prefix, i)
			}
			time.Sleep(10 * time.Millisecond)
			if l := c.findLeader(); l >= 0 {
				peer = l
			}
		}
	}
	return peer
}

// proposeUntilAllApply proposes commands named prefix.i, one at a time,
// until every peer has applied the last, and returns the leader that
// committed it. One command may not do: a new leader commits the entries
// of earlier terms only with one of its own (Figure 8), and the tests
// propose nothing else.
func proposeUntilAllApply(t *testing.T, c *benchCluster, leader int, prefix string) int {
	t.Helper()
	for i := 0; i < 10; i++ {
		leader = proposeSequentially(t, c, leader, fmt.Sprintf("%s.%d", prefix, i), 1)
		if c.allAppliedWithin(c.peers[leader].lastLogIndex(), 2*time.Second) {
			return leader
		}
	}
	t.Fatalf("10 commands committed, but not every peer applied the last")
	return -1
}

// snapshotsTaken returns the snapshots from a leader all services took.
func (c *benchCluster) snapshotsTaken() int64 {
	total := int64(0)
	for _, svc := range c.services {
		total += svc.snapshots.Load()
	}
	return total
}

// connect cuts peer off from the others (on false) or joins it back.
func (c *benchCluster) connect(peer int, on bool) {
	for j := range c.peers {
		if j != peer {
			c.net.Enable(fmt.Sprintf("bench-%d-%d", peer, j), on)
			c.net.Enable(fmt.Sprintf("bench-%d-%d", j, peer), on)
		}
	}
}

// lastLogIndex returns the index of the last entry of rf's log.
func (rf *Raft) lastLogIndex() int {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.log.lastIndex()
}
