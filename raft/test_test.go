package raft

// Tests for parts 3A-3D, through the fixed API only (graders replace this
// file and config.go with their own). Section numbers refer to the
// extended Raft paper ("In Search of an Understandable Consensus
// Algorithm", extended version); Figure 2 is its summary of the algorithm.
//
// Every test builds its cluster with make_config, which checks each applied
// message as it arrives (one command per index across all peers, each peer
// in order without gaps) and, when the test ends, kills every peer and
// checks that no goroutine is left behind.

import (
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// 3A: leader election.

// TestInitialElection3A: three connected peers elect one leader (section
// 5.2), agree on its term, and keep leader and term while nothing fails
// (the leader's heartbeats hold the followers' election timers off).
func TestInitialElection3A(t *testing.T) {
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3A): initial election")

	cfg.checkOneLeader()
	term1 := cfg.checkTerms()
	if term1 < 1 {
		t.Fatalf("term is %d, but an election must have raised it to at least 1", term1)
	}

	// Nothing fails, so nothing changes.
	cfg.pause(2 * RaftElectionTimeout)
	term2 := cfg.checkTerms()
	if term1 != term2 {
		t.Fatalf("term changed from %d to %d although nothing failed:%s", term1, term2, cfg.describe())
	}

	cfg.checkOneLeader()
	cfg.end()
}

// TestReElection3A: a leader cut off is replaced (section 5.2); when it
// comes back it does not disturb the new leader; without a majority nobody
// is elected; with a majority back there is a leader again.
func TestReElection3A(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3A): election after network failure")

	leader1 := cfg.checkOneLeader()

	// The leader disappears: the others elect a new one.
	cfg.disconnect(leader1)
	cfg.checkOneLeader()

	// The old leader comes back: still one leader.
	cfg.connect(leader1)
	leader2 := cfg.checkOneLeader()

	// Two of three gone: no majority, no leader.
	cfg.disconnect(leader2)
	cfg.disconnect((leader2 + 1) % servers)
	cfg.checkNoLeaderFor(2 * RaftElectionTimeout)

	// A majority again: a leader.
	cfg.connect((leader2 + 1) % servers)
	cfg.checkOneLeader()

	// The last one back: still one leader.
	cfg.connect(leader2)
	cfg.checkOneLeader()

	cfg.end()
}

// TestManyElections3A: seven peers, three of them (chosen at random) cut
// off in each of ten rounds; the four left always elect a leader (section
// 5.2: a majority suffices).
func TestManyElections3A(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 7
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3A): multiple elections")

	cfg.checkOneLeader()
	for round := 0; round < 10; round++ {
		cut := cfg.rand.Perm(servers)[:3]
		for _, i := range cut {
			cfg.disconnect(i)
		}
		cfg.checkOneLeader()
		for _, i := range cut {
			cfg.connect(i)
		}
	}
	cfg.checkOneLeader()
	cfg.end()
}

// ---------------------------------------------------------------------------
// 3B: log replication.

// TestBasicAgree3B: commands submitted to the leader are applied by every
// peer at consecutive indices, starting at 1 (section 5.3).
func TestBasicAgree3B(t *testing.T) {
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3B): basic agreement")

	for index := 1; index <= 3; index++ {
		if n, _ := cfg.nCommitted(index); n > 0 {
			t.Fatalf("%d peers applied index %d before it was started", n, index)
		}
		if got := cfg.one(index*100, servers, false); got != index {
			t.Fatalf("command went to index %d, expected %d", got, index)
		}
	}
	cfg.end()
}

// TestRPCBytes3B: each command crosses to each follower about once
// (section 5.3): ten commands of 5,000 bytes to three peers cost under
// 3 x their size + 50,000 bytes.
func TestRPCBytes3B(t *testing.T) {
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3B): RPC byte count")

	cfg.one(99, servers, false)
	bytes0 := cfg.net.GetTotalBytes()

	sent := int64(0)
	for index := 2; index < 12; index++ {
		cmd := cfg.randomString(5000)
		if got := cfg.one(cmd, servers, false); got != index {
			t.Fatalf("command went to index %d, expected %d", got, index)
		}
		sent += int64(len(cmd))
	}

	got := cfg.net.GetTotalBytes() - bytes0
	if limit := int64(servers)*sent + 50000; got > limit {
		t.Fatalf("%d bytes of RPCs for %d bytes of commands; at most %d expected", got, sent, limit)
	}
	cfg.end()
}

// TestFollowerFailure3B: the leader and one follower (a majority) go on
// agreeing when the other follower is cut off; the leader alone cannot
// commit anything (section 5.3).
func TestFollowerFailure3B(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3B): test progressive failure of followers")

	cfg.one(101, servers, false)

	leader1 := cfg.checkOneLeader()
	cfg.disconnect((leader1 + 1) % servers)

	cfg.one(102, servers-1, false)
	cfg.pause(RaftElectionTimeout)
	cfg.one(103, servers-1, false)

	// Cut off the remaining follower too.
	leader2 := cfg.checkOneLeader()
	cfg.disconnect((leader2 + 1) % servers)
	cfg.disconnect((leader2 + 2) % servers)

	index, _, ok := cfg.start(leader2, 104)
	if !ok {
		t.Fatalf("leader %d rejected Start()", leader2)
	}
	if index != 4 {
		t.Fatalf("command went to index %d, expected 4", index)
	}
	cfg.checkNotCommittedFor(index, 2*RaftElectionTimeout)
	cfg.end()
}

