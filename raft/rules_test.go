package raft

// Tests of Figure 2's rules (and section 7's) at the level of one peer: the
// handlers are called directly on a peer with no goroutines running (see
// newIdlePeer), so each test sets up exactly the state a rule speaks about.
// The harness tests in test_test.go cover whole clusters.

import (
	"testing"
	"time"
)

// setLog gives rf a log with the given terms after an empty snapshot, in
// term currentTerm, saved.
func setLog(rf *Raft, currentTerm int, terms ...int) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.currentTerm = currentTerm
	rf.log = logOfTerms(0, 0, terms...)
	rf.stream.stale = true
	rf.persistLocked()
}

// entriesOfTerm returns count entries of term.
func entriesOfTerm(term, count int) []LogEntry {
	out := make([]LogEntry, count)
	for i := range out {
		out[i] = LogEntry{Term: term, Command: term*1000 + i}
	}
	return out
}

// savedState decodes what ps holds.
func savedState(t *testing.T, ps *Persister) (persistHeader, []LogEntry) {
	t.Helper()
	h, entries, err := decodeState(ps.ReadRaftState())
	if err != nil {
		t.Fatalf("saved state: %v", err)
	}
	return h, entries
}

// TestFollowerRejectsAppendWithMismatchedPrevTerm: AppendEntries is refused
// when the log has no entry at PrevLogIndex with PrevLogTerm (Figure 2,
// AppendEntries rule 2; section 5.3), and the reply names the conflicting
// term and its first index.
func TestFollowerRejectsAppendWithMismatchedPrevTerm(t *testing.T) {
	ps := MakePersister()
	rf := newIdlePeer(t, 3, 1, ps)
	setLog(rf, 2, 1, 1, 2, 2)
	var reply AppendEntriesReply
	rf.AppendEntries(&AppendEntriesArgs{Term: 3, LeaderId: 0, PrevLogIndex: 4, PrevLogTerm: 3,
		Entries: entriesOfTerm(3, 1), LeaderCommit: 5}, &reply)
	if reply.Success || reply.Term != 3 || reply.ConflictTerm != 2 || reply.ConflictIndex != 3 {
		t.Fatalf("reply %+v; want refusal in term 3 naming term 2 from index 3", reply)
	}
	if rf.log.lastIndex() != 4 || rf.commitIndex != 0 {
		t.Fatalf("a refused AppendEntries changed the log (last %d) or commitIndex (%d)", rf.log.lastIndex(), rf.commitIndex)
	}
	if h, _ := savedState(t, ps); h.CurrentTerm != 3 {
		t.Fatalf("the new term %d was not saved before the reply (saved %d)", 3, h.CurrentTerm)
	}

	reply = AppendEntriesReply{}
	rf.AppendEntries(&AppendEntriesArgs{Term: 3, LeaderId: 0, PrevLogIndex: 7, PrevLogTerm: 3}, &reply)
	if reply.Success || reply.ConflictTerm != 0 || reply.ConflictIndex != 5 {
		t.Fatalf("reply %+v; want refusal naming the end of the log (index 5)", reply)
	}
}

