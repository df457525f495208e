package raft_test

import (
	"fmt"
	"time"

	"6.5840/labrpc"
	"6.5840/raft"
)

// Example runs a cluster of three Raft peers in one program, on labrpc's
// simulated network: it proposes a command on the leader and prints what
// every peer applies.
func Example() {
	const n = 3
	net := labrpc.MakeNetwork()
	defer net.Cleanup()

	// Each peer gets an end to every peer (itself included), its own
	// Persister and its own applyCh, and serves RPCs as service "Raft".
	peers := make([]*raft.Raft, n)
	applyChs := make([]chan raft.ApplyMsg, n)
	for i := 0; i < n; i++ {
		ends := make([]*labrpc.ClientEnd, n)
		for j := 0; j < n; j++ {
			name := fmt.Sprintf("%d->%d", i, j)
			ends[j] = net.MakeEnd(name)
			net.Connect(name, j)
			net.Enable(name, true)
		}
		applyChs[i] = make(chan raft.ApplyMsg, 10)
		peers[i] = raft.Make(ends, i, raft.MakePersister(), applyChs[i])
		srv := labrpc.MakeServer()
		srv.AddService(labrpc.MakeService(peers[i]))
		net.AddServer(i, srv)
	}
	defer func() {
		for _, rf := range peers {
			rf.Kill()
		}
	}()

	// Propose on whichever peer leads. A leader can lose office before the
	// command commits; then the service proposes it again.
	for {
		index := startOnLeader(peers, "hello")
		msgs, ok := nextApplied(applyChs, 2*time.Second)
		if !ok || msgs[0].CommandIndex != index {
			continue
		}
		for i, msg := range msgs {
			fmt.Printf("peer %d applied %q at index %d\n", i, msg.Command, msg.CommandIndex)
		}
		break
	}
	// Output:
	// peer 0 applied "hello" at index 1
	// peer 1 applied "hello" at index 1
	// peer 2 applied "hello" at index 1
}

// startOnLeader calls Start on each peer in turn until one accepts cmd (an
// election may still be under way), and returns the index Start gave.
func startOnLeader(peers []*raft.Raft, cmd interface{}) int {
	for {
		for _, rf := range peers {
			if index, _, isLeader := rf.Start(cmd); isLeader {
				return index
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nextApplied returns the next message from each applyCh, or false if one
// of them has none within timeout.
func nextApplied(applyChs []chan raft.ApplyMsg, timeout time.Duration) ([]raft.ApplyMsg, bool) {
	deadline := time.After(timeout)
	msgs := make([]raft.ApplyMsg, len(applyChs))
	for i, ch := range applyChs {
		select {
		case msgs[i] = <-ch:
		case <-deadline:
			return nil, false
		}
	}
	return msgs, true
}