// TestLeaderFailure3B: a new leader goes on agreeing after the leader is cut
// off; a single peer left, whatever it thinks, commits nothing (sections
// 5.2, 5.3).
func TestLeaderFailure3B(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3B): test failure of leaders")

	cfg.one(101, servers, false)

	leader1 := cfg.checkOneLeader()
	cfg.disconnect(leader1)

	// The other two elect a leader and go on.
	cfg.one(102, servers-1, false)
	cfg.pause(RaftElectionTimeout)
	cfg.one(103, servers-1, false)

	// Cut off the new leader too: one peer left.
	leader2 := cfg.checkOneLeader()
	cfg.disconnect(leader2)

	for i := 0; i < servers; i++ {
		cfg.start(i, 104)
	}
	cfg.checkNotCommittedFor(4, 2*RaftElectionTimeout)
	cfg.end()
}

// TestFailAgree3B: a follower cut off for a while misses some entries; once
// back, the leader brings it up to date (section 5.3, Figure 2's nextIndex).
func TestFailAgree3B(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3B): agreement after follower reconnects")

	cfg.one(101, servers, false)

	leader := cfg.checkOneLeader()
	cfg.disconnect((leader + 1) % servers)

	cfg.one(102, servers-1, false)
	cfg.one(103, servers-1, false)
	cfg.pause(RaftElectionTimeout)
	cfg.one(104, servers-1, false)
	cfg.one(105, servers-1, false)

	cfg.connect((leader + 1) % servers)

	// The reconnected follower catches up: all three apply the next ones.
	cfg.one(106, servers, true)
	cfg.pause(RaftElectionTimeout)
	cfg.one(107, servers, true)
	cfg.end()
}

// TestFailNoAgree3B: with three of five cut off, the leader's new entry is
// never committed (section 5.3: commit needs a majority); once they are
// back a leader resumes at the right index.
func TestFailNoAgree3B(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 5
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3B): no agreement if too many followers disconnect")

	cfg.one(10, servers, false)

	leader := cfg.checkOneLeader()
	for k := 1; k <= 3; k++ {
		cfg.disconnect((leader + k) % servers)
	}

	index, _, ok := cfg.start(leader, 20)
	if !ok {
		t.Fatalf("leader %d rejected Start()", leader)
	}
	if index != 2 {
		t.Fatalf("command went to index %d, expected 2", index)
	}
	cfg.checkNotCommittedFor(index, 2*RaftElectionTimeout)

	for k := 1; k <= 3; k++ {
		cfg.connect((leader + k) % servers)
	}

	// The old leader's uncommitted entry at index 2 may survive or not.
	leader2 := cfg.checkOneLeader()
	index2, _, ok2 := cfg.start(leader2, 30)
	if !ok2 {
		t.Fatalf("leader %d rejected Start()", leader2)
	}
	if index2 < 2 || index2 > 3 {
		t.Fatalf("command went to index %d, expected 2 or 3", index2)
	}

	cfg.one(1000, servers, true)
	cfg.end()
}

// TestConcurrentStarts3B: five Starts at once on the leader all end up
// committed, each at its own index, while the term holds (section 5.3).
func TestConcurrentStarts3B(t *testing.T) {
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3B): concurrent Start()s")

	for try := 0; try < 5; try++ {
		if try > 0 {
			cfg.pause(3 * time.Second) // let the cluster settle
		}
		if cfg.tryConcurrentStarts() {
			cfg.end()
			return
		}
	}
	t.Fatalf("the term changed in each of five tries")
}

// tryConcurrentStarts runs one try of TestConcurrentStarts3B; it returns
// false if the term changed, which makes the try inconclusive.
func (cfg *config) tryConcurrentStarts() bool {
	t := cfg.t
	t.Helper()
	const iters = 5
	leader := cfg.checkOneLeader()
	_, term, ok := cfg.start(leader, 1)
	if !ok {
		return false
	}

	indices := make(chan int, iters)
	var wg sync.WaitGroup
	for i := 0; i < iters; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			index, term1, ok := cfg.start(leader, 100+i)
			if ok && term1 == term {
				indices <- index
			}
		}(i)
	}
	wg.Wait()
	close(indices)

	for i := 0; i < cfg.n; i++ {
		if rf := cfg.raftOf(i); rf != nil {
			if term1, _ := rf.GetState(); term1 != term {
				return false
			}
		}
	}

	seen := make(map[int]bool)
	for index := range indices {
		cmd, ok := cfg.wait(index, cfg.n, term)
		if !ok {
			return false
		}
		x, isInt := cmd.(int)
		if !isInt {
			t.Fatalf("index %d holds %v (%T), not one of our commands", index, cmd, cmd)
		}
		seen[x] = true
	}
	for i := 0; i < iters; i++ {
		if !seen[100+i] {
			t.Fatalf("command %d is missing; committed: %v", 100+i, seen)
		}
	}
	return true
}

