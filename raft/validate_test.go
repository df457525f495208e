package raft

// Tests of input validation (validate.go) and of the tripwires that stop a
// peer whose state would break an invariant.

import (
	"strings"
	"testing"
)

// malformedRequests lists requests no correct peer of a 3-peer cluster
// sends to peer 1, with the reason validation gives.
var malformedAppends = []struct {
	name string
	args AppendEntriesArgs
	want string // a fragment of the error
}{
	{"term zero", AppendEntriesArgs{Term: 0, LeaderId: 0}, "term 0"},
	{"negative term", AppendEntriesArgs{Term: -3, LeaderId: 0}, "term -3"},
	{"sender not a peer", AppendEntriesArgs{Term: 4, LeaderId: 3}, "sender 3"},
	{"negative sender", AppendEntriesArgs{Term: 4, LeaderId: -1}, "sender -1"},
	{"sender is the receiver", AppendEntriesArgs{Term: 4, LeaderId: 1}, "sender 1"},
	{"negative PrevLogIndex", AppendEntriesArgs{Term: 4, LeaderId: 0, PrevLogIndex: -1}, "PrevLogIndex -1"},
	{"absurd PrevLogIndex", AppendEntriesArgs{Term: 4, LeaderId: 0, PrevLogIndex: 1 << 60, PrevLogTerm: 1}, "PrevLogIndex"},
	{"PrevLogTerm after the leader's term", AppendEntriesArgs{Term: 4, LeaderId: 0, PrevLogIndex: 2, PrevLogTerm: 5}, "PrevLogTerm 5"},
	{"PrevLogTerm zero for a real entry", AppendEntriesArgs{Term: 4, LeaderId: 0, PrevLogIndex: 2, PrevLogTerm: 0}, "PrevLogTerm 0"},
	{"a term for the empty log", AppendEntriesArgs{Term: 4, LeaderId: 0, PrevLogIndex: 0, PrevLogTerm: 2}, "PrevLogIndex 0"},
	{"negative LeaderCommit", AppendEntriesArgs{Term: 4, LeaderId: 0, LeaderCommit: -2}, "LeaderCommit -2"},
	{"entry after the leader's term", AppendEntriesArgs{Term: 4, LeaderId: 0, PrevLogIndex: 2, PrevLogTerm: 1,
		Entries: []LogEntry{{Term: 4}, {Term: 5}}}, "entry 4 has term 5"},
	{"entry terms decrease", AppendEntriesArgs{Term: 4, LeaderId: 0, PrevLogIndex: 2, PrevLogTerm: 1,
		Entries: []LogEntry{{Term: 3}, {Term: 2}}}, "entry 4 has term 2"},
	{"entry before PrevLogTerm", AppendEntriesArgs{Term: 4, LeaderId: 0, PrevLogIndex: 2, PrevLogTerm: 3,
		Entries: []LogEntry{{Term: 2}}}, "entry 3 has term 2"},
	{"entry of term zero", AppendEntriesArgs{Term: 4, LeaderId: 0, Entries: []LogEntry{{Term: 0}}}, "entry 1 has term 0"},
}

var malformedVotes = []struct {
	name string
	args RequestVoteArgs
	want string
}{
	{"term zero", RequestVoteArgs{Term: 0, CandidateId: 0}, "term 0"},
	{"candidate not a peer", RequestVoteArgs{Term: 4, CandidateId: 7}, "sender 7"},
	{"candidate is the voter", RequestVoteArgs{Term: 4, CandidateId: 1}, "sender 1"},
	{"negative LastLogIndex", RequestVoteArgs{Term: 4, CandidateId: 0, LastLogIndex: -5}, "LastLogIndex -5"},
	{"LastLogTerm after the term", RequestVoteArgs{Term: 4, CandidateId: 0, LastLogIndex: 3, LastLogTerm: 9}, "LastLogTerm 9"},
	{"a term for the empty log", RequestVoteArgs{Term: 4, CandidateId: 0, LastLogTerm: 1}, "LastLogIndex 0"},
	{"malformed pre-vote", RequestVoteArgs{Term: 4, CandidateId: 0, LastLogIndex: -1, PreVote: true}, "LastLogIndex -1"},
}

