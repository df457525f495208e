package raft

// Tests of elections made robust (election.go): PreVote and leader
// stickiness (thesis 9.6 and 4.2.3), CheckQuorum (thesis 6.2), and the
// election timeout's backoff after failed rounds.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"6.5840/labrpc"
)

// newLinkedIdlePeers builds n peers on one reliable network, each serving
// its handlers to the others, with no goroutine running: a test drives one
// peer's sending code by hand and the others answer as handlers do.
func newLinkedIdlePeers(t *testing.T, n int) []*Raft {
	peers, _ := newLinkedIdlePeersOn(t, n)
	return peers
}

// newLinkedIdlePeersOn is newLinkedIdlePeers that also returns the network,
// whose end from peer i to peer j is named "linked-i-j".
func newLinkedIdlePeersOn(t *testing.T, n int) ([]*Raft, *labrpc.Network) {
	t.Helper()
	net := labrpc.MakeNetwork()
	t.Cleanup(net.Cleanup)
	peers := make([]*Raft, n)
	for i := range peers {
		ends := make([]*labrpc.ClientEnd, n)
		for j := range ends {
			name := fmt.Sprintf("linked-%d-%d", i, j)
			ends[j] = net.MakeEnd(name)
			net.Connect(name, j)
			net.Enable(name, true)
		}
		peers[i] = newRaft(ends, i, MakePersister(), make(chan ApplyMsg, 1000))
		srv := labrpc.MakeServer()
		srv.AddService(labrpc.MakeService(peers[i]))
		net.AddServer(i, srv)
	}
	return peers, net
}

// waitFor polls cond every millisecond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// makeLeader makes rf the leader of term (with the vote it would have cast).
func makeLeader(rf *Raft, term int) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.currentTerm, rf.votedFor = term, rf.me
	rf.becomeLeaderLocked()
}

// TestDeposedLeaderWaitsAnElectionTimeout: a leader that learns of a later
// term from a reply becomes a follower (Figure 2, Rules for All Servers) and
// gives the new term's leader a whole election timeout to reach it, rather
// than campaigning at once on a deadline that passed while it led.
func TestDeposedLeaderWaitsAnElectionTimeout(t *testing.T) {
	peers := newLinkedIdlePeers(t, 3)
	setLog(peers[0], 3, 1, 3, 3)
	setLog(peers[1], 4, 1, 3, 3)
	makeLeader(peers[0], 3)
	rf := peers[0]
	rf.mu.Lock()
	rf.electionDeadline = time.Now().Add(-time.Second) // set before it led
	rf.sendAppendLocked(1, time.Now(), false)          // answered in term 4
	rf.mu.Unlock()
	waitFor(t, 2*time.Second, "the leader never learned of term 4", func() bool {
		term, _ := rf.GetState()
		return term == 4
	})
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.role != follower {
		t.Fatalf("after a reply of term 4: %v; want follower", rf.role)
	}
	if wait := time.Until(rf.electionDeadline); wait < electionTimeoutMin/2 {
		t.Fatalf("the deposed leader would campaign in %v: its election timer did not start afresh", wait)
	}
}

// peerState is what a request may change in a peer, saved or not.
type peerState struct {
	term, votedFor, last, lastTerm, commit, snapshotIndex int
	deadline                                              time.Time
	saves                                                 int64
}

func stateOf(rf *Raft) peerState {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return peerState{rf.currentTerm, rf.votedFor, rf.log.lastIndex(), rf.log.lastTerm(), rf.commitIndex,
		rf.log.snapshotIndex, rf.electionDeadline, rf.persistCount.Load()}
}