// TestRejoin3B: a leader cut off takes commands it can never commit; a new
// leader commits others; when the old leader comes back its conflicting
// entries are replaced (sections 5.3, 5.4.1).
func TestRejoin3B(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3B): rejoin of partitioned leader")

	cfg.one(101, servers, true)

	leader1 := cfg.checkOneLeader()
	cfg.disconnect(leader1)
	for _, cmd := range []int{102, 103, 104} {
		cfg.start(leader1, cmd)
	}

	// A new leader commits 103 at index 2.
	cfg.one(103, 2, true)

	// The new leader is cut off; the old one comes back.
	leader2 := cfg.checkOneLeader()
	cfg.disconnect(leader2)
	cfg.connect(leader1)

	cfg.one(104, 2, true)

	cfg.connect(leader2)
	cfg.one(105, servers, true)
	cfg.end()
}

// TestBackup3B: a leader brings back followers whose logs hold 50 or more
// conflicting entries in few round trips: the conflict term and index in
// the AppendEntries reply let it skip a whole term at a time (end of
// section 5.3). Each one() has ten seconds, so one entry per heartbeat
// would be too slow.
func TestBackup3B(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 5
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3B): leader backs up quickly over incorrect follower logs")

	cfg.one(cfg.rand.Int(), servers, true)

	// Leader1 and one follower on one side, with 50 uncommitted entries.
	leader1 := cfg.checkOneLeader()
	for k := 2; k <= 4; k++ {
		cfg.disconnect((leader1 + k) % servers)
	}
	for i := 0; i < 50; i++ {
		cfg.start(leader1, cfg.rand.Int())
	}
	cfg.pause(RaftElectionTimeout / 2)
	cfg.disconnect(leader1)
	cfg.disconnect((leader1 + 1) % servers)

	// The other three commit 50 entries of their own.
	for k := 2; k <= 4; k++ {
		cfg.connect((leader1 + k) % servers)
	}
	for i := 0; i < 50; i++ {
		cfg.one(cfg.rand.Int(), 3, true)
	}

	// Their leader and one follower take 50 more, uncommitted.
	leader2 := cfg.checkOneLeader()
	other := (leader1 + 2) % servers
	if leader2 == other {
		other = (leader2 + 1) % servers
	}
	cfg.disconnect(other)
	for i := 0; i < 50; i++ {
		cfg.start(leader2, cfg.rand.Int())
	}
	cfg.pause(RaftElectionTimeout / 2)

	// The first side and the one cut off last commit 50 more.
	for i := 0; i < servers; i++ {
		cfg.disconnect(i)
	}
	cfg.connect(leader1)
	cfg.connect((leader1 + 1) % servers)
	cfg.connect(other)
	for i := 0; i < 50; i++ {
		cfg.one(cfg.rand.Int(), 3, true)
	}

	// Everyone back: all logs must converge.
	for i := 0; i < servers; i++ {
		cfg.connect(i)
	}
	cfg.one(cfg.rand.Int(), servers, true)
	cfg.end()
}

// TestBackupInFewRoundTrips3B: a leader cut off with 50 uncommitted entries
// comes back to a leader whose log conflicts with all of them; it is
// brought up to date in a few AppendEntries, not one per entry: the
// conflict hint lets the leader skip the follower's whole term (end of
// section 5.3). TestBackup3B bounds the time; this bounds the RPCs, which
// also catches a leader that backs up one entry per RPC but retries at once.
func TestBackupInFewRoundTrips3B(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3B): leader backs up over a conflicting term in few RPCs")

	cfg.one(cfg.rand.Int(), servers, true)

	// The leader, alone, takes 50 entries it can never commit.
	leader1 := cfg.checkOneLeader()
	a, b := (leader1+1)%servers, (leader1+2)%servers
	cfg.disconnect(a)
	cfg.disconnect(b)
	for i := 0; i < 50; i++ {
		cfg.start(leader1, cfg.rand.Int())
	}
	cfg.pause(RaftElectionTimeout / 2)
	cfg.disconnect(leader1)

	// The other two elect a leader and commit 50 entries of a later term.
	cfg.connect(a)
	cfg.connect(b)
	for i := 0; i < 50; i++ {
		cfg.one(cfg.rand.Int(), servers-1, true)
	}

	// Force a new election, so that the leader starts with nextIndex just
	// past its long log (Figure 2), far beyond where the old leader's log
	// agrees with it: cut the leader off until the other has campaigned in
	// vain, then bring it back.
	leader2 := cfg.checkOneLeader()
	cfg.disconnect(leader2)
	cfg.pause(RaftElectionTimeout)
	cfg.connect(leader2)
	cfg.one(cfg.rand.Int(), servers-1, true)

	// The old leader returns and must replace its 50 entries. The command
	// goes to the current leader: the old one still thinks it leads until it
	// hears from it, and a command it took would be lost.
	leader3 := cfg.checkOneLeader()
	before := cfg.net.GetCount(leader1)
	cfg.connect(leader1)
	index, term, ok := cfg.start(leader3, cfg.rand.Int())
	if !ok {
		t.Fatalf("leader %d lost its office although nothing failed", leader3)
	}
	if _, ok := cfg.wait(index, servers, term); !ok {
		t.Fatalf("the term changed from %d although nothing failed:%s", term, cfg.describe())
	}
	if got := cfg.net.GetCount(leader1) - before; got > 20 {
		t.Fatalf("the returning peer needed %d RPCs to replace 50 conflicting entries; at most 20 expected", got)
	}
	cfg.end()
}

