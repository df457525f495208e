package raft

// The Raft peer: its state, Make, Start, GetState, Kill and the role changes.
// See doc.go for how a service uses it and which goroutines it runs.

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"6.5840/labrpc"
)

// ApplyMsg is what a peer delivers on applyCh, in order, each exactly once.
// Either CommandValid is set and the message carries the committed command at
// CommandIndex, or SnapshotValid is set and the message carries a snapshot,
// received from the leader, that replaces the service's state with the state
// after entry SnapshotIndex (whose term is SnapshotTerm); commands through
// SnapshotIndex are not delivered after it. The receiver owns Snapshot.
type ApplyMsg struct {
	CommandValid bool        // the message carries a committed command
	Command      interface{} // the command, as given to Start
	CommandIndex int         // its index in the log (the first is 1)

	SnapshotValid bool   // the message carries a snapshot
	Snapshot      []byte // the service's state through SnapshotIndex
	SnapshotTerm  int    // term of the last entry the snapshot covers
	SnapshotIndex int    // index of the last entry the snapshot covers
}

// role is what a peer currently is (Figure 2, Rules for Servers).
type role int

const (
	follower     role = iota
	preCandidate      // asking for pre-votes, its term unchanged (thesis 9.6)
	candidate
	leader
)

func (r role) String() string {
	switch r {
	case follower:
		return "follower"
	case preCandidate:
		return "pre-candidate"
	case candidate:
		return "candidate"
	case leader:
		return "leader"
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// Timing. The course's tests allow at most ten heartbeats per second and
// expect a new leader within five seconds of losing the old one.
const (
	heartbeatInterval  = 100 * time.Millisecond // the tests allow ten per second
	electionTimeoutMin = 300 * time.Millisecond // several heartbeats may be lost first
	electionTimeoutMax = 600 * time.Millisecond // spread wide, so split votes are rare
	// retryInterval is how long an AppendEntries with entries (or an
	// InstallSnapshot) may stay unanswered before the replicator sends its
	// entries again: the network may hold a reply back for seconds.
	retryInterval = heartbeatInterval
	// failureBackoff is how long a leader waits, after a call to a peer was
	// lost, before sending what it carried again: long enough not to flood
	// an unreachable peer, short enough that one lost message on an
	// unreliable network costs little. Each further loss in a row doubles
	// the wait, up to maxFailureBackoff: an unreachable peer costs a few
	// calls a second, and one that comes back answers the next heartbeat,
	// which ends the backoff.
	failureBackoff    = 10 * time.Millisecond
	maxFailureBackoff = 640 * time.Millisecond
	// maxInflightPerPeer bounds the calls in flight to one peer, and so the
	// goroutines and encoded arguments it can hold: a call to a crashed
	// peer may take seconds to fail, and heartbeats go every 100 ms. With
	// replies held back up to 2.2 s (the course's long reordering) about a
	// dozen are in flight normally.
	maxInflightPerPeer = 24
	// maxProbeEntries bounds the entries an AppendEntries carries while the
	// leader is still finding where a follower's log matches its own: a
	// wrong guess wastes little. Once the logs match, batches carry up to
	// maxEntriesPerAppend.
	maxProbeEntries = 64
	// commitNoticeDelay is how long a leader waits before telling followers
	// of a new commitIndex in an AppendEntries of its own: a Start that
	// follows the commit within this time carries the news for free, which
	// halves the RPCs of a sequential workload, and followers still apply
	// within about a millisecond.
	commitNoticeDelay = time.Millisecond
	// maxEntriesPerAppend bounds one AppendEntries, so a far-behind
	// follower is brought up in several moderate RPCs.
	maxEntriesPerAppend = 1024
	// maxApplyBatch bounds the entries the applier copies out at once.
	maxApplyBatch = 1024
)

// Raft is one peer of a Raft cluster. Create it with Make; all its exported
// methods are safe for concurrent use.
type Raft struct {
	mu        sync.Mutex          // guards every field below not marked otherwise
	peers     []*labrpc.ClientEnd // RPC end points of all peers; immutable
	persister *Persister          // where persistent state is saved; immutable
	me        int                 // this peer's index into peers; immutable
	applyCh   chan ApplyMsg       // where committed commands go; immutable

	dead    atomic.Bool    // set by Kill, under mu
	done    chan struct{}  // closed by Kill: wakes every goroutine to exit
	workers sync.WaitGroup // the ticker, the applier and the replicators
	calls   sync.WaitGroup // the senders, and goroutines making one RPC each

	// Persistent state (Figure 2), with the snapshot (section 7).
	// persistLocked saves it before any reply or message that depends on it.
	// A leader's new entries are the exception (persistDirty may stay set
	// after Start): they are saved right after they are first sent (see
	// sendDataLocked), and the leader counts itself toward a majority only
	// for saved entries.
	currentTerm  int           // latest term seen; never decreases
	votedFor     int           // candidate voted for in currentTerm; -1: none
	log          raftLog       // see its invariants in log.go
	snapshot     []byte        // the service's snapshot through log.snapshotIndex
	tail         compactedTail // entries before the snapshot, kept in memory only; see log.go
	persistDirty bool          // persistent state changed since the last save
	// termsCheckedThrough: with fullChecks, the log's terms are known not
	// to decrease through this index (see checkInvariantsLocked); lowered
	// when entries after it are replaced.
	termsCheckedThrough int
	stream              entryStream

	// Volatile state on all servers (Figure 2).
	// Invariant: log.snapshotIndex <= commitIndex <= log.lastIndex() and
	// lastApplied <= commitIndex. lastApplied counts the entries (or the
	// snapshot) the applier has taken for delivery; when it is below
	// log.snapshotIndex the applier delivers the snapshot next.
	commitIndex int
	lastApplied int
	applyCond   *sync.Cond // on mu: wakes the applier

	role             role
	electionDeadline time.Time // a follower or (pre-)candidate starts a round after it
	failedElections  int       // rounds in a row that ended without a leader: backs off the timeout
	round            uint64    // numbers pre-vote rounds, so late answers are not counted
	preVotes         []bool    // preVotes[p]: p would vote for us, in this pre-vote round
	votes            []bool    // votes[p]: p voted for us in currentTerm (valid while votedFor == me)
	leaderHeardAt    time.Time // when the leader of currentTerm was last heard from; zero: not in this term
	leaderSince      time.Time // when this peer last took office

	// Volatile state on leaders (Figure 2), reinitialized after election.
	// Invariant, for each peer p other than me:
	// matchIndex[p] < nextIndex[p] <= log.lastIndex()+1. matchIndex[me] is the
	// last index this leader has saved: it counts itself only for those.
	nextIndex        []int
	matchIndex       []int
	progress         []peerProgress // what is in flight to each peer
	commitAdvancedAt time.Time      // when commitIndex last grew
	noticeTimer      *time.Timer    // runs sendCommitNotices; nil until the first commit
	noticeArmed      bool           // noticeTimer will run
	rpcSeq           uint64         // numbers AppendEntries and InstallSnapshot calls

	wakeReplicator []chan struct{}            // capacity 1 each: a pending wake-up; immutable
	sendq          []chan func(onSender bool) // capacity 1 each: the next call for a sender; immutable
	// senderIdle[p]: peer p's sender waits for a call, so sendq[p] is empty.
	senderIdle []bool

	// For tests and benchmarks: bytes handed to Persister.Save, and the
	// number of saves. Read without mu.
	persistedBytes atomic.Int64
	persistCount   atomic.Int64
	debugTerm      atomic.Int64 // currentTerm, for debugf without mu
}

// Make creates a Raft peer. peers holds the RPC end points of all peers of the
// cluster (the same order everywhere), me this peer's index into it. The peer
// restores what persister holds (panicking if it cannot be decoded) and sends
// committed commands on applyCh. Make returns at once; the work is done by
// background goroutines until Kill.
func Make(peers []*labrpc.ClientEnd, me int, persister *Persister, applyCh chan ApplyMsg) *Raft {
	rf := newRaft(peers, me, persister, applyCh)
	rf.startGoroutines()
	return rf
}

// newRaft builds a peer with its saved state restored and no goroutine started.
func newRaft(peers []*labrpc.ClientEnd, me int, persister *Persister, applyCh chan ApplyMsg) *Raft {
	if me < 0 || me >= len(peers) {
		panic(fmt.Sprintf("raft: Make: me = %d, but there are %d peers", me, len(peers)))
	}
	if persister == nil {
		panic("raft: Make: nil persister")
	}
	rf := &Raft{
		peers:          peers,
		persister:      persister,
		me:             me,
		applyCh:        applyCh,
		done:           make(chan struct{}),
		votedFor:       -1,
		role:           follower,
		nextIndex:      make([]int, len(peers)),
		matchIndex:     make([]int, len(peers)),
		progress:       make([]peerProgress, len(peers)),
		preVotes:       make([]bool, len(peers)),
		votes:          make([]bool, len(peers)),
		wakeReplicator: make([]chan struct{}, len(peers)),
		sendq:          make([]chan func(bool), len(peers)),
		senderIdle:     make([]bool, len(peers)),
	}
	rf.applyCond = sync.NewCond(&rf.mu)
	for i := range rf.wakeReplicator {
		rf.wakeReplicator[i] = make(chan struct{}, 1)
		rf.sendq[i] = make(chan func(bool), 1)
	}
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.restoreLocked(persister.ReadRaftState(), persister.ReadSnapshot())
	rf.resetElectionTimerLocked(time.Now())
	rf.checkInvariantsLocked()
	return rf
}

// startGoroutines starts the ticker, the applier, and one replicator and one
// sender per other peer. Each runs until Kill.
func (rf *Raft) startGoroutines() {
	rf.workers.Add(2)
	go rf.ticker()
	go rf.applier()
	rf.mu.Lock()
	defer rf.mu.Unlock()
	for p := range rf.peers {
		if p != rf.me {
			rf.workers.Add(1)
			go rf.replicator(p)
			rf.senderIdle[p] = true
			rf.calls.Add(1)
			go rf.sender(p)
		}
	}
}

// GetState returns currentTerm and whether this peer believes it is the
// leader; a killed peer never does.
func (rf *Raft) GetState() (int, bool) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.currentTerm, rf.role == leader && !rf.killed() // a crashed peer leads nothing
}

// Start proposes command for the replicated log. If this peer is the leader it
// appends the command and returns the index the command will have if it is
// ever committed, the current term and true; otherwise it returns false (and
// so does a killed peer). Start does not wait for anything: the command
// travels to the followers at once, with whatever else has accumulated, and if
// it commits it comes out of applyCh at that index. There is no guarantee it
// ever commits: the leader may lose its office first.
//
// Raft keeps command itself, not a copy: the caller must not change it (or
// anything it points to) after Start. The leader hands the very same value
// back on its applyCh; the other peers receive a labgob-decoded copy.
func (rf *Raft) Start(command interface{}) (int, int, bool) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.killed() || rf.role != leader {
		return -1, rf.currentTerm, false
	}
	index := rf.log.append(LogEntry{Term: rf.currentTerm, Command: command})
	rf.persistDirty = true
	if len(rf.peers) == 1 {
		// No replicator will save it; the leader alone is the majority.
		rf.persistLocked()
		rf.advanceCommitIndexLocked()
	}
	// The replicators send it to every follower with no batch in flight;
	// for the others it waits for the reply to the batch in flight. Either
	// way it goes with whatever else accumulates meanwhile: waking a
	// replicator rather than sending from here lets the Starts of many
	// services share one AppendEntries.
	rf.wakeAllReplicatorsLocked()
	rf.checkInvariantsLocked()
	return index, rf.currentTerm, true
}