// TestPreVoteChangesNothing: a pre-vote (thesis 9.6) is granted only for a
// term later than the voter's, to an up-to-date log, when no leader is
// known to be working; granted or not, the voter's term, vote, timer and
// saved state stay as they were.
func TestPreVoteChangesNothing(t *testing.T) {
	rf := newIdlePeer(t, 3, 0, MakePersister())
	setLog(rf, 3, 1, 3, 3)
	tests := []struct {
		name              string
		term, last, lTerm int
		heardLeaderAgo    time.Duration // 0: never in this term
		want              bool
	}{
		{"next term, same log", 4, 3, 3, 0, true},
		{"much later term, longer log", 9, 5, 3, 0, true},
		{"current term", 3, 3, 3, 0, false},
		{"earlier last term", 4, 9, 2, 0, false},
		{"shorter log", 4, 2, 3, 0, false},
		{"a leader heard just now", 4, 3, 3, time.Millisecond, false},
		{"a leader heard long ago", 4, 3, 3, 2 * leaderLease, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rf.mu.Lock()
			rf.leaderHeardAt = time.Time{}
			if tc.heardLeaderAgo > 0 {
				rf.leaderHeardAt = time.Now().Add(-tc.heardLeaderAgo)
			}
			rf.mu.Unlock()
			before := stateOf(rf)
			var reply RequestVoteReply
			rf.RequestVote(&RequestVoteArgs{Term: tc.term, CandidateId: 1, LastLogIndex: tc.last, LastLogTerm: tc.lTerm, PreVote: true}, &reply)
			if reply.VoteGranted != tc.want || reply.Term != 3 {
				t.Errorf("pre-vote granted %v in term %d; want %v in term 3", reply.VoteGranted, reply.Term, tc.want)
			}
			if after := stateOf(rf); after != before {
				t.Errorf("a pre-vote changed the voter: %+v -> %+v", before, after)
			}
		})
	}
}

// TestVoterIgnoresElectionWhileLeaderWorks: a peer that heard from its
// leader within the minimum election timeout neither adopts a
// candidate's later term nor votes (thesis 4.2.3); once the leader has
// been silent longer, it does.
func TestVoterIgnoresElectionWhileLeaderWorks(t *testing.T) {
	rf := newIdlePeer(t, 3, 1, MakePersister())
	setLog(rf, 2, 1, 2)
	var ae AppendEntriesReply
	rf.AppendEntries(&AppendEntriesArgs{Term: 2, LeaderId: 0, PrevLogIndex: 2, PrevLogTerm: 2}, &ae)
	if !ae.Success {
		t.Fatalf("heartbeat refused: %+v", ae)
	}
	before := stateOf(rf)
	var reply RequestVoteReply
	rf.RequestVote(&RequestVoteArgs{Term: 5, CandidateId: 2, LastLogIndex: 2, LastLogTerm: 2}, &reply)
	if reply.VoteGranted || reply.Term != 2 {
		t.Fatalf("vote granted %v in term %d while the leader works; want refused in term 2", reply.VoteGranted, reply.Term)
	}
	if after := stateOf(rf); after != before {
		t.Fatalf("an election while the leader works changed the voter: %+v -> %+v", before, after)
	}
	rf.mu.Lock()
	rf.leaderHeardAt = time.Now().Add(-leaderLease)
	rf.mu.Unlock()
	rf.RequestVote(&RequestVoteArgs{Term: 5, CandidateId: 2, LastLogIndex: 2, LastLogTerm: 2}, &reply)
	if !reply.VoteGranted || reply.Term != 5 {
		t.Fatalf("vote granted %v in term %d once the leader is silent; want granted in term 5", reply.VoteGranted, reply.Term)
	}
}

// TestPreCandidateBecomesCandidateOnlyWithMajority: a peer whose election
// timer runs out asks for pre-votes without raising its term; it raises it
// (and asks for votes) only when a majority would vote for it, and wins.
// Against peers that hear from a working leader, it keeps its term.
func TestPreCandidateBecomesCandidateOnlyWithMajority(t *testing.T) {
	peers := newLinkedIdlePeers(t, 3)
	for _, rf := range peers {
		setLog(rf, 2, 1, 2)
	}
	// Peers 1 and 2 hear from a leader (peer 1 itself, say, for peer 2).
	for _, rf := range peers[1:] {
		rf.mu.Lock()
		rf.leaderHeardAt = time.Now()
		rf.mu.Unlock()
	}
	rf := peers[0]
	rf.mu.Lock()
	rf.startPreVoteLocked(time.Now())
	if rf.currentTerm != 2 || rf.role != preCandidate {
		t.Fatalf("pre-vote round: %v in term %d; want pre-candidate in term 2", rf.role, rf.currentTerm)
	}
	rf.mu.Unlock()
	time.Sleep(100 * time.Millisecond) // the refusals arrive
	if s := stateOf(rf); s.term != 2 || s.votedFor != -1 {
		t.Fatalf("refused pre-votes raised the term: %+v", s)
	}
	if s := stateOf(peers[1]); s.term != 2 {
		t.Fatalf("a pre-vote raised a voter's term: %+v", s)
	}
	// Now the leader is silent: the next round wins.
	for _, p := range peers[1:] {
		p.mu.Lock()
		p.leaderHeardAt = time.Time{}
		p.mu.Unlock()
	}
	rf.mu.Lock()
	rf.startPreVoteLocked(time.Now())
	rf.mu.Unlock()
	waitFor(t, 2*time.Second, "no leader after pre-votes from a majority", func() bool {
		_, isLeader := rf.GetState()
		return isLeader
	})
	if s := stateOf(rf); s.term != 3 || s.votedFor != 0 {
		t.Fatalf("leader in term %d with vote %d; want term 3, voted for itself", s.term, s.votedFor)
	}
}