// TestCount3B: Raft is frugal with RPCs. Electing the first leader of three
// takes at most 30 RPCs (section 5.2); agreeing on 10 commands at most
// (10+1+3) x 3, so each entry crosses once and commits promptly (section
// 5.3); one idle second at most 60 (heartbeats, at most 10 per second per
// follower, are what the course allows).
func TestCount3B(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3B): RPC counts aren't too high")

	cfg.checkOneLeader()
	if total := cfg.rpcTotal(); total > 30 || total < 1 {
		t.Fatalf("%d RPCs to elect an initial leader; expected between 1 and 30", total)
	}

	agreed := false
	for try := 0; try < 5 && !agreed; try++ {
		if try > 0 {
			cfg.pause(3 * time.Second) // let the cluster settle
		}
		agreed = cfg.tryCountedAgreement()
	}
	if !agreed {
		t.Fatalf("the term changed in each of five tries")
	}

	cfg.pause(RaftElectionTimeout)
	total1 := cfg.rpcTotal()
	cfg.pause(time.Second)
	if idle := cfg.rpcTotal() - total1; idle > 3*20 {
		t.Fatalf("%d RPCs in one idle second; at most 60 expected", idle)
	}
	cfg.end()
}

// tryCountedAgreement runs the counted part of TestCount3B: ten commands
// on the leader, and how many RPCs they took. It returns false if the term
// changed, which makes the try inconclusive.
func (cfg *config) tryCountedAgreement() bool {
	t := cfg.t
	t.Helper()
	const iters = 10
	leader := cfg.checkOneLeader()
	total1 := cfg.rpcTotal()

	first, term, ok := cfg.start(leader, 1)
	if !ok {
		return false
	}
	cmds := make([]int, 0, iters)
	for i := 1; i <= iters; i++ {
		x := cfg.rand.Int()
		index, term1, ok := cfg.start(leader, x)
		if !ok || term1 != term {
			return false // the leader moved on while we submitted
		}
		if index != first+i {
			t.Fatalf("Start() returned index %d, expected %d", index, first+i)
		}
		cmds = append(cmds, x)
	}
	for i := 1; i <= iters; i++ {
		cmd, ok := cfg.wait(first+i, cfg.n, term)
		if !ok {
			return false
		}
		if cmd != cmds[i-1] {
			t.Fatalf("index %d holds %v; Start() put %v there", first+i, cmd, cmds[i-1])
		}
	}
	for i := 0; i < cfg.n; i++ {
		if term1, _ := cfg.raftOf(i).GetState(); term1 != term {
			return false // a new election's RPCs would be counted
		}
	}
	if used := cfg.rpcTotal() - total1; used > (iters+1+3)*3 {
		t.Fatalf("%d RPCs for %d entries; at most %d expected", used, iters, (iters+1+3)*3)
	}
	return true
}

// TestStartAfterKill3B: a killed peer refuses Start (the fixed API: Start on
// a killed peer returns isLeader false), and the others go on without it.
func TestStartAfterKill3B(t *testing.T) {
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3B): Start() on a killed leader")

	cfg.one(11, servers, true)
	leader := cfg.checkOneLeader()
	rf := cfg.raftOf(leader)
	cfg.crashPeer(leader)
	if _, _, isLeader := rf.Start(12); isLeader {
		t.Fatalf("killed peer %d accepted Start()", leader)
	}

	cfg.one(13, servers-1, true)
	cfg.startPeer(leader)
	cfg.connect(leader)
	cfg.one(14, servers, true)
	cfg.end()
}

// ---------------------------------------------------------------------------
// 3C: persistence.

// TestPersist13C: peers restarted, all at once and one by one, keep
// currentTerm, votedFor and the log (Figure 2, "persistent state on all
// servers"), and committed entries survive (section 5.5).
func TestPersist13C(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3C): basic persistence")

	cfg.one(11, servers, true)

	// Crash and restart everyone.
	for i := 0; i < servers; i++ {
		cfg.startPeer(i)
	}
	for i := 0; i < servers; i++ {
		cfg.connect(i)
	}
	cfg.one(12, servers, true)

	// Restart the leader.
	leader1 := cfg.checkOneLeader()
	cfg.startPeer(leader1)
	cfg.connect(leader1)
	cfg.one(13, servers, true)

	// The leader is away while the others agree; then it restarts.
	leader2 := cfg.checkOneLeader()
	cfg.disconnect(leader2)
	cfg.one(14, servers-1, true)
	cfg.startPeer(leader2)
	cfg.connect(leader2)
	cfg.wait(4, servers, -1) // the restarted peer catches up

	// A follower is away, then restarts.
	i3 := (cfg.checkOneLeader() + 1) % servers
	cfg.disconnect(i3)
	cfg.one(15, servers-1, true)
	cfg.startPeer(i3)
	cfg.connect(i3)
	cfg.one(16, servers, true)
	cfg.end()
}