// Kill stops the peer, as in a crash. When Kill returns, the ticker, the
// applier and the replicators have ended, so nothing more arrives on applyCh,
// and nothing is saved to the persister any more. A goroutine still inside an
// RPC Call ends when the Call returns, without touching either. Kill may be
// called more than once, from any goroutine, including the one reading applyCh.
func (rf *Raft) Kill() {
	rf.mu.Lock()
	if !rf.dead.Load() {
		rf.dead.Store(true)
		close(rf.done)
		rf.applyCond.Broadcast()
		if rf.noticeTimer != nil {
			rf.noticeTimer.Stop()
		}
		rf.debugf(tKill, "killed")
	}
	rf.mu.Unlock()
	rf.workers.Wait()
}

// killed reports whether Kill has been called. It needs no lock.
func (rf *Raft) killed() bool {
	return rf.dead.Load()
}

// setTermLocked moves to a later term, forgetting the vote (Figure 2: "If RPC
// request or response contains term T > currentTerm: set currentTerm = T").
func (rf *Raft) setTermLocked(term int) {
	if term < rf.currentTerm {
		panic(fmt.Sprintf("raft: invariant currentTerm never decreases: %d -> %d", rf.currentTerm, term))
	}
	if term > rf.currentTerm {
		rf.currentTerm = term
		rf.votedFor = -1
		rf.leaderHeardAt = time.Time{} // that was the leader of an earlier term
		rf.persistDirty = true
		rf.debugTerm.Store(int64(term))
	}
}

