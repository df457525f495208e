package raft

// Tests of persistence (persist.go): the saved state round-trips, a save
// encodes only what is new, removals re-encode correctly, snapshots keep the
// state small, and undecodable state stops the peer with a clear message.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"6.5840/labgob"
	"6.5840/labrpc"
)

// persistTestCommand is a command type of the test's own, registered with
// labgob as a service would register its commands.
type persistTestCommand struct {
	Key   string
	Value int
}

func init() {
	labgob.Register(persistTestCommand{})
}

// newIdlePeer builds a peer of an n-peer cluster on ends that reach nobody,
// restored from ps, with no goroutine running: tests drive its handlers and
// helpers directly.
func newIdlePeer(t *testing.T, n, me int, ps *Persister) *Raft {
	t.Helper()
	net := labrpc.MakeNetwork()
	t.Cleanup(net.Cleanup)
	ends := make([]*labrpc.ClientEnd, n)
	for j := range ends {
		ends[j] = net.MakeEnd(fmt.Sprintf("idle-%d-%d", me, j))
	}
	return newRaft(ends, me, ps, make(chan ApplyMsg, 1000))
}

// TestPersistedStateSurvivesRestart: currentTerm, votedFor, the log (with
// commands of several types) and the snapshot's position come back after a
// restart (Figure 2, persistent state; section 7).
func TestPersistedStateSurvivesRestart(t *testing.T) {
	ps := MakePersister()
	rf := newIdlePeer(t, 3, 0, ps)
	rf.mu.Lock()
	rf.currentTerm, rf.votedFor = 7, 2
	rf.log = logOfTerms(4, 2, 3, 5, 7)
	rf.log.entries[0].Command = "a string"
	rf.log.entries[1].Command = persistTestCommand{Key: "k", Value: 42}
	rf.snapshot = []byte("service state through 4")
	rf.commitIndex, rf.lastApplied = 4, 4
	rf.stream.stale = true
	rf.persistLocked()
	rf.mu.Unlock()

	back := newIdlePeer(t, 3, 0, ps.Copy())
	back.mu.Lock()
	defer back.mu.Unlock()
	if back.currentTerm != 7 || back.votedFor != 2 {
		t.Fatalf("restored term %d, vote %d; want 7, 2", back.currentTerm, back.votedFor)
	}
	if back.log.snapshotIndex != 4 || back.log.snapshotTerm != 2 || back.commitIndex != 4 || back.lastApplied != 4 {
		t.Fatalf("restored snapshot (%d, %d), commit %d, applied %d; want (4, 2), 4, 4",
			back.log.snapshotIndex, back.log.snapshotTerm, back.commitIndex, back.lastApplied)
	}
	want := []LogEntry{{3, "a string"}, {5, persistTestCommand{"k", 42}}, {7, 7}}
	if len(back.log.entries) != len(want) {
		t.Fatalf("restored %d entries, want %d", len(back.log.entries), len(want))
	}
	for i, e := range back.log.entries {
		if e.Term != want[i].Term || e.Command != want[i].Command {
			t.Fatalf("entry %d restored as %+v, want %+v", i+5, e, want[i])
		}
	}
	if string(back.snapshot) != "service state through 4" {
		t.Fatalf("restored snapshot %q", back.snapshot)
	}
}