// TestPersist23C: five rounds in which two followers go away, the rest
// agree, three crash and restart in turn, and a majority agrees again: a
// restarted peer must remember its log and vote for the majority to find a
// leader with every committed entry (sections 5.4.1, 5.5).
func TestPersist23C(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 5
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3C): more persistence")

	index := 1
	for round := 0; round < 5; round++ {
		cfg.one(10+index, servers, true)
		index++

		leader1 := cfg.checkOneLeader()
		cfg.disconnect((leader1 + 1) % servers)
		cfg.disconnect((leader1 + 2) % servers)

		cfg.one(10+index, servers-2, true)
		index++

		cfg.disconnect(leader1)
		cfg.disconnect((leader1 + 3) % servers)
		cfg.disconnect((leader1 + 4) % servers)

		cfg.startPeer((leader1 + 1) % servers)
		cfg.startPeer((leader1 + 2) % servers)
		cfg.connect((leader1 + 1) % servers)
		cfg.connect((leader1 + 2) % servers)

		cfg.pause(RaftElectionTimeout)

		cfg.startPeer((leader1 + 3) % servers)
		cfg.connect((leader1 + 3) % servers)

		cfg.one(10+index, servers-2, true)
		index++

		cfg.connect((leader1 + 4) % servers)
		cfg.connect(leader1)
	}

	cfg.one(1000, servers, true)
	cfg.end()
}

// TestPersist33C: a partitioned leader and a follower crash; restarted, they
// must remember their terms and logs to rejoin the peer that stayed up
// (section 5.5).
func TestPersist33C(t *testing.T) {
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3C): partitioned leader and one follower crash, leader restarts")

	cfg.one(101, 3, true)

	leader := cfg.checkOneLeader()
	cfg.disconnect((leader + 2) % servers)

	cfg.one(102, 2, true)

	cfg.crashPeer(leader % servers)
	cfg.crashPeer((leader + 1) % servers)
	cfg.connect((leader + 2) % servers)
	cfg.startPeer(leader % servers)
	cfg.connect(leader % servers)

	cfg.one(103, 2, true)

	cfg.startPeer((leader + 1) % servers)
	cfg.connect((leader + 1) % servers)

	cfg.one(104, servers, true)
	cfg.end()
}

// TestLateSaveAfterCrashIsIgnored3C: what a crashed peer's goroutines
// might still save after the crash (the fixed API allows Kill to leave
// them running briefly) goes to the persister the killed instance holds,
// never to the copy its next incarnation restarts from (section 5.5: a
// crash loses only what was not yet saved).
func TestLateSaveAfterCrashIsIgnored3C(t *testing.T) {
	servers := 3
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3C): a crashed peer's late saves do not reach its restart")

	cfg.one(101, servers, true)
	victim := (cfg.checkOneLeader() + 1) % servers
	cfg.mu.Lock()
	old := cfg.saved[victim] // the persister the running instance holds
	cfg.mu.Unlock()
	cfg.crashPeer(victim)
	old.Save([]byte("late garbage"), []byte("late garbage"))

	cfg.startPeer(victim) // would panic or misbehave on the garbage
	cfg.connect(victim)
	cfg.one(102, servers, true)
	cfg.end()
}

// TestFigure83C: leaders crash right after taking commands, with random
// restarts, 1000 times (Figure 8): a leader may commit only entries of its
// own term by counting replicas (section 5.4.2), and the election
// restriction (section 5.4.1) keeps committed entries in every later
// leader's log.
func TestFigure83C(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 5
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3C): Figure 8")

	cfg.one(cfg.rand.Int(), 1, true)

	up := servers
	for iter := 0; iter < 1000; iter++ {
		leader := -1
		for i := 0; i < servers; i++ {
			if _, _, ok := cfg.start(i, cfg.rand.Int()); ok {
				leader = i
			}
		}

		if cfg.rand.Intn(1000) < 100 {
			cfg.pause(cfg.randDuration(RaftElectionTimeout / 2))
		} else {
			cfg.pause(cfg.randDuration(13 * time.Millisecond))
		}

		if leader != -1 {
			cfg.crashPeer(leader)
			up--
		}

		if up < 3 {
			if s := cfg.rand.Intn(servers); cfg.raftOf(s) == nil {
				cfg.startPeer(s)
				cfg.connect(s)
				up++
			}
		}
	}

	for i := 0; i < servers; i++ {
		if cfg.raftOf(i) == nil {
			cfg.startPeer(i)
			cfg.connect(i)
		}
	}

	cfg.one(cfg.rand.Int(), servers, true)
	cfg.end()
}