// TestStaleTermRequestsAreRefused: a request from an earlier term is answered
// with the current term and changes nothing (section 5.1).
func TestStaleTermRequestsAreRefused(t *testing.T) {
	ps := MakePersister()
	rf := newIdlePeer(t, 3, 1, ps)
	setLog(rf, 5, 1, 5)
	deadline := rf.electionDeadline

	var ae AppendEntriesReply
	rf.AppendEntries(&AppendEntriesArgs{Term: 4, LeaderId: 0, PrevLogIndex: 2, PrevLogTerm: 5,
		Entries: entriesOfTerm(4, 3), LeaderCommit: 5}, &ae)
	var rv RequestVoteReply
	rf.RequestVote(&RequestVoteArgs{Term: 4, CandidateId: 2, LastLogIndex: 9, LastLogTerm: 4}, &rv)
	var is InstallSnapshotReply
	rf.InstallSnapshot(&InstallSnapshotArgs{Term: 4, LeaderId: 0, LastIncludedIndex: 9, LastIncludedTerm: 4, Data: []byte("x")}, &is)

	if ae.Success || ae.Term != 5 || rv.VoteGranted || rv.Term != 5 || is.Term != 5 {
		t.Fatalf("stale requests were not refused: %+v %+v %+v", ae, rv, is)
	}
	if rf.currentTerm != 5 || rf.votedFor != -1 || rf.log.lastIndex() != 2 || rf.commitIndex != 0 || rf.log.snapshotIndex != 0 {
		t.Fatalf("stale requests changed the state: term %d, vote %d, last %d, commit %d, snapshot %d",
			rf.currentTerm, rf.votedFor, rf.log.lastIndex(), rf.commitIndex, rf.log.snapshotIndex)
	}
	if !rf.electionDeadline.Equal(deadline) {
		t.Fatalf("a stale leader pushed back the election deadline")
	}
}

// TestFollowerCommitsOnlyThroughLastNewEntry: commitIndex becomes
// min(leaderCommit, index of last new entry) (Figure 2, AppendEntries rule 5):
// entries past what this request vouched for may still be replaced.
func TestFollowerCommitsOnlyThroughLastNewEntry(t *testing.T) {
	rf := newIdlePeer(t, 3, 1, MakePersister())
	setLog(rf, 1, 1, 1, 1, 1, 1)
	var reply AppendEntriesReply
	rf.AppendEntries(&AppendEntriesArgs{Term: 2, LeaderId: 0, PrevLogIndex: 2, PrevLogTerm: 1, LeaderCommit: 5}, &reply)
	if !reply.Success || rf.commitIndex != 2 {
		t.Fatalf("success %v, commitIndex %d; want true, 2", reply.Success, rf.commitIndex)
	}
	reply = AppendEntriesReply{}
	rf.AppendEntries(&AppendEntriesArgs{Term: 2, LeaderId: 0, PrevLogIndex: 2, PrevLogTerm: 1,
		Entries: entriesOfTerm(2, 1), LeaderCommit: 5}, &reply)
	if !reply.Success || rf.commitIndex != 3 || rf.log.lastIndex() != 3 {
		t.Fatalf("success %v, commitIndex %d, last %d; want true, 3, 3", reply.Success, rf.commitIndex, rf.log.lastIndex())
	}
}

// TestVoteGrantedOncePerTerm: a peer votes for at most one candidate in a
// term (section 5.2), saves the vote before replying, and repeats its answer
// to the same candidate.
func TestVoteGrantedOncePerTerm(t *testing.T) {
	ps := MakePersister()
	rf := newIdlePeer(t, 3, 0, ps)
	ask := func(candidate int) bool {
		var reply RequestVoteReply
		rf.RequestVote(&RequestVoteArgs{Term: 2, CandidateId: candidate}, &reply)
		return reply.VoteGranted
	}
	if !ask(1) {
		t.Fatalf("first candidate of term 2 refused")
	}
	if h, _ := savedState(t, ps); h.CurrentTerm != 2 || h.VotedFor != 1 {
		t.Fatalf("saved term %d, vote %d before the reply; want 2, 1", h.CurrentTerm, h.VotedFor)
	}
	if ask(2) {
		t.Fatalf("a second candidate got a vote in the same term")
	}
	if !ask(1) {
		t.Fatalf("the same candidate asking again was refused")
	}
	var reply RequestVoteReply
	rf.RequestVote(&RequestVoteArgs{Term: 2, CandidateId: 7}, &reply)
	if reply.VoteGranted {
		t.Fatalf("granted a vote to a candidate id that is no peer")
	}
}