// TestSaveEncodesOnlyNewEntries: the encoded log only grows at its end, and
// one more entry adds the same few bytes whether the log holds 10 entries or
// 5,000: the cost of a save does not come from re-encoding the log.
func TestSaveEncodesOnlyNewEntries(t *testing.T) {
	ps := MakePersister()
	rf := newIdlePeer(t, 3, 0, ps)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.currentTerm = 1
	growth := func() int {
		before := bytes.Clone(rf.stream.buf)
		rf.log.append(LogEntry{Term: 1, Command: 123456})
		rf.persistLocked()
		after := rf.stream.buf
		if !bytes.Equal(after[:len(before)], before) {
			t.Fatalf("a save rewrote the encoded log instead of appending to it")
		}
		return len(after) - len(before)
	}
	for rf.log.lastIndex() < 10 {
		growth()
	}
	small := growth()
	for rf.log.lastIndex() < 5000 {
		rf.log.append(LogEntry{Term: 1, Command: 123456})
	}
	rf.persistLocked()
	if large := growth(); large != small || small > 32 {
		t.Fatalf("one entry added %d bytes to a log of 10 and %d to a log of 5000; want the same few", small, large)
	}
	if got := len(ps.ReadRaftState()); got != rf.persister.RaftStateSize() || got < 5000*8 {
		t.Fatalf("saved %d bytes for 5000 entries; each takes more than 8", got)
	}
}

// TestSavesSurviveTruncationAndNewTypes: a follower that removes a
// conflicting suffix (Figure 2, AppendEntries rule 3) and then appends
// commands of types the stream has not seen yet saves a state that decodes
// to exactly its log.
func TestSavesSurviveTruncationAndNewTypes(t *testing.T) {
	ps := MakePersister()
	rf := newIdlePeer(t, 3, 1, ps)
	appendArgs := func(term, prev, prevTerm int, cmds ...interface{}) *AppendEntriesArgs {
		args := &AppendEntriesArgs{Term: term, LeaderId: 0, PrevLogIndex: prev, PrevLogTerm: prevTerm}
		for _, c := range cmds {
			args.Entries = append(args.Entries, LogEntry{Term: term, Command: c})
		}
		return args
	}
	var reply AppendEntriesReply
	rf.AppendEntries(appendArgs(1, 0, 0, 1, 2, 3, 4), &reply)
	if !reply.Success {
		t.Fatalf("first AppendEntries refused: %+v", reply)
	}
	reply = AppendEntriesReply{}
	rf.AppendEntries(appendArgs(2, 2, 1, "three", persistTestCommand{"x", 4}), &reply)
	if !reply.Success {
		t.Fatalf("second AppendEntries refused: %+v", reply)
	}
	reply = AppendEntriesReply{}
	rf.AppendEntries(appendArgs(2, 4, 2, []byte{5}), &reply)
	if !reply.Success {
		t.Fatalf("third AppendEntries refused: %+v", reply)
	}
	back := newIdlePeer(t, 3, 1, ps.Copy())
	want := []interface{}{1, 2, "three", persistTestCommand{"x", 4}}
	if back.log.lastIndex() != 5 || back.currentTerm != 2 {
		t.Fatalf("restored last index %d, term %d; want 5, 2", back.log.lastIndex(), back.currentTerm)
	}
	for i, c := range want {
		if got := back.log.at(i + 1).Command; got != c {
			t.Fatalf("entry %d restored as %v, want %v", i+1, got, c)
		}
	}
	if got, _ := back.log.at(5).Command.([]byte); !bytes.Equal(got, []byte{5}) {
		t.Fatalf("entry 5 restored as %v", back.log.at(5).Command)
	}
}

// TestSnapshotKeepsSavedStateSmall: with the service snapshotting every 10
// entries, the saved Raft state stays far under the course's 2,000 bytes
// however long the log has grown (section 7).
func TestSnapshotKeepsSavedStateSmall(t *testing.T) {
	ps := MakePersister()
	rf := newIdlePeer(t, 3, 0, ps)
	rf.mu.Lock()
	rf.currentTerm = 3
	rf.mu.Unlock()
	largest := 0
	for i := 1; i <= 1000; i++ {
		rf.mu.Lock()
		rf.log.append(LogEntry{Term: 3, Command: persistTestCommand{Key: "some key", Value: i}})
		rf.commitIndex, rf.lastApplied = i, i
		rf.persistLocked()
		rf.mu.Unlock()
		if i%10 == 0 {
			rf.Snapshot(i, []byte(fmt.Sprint("state through ", i)))
		}
		largest = max(largest, ps.RaftStateSize())
	}
	if largest >= 1000 {
		t.Fatalf("saved Raft state reached %d bytes with a snapshot every 10 entries", largest)
	}
	if rf.log.snapshotIndex != 1000 || len(rf.log.entries) != 0 {
		t.Fatalf("log after the last snapshot: through %d, %d entries left", rf.log.snapshotIndex, len(rf.log.entries))
	}
}