// TestFigure8Scenario3C plays Figure 8 step by step, steering elections
// with partitions, so that a leader that commits an entry of an earlier
// term by counting replicas fails every time, not by chance (section
// 5.4.2). With servers S1..S5 as in the figure:
//
//	(a) S1 leads with S2 only, and stores entry A at index 2 on both;
//	(b) S3, S4, S5 elect S5 (whoever wins plays S5), which stores B at
//	    index 2 alone;
//	(c) S1, S2, S3, S4 elect S1 or S2, which copies A to a majority but
//	    must not count it as committed: A is of an earlier term;
//	(d) S3, S4, S5 elect S5, the only one of them whose log is up to
//	    date; it replaces A with B everywhere and commits B.
//
// A leader that committed A in (c) has applied A at index 2, where B is
// committed in (d).
func TestFigure8Scenario3C(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 5
	cfg := make_config(t, servers, false, false)
	cfg.begin("Test (3C): Figure 8, step by step")

	cfg.one(cfg.rand.Int(), servers, true)
	only := func(up ...int) {
		for i := 0; i < servers; i++ {
			cfg.disconnect(i)
		}
		for _, i := range up {
			cfg.connect(i)
		}
	}

	// (a)
	s1 := cfg.checkOneLeader()
	s2 := (s1 + 1) % servers
	rest := []int{(s1 + 2) % servers, (s1 + 3) % servers, (s1 + 4) % servers}
	only(s1, s2)
	if index, _, ok := cfg.start(s1, "A"); !ok || index != 2 {
		t.Fatalf("Start(A) on leader %d returned index %d, ok %v; expected index 2", s1, index, ok)
	}
	cfg.pause(RaftElectionTimeout / 2) // A reaches S2

	// (b)
	only(rest...)
	s5 := cfg.checkOneLeader()
	var s3, s4 int
	if s5 == rest[0] {
		s3, s4 = rest[1], rest[2]
	} else if s5 == rest[1] {
		s3, s4 = rest[0], rest[2]
	} else {
		s3, s4 = rest[0], rest[1]
	}
	only(s5)
	if index, _, ok := cfg.start(s5, "B"); !ok || index != 2 {
		t.Fatalf("Start(B) on leader %d returned index %d, ok %v; expected index 2", s5, index, ok)
	}

	// (c)
	only(s1, s2, s3, s4)
	if leader := cfg.checkOneLeader(); leader != s1 && leader != s2 {
		t.Fatalf("S%d was elected, but only S%d and S%d hold the latest log entry (section 5.4.1)", leader, s1, s2)
	}
	cfg.pause(RaftElectionTimeout) // time for a faulty leader to commit A

	// (d)
	only(s3, s4, s5)
	if leader := cfg.checkOneLeader(); leader != s5 {
		t.Fatalf("S%d was elected, but only S%d's log is up to date among S%d, S%d, S%d (section 5.4.1)",
			leader, s5, s3, s4, s5)
	}
	index, _, ok := cfg.start(s5, "C")
	if !ok || index != 3 {
		t.Fatalf("Start(C) on leader %d returned index %d, ok %v; expected index 3", s5, index, ok)
	}
	if cmd, _ := cfg.wait(2, 3, -1); cmd != "B" {
		t.Fatalf("index 2 holds %v; expected B", cmd)
	}

	only(0, 1, 2, 3, 4)
	cfg.one(cfg.rand.Int(), servers, true)
	cfg.end()
}

// TestUnreliableAgree3C: agreement on an unreliable network (delays, lost
// requests and replies, reordering): Raft retries (section 5.3), and its
// handlers are idempotent against duplicates and stale messages.
func TestUnreliableAgree3C(t *testing.T) {
	servers := 5
	cfg := make_config(t, servers, true, false)
	cfg.begin("Test (3C): unreliable agreement")

	var wg sync.WaitGroup
	for iter := 1; iter < 50; iter++ {
		for j := 0; j < 4; j++ {
			wg.Add(1)
			go func(cmd int) {
				defer wg.Done()
				if _, err := cfg.agree(cmd, 1, true); err != nil {
					cfg.fail("%v", err)
				}
			}(100*iter + j)
		}
		cfg.one(iter, 1, true)
	}
	wg.Wait()
	cfg.checkFailure()

	cfg.setUnreliable(false)
	cfg.one(100, servers, true)
	cfg.end()
}

// TestFigure8Unreliable3C: Figure 8's scenario on an unreliable network
// with long reordering: 1000 rounds of commands and random partitions of
// leaders, after which a healed cluster must agree within ten seconds
// (sections 5.4.1, 5.4.2), however long the conflicting logs have grown.
func TestFigure8Unreliable3C(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 5
	cfg := make_config(t, servers, true, false)
	cfg.begin("Test (3C): Figure 8 (unreliable)")

	cfg.one(cfg.rand.Intn(10000), 1, true)

	up := servers
	for iter := 0; iter < 1000; iter++ {
		if iter == 200 {
			cfg.setLongReordering(true)
		}
		leader := -1
		for i := 0; i < servers; i++ {
			if _, _, ok := cfg.start(i, cfg.rand.Intn(10000)); ok && cfg.isUp(i) {
				leader = i
			}
		}

		if cfg.rand.Intn(1000) < 100 {
			cfg.pause(cfg.randDuration(RaftElectionTimeout / 2))
		} else {
			cfg.pause(cfg.randDuration(13 * time.Millisecond))
		}

		if leader != -1 && cfg.rand.Intn(1000) < 500 {
			cfg.disconnect(leader)
			up--
		}

		if up < 3 {
			if s := cfg.rand.Intn(servers); !cfg.isUp(s) {
				cfg.connect(s)
				up++
			}
		}
	}

	for i := 0; i < servers; i++ {
		cfg.connect(i)
	}

	cfg.one(cfg.rand.Intn(10000), servers, true)
	cfg.end()
}