// TestLateVoteOfCurrentTermStillCounts: a vote arrives after the
// candidate's round ended and it began asking for pre-votes for the next
// term; it still counts for the term it was cast in, and with it a
// majority elects the candidate in that term (one leader per term,
// section 5.2: no one else can hold a majority of its votes). Votes of an
// earlier term do not count.
func TestLateVoteOfCurrentTermStillCounts(t *testing.T) {
	peers, net := newLinkedIdlePeersOn(t, 3)
	for _, rf := range peers {
		setLog(rf, 2, 1, 2)
	}
	rf := peers[0]
	for j := 1; j < 3; j++ {
		net.Enable(fmt.Sprintf("linked-0-%d", j), false) // the first answers are lost
	}
	rf.mu.Lock()
	rf.startElectionLocked(time.Now()) // term 3
	args := RequestVoteArgs{Term: 3, CandidateId: 0, LastLogIndex: 2, LastLogTerm: 2}
	round := rf.round
	rf.startPreVoteLocked(time.Now()) // the round ended: pre-votes for term 4
	rf.mu.Unlock()
	rf.calls.Wait() // every request so far was lost
	for j := 1; j < 3; j++ {
		net.Enable(fmt.Sprintf("linked-0-%d", j), true)
	}
	// An answer for an earlier term: no count.
	rf.calls.Add(1)
	rf.requestVote(1, RequestVoteArgs{Term: 2, CandidateId: 0, LastLogIndex: 2, LastLogTerm: 2}, round)
	if s := stateOf(rf); s.term != 3 || rf.role != preCandidate {
		t.Fatalf("after a vote of term 2: %v in term %d; want pre-candidate in term 3", rf.role, s.term)
	}
	// The late vote of term 3 arrives.
	rf.calls.Add(1)
	rf.requestVote(2, args, round)
	if term, isLeader := rf.GetState(); !isLeader || term != 3 {
		t.Fatalf("after a late vote of term 3: leader %v in term %d; want leader in term 3", isLeader, term)
	}
}

// TestElectionTimeoutBacksOffAfterFailedRounds: each round that ends
// without a leader doubles the next timeout, up to maxElectionBackoff
// doublings; hearing from a leader starts again from one.
func TestElectionTimeoutBacksOffAfterFailedRounds(t *testing.T) {
	for failed, want := range []time.Duration{300, 600, 1200, 1200, 1200} {
		if got := backoffTimeout(300*time.Millisecond, failed); got != want*time.Millisecond {
			t.Errorf("backoffTimeout(300ms, %d) = %v, want %v", failed, got, want*time.Millisecond)
		}
	}
	rf := newIdlePeer(t, 3, 1, MakePersister())
	rf.mu.Lock()
	rf.failedElections = 5
	rf.resetElectionTimerLocked(time.Now())
	if wait := time.Until(rf.electionDeadline); wait < 4*electionTimeoutMin-10*time.Millisecond {
		t.Errorf("after 5 failed rounds the timeout is %v; want at least %v", wait, 4*electionTimeoutMin)
	}
	rf.mu.Unlock()
	var reply AppendEntriesReply
	rf.AppendEntries(&AppendEntriesArgs{Term: 1, LeaderId: 0}, &reply)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.failedElections != 0 || time.Until(rf.electionDeadline) > electionTimeoutMax {
		t.Errorf("after hearing a leader: %d failed rounds, timeout %v; want 0 and at most %v",
			rf.failedElections, time.Until(rf.electionDeadline), electionTimeoutMax)
	}
}

