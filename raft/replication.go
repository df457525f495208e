package raft

// Log replication (section 5.3): AppendEntries' arguments, reply and handler,
// the per-peer replicator, the leader's handling of replies (with the fast
// backup of section 5.3) and the commit rule (Figure 2 and Figure 8).

import (
	"fmt"
	"runtime"
	"time"
)

// AppendEntriesArgs are the arguments of AppendEntries (Figure 2), sent by the
// leader to replicate entries and as a heartbeat.
type AppendEntriesArgs struct {
	Term         int        // leader's term
	LeaderId     int        // so the follower can redirect clients
	PrevLogIndex int        // index of the log entry immediately preceding the new ones
	PrevLogTerm  int        // term of the PrevLogIndex entry
	Entries      []LogEntry // entries to store (empty for a heartbeat)
	LeaderCommit int        // leader's commitIndex
}

// AppendEntriesReply is the reply to AppendEntries (Figure 2), with the hint of
// section 5.3 that lets the leader skip a whole conflicting term at once.
type AppendEntriesReply struct {
	Term    int  // the follower's currentTerm, for the leader to update itself
	Success bool // the follower held an entry matching PrevLogIndex and PrevLogTerm
	// On failure: ConflictTerm is the term of the follower's entry at
	// PrevLogIndex, and ConflictIndex the first index it holds of that term;
	// or, if it has no entry there, ConflictTerm is 0 and ConflictIndex is
	// the first index it lacks.
	ConflictTerm  int
	ConflictIndex int
}

// AppendEntries is the AppendEntries RPC handler (Figure 2, AppendEntries RPC,
// receiver implementation). A malformed request is refused and changes
// nothing (validate.go). The reply is sent only after the log and term it
// depends on are saved.
func (rf *Raft) AppendEntries(args *AppendEntriesArgs, reply *AppendEntriesReply) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.killed() {
		return // a crashed peer answers nothing; Term 0 marks the reply void
	}
	reply.Term = rf.currentTerm
	if err := validateAppendEntries(args, len(rf.peers), rf.me); err != nil {
		rf.debugf(tAppend, "refused malformed request: %v", err)
		return
	}
	// Rule 1: reply false if term < currentTerm.
	if args.Term < rf.currentTerm {
		return
	}
	// A current leader exists: follow it (a candidate steps down, section
	// 5.2) and give it time before starting an election.
	rf.becomeFollowerLocked(args.Term)
	rf.noteLeaderLocked(time.Now())
	reply.Term = rf.currentTerm
	rf.appendFromLeaderLocked(args, reply)
	if rf.persistDirty {
		rf.persistLocked()
	}
	rf.checkInvariantsLocked()
}

