package raft

// Log compaction (section 7): the service's Snapshot call, and InstallSnapshot's
// arguments, reply, handler and sender.

import (
	"bytes"
	"time"
)

// InstallSnapshotArgs are the arguments of InstallSnapshot (Figure 13), sent by
// the leader to a follower that needs entries the leader has discarded. The
// whole snapshot travels in one call (no offset or done: labrpc has no size
// limit).
type InstallSnapshotArgs struct {
	Term              int    // leader's term
	LeaderId          int    // so the follower can redirect clients
	LastIncludedIndex int    // the snapshot replaces all entries up through this index
	LastIncludedTerm  int    // term of LastIncludedIndex
	Data              []byte // the service's snapshot
}

// InstallSnapshotReply is the reply to InstallSnapshot (Figure 13).
type InstallSnapshotReply struct {
	Term int // the follower's currentTerm, for the leader to update itself
}

// Snapshot tells Raft that the service has a snapshot holding the effect of
// every entry through index, so Raft may discard the log through index
// (section 7). Raft saves the snapshot with its state and sends it to
// followers that need it; the caller must not change snapshot afterwards.
//
// index must be one the service has applied: at most the CommandIndex of
// the last command (or the SnapshotIndex of the last snapshot) it has
// received from applyCh. A snapshot beyond the last message Raft has
// delivered, or begun to deliver, is a bug in the service (Raft could not
// vouch that the entries it covers are committed), and so
// is an empty one (a follower could not tell it from a lost one): Raft
// ignores both, keeps its log, and says so when RAFT_DEBUG=1. A snapshot at
// or before the current one is ignored too: it is merely late. Snapshot
// never waits for the applier, so the service may call it from the
// goroutine that reads applyCh, as it handles the message at index.
func (rf *Raft) Snapshot(index int, snapshot []byte) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.killed() {
		return
	}
	if index <= rf.log.snapshotIndex || index > rf.lastApplied || len(snapshot) == 0 {
		rf.debugf(tSnap, "ignored Snapshot(%d) of %d bytes: snapshot through %d, delivered through %d",
			index, len(snapshot), rf.log.snapshotIndex, rf.lastApplied)
		return
	}
	rf.tail.retain(&rf.log, index, rf.oldestNeededLocked())
	rf.log.compactThrough(index, rf.log.term(index))
	rf.snapshot = bytes.Clone(snapshot)
	rf.stream.stale = true
	rf.persistLocked()
	rf.debugf(tSnap, "snapshot through %d (%d bytes); %d entries left", index, len(snapshot), len(rf.log.entries))
	rf.checkInvariantsLocked()
}

// InstallSnapshot is the InstallSnapshot RPC handler (Figure 13, receiver
// implementation). A snapshot that adds nothing to what this peer has
// committed is ignored; otherwise the log is cut at the snapshot (keeping the
// entries after it if the log holds its last entry), the snapshot is saved,
// and the applier hands it to the service before any later entry.
func (rf *Raft) InstallSnapshot(args *InstallSnapshotArgs, reply *InstallSnapshotReply) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.killed() {
		return // a crashed peer answers nothing; Term 0 marks the reply void
	}
	reply.Term = rf.currentTerm
	if err := validateInstallSnapshot(args, len(rf.peers), rf.me); err != nil {
		rf.debugf(tSnap, "refused malformed request: %v", err)
		return
	}
	// Rule 1: reply immediately if term < currentTerm.
	if args.Term < rf.currentTerm {
		return
	}
	rf.becomeFollowerLocked(args.Term)
	rf.noteLeaderLocked(time.Now())
	reply.Term = rf.currentTerm
	if args.LastIncludedIndex <= rf.commitIndex {
		// Stale: we hold everything it covers, committed.
		rf.debugf(tSnap, "ignored snapshot through %d from S%d: committed through %d",
			args.LastIncludedIndex, args.LeaderId, rf.commitIndex)
	} else {
		// Rules 6 and 7: keep the entries after the snapshot if ours
		// match it there, else discard the whole log.
		rf.log.compactThrough(args.LastIncludedIndex, args.LastIncludedTerm)
		rf.tail.reset() // it no longer ends where the snapshot does
		rf.snapshot = args.Data
		rf.stream.stale = true
		rf.persistDirty = true
		rf.setCommitIndexLocked(args.LastIncludedIndex) // rule 8: the applier hands the service the snapshot
		rf.debugf(tSnap, "installed snapshot through %d (term %d) from S%d; %d entries kept",
			args.LastIncludedIndex, args.LastIncludedTerm, args.LeaderId, len(rf.log.entries))
	}
	if rf.persistDirty {
		rf.persistLocked()
	}
	rf.checkInvariantsLocked()
}