// TestQuorumContact is CheckQuorum's count (thesis 6.2): a leader is in
// contact with a majority when enough peers answered within the window.
func TestQuorumContact(t *testing.T) {
	now := time.Now()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	window := checkQuorumTimeout
	tests := []struct {
		name  string
		heard []time.Time // index 0 is the leader
		want  bool
	}{
		{"alone in a cluster of one", []time.Time{{}}, true},
		{"3 peers, both recent", []time.Time{{}, ago(10), ago(20)}, true},
		{"3 peers, one recent", []time.Time{{}, ago(window / 2), ago(2 * window)}, true},
		{"3 peers, none recent", []time.Time{{}, ago(window), {}}, false},
		{"5 peers, two recent", []time.Time{{}, ago(1), {}, ago(2), {}}, true},
		{"5 peers, one recent", []time.Time{{}, ago(1), {}, ago(2 * window), {}}, false},
	}
	for _, tc := range tests {
		if got := hasQuorumContact(tc.heard, 0, now, window); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestLeaderWithoutMajorityStepsDown: a leader cut off from every other
// peer stops claiming to lead within about checkQuorumTimeout (thesis 6.2),
// without raising its term; the others elect a new leader meanwhile.
func TestLeaderWithoutMajorityStepsDown(t *testing.T) {
	c := newBenchCluster(t, 3, 0)
	defer c.cleanup()
	old := c.leader()
	term, _ := c.peers[old].GetState()
	c.connect(old, false)
	cut := time.Now()
	waitFor(t, checkQuorumTimeout+time.Second, "the cut-off leader still claims to lead", func() bool {
		_, isLeader := c.peers[old].GetState()
		return !isLeader
	})
	if after, _ := c.peers[old].GetState(); after != term {
		t.Fatalf("the cut-off leader moved from term %d to %d", term, after)
	}
	t.Logf("stepped down %v after it was cut off", time.Since(cut).Round(time.Millisecond))
}

// TestRejoiningPeerDoesNotDisruptLeader: a follower cut off for several
// election timeouts, then joined back, neither raises the cluster's term
// nor deposes its leader (PreVote, thesis 9.6).
func TestRejoiningPeerDoesNotDisruptLeader(t *testing.T) {
	c := newBenchCluster(t, 3, 0)
	defer c.cleanup()
	leader := c.leader()
	term, _ := c.peers[leader].GetState()
	follower := (leader + 1) % 3
	c.connect(follower, false)
	time.Sleep(4 * electionTimeoutMax)
	if cutTerm, _ := c.peers[follower].GetState(); cutTerm != term {
		t.Fatalf("the cut-off follower raised its term from %d to %d", term, cutTerm)
	}
	c.connect(follower, true)
	if !c.proposeWithin(leader, "after rejoin", 2*time.Second) {
		t.Fatalf("the leader could not commit after the follower rejoined")
	}
	time.Sleep(2 * electionTimeoutMax)
	for i, rf := range c.peers {
		if now, isLeader := rf.GetState(); now != term || isLeader != (i == leader) {
			t.Fatalf("S%d: term %d, leader %v; want term %d with S%d leading", i, now, isLeader, term, leader)
		}
	}
}

// TestElectionsConvergeUnderLongReordering: with replies held back 200-2200
// ms (the course's long reordering: longer than an election timeout) and
// 10% of messages lost, a cluster of five that loses its leader elects
// another, again and again: late votes count for their term, and rounds
// that fail back off, so that late votes arrive within a round. Each
// election must come within 10 s (the course's limit for agreement,
// cfg.one, in its reordering scenarios) and their median within 3 s. It
// reports the median and longest time.
func TestElectionsConvergeUnderLongReordering(t *testing.T) {
	if testing.Short() {
		t.Skip("eight elections under long reordering; run without -short")
	}
	c := newBenchCluster(t, 5, 0)
	defer c.cleanup()
	c.net.LongReordering(true)
	c.net.Reliable(false)
	const rounds = 8
	var took []time.Duration
	for r := 0; r < rounds; r++ {
		old := c.leader()
		c.connect(old, false)
		start := time.Now()
		for {
			if l := c.findLeader(); l >= 0 && l != old {
				break
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("round %d: no new leader within 10 s (elections so far took %v)", r, took)
			}
			time.Sleep(5 * time.Millisecond)
		}
		took = append(took, time.Since(start))
		c.connect(old, true)
	}
	sorted := slices.Clone(took)
	slices.Sort(sorted)
	median := sorted[rounds/2]
	t.Logf("elections took %v: median %v, longest %v", took, median.Round(time.Millisecond), sorted[rounds-1].Round(time.Millisecond))
	if median > 3*time.Second {
		t.Fatalf("median election took %v; want at most 3 s", median)
	}
}