// appendFromLeaderLocked applies rules 2 to 5 of the AppendEntries receiver to
// a request of the current term.
func (rf *Raft) appendFromLeaderLocked(args *AppendEntriesArgs, reply *AppendEntriesReply) {
	prevIndex, prevTerm, entries := args.PrevLogIndex, args.PrevLogTerm, args.Entries
	lastNew := prevIndex + len(entries) // the index of the last new entry
	// Entries up to the snapshot are committed, so they match the leader's
	// (Leader Completeness): skip those and check against the snapshot's end.
	if prevIndex < rf.log.snapshotIndex {
		skip := min(rf.log.snapshotIndex-prevIndex, len(entries))
		prevIndex, entries = prevIndex+skip, entries[skip:]
		if prevIndex < rf.log.snapshotIndex {
			reply.Success = true // everything sent is inside our snapshot
			return
		}
		prevTerm = rf.log.snapshotTerm
	}
	// Rule 2: reply false if the log has no entry at prevLogIndex whose term
	// matches prevLogTerm. The reply names the conflicting term and its first
	// index (end of section 5.3), so the leader skips a whole term.
	if prevIndex > rf.log.lastIndex() || rf.log.term(prevIndex) != prevTerm {
		reply.ConflictTerm, reply.ConflictIndex = conflictHint(&rf.log, prevIndex)
		rf.debugf(tAppend, "refused S%d: no entry %d of term %d (conflict term %d from index %d)",
			args.LeaderId, prevIndex, prevTerm, reply.ConflictTerm, reply.ConflictIndex)
		return
	}
	// Rules 3 and 4: delete a conflicting suffix, append what is new. A
	// committed entry is never deleted (Leader Completeness, section 5.4):
	// a leader that asks for it is broken, and so would we be if we obeyed.
	if conflict := rf.log.firstConflict(prevIndex, entries); conflict != 0 && conflict <= rf.commitIndex {
		panic(fmt.Sprintf("raft: S%d T%d: invariant committed entries are never truncated violated: S%d's AppendEntries "+
			"conflicts at entry %d (term %d, ours %d), committed through %d",
			rf.me, rf.currentTerm, args.LeaderId, conflict, entries[conflict-prevIndex-1].Term, rf.log.term(conflict), rf.commitIndex))
	}
	if truncatedFrom, changed := rf.log.mergeFromLeader(prevIndex, entries); changed {
		rf.persistDirty = true
		if truncatedFrom != 0 {
			rf.termsCheckedThrough = min(rf.termsCheckedThrough, truncatedFrom-1)
			rf.stream.invalidateFrom(truncatedFrom - rf.log.snapshotIndex - 1)
			rf.debugf(tAppend, "removed conflicting entries from %d", truncatedFrom)
		}
	}
	reply.Success = true
	// Rule 5: if leaderCommit > commitIndex, set commitIndex =
	// min(leaderCommit, index of last new entry).
	if newCommit := min(args.LeaderCommit, lastNew); newCommit > rf.commitIndex {
		rf.setCommitIndexLocked(newCommit)
	}
}