// TestUndecodableStateStopsThePeer: a peer whose saved state cannot be
// decoded, or breaks the log's invariants, panics naming the problem rather
// than running with half a state.
func TestUndecodableStateStopsThePeer(t *testing.T) {
	ps := MakePersister()
	rf := newIdlePeer(t, 3, 0, ps)
	rf.mu.Lock()
	rf.currentTerm = 4
	rf.log = logOfTerms(0, 0, 1, 2, 4)
	rf.persistLocked()
	rf.mu.Unlock()
	good := ps.ReadRaftState()

	withHeader := func(h persistHeader, stream []byte) []byte {
		var buf bytes.Buffer
		enc := labgob.NewEncoder(&buf)
		for _, v := range h.fields() {
			if err := enc.Encode(*v); err != nil {
				t.Fatal(err)
			}
		}
		out := append(bytes.Clone(stream), buf.Bytes()...)
		return binary.BigEndian.AppendUint32(out, uint32(buf.Len()))
	}
	h, _, err := decodeState(good)
	if err != nil {
		t.Fatalf("good state does not decode: %v", err)
	}
	streamLen := len(good) - 4 - int(binary.BigEndian.Uint32(good[len(good)-4:]))
	stream := good[:streamLen]
	tooMany := h
	tooMany.EntryCount = 4
	badVote := h
	badVote.VotedFor = 3
	badFormat := h
	badFormat.Format = 1
	lowTerm := h
	lowTerm.CurrentTerm = 2 // the log holds an entry of term 4

	tests := []struct {
		name  string
		state []byte
		want  string
	}{
		{"too short", []byte{1, 2}, "too short"},
		{"header length too large", append(bytes.Clone(good[:len(good)-4]), 0, 1, 0, 0), "exceeds"},
		{"garbage header", withHeader(h, stream)[:len(good)-6], "undecodable"},
		{"wrong format", withHeader(badFormat, stream), "format"},
		{"more entries than saved", withHeader(tooMany, stream), "entry 4 of 4"},
		{"bytes left over", withHeader(h, append(bytes.Clone(stream), stream[len(stream)-3:]...)), "left"},
		{"vote for a peer that does not exist", withHeader(badVote, stream), "votedFor 3"},
		{"entry term above current term", withHeader(lowTerm, stream), "term 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := MakePersister()
			bad.Save(tc.state, nil)
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if r == nil {
					t.Fatalf("the peer started from undecodable state")
				}
				if !strings.Contains(msg, "undecodable") || !strings.Contains(msg, tc.want) {
					t.Fatalf("panic %q does not explain the problem (want %q)", r, tc.want)
				}
			}()
			newIdlePeer(t, 3, 0, bad)
		})
	}
}

// TestKilledPeerSavesNothing: once Kill has returned, the peer leaves the
// persister alone, even if a handler runs after.
func TestKilledPeerSavesNothing(t *testing.T) {
	ps := MakePersister()
	rf := newIdlePeer(t, 3, 1, ps)
	rf.Kill()
	var reply RequestVoteReply
	rf.RequestVote(&RequestVoteArgs{Term: 5, CandidateId: 0}, &reply)
	if ps.RaftStateSize() != 0 || reply.VoteGranted {
		t.Fatalf("a killed peer voted (%v) or saved %d bytes", reply.VoteGranted, ps.RaftStateSize())
	}
}