// oldestNeededLocked returns the oldest index whose entry a follower may
// still need from the compacted tail. Only a leader keeps one: for the
// followers that answered within an election timeout, the lowest
// matchIndex (an AppendEntries names the entry before its first, and
// nextIndex never falls to or below matchIndex). A follower silent for
// longer is cut off or down, and gets the snapshot when it is back. Other
// peers need nothing: the result is then beyond the log.
func (rf *Raft) oldestNeededLocked() int {
	oldest := rf.log.lastIndex() + 1
	if rf.role != leader {
		return oldest
	}
	now := time.Now()
	for p := range rf.peers {
		if p != rf.me && now.Sub(rf.progress[p].heardAt) <= electionTimeoutMin {
			oldest = min(oldest, rf.matchIndex[p])
		}
	}
	return oldest
}

// sendSnapshotLocked sends peer the snapshot (see goCallLocked) and records
// the call as in flight: decideSend sends no other copy until it returns.
func (rf *Raft) sendSnapshotLocked(peer int, now time.Time) {
	args := &InstallSnapshotArgs{
		Term:              rf.currentTerm,
		LeaderId:          rf.me,
		LastIncludedIndex: rf.log.snapshotIndex,
		LastIncludedTerm:  rf.log.snapshotTerm,
		Data:              rf.snapshot, // never changed in place, so safe to share
	}
	rf.rpcSeq++
	seq := rf.rpcSeq
	rf.progress[peer].noteSent(sendSnapshot, seq, rf.commitIndex, now)
	rf.debugf(tSnap, "sending snapshot through %d to S%d", args.LastIncludedIndex, peer)
	rf.goCallLocked(peer, func(onSender bool) { rf.installSnapshot(peer, args, seq, onSender) })
}

// installSnapshot makes one InstallSnapshot call and handles the reply: the
// peer now holds everything through the snapshot's last index. onSender
// tells whether it runs on peer's sender goroutine.
func (rf *Raft) installSnapshot(peer int, args *InstallSnapshotArgs, seq uint64, onSender bool) {
	var reply InstallSnapshotReply
	ok := rf.peers[peer].Call("Raft.InstallSnapshot", args, &reply)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.releaseSenderLocked(peer, onSender)
	rf.progress[peer].noteReturned(seq)
	if rf.killed() {
		return
	}
	if !ok || reply.Term < args.Term {
		rf.noteLostCallLocked(peer, args.Term, -1) // it carried no commit index
		return
	}
	if reply.Term > rf.currentTerm {
		rf.becomeFollowerLocked(reply.Term)
		rf.persistLocked()
		return
	}
	if rf.role != leader || rf.currentTerm != args.Term {
		return
	}
	now := time.Now()
	rf.progress[peer].noteAnswered(now)
	rf.advanceMatchLocked(peer, args.LastIncludedIndex)
	rf.setFollowerStateLocked(peer, replicating) // replicateLocked moves it back if the log moved on
	rf.replicateLocked(peer, now)                // the entries after the snapshot, if any
	rf.checkInvariantsLocked()
}