// replicator keeps one follower's log in step with the leader's: it sends
// new entries (woken by Start), heartbeats, commit notices (with
// sendCommitNotices) and retries of lost or overdue calls. The reply handler
// helps: when more entries accumulated while a batch was in flight, it sends
// them itself (through replicateLocked), saving a goroutine switch. The
// replicator wakes on its own timer, set to the next deadline, and through
// wakeReplicator on Start, when its peer takes office and after a lost call;
// it sends nothing unless this peer leads. It makes no call itself: calls run
// on the peer's sender (see goCallLocked), so a slow or unreachable follower
// never holds back anything else. It exits on Kill.
func (rf *Raft) replicator(peer int) {
	defer rf.workers.Done()
	timer := time.NewTimer(heartbeatInterval)
	defer timer.Stop()
	for {
		select {
		case <-rf.done:
			return
		case <-rf.wakeReplicator[peer]:
		case <-timer.C:
		}
		// Let whatever else is ready to run go first: under load these are
		// services about to call Start, whose commands then share this
		// batch. When nothing else is runnable this returns at once.
		runtime.Gosched()
		rf.mu.Lock()
		wait := rf.replicateLocked(peer, time.Now())
		rf.mu.Unlock()
		if !timer.Stop() {
			select { // drain a tick that fired meanwhile
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// sender makes calls to one peer, one at a time, handed to it by
// goCallLocked: reusing one goroutine, whose stack has grown to what a call
// needs, is much cheaper than starting one per call. It ends on Kill, once
// the call it is making returns. Kill does not wait for it: a call to an
// unreachable peer may take seconds to fail.
func (rf *Raft) sender(peer int) {
	defer rf.calls.Done()
	for {
		select {
		case <-rf.done:
			return
		case call := <-rf.sendq[peer]:
			call(true)
		}
	}
}

// goCallLocked runs call, which makes one RPC to peer and handles the reply,
// on peer's sender goroutine if it is idle, and on a new goroutine if not:
// a call never waits for another (a heartbeat must not wait seconds behind
// a call to an unreachable peer).
func (rf *Raft) goCallLocked(peer int, call func(onSender bool)) {
	if rf.senderIdle[peer] {
		// The sender is idle, so its queue is empty: this cannot block.
		rf.senderIdle[peer] = false
		rf.sendq[peer] <- call
		return
	}
	rf.calls.Add(1)
	go func() {
		defer rf.calls.Done()
		call(false)
	}()
}

// releaseSenderLocked marks peer's sender idle when a call that ran on it
// (onSender) has its reply. It is done before the reply is handled, so a
// call the handling starts goes to the same sender, next.
func (rf *Raft) releaseSenderLocked(peer int, onSender bool) {
	if onSender {
		rf.senderIdle[peer] = true
	}
}

// replicateLocked sends peer whatever decideSend (progress.go) says is due
// now, and returns how long the replicator may sleep before something else
// falls due. A follower whose next entry is gone from the log (and from
// the compacted tail) moves to snapshotting first.
func (rf *Raft) replicateLocked(peer int, now time.Time) time.Duration {
	if rf.killed() || rf.role != leader {
		return heartbeatInterval // idle; a wake-up comes with leadership
	}
	pr := &rf.progress[peer]
	if pr.state != snapshotting && !rf.canAppendFromLocked(rf.nextIndex[peer]) {
		rf.setFollowerStateLocked(peer, snapshotting)
	}
	for sends := 0; ; sends++ {
		kind, next := decideSend(pr, rf.followerViewLocked(peer), now)
		if kind == sendNothing || sends == 2 { // a send makes the next one wait: 2 is a safety net
			return max(next.Sub(now), time.Millisecond/10)
		}
		switch kind {
		case sendSnapshot:
			rf.sendSnapshotLocked(peer, now)
		case sendEntries:
			rf.sendAppendLocked(peer, now, true)
		case sendHeartbeat:
			rf.sendAppendLocked(peer, now, false)
		}
		if rf.persistDirty {
			// The leader saves new entries after sending them, so that its
			// own write overlaps the follower's (Raft thesis, section
			// 10.2.1). That is safe: the leader counts itself toward a
			// majority only for entries it has saved (matchIndex[me]), and
			// if it crashes first, the entries it lost were never
			// committed, and no other entry of its term can take their
			// indices.
			rf.persistLocked()
			rf.advanceCommitIndexLocked() // the leader's own match grew
		}
	}
}

// followerViewLocked is what decideSend needs to know of peer's log.
func (rf *Raft) followerViewLocked(peer int) followerView {
	return followerView{
		lacksEntries: rf.nextIndex[peer] <= rf.log.lastIndex(),
		commitNotice: rf.commitIndex > rf.progress[peer].sentCommit,
		noticeFrom:   rf.commitAdvancedAt.Add(commitNoticeDelay),
	}
}

// setFollowerStateLocked moves peer to state s.
func (rf *Raft) setFollowerStateLocked(peer int, s followerState) {
	if pr := &rf.progress[peer]; pr.state != s {
		if debugEnabled {
			rf.debugf(tAppend, "S%d: %v -> %v (next index %d, match %d)", peer, pr.state, s, rf.nextIndex[peer], rf.matchIndex[peer])
		}
		pr.state = s
	}
}

// sendAppendLocked sends one AppendEntries to peer (see goCallLocked), with
// the entries from nextIndex on if withEntries, else as an empty
// heartbeat. canAppendFromLocked(nextIndex) must hold, except for the
// heartbeat of a snapshotting follower: it names the snapshot's last entry,
// which a follower that already holds it (a snapshot whose answer was
// lost) confirms, and others refuse, harmlessly.
func (rf *Raft) sendAppendLocked(peer int, now time.Time, withEntries bool) {
	pr := &rf.progress[peer]
	prev := rf.nextIndex[peer] - 1
	if pr.state == snapshotting {
		prev = rf.log.snapshotIndex
	}
	args := &AppendEntriesArgs{
		Term:         rf.currentTerm,
		LeaderId:     rf.me,
		PrevLogIndex: prev,
		PrevLogTerm:  rf.termAtLocked(prev),
		LeaderCommit: rf.commitIndex,
	}
	var seq uint64
	kind := sendHeartbeat
	if withEntries {
		limit := maxEntriesPerAppend
		if pr.state == probing {
			limit = maxProbeEntries
		}
		args.Entries = rf.entriesFromLocked(prev+1, limit)
		rf.rpcSeq++
		seq, kind = rf.rpcSeq, sendEntries
	}
	pr.noteSent(kind, seq, rf.commitIndex, now)
	rf.goCallLocked(peer, func(onSender bool) { rf.appendEntries(peer, args, seq, onSender) })
}

// canAppendFromLocked reports whether an AppendEntries can carry the entries
// from next on: the log holds them and the term of the entry before them,
// or the compacted tail holds what the log no longer does.
func (rf *Raft) canAppendFromLocked(next int) bool {
	return next > rf.log.snapshotIndex || rf.tail.hasTerm(next-1)
}

// termAtLocked returns the term of the entry at index, from the log or the
// compacted tail; canAppendFromLocked(index+1) must hold.
func (rf *Raft) termAtLocked(index int) int {
	if index >= rf.log.snapshotIndex {
		return rf.log.term(index)
	}
	return rf.tail.term(index)
}

// entriesFromLocked returns a new slice of at most limit entries from next
// on, taking from the compacted tail what the log no longer holds;
// canAppendFromLocked(next) must hold.
func (rf *Raft) entriesFromLocked(next, limit int) []LogEntry {
	last := min(rf.log.lastIndex(), next+limit-1)
	if next > rf.log.snapshotIndex {
		return rf.log.copyRange(next, last)
	}
	out := make([]LogEntry, 0, last-next+1)
	for i := next; i <= min(last, rf.log.snapshotIndex); i++ {
		out = append(out, rf.tail.at(i))
	}
	if last > rf.log.snapshotIndex {
		out = append(out, rf.log.entries[:last-rf.log.snapshotIndex]...)
	}
	return out
}

// appendEntries makes one AppendEntries call and handles the reply; onSender
// tells whether it runs on peer's sender goroutine.
func (rf *Raft) appendEntries(peer int, args *AppendEntriesArgs, seq uint64, onSender bool) {
	var reply AppendEntriesReply
	ok := rf.peers[peer].Call("Raft.AppendEntries", args, &reply)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.releaseSenderLocked(peer, onSender)
	rf.progress[peer].noteReturned(seq)
	if rf.killed() {
		return
	}
	if !ok || reply.Term < args.Term {
		// Lost, or void (the peer was killed). Whatever this call carried
		// goes again after a backoff, the commit index included.
		rf.noteLostCallLocked(peer, args.Term, args.LeaderCommit)
		return
	}
	if reply.Term > rf.currentTerm {
		rf.becomeFollowerLocked(reply.Term)
		rf.persistLocked()
		return
	}
	if rf.role != leader || rf.currentTerm != args.Term {
		return // the world moved on while we waited
	}
	now := time.Now()
	pr := &rf.progress[peer]
	pr.noteAnswered(now)
	switch {
	case reply.Success:
		rf.advanceMatchLocked(peer, args.PrevLogIndex+len(args.Entries))
		rf.setFollowerStateLocked(peer, replicating)
		if rf.nextIndex[peer] <= rf.log.lastIndex() {
			rf.replicateLocked(peer, now) // more accumulated meanwhile: send it now
		}
	case pr.state == snapshotting:
		// A heartbeat naming the snapshot's last entry, which the
		// follower lacks, or a stale answer: the snapshot settles it.
	default:
		// Section 5.3: after a rejection, decrement nextIndex and retry;
		// the conflict hint lets us skip a whole term. Never go back to
		// or below what the peer is known to hold.
		next := nextIndexAfterConflict(&rf.log, reply.ConflictTerm, reply.ConflictIndex)
		next = max(next, rf.matchIndex[peer]+1)
		next = min(next, rf.log.lastIndex()+1)
		rf.debugf(tAppend, "S%d refused entry %d of term %d: next index %d -> %d",
			peer, args.PrevLogIndex, args.PrevLogTerm, rf.nextIndex[peer], next)
		rf.nextIndex[peer] = next
		rf.setFollowerStateLocked(peer, probing)
		rf.replicateLocked(peer, now) // try again at once, unless a batch is in flight
	}
	rf.checkInvariantsLocked()
}

// noteLostCallLocked makes what a lost call to peer, sent in term, carried
// go again after a backoff (see peerProgress.noteLost), so an unreachable
// peer is not flooded. leaderCommit is the commit index the call carried
// (-1 for none). A call of an earlier leadership changes nothing.
func (rf *Raft) noteLostCallLocked(peer, term, leaderCommit int) {
	if rf.role != leader || rf.currentTerm != term {
		return
	}
	rf.progress[peer].noteLost(leaderCommit, time.Now())
	rf.wakeReplicatorLocked(peer)
}

// advanceMatchLocked records that peer holds the leader's log through index
// (Figure 2: "If successful: update nextIndex and matchIndex for follower"),
// and commits what a majority now holds.
func (rf *Raft) advanceMatchLocked(peer, index int) {
	if index > rf.matchIndex[peer] {
		rf.matchIndex[peer] = index
		rf.advanceCommitIndexLocked()
	}
	rf.nextIndex[peer] = max(rf.nextIndex[peer], rf.matchIndex[peer]+1)
}

// advanceCommitIndexLocked is the leader's commit rule (Figure 2, Rules for
// Servers, Leaders): if there exists an N > commitIndex such that a majority of
// matchIndex[i] >= N and log[N].term == currentTerm, set commitIndex = N. Only
// entries of the current term are committed by counting replicas; earlier ones
// commit with them (section 5.4.2, Figure 8).
func (rf *Raft) advanceCommitIndexLocked() {
	n := majorityMatchIndex(rf.matchIndex)
	if n <= rf.commitIndex || rf.log.term(n) != rf.currentTerm {
		return
	}
	if debugEnabled { // a hot path: spare the arguments' allocation
		rf.debugf(tCommit, "commit index %d -> %d", rf.commitIndex, n)
	}
	rf.setCommitIndexLocked(n)
	rf.commitAdvancedAt = time.Now()
	rf.armCommitNoticesLocked(commitNoticeDelay)
}

// armCommitNoticesLocked makes sendCommitNotices run after d, unless it is
// already due to run. One timer serves all peers, and a burst of commits,
// so that a commit costs no goroutine switch when the next AppendEntries
// carries it anyway.
func (rf *Raft) armCommitNoticesLocked(d time.Duration) {
	if rf.noticeArmed || rf.killed() {
		return
	}
	rf.noticeArmed = true
	if rf.noticeTimer == nil {
		rf.noticeTimer = time.AfterFunc(d, rf.sendCommitNotices)
	} else {
		rf.noticeTimer.Reset(d)
	}
}

// sendCommitNotices runs on noticeTimer's own goroutine: it tells each
// follower that has not heard of the current commitIndex within
// commitNoticeDelay of the last commit, and looks again later if the last
// commit is more recent than that. After Kill it does nothing.
func (rf *Raft) sendCommitNotices() {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.noticeArmed = false
	if rf.killed() || rf.role != leader {
		return
	}
	now := time.Now()
	pending := false
	for p := range rf.peers {
		if p != rf.me && rf.commitIndex > rf.progress[p].sentCommit {
			rf.replicateLocked(p, now)
			pending = pending || rf.commitIndex > rf.progress[p].sentCommit
		}
	}
	if wait := rf.commitAdvancedAt.Add(commitNoticeDelay).Sub(now); pending && wait > 0 {
		rf.armCommitNoticesLocked(wait)
	}
}