// TestVoteDeniedToCandidateWithStaleLog: the election restriction (section
// 5.4.1): no vote for a candidate whose log is less up to date, even in a
// new term.
func TestVoteDeniedToCandidateWithStaleLog(t *testing.T) {
	rf := newIdlePeer(t, 3, 0, MakePersister())
	setLog(rf, 3, 1, 3, 3)
	tests := []struct {
		name              string
		term, last, lTerm int
		want              bool
	}{
		{"earlier last term, longer log", 4, 9, 2, false},
		{"same last term, shorter log", 5, 2, 3, false},
		{"same last term, same length", 6, 3, 3, true},
		{"later last term", 7, 1, 4, true},
	}
	for _, tc := range tests {
		var reply RequestVoteReply
		rf.RequestVote(&RequestVoteArgs{Term: tc.term, CandidateId: 1, LastLogIndex: tc.last, LastLogTerm: tc.lTerm}, &reply)
		if reply.VoteGranted != tc.want || reply.Term != tc.term {
			t.Errorf("%s: granted %v in term %d, want %v in term %d", tc.name, reply.VoteGranted, reply.Term, tc.want, tc.term)
		}
	}
}

// TestLeaderCommitsOnlyCurrentTermEntriesByCounting: entries of earlier terms
// are not committed by counting replicas, however many peers hold them; they
// commit when an entry of the leader's term does (section 5.4.2, Figure 8).
func TestLeaderCommitsOnlyCurrentTermEntriesByCounting(t *testing.T) {
	rf := newIdlePeer(t, 5, 0, MakePersister())
	setLog(rf, 4, 1, 2, 2)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.votedFor = rf.me
	rf.becomeLeaderLocked()
	for p := 1; p < 5; p++ {
		rf.advanceMatchLocked(p, 3) // every peer holds entries 1-3
	}
	if rf.commitIndex != 0 {
		t.Fatalf("committed index %d, of an earlier term, by counting", rf.commitIndex)
	}
	index := rf.log.append(LogEntry{Term: 4, Command: "current"})
	rf.persistLocked()
	rf.advanceMatchLocked(1, index)
	if rf.commitIndex != 0 {
		t.Fatalf("committed index %d with only 2 of 5 peers holding it", rf.commitIndex)
	}
	rf.advanceMatchLocked(2, index)
	if rf.commitIndex != index {
		t.Fatalf("commitIndex %d once 3 of 5 peers hold entry %d of the current term; want %d", rf.commitIndex, index, index)
	}
	rf.checkInvariantsLocked()
}

// TestLeaderBringsBackConflictingFollowerInFewRoundTrips: with the conflict
// hint (end of section 5.3) a follower holding 50 entries of a term the
// leader never saw is repaired in a few AppendEntries, not one per entry.
func TestLeaderBringsBackConflictingFollowerInFewRoundTrips(t *testing.T) {
	leader := newIdlePeer(t, 3, 0, MakePersister())
	follower := newIdlePeer(t, 3, 1, MakePersister())
	var leaderTerms, followerTerms []int
	for i := 0; i < 10; i++ {
		leaderTerms, followerTerms = append(leaderTerms, 1), append(followerTerms, 1)
	}
	for i := 0; i < 50; i++ {
		leaderTerms, followerTerms = append(leaderTerms, 3), append(followerTerms, 2)
	}
	followerTerms = append(followerTerms, 2, 2, 2)
	setLog(leader, 3, leaderTerms...)
	setLog(follower, 2, followerTerms...)

	next := leader.log.lastIndex() + 1
	for trips := 1; ; trips++ {
		if trips > 3 {
			t.Fatalf("not repaired after %d AppendEntries (next index %d)", trips-1, next)
		}
		args := &AppendEntriesArgs{Term: 3, LeaderId: 0, PrevLogIndex: next - 1, PrevLogTerm: leader.log.term(next - 1),
			Entries: leader.log.copyRange(next, leader.log.lastIndex())}
		var reply AppendEntriesReply
		follower.AppendEntries(args, &reply)
		if reply.Success {
			break
		}
		next = nextIndexAfterConflict(&leader.log, reply.ConflictTerm, reply.ConflictIndex)
	}
	if follower.log.lastIndex() != 60 || follower.log.term(60) != 3 || follower.log.term(11) != 3 {
		t.Fatalf("follower log after repair: last %d (term %d)", follower.log.lastIndex(), follower.log.lastTerm())
	}
}