var malformedSnapshots = []struct {
	name string
	args InstallSnapshotArgs
	want string
}{
	{"term zero", InstallSnapshotArgs{Term: 0, LeaderId: 0, LastIncludedIndex: 5, LastIncludedTerm: 1, Data: []byte("s")}, "term 0"},
	{"sender not a peer", InstallSnapshotArgs{Term: 4, LeaderId: 9, LastIncludedIndex: 5, LastIncludedTerm: 1, Data: []byte("s")}, "sender 9"},
	{"covers no entry", InstallSnapshotArgs{Term: 4, LeaderId: 0, Data: []byte("s")}, "covers no entry"},
	{"negative index", InstallSnapshotArgs{Term: 4, LeaderId: 0, LastIncludedIndex: -4, LastIncludedTerm: 1, Data: []byte("s")}, "LastIncludedIndex -4"},
	{"term after the leader's", InstallSnapshotArgs{Term: 4, LeaderId: 0, LastIncludedIndex: 5, LastIncludedTerm: 5, Data: []byte("s")}, "LastIncludedTerm 5"},
	{"term zero for an entry", InstallSnapshotArgs{Term: 4, LeaderId: 0, LastIncludedIndex: 5, LastIncludedTerm: 0, Data: []byte("s")}, "LastIncludedTerm 0"},
	{"no data", InstallSnapshotArgs{Term: 4, LeaderId: 0, LastIncludedIndex: 5, LastIncludedTerm: 2}, "no data"},
}

// TestValidationNamesWhatIsWrong: each malformed request is rejected with
// a reason naming the field; well-formed ones pass.
func TestValidationNamesWhatIsWrong(t *testing.T) {
	check := func(name string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v; want one mentioning %q", name, err, want)
		}
	}
	for _, tc := range malformedAppends {
		check("AppendEntries, "+tc.name, validateAppendEntries(&tc.args, 3, 1), tc.want)
	}
	for _, tc := range malformedVotes {
		check("RequestVote, "+tc.name, validateRequestVote(&tc.args, 3, 1), tc.want)
	}
	for _, tc := range malformedSnapshots {
		check("InstallSnapshot, "+tc.name, validateInstallSnapshot(&tc.args, 3, 1), tc.want)
	}
	good := []error{
		validateAppendEntries(&AppendEntriesArgs{Term: 1, LeaderId: 0}, 3, 1),
		validateAppendEntries(&AppendEntriesArgs{Term: 4, LeaderId: 2, PrevLogIndex: 7, PrevLogTerm: 2, LeaderCommit: 50,
			Entries: []LogEntry{{Term: 2}, {Term: 2}, {Term: 4}}}, 3, 1),
		validateRequestVote(&RequestVoteArgs{Term: 1, CandidateId: 0}, 3, 1),
		validateRequestVote(&RequestVoteArgs{Term: 5, CandidateId: 2, LastLogIndex: 9, LastLogTerm: 5, PreVote: true}, 3, 1),
		validateInstallSnapshot(&InstallSnapshotArgs{Term: 4, LeaderId: 0, LastIncludedIndex: 1, LastIncludedTerm: 4, Data: []byte{0}}, 3, 1),
	}
	for i, err := range good {
		if err != nil {
			t.Errorf("well-formed request %d refused: %v", i, err)
		}
	}
}

// TestMalformedRequestsChangeNothing: a malformed request to a peer is
// refused (Success false, no vote) and changes nothing, in memory or
// saved; it never panics the peer. A peer given a decreasing run of terms
// could otherwise save a log it cannot restart from.
func TestMalformedRequestsChangeNothing(t *testing.T) {
	ps := MakePersister()
	rf := newIdlePeer(t, 3, 1, ps)
	setLog(rf, 3, 1, 1, 3)
	savedBefore := string(ps.ReadRaftState())
	before := stateOf(rf)
	for _, tc := range malformedAppends {
		var reply AppendEntriesReply
		rf.AppendEntries(&tc.args, &reply)
		if reply.Success || reply.Term != 3 {
			t.Errorf("AppendEntries, %s: reply %+v; want a refusal in term 3", tc.name, reply)
		}
	}
	for _, tc := range malformedVotes {
		var reply RequestVoteReply
		rf.RequestVote(&tc.args, &reply)
		if reply.VoteGranted || reply.Term != 3 {
			t.Errorf("RequestVote, %s: reply %+v; want a refusal in term 3", tc.name, reply)
		}
	}
	for _, tc := range malformedSnapshots {
		var reply InstallSnapshotReply
		rf.InstallSnapshot(&tc.args, &reply)
		if reply.Term != 3 {
			t.Errorf("InstallSnapshot, %s: reply %+v; want term 3", tc.name, reply)
		}
	}
	if after := stateOf(rf); after != before {
		t.Errorf("malformed requests changed the peer: %+v -> %+v", before, after)
	}
	if string(ps.ReadRaftState()) != savedBefore || ps.SnapshotSize() != 0 {
		t.Errorf("malformed requests changed the saved state")
	}
	// The peer still restarts from what it saved.
	restarted := newIdlePeer(t, 3, 1, ps)
	if s := stateOf(restarted); s.term != 3 || s.last != 3 {
		t.Errorf("after a restart: %+v", s)
	}
}