// internalChurn: peers are cut off, crash and restart at random while three
// clients submit commands; every command a client saw applied must be in
// the final, agreed log (sections 5.4, 5.5: committed entries survive any
// crash of a minority).
func internalChurn(t *testing.T, unreliable bool) {
	servers := 5
	cfg := make_config(t, servers, unreliable, false)
	if unreliable {
		cfg.begin("Test (3C): unreliable churn")
	} else {
		cfg.begin("Test (3C): churn")
	}

	const clients = 3
	var stop atomic.Bool
	var wg sync.WaitGroup
	seen := make([][]int, clients)
	for c := 0; c < clients; c++ {
		seed := cfg.rand.Int63()
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			seen[c] = cfg.churnClient(c, seed, &stop)
		}(c)
	}
	stopClients := func() {
		stop.Store(true)
		wg.Wait()
	}
	defer stopClients() // also when the test fails on the way

	for iter := 0; iter < 20; iter++ {
		if cfg.rand.Intn(1000) < 200 {
			cfg.disconnect(cfg.rand.Intn(servers))
		}
		if cfg.rand.Intn(1000) < 500 {
			i := cfg.rand.Intn(servers)
			if cfg.raftOf(i) == nil {
				cfg.startPeer(i)
			}
			cfg.connect(i)
		}
		if cfg.rand.Intn(1000) < 200 {
			if i := cfg.rand.Intn(servers); cfg.raftOf(i) != nil {
				cfg.crashPeer(i)
			}
		}
		// Less than an election timeout, so that sometimes a leader has
		// time to commit and sometimes not.
		cfg.pause(RaftElectionTimeout * 7 / 10)
	}

	cfg.pause(RaftElectionTimeout)
	cfg.setUnreliable(false)
	for i := 0; i < servers; i++ {
		if cfg.raftOf(i) == nil {
			cfg.startPeer(i)
		}
		cfg.connect(i)
	}
	stopClients()
	cfg.checkFailure()

	cfg.pause(RaftElectionTimeout)
	last := cfg.one(cfg.rand.Int(), servers, true)

	final := make(map[any]bool)
	for index := 1; index <= last; index++ {
		cmd, _ := cfg.wait(index, servers, -1)
		final[cmd] = true
	}
	for c := range seen {
		for _, x := range seen[c] {
			if !final[x] {
				t.Fatalf("client %d saw %d applied, but it is not in the final log", c, x)
			}
		}
	}
	cfg.end()
}

// churnClient submits commands to whichever peers claim to lead until stop
// is set, and returns those it saw applied at the index Start returned.
func (cfg *config) churnClient(me int, seed int64, stop *atomic.Bool) []int {
	rng := rand.New(rand.NewSource(seed))
	var seen []int
	for !stop.Load() && !cfg.hasFailed() {
		x := rng.Int()
		index := -1
		for i := 0; i < cfg.n; i++ {
			if index1, _, ok := cfg.start(i, x); ok {
				index = index1
			}
		}
		if index < 0 {
			cfg.nap(time.Duration(79+me*17) * time.Millisecond)
			continue
		}
		for _, d := range []time.Duration{10, 20, 50, 100, 200} {
			n, cmd := cfg.countApplied(index)
			if n > 0 {
				if y, ok := cmd.(int); !ok {
					cfg.fail("index %d holds %v (%T), not a client's command", index, cmd, cmd)
				} else if y == x {
					seen = append(seen, x)
				}
				break
			}
			cfg.nap(d * time.Millisecond)
		}
	}
	return seen
}

// TestReliableChurn3C: internalChurn on a reliable network (sections 5.4,
// 5.5).
func TestReliableChurn3C(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	internalChurn(t, false)
}

// TestUnreliableChurn3C: internalChurn on an unreliable network (sections
// 5.4, 5.5).
func TestUnreliableChurn3C(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	internalChurn(t, true)
}

// ---------------------------------------------------------------------------
// 3D: log compaction.

// snapcommon: thirty rounds in which a victim (a follower, or every third
// round the leader) is cut off or crashed, the others commit enough for
// their services to snapshot, and the victim comes back behind the leader's
// first log entry, so it must be brought up to date with InstallSnapshot
// (section 7). The persisted Raft state must stay under MAXLOGSIZE.
func snapcommon(t *testing.T, name string, disconnect bool, reliable bool, crash bool) {
	const iters = 30
	servers := 3
	cfg := make_config(t, servers, !reliable, true)
	cfg.begin(name)

	cfg.one(cfg.rand.Int(), servers, true)
	leader1 := cfg.checkOneLeader()

	for i := 0; i < iters; i++ {
		victim := (leader1 + 1) % servers
		sender := leader1
		if i%3 == 1 {
			sender = (leader1 + 1) % servers
			victim = leader1
		}

		if disconnect {
			cfg.disconnect(victim)
			cfg.one(cfg.rand.Int(), servers-1, true)
		}
		if crash {
			cfg.crashPeer(victim)
			cfg.one(cfg.rand.Int(), servers-1, true)
		}

		// Enough commands for a snapshot (if the sender leads).
		for n := SnapShotInterval/2 + cfg.rand.Intn(SnapShotInterval); n > 0; n-- {
			cfg.start(sender, cfg.rand.Int())
		}

		// Let the services catch up with those Starts.
		if !disconnect && !crash {
			cfg.one(cfg.rand.Int(), servers, true)
		} else {
			cfg.one(cfg.rand.Int(), servers-1, true)
		}
		cfg.checkLogSize()

		if disconnect {
			// The victim is behind the leader's first entry: it needs
			// the snapshot.
			cfg.connect(victim)
			cfg.one(cfg.rand.Int(), servers, true)
			leader1 = cfg.checkOneLeader()
		}
		if crash {
			cfg.startPeer(victim)
			cfg.connect(victim)
			cfg.one(cfg.rand.Int(), servers, true)
			leader1 = cfg.checkOneLeader()
		}
	}
	cfg.end()
}