// TestInstallSnapshotIgnoresStaleSnapshot: a snapshot that covers no more
// than this peer has committed changes nothing (section 7); a newer one
// replaces the log and raises commitIndex.
func TestInstallSnapshotIgnoresStaleSnapshot(t *testing.T) {
	ps := MakePersister()
	rf := newIdlePeer(t, 3, 1, ps)
	setLog(rf, 2, 1, 1, 2, 2, 2, 2)
	rf.mu.Lock()
	rf.commitIndex = 5
	rf.mu.Unlock()
	var reply InstallSnapshotReply
	rf.InstallSnapshot(&InstallSnapshotArgs{Term: 2, LeaderId: 0, LastIncludedIndex: 4, LastIncludedTerm: 2, Data: []byte("old")}, &reply)
	if reply.Term != 2 || rf.log.snapshotIndex != 0 || rf.log.lastIndex() != 6 || rf.snapshot != nil {
		t.Fatalf("a stale snapshot was installed: snapshot through %d, last %d", rf.log.snapshotIndex, rf.log.lastIndex())
	}
	rf.InstallSnapshot(&InstallSnapshotArgs{Term: 2, LeaderId: 0, LastIncludedIndex: 9, LastIncludedTerm: 2, Data: []byte("new")}, &reply)
	if rf.log.snapshotIndex != 9 || rf.log.lastIndex() != 9 || rf.commitIndex != 9 || string(rf.snapshot) != "new" {
		t.Fatalf("newer snapshot not installed: through %d, last %d, commit %d", rf.log.snapshotIndex, rf.log.lastIndex(), rf.commitIndex)
	}
	if h, entries := savedState(t, ps); h.SnapshotIndex != 9 || len(entries) != 0 || string(ps.ReadSnapshot()) != "new" {
		t.Fatalf("installed snapshot not saved: %+v", h)
	}
}

// TestInstallSnapshotKeepsMatchingSuffix: if the log holds the snapshot's
// last entry, the entries after it are kept (Figure 13, rule 6).
func TestInstallSnapshotKeepsMatchingSuffix(t *testing.T) {
	rf := newIdlePeer(t, 3, 1, MakePersister())
	setLog(rf, 2, 1, 1, 1, 2, 2)
	var reply InstallSnapshotReply
	rf.InstallSnapshot(&InstallSnapshotArgs{Term: 2, LeaderId: 0, LastIncludedIndex: 3, LastIncludedTerm: 1, Data: []byte("s")}, &reply)
	if rf.log.snapshotIndex != 3 || rf.log.lastIndex() != 5 || rf.log.term(5) != 2 || rf.commitIndex != 3 {
		t.Fatalf("snapshot through %d, last %d, commit %d; want 3, 5, 3", rf.log.snapshotIndex, rf.log.lastIndex(), rf.commitIndex)
	}
}

// TestServiceSnapshotOutsideAppliedRangeIsIgnored: Snapshot beyond what was
// applied, or not after the current snapshot, is ignored (section 7).
func TestServiceSnapshotOutsideAppliedRangeIsIgnored(t *testing.T) {
	ps := MakePersister()
	rf := newIdlePeer(t, 3, 0, ps)
	setLog(rf, 1, 1, 1, 1, 1, 1)
	rf.mu.Lock()
	rf.commitIndex, rf.lastApplied = 4, 3
	rf.mu.Unlock()
	rf.Snapshot(4, []byte("beyond applied"))
	if rf.log.snapshotIndex != 0 || ps.SnapshotSize() != 0 {
		t.Fatalf("Snapshot beyond lastApplied was taken")
	}
	rf.Snapshot(2, []byte("through 2"))
	rf.Snapshot(2, []byte("again through 2"))
	rf.Snapshot(1, []byte("through 1"))
	if rf.log.snapshotIndex != 2 || string(ps.ReadSnapshot()) != "through 2" || rf.log.lastIndex() != 5 {
		t.Fatalf("snapshot through %d (%q); want through 2", rf.log.snapshotIndex, ps.ReadSnapshot())
	}
}