// expectPanic runs f and fails unless it panics with a message containing
// want (the invariant's name).
func expectPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want one naming %q", want)
		}
		if msg, _ := r.(string); !strings.Contains(msg, want) {
			t.Fatalf("panic %v; want one naming %q", r, want)
		}
	}()
	f()
}

// TestTruncatingACommittedEntryTrips: an AppendEntries of the current
// term that conflicts with a committed entry can only come from a broken
// leader (Leader Completeness, section 5.4): the peer stops, naming the
// invariant, before it deletes anything.
func TestTruncatingACommittedEntryTrips(t *testing.T) {
	rf := newIdlePeer(t, 3, 1, MakePersister())
	setLog(rf, 2, 1, 1, 2, 2)
	rf.mu.Lock()
	rf.commitIndex = 3
	rf.mu.Unlock()
	// Conflicting after the commit point is normal: entry 4 goes.
	var reply AppendEntriesReply
	rf.AppendEntries(&AppendEntriesArgs{Term: 3, LeaderId: 0, PrevLogIndex: 3, PrevLogTerm: 2,
		Entries: []LogEntry{{Term: 3, Command: "x"}}}, &reply)
	if !reply.Success || rf.log.lastIndex() != 4 || rf.log.term(4) != 3 {
		t.Fatalf("an uncommitted conflicting entry was not replaced: %+v, last term %d", reply, rf.log.lastTerm())
	}
	expectPanic(t, "committed entries are never truncated", func() {
		rf.AppendEntries(&AppendEntriesArgs{Term: 3, LeaderId: 0, PrevLogIndex: 1, PrevLogTerm: 1,
			Entries: []LogEntry{{Term: 3, Command: "y"}}}, &AppendEntriesReply{})
	})
	if rf.log.lastIndex() != 4 || rf.log.term(2) != 1 {
		t.Fatalf("the tripwire fired after the log changed: last %d, term of 2: %d", rf.log.lastIndex(), rf.log.term(2))
	}
}

// TestDecreasingCommitOrAppliedTrips: commitIndex and lastApplied never
// decrease; a change that would lower them stops the peer, naming the
// invariant.
func TestDecreasingCommitOrAppliedTrips(t *testing.T) {
	rf := newIdlePeer(t, 3, 1, MakePersister())
	setLog(rf, 2, 1, 1, 2, 2)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.setCommitIndexLocked(3)
	rf.setLastAppliedLocked(2)
	expectPanic(t, "commitIndex never decreases", func() { rf.setCommitIndexLocked(2) })
	expectPanic(t, "lastApplied never decreases", func() { rf.setLastAppliedLocked(1) })
}

// TestDecreasingLogTermsTrip: appending an entry of a lower term than the
// last stops the peer (the cheap check, always on), and the full check
// finds a decrease anywhere in the log.
func TestDecreasingLogTermsTrip(t *testing.T) {
	l := logOfTerms(0, 0, 1, 2, 2)
	expectPanic(t, "log terms never decrease", func() { l.append(LogEntry{Term: 1}) })
	tests := []struct {
		name string
		log  raftLog
		want string // "" for none
	}{
		{"empty", logOfTerms(0, 0), ""},
		{"monotonic", logOfTerms(4, 2, 2, 2, 3, 7), ""},
		{"decrease in the middle", logOfTerms(0, 0, 1, 3, 2, 4), "entry 3 has term 2 after term 3"},
		{"below the snapshot's term", logOfTerms(5, 3, 2), "entry 6 has term 2 after term 3"},
	}
	if l := logOfTerms(0, 0, 1, 3, 2, 4); l.checkTermsMonotonic(3) != nil {
		t.Errorf("checking after entry 3 found a decrease; the decrease is at entry 3")
	}
	for _, tc := range tests {
		err := tc.log.checkTermsMonotonic(tc.log.snapshotIndex)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.want)
		}
	}
}