// setCommitIndexLocked raises commitIndex to index and wakes the applier.
// commitIndex never decreases: a caller that would lower it is broken.
func (rf *Raft) setCommitIndexLocked(index int) {
	if index < rf.commitIndex {
		panic(fmt.Sprintf("raft: S%d T%d: invariant commitIndex never decreases violated: %d -> %d",
			rf.me, rf.currentTerm, rf.commitIndex, index))
	}
	rf.commitIndex = index
	rf.applyCond.Signal()
}

// becomeFollowerLocked adopts term (if later) and converts to follower
// (Figure 2, Rules for All Servers). The caller saves the state before any
// reply. A deposed leader starts its election timer afresh: it did not run
// while it led, so its old deadline has long passed, and it would
// otherwise campaign at once, before the leader that deposed it (or a
// candidate that may win) could reach it.
func (rf *Raft) becomeFollowerLocked(term int) {
	rf.setTermLocked(term)
	if rf.role == leader {
		rf.resetElectionTimerLocked(time.Now())
	}
	if rf.role != follower {
		rf.debugf(tRole, "%v -> follower", rf.role)
		rf.role = follower
	}
}

// becomeLeaderLocked takes office after winning the election of currentTerm:
// it reinitializes nextIndex and matchIndex (Figure 2) and wakes the
// replicators, whose first AppendEntries asserts the leadership (section 5.2).
// No entry is appended: the course's tests expect none.
func (rf *Raft) becomeLeaderLocked() {
	rf.role = leader
	rf.leaderSince = time.Now()
	rf.failedElections = 0
	rf.debugf(tRole, "leader (log through %d, term %d)", rf.log.lastIndex(), rf.log.lastTerm())
	if rf.persistDirty {
		rf.persistLocked()
	}
	for p := range rf.peers {
		rf.nextIndex[p] = rf.log.lastIndex() + 1
		rf.matchIndex[p] = 0
		// Calls of an earlier leadership may still be in flight: keep
		// counting them.
		rf.progress[p] = peerProgress{state: probing, sentCommit: rf.commitIndex, inflight: rf.progress[p].inflight}
	}
	rf.matchIndex[rf.me] = rf.log.lastIndex()
	rf.wakeAllReplicatorsLocked()
}