// TestApplierDeliversSnapshotBeforeLaterEntries: an installed snapshot
// reaches the service before any entry after it, and no entry it covers is
// ever applied (section 7).
func TestApplierDeliversSnapshotBeforeLaterEntries(t *testing.T) {
	rf := newIdlePeer(t, 3, 1, MakePersister())
	setLog(rf, 1, 1, 1, 1)
	rf.workers.Add(1)
	go rf.applier()
	defer rf.Kill()
	next := func() ApplyMsg {
		select {
		case m := <-rf.applyCh:
			return m
		case <-time.After(5 * time.Second):
			t.Fatalf("nothing applied within 5 s")
			return ApplyMsg{}
		}
	}
	var reply AppendEntriesReply
	rf.AppendEntries(&AppendEntriesArgs{Term: 1, LeaderId: 0, PrevLogIndex: 3, PrevLogTerm: 1, LeaderCommit: 2}, &reply)
	for want := 1; want <= 2; want++ {
		if m := next(); !m.CommandValid || m.CommandIndex != want {
			t.Fatalf("got %+v, want command %d", m, want)
		}
	}
	// Entry 3 is in the log, uncommitted; the snapshot covers it.
	var is InstallSnapshotReply
	rf.InstallSnapshot(&InstallSnapshotArgs{Term: 2, LeaderId: 0, LastIncludedIndex: 10, LastIncludedTerm: 2, Data: []byte("ten")}, &is)
	reply = AppendEntriesReply{}
	rf.AppendEntries(&AppendEntriesArgs{Term: 2, LeaderId: 0, PrevLogIndex: 10, PrevLogTerm: 2,
		Entries: entriesOfTerm(2, 2), LeaderCommit: 12}, &reply)
	if m := next(); !m.SnapshotValid || m.SnapshotIndex != 10 || m.SnapshotTerm != 2 || string(m.Snapshot) != "ten" {
		t.Fatalf("got %+v, want the snapshot through 10", m)
	}
	for want := 11; want <= 12; want++ {
		if m := next(); !m.CommandValid || m.CommandIndex != want {
			t.Fatalf("got %+v, want command %d", m, want)
		}
	}
}

// TestKillEndsGoroutinesAndDelivery: Kill returns promptly even while the
// applier is blocked on an applyCh nobody reads; afterwards nothing is
// delivered, Start refuses, GetState claims no leadership, and every goroutine of the peer ends.
func TestKillEndsGoroutinesAndDelivery(t *testing.T) {
	c := newBenchCluster(t, 1, 0)
	defer c.cleanup()
	rf := c.peers[c.leader()]
	// Take the service away: the applier will block on applyCh.
	close(c.stop)
	c.readers.Wait()
	c.stop = make(chan struct{})
	for i := 0; i < 5; i++ {
		if _, _, ok := rf.Start(i); !ok {
			t.Fatalf("the only peer refused Start")
		}
	}
	killed := make(chan struct{})
	go func() {
		rf.Kill()
		close(killed)
	}()
	select {
	case <-killed:
	case <-time.After(5 * time.Second):
		t.Fatalf("Kill did not return within 5 s")
	}
	select {
	case m := <-rf.applyCh:
		t.Fatalf("delivered %+v after Kill returned", m)
	case <-time.After(100 * time.Millisecond):
	}
	if _, _, ok := rf.Start(99); ok {
		t.Fatalf("a killed peer accepted Start")
	}
	if _, isLeader := rf.GetState(); isLeader {
		t.Fatalf("a killed peer still claims to lead")
	}
	done := make(chan struct{})
	go func() {
		rf.calls.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("RPC goroutines still running 5 s after Kill")
	}
}