// TestSnapshotBasic3D: services snapshot and Raft discards the log they
// cover (section 7), with nobody falling behind.
func TestSnapshotBasic3D(t *testing.T) {
	snapcommon(t, "Test (3D): snapshots basic", false, true, false)
}

// TestSnapshotInstall3D: a follower cut off falls behind the leader's
// snapshot and gets it by InstallSnapshot (section 7).
func TestSnapshotInstall3D(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	snapcommon(t, "Test (3D): install snapshots (disconnect)", true, true, false)
}

// TestSnapshotInstallUnreliable3D: InstallSnapshot on an unreliable network:
// lost, duplicated and stale snapshots are handled (section 7).
func TestSnapshotInstallUnreliable3D(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	snapcommon(t, "Test (3D): install snapshots (disconnect+unreliable)", true, false, false)
}

// TestSnapshotInstallCrash3D: a crashed follower restarts from its own
// snapshot and then needs the leader's (section 7).
func TestSnapshotInstallCrash3D(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	snapcommon(t, "Test (3D): install snapshots (crash)", false, true, true)
}

// TestSnapshotInstallUnCrash3D: crashes and InstallSnapshot on an unreliable
// network (section 7).
func TestSnapshotInstallUnCrash3D(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	snapcommon(t, "Test (3D): install snapshots (unreliable+crash)", false, false, true)
}

// TestSnapshotAllCrash3D: every peer crashes after snapshots and restarts
// from snapshot and log; no committed index is lost (section 7: the
// snapshot is persisted with the Raft state).
func TestSnapshotAllCrash3D(t *testing.T) {
	if testing.Short() {
		t.Skip("long course scenario; run without -short")
	}
	servers := 3
	cfg := make_config(t, servers, false, true)
	cfg.begin("Test (3D): crash and restart all servers")

	cfg.one(cfg.rand.Int(), servers, true)

	for round := 0; round < 5; round++ {
		// Enough commands for a snapshot.
		for n := SnapShotInterval/2 + cfg.rand.Intn(SnapShotInterval); n > 0; n-- {
			cfg.one(cfg.rand.Int(), servers, true)
		}
		index1 := cfg.one(cfg.rand.Int(), servers, true)

		for i := 0; i < servers; i++ {
			cfg.crashPeer(i)
		}
		for i := 0; i < servers; i++ {
			cfg.startPeer(i)
			cfg.connect(i)
		}

		if index2 := cfg.one(cfg.rand.Int(), servers, true); index2 < index1+1 {
			t.Fatalf("index went back from %d to %d after a restart", index1, index2)
		}
	}
	cfg.end()
}

// TestSnapshotInit3D: peers restarted after a snapshot resume after it: Raft
// must not apply again what the snapshot covers (section 7), and must keep
// the snapshot across a second restart.
func TestSnapshotInit3D(t *testing.T) {
	servers := 3
	cfg := make_config(t, servers, false, true)
	cfg.begin("Test (3D): snapshot initialization after crash")

	cfg.one(cfg.rand.Int(), servers, true)
	for i := 0; i < SnapShotInterval+1; i++ {
		cfg.one(cfg.rand.Int(), servers, true)
	}

	for round := 0; round < 2; round++ {
		for i := 0; i < servers; i++ {
			cfg.crashPeer(i)
		}
		for i := 0; i < servers; i++ {
			cfg.startPeer(i)
			cfg.connect(i)
		}
		cfg.one(cfg.rand.Int(), servers, true)
	}
	cfg.end()
}

// TestSnapshotOutOfRangeIgnored3D: Snapshot with an index at or before the
// peer's current snapshot, or beyond what it has applied, is ignored (the
// fixed API): a peer that kept one would restart from the garbage handed
// with it.
func TestSnapshotOutOfRangeIgnored3D(t *testing.T) {
	servers := 3
	cfg := make_config(t, servers, false, true)
	cfg.begin("Test (3D): out-of-range Snapshot() calls are ignored")

	// Every service has snapshotted through 2*SnapShotInterval.
	for i := 0; i < 2*SnapShotInterval+5; i++ {
		cfg.one(cfg.rand.Int(), servers, true)
	}

	garbage := []byte("not a snapshot")
	for i := 0; i < servers; i++ {
		rf := cfg.raftOf(i)
		rf.Snapshot(SnapShotInterval/2, garbage)    // before the current snapshot
		rf.Snapshot(2*SnapShotInterval, garbage)    // the current snapshot's index
		rf.Snapshot(1000*SnapShotInterval, garbage) // beyond what was applied
	}
	cfg.one(cfg.rand.Int(), servers, true)

	for i := 0; i < servers; i++ {
		cfg.crashPeer(i)
	}
	for i := 0; i < servers; i++ {
		cfg.startPeer(i) // decodes the persisted snapshot
		cfg.connect(i)
	}
	cfg.one(cfg.rand.Int(), servers, true)
	cfg.end()
}