// resetElectionTimerLocked picks a new random election deadline (section 5.2:
// randomized election timeouts make split votes rare), backed off after
// failed election rounds (see election.go).
func (rf *Raft) resetElectionTimerLocked(now time.Time) {
	rf.electionDeadline = now.Add(randomElectionTimeout(rf.failedElections))
}

// wakeReplicatorLocked wakes peer's replicator without blocking.
func (rf *Raft) wakeReplicatorLocked(peer int) {
	select {
	case rf.wakeReplicator[peer] <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// wakeAllReplicatorsLocked wakes every replicator.
func (rf *Raft) wakeAllReplicatorsLocked() {
	for p := range rf.peers {
		if p != rf.me {
			rf.wakeReplicatorLocked(p)
		}
	}
}

// fullChecks turns on the invariant checks that read the whole log (see
// checkInvariantsLocked): on with RAFT_DEBUG=1, and in our own tests.
var fullChecks atomic.Bool

func init() { fullChecks.Store(debugEnabled) }

// checkInvariantsLocked panics, naming the invariant, if the peer's state
// breaks one of the invariants documented at the declarations. Handlers run
// it before they return. Each check is O(1) per peer, but for those that
// fullChecks turns on.
func (rf *Raft) checkInvariantsLocked() {
	fail := func(name string, format string, args ...any) {
		panic(fmt.Sprintf("raft: S%d T%d: invariant %s violated: %s", rf.me, rf.currentTerm, name, fmt.Sprintf(format, args...)))
	}
	l := &rf.log
	if rf.lastApplied > rf.commitIndex {
		fail("lastApplied <= commitIndex", "lastApplied %d, commitIndex %d", rf.lastApplied, rf.commitIndex)
	}
	if rf.commitIndex > l.lastIndex() {
		fail("commitIndex <= last log index", "commitIndex %d, last index %d", rf.commitIndex, l.lastIndex())
	}
	if l.snapshotIndex > rf.commitIndex {
		fail("snapshot covers only committed entries", "snapshot through %d, commitIndex %d", l.snapshotIndex, rf.commitIndex)
	}
	if l.lastTerm() > rf.currentTerm {
		fail("log terms <= currentTerm", "last log term %d", l.lastTerm())
	}
	if len(l.entries) > 0 && l.entries[0].Term < l.snapshotTerm {
		fail("log terms never decrease", "first entry term %d after snapshot term %d", l.entries[0].Term, l.snapshotTerm)
	}
	if fullChecks.Load() {
		// Every entry is checked against the one before it once they are
		// neighbours: from the last entry checked, unless the log was cut
		// below it since.
		from := rf.termsCheckedThrough
		if from < l.snapshotIndex || from > l.lastIndex() {
			from = l.snapshotIndex
		}
		if err := l.checkTermsMonotonic(from); err != nil {
			fail("log terms never decrease", "%v", err)
		}
		rf.termsCheckedThrough = l.lastIndex()
	}
	if len(rf.tail.entries) > 0 && rf.tail.end != l.snapshotIndex {
		fail("the compacted tail ends at the snapshot", "tail through %d, snapshot through %d", rf.tail.end, l.snapshotIndex)
	}
	if rf.votedFor < -1 || rf.votedFor >= len(rf.peers) {
		fail("votedFor is -1 or a peer", "votedFor %d", rf.votedFor)
	}
	if !rf.stream.stale && rf.stream.encoded > len(l.entries) {
		fail("encoded stream matches the log", "%d entries encoded, %d in the log", rf.stream.encoded, len(l.entries))
	}
	if rf.role != leader {
		return
	}
	if rf.votedFor != rf.me {
		fail("a leader voted for itself", "votedFor %d", rf.votedFor)
	}
	if rf.matchIndex[rf.me] > l.lastIndex() {
		fail("leader's matchIndex <= its last index", "matchIndex %d, last %d", rf.matchIndex[rf.me], l.lastIndex())
	}
	for p := range rf.peers {
		if p != rf.me && !(rf.matchIndex[p] < rf.nextIndex[p] && rf.nextIndex[p] <= l.lastIndex()+1) {
			fail("matchIndex < nextIndex <= last index + 1", "peer %d: matchIndex %d, nextIndex %d, last %d",
				p, rf.matchIndex[p], rf.nextIndex[p], l.lastIndex())
		}
	}
}
