package raft

// The in-memory log and its snapshot offset, and the pure helpers that Figure 2's
// rules need: index translation, the conflict search of section 5.3, the election
// restriction of section 5.4.1 and the majority match index of the commit rule.
// Nothing here locks; the caller holds rf.mu.

import (
	"fmt"
	"slices"
	"sort"
)

// LogEntry is one entry of the replicated log (Figure 2: "each entry contains
// command for state machine, and term when entry was received by leader").
// It travels in AppendEntries and is saved by the Persister, so its fields are
// exported for gob.
type LogEntry struct {
	Term    int         // term in which a leader received the command
	Command interface{} // the service's command; its type must be known to labgob
}

// raftLog is the log after a snapshot (section 7). Index 0 is a sentinel that is
// always "in" the snapshot, so an empty log has snapshotIndex 0, snapshotTerm 0
// and lastIndex 0, and the first real entry has index 1.
//
// Invariants:
//   - entries[i] holds the entry with index snapshotIndex+1+i;
//   - terms never decrease along the log, and the first entry's term is at
//     least snapshotTerm (Figure 2: a leader appends entries of its own term,
//     and terms only grow);
//   - no slot of the backing array beyond len(entries) references a command,
//     so discarded entries can be collected.
type raftLog struct {
	snapshotIndex int        // index of the last entry the snapshot covers; 0: none
	snapshotTerm  int        // term of that entry; 0 with no snapshot
	entries       []LogEntry // the entries after the snapshot
}

// lastIndex returns the index of the last entry, or snapshotIndex when the log
// holds no entries after the snapshot.
func (l *raftLog) lastIndex() int { return l.snapshotIndex + len(l.entries) }

// lastTerm returns the term of the last entry (snapshotTerm if there is none).
func (l *raftLog) lastTerm() int {
	if len(l.entries) == 0 {
		return l.snapshotTerm
	}
	return l.entries[len(l.entries)-1].Term
}

// has reports whether term(index) is known: index is the snapshot's last index
// or an entry still in the log.
func (l *raftLog) has(index int) bool {
	return index >= l.snapshotIndex && index <= l.lastIndex()
}

// pos translates a log index into a position in entries. It panics, naming
// the index translation invariant, when the entry is not in memory.
func (l *raftLog) pos(index int) int {
	if index <= l.snapshotIndex || index > l.lastIndex() {
		panic(fmt.Sprintf("raft: index translation: entry %d is not in the log (snapshot through %d, last %d)",
			index, l.snapshotIndex, l.lastIndex()))
	}
	return index - l.snapshotIndex - 1
}

// term returns the term of the entry at index, which must satisfy has(index).
func (l *raftLog) term(index int) int {
	if index == l.snapshotIndex {
		return l.snapshotTerm
	}
	return l.entries[l.pos(index)].Term
}

// at returns the entry at index; snapshotIndex < index <= lastIndex.
func (l *raftLog) at(index int) LogEntry { return l.entries[l.pos(index)] }

// copyRange returns a new slice holding entries from..to inclusive (none when
// to < from). The caller owns it: later changes to the log do not reach it, so
// it may be handed to an RPC or the applier after rf.mu is released.
func (l *raftLog) copyRange(from, to int) []LogEntry {
	if to < from {
		return nil
	}
	return slices.Clone(l.entries[l.pos(from) : l.pos(to)+1])
}

// append adds entries at the end of the log and returns the new last index.
// It panics, naming the invariant, if the first new entry's term is lower
// than the last entry's: the cheap half of the check that terms never
// decrease (the caller vouches for the order among the new entries).
func (l *raftLog) append(entries ...LogEntry) int {
	if len(entries) > 0 && entries[0].Term < l.lastTerm() {
		panic(fmt.Sprintf("raft: invariant log terms never decrease violated: entry %d of term %d after term %d",
			l.lastIndex()+1, entries[0].Term, l.lastTerm()))
	}
	l.entries = append(l.entries, entries...)
	return l.lastIndex()
}

// truncateFrom removes the entry at index and every entry after it, clearing
// the freed slots so their commands can be collected.
func (l *raftLog) truncateFrom(index int) {
	p := l.pos(index)
	clear(l.entries[p:])
	l.entries = l.entries[:p]
}

// compactThrough makes index (with term) the snapshot's last entry. If the log
// holds that entry with that term, the entries after it are kept; otherwise the
// whole log is discarded (section 7, InstallSnapshot receiver rules 6 and 7).
// The kept entries move to a new backing array, so the discarded ones are freed.
func (l *raftLog) compactThrough(index, term int) {
	var kept []LogEntry
	if index < l.lastIndex() && l.has(index) && l.term(index) == term {
		kept = slices.Clone(l.entries[index-l.snapshotIndex:])
	}
	l.snapshotIndex, l.snapshotTerm, l.entries = index, term, kept
}

// compactedTail holds the last committed entries that snapshots removed from
// the log, in memory only: they are never saved, so the persisted state
// stays as small as the snapshots make it. A leader sends from it to a
// follower just behind the snapshot, by AppendEntries, instead of sending
// the whole snapshot: when the service snapshots every few entries, a
// follower whose reply is a moment late would otherwise get one snapshot
// after another. Only the entries that followers still answering may need
// are kept (see Raft.oldestNeededLocked), so a follower cut off for a while
// gets the snapshot. A restart, or a snapshot installed from a leader,
// empties the tail; section 7 allows either message, so it is only an
// economy.
//
// Invariants: entries are committed and contiguous, and when there are any,
// the last has index end, which is the log's snapshotIndex (retain and
// reset keep it so), and prevTerm is the term of the entry before the first
// (0 for index 0), so that an AppendEntries can start at the first.
type compactedTail struct {
	entries  []LogEntry // entries[i] has index end-len(entries)+1+i
	end      int        // index of the last entry, when entries is not empty
	prevTerm int        // term of the entry at index first()-1
}

// maxCompactedTail bounds the entries a compactedTail keeps: a follower
// further behind gets the snapshot.
const maxCompactedTail = maxEntriesPerAppend

// first returns the index of the first entry (end+1 when there are none).
func (t *compactedTail) first() int { return t.end - len(t.entries) + 1 }

// hasTerm reports whether the tail knows the term of the entry at index:
// an entry it holds, or the one just before them.
func (t *compactedTail) hasTerm(index int) bool {
	return len(t.entries) > 0 && index >= t.first()-1 && index <= t.end
}

// term returns the term of the entry at index; hasTerm(index) must hold.
func (t *compactedTail) term(index int) int {
	if index == t.first()-1 {
		return t.prevTerm
	}
	return t.at(index).Term
}

// at returns the entry at index, which the tail must hold.
func (t *compactedTail) at(index int) LogEntry { return t.entries[index-t.first()] }

// retain adds the entries a snapshot is about to remove from l, those
// through index, and keeps at most maxCompactedTail entries, none before
// keepFrom (an entry no follower can need). A tail that does not end where
// the log's snapshot ends starts over.
func (t *compactedTail) retain(l *raftLog, index, keepFrom int) {
	if len(t.entries) > 0 && t.end != l.snapshotIndex {
		t.reset()
	}
	if len(t.entries) == 0 {
		t.prevTerm = l.snapshotTerm
	}
	t.entries = append(t.entries, l.entries[:l.pos(index)+1]...)
	t.end = index
	drop := max(len(t.entries)-maxCompactedTail, min(keepFrom-t.first(), len(t.entries)))
	if drop > 0 {
		t.prevTerm = t.entries[drop-1].Term
		clear(t.entries[:drop]) // let the commands be collected
		t.entries = t.entries[drop:]
	}
}

// reset empties the tail.
func (t *compactedTail) reset() {
	clear(t.entries)
	t.entries, t.end, t.prevTerm = nil, 0, 0
}

// mergeFromLeader applies Figure 2's AppendEntries receiver rules 3 and 4 to
// entries that follow prevIndex, a matching entry of this log
// (snapshotIndex <= prevIndex <= lastIndex): an existing entry that conflicts
// with a new one (same index, different term) is deleted with all that follow
// it, and any new entries not already in the log are appended. Entries that
// already match are left alone, so a delayed, shorter AppendEntries never
// truncates entries a later one delivered. It returns the index from which
// entries were removed (0 if none were) and whether the log changed.
func (l *raftLog) mergeFromLeader(prevIndex int, entries []LogEntry) (truncatedFrom int, changed bool) {
	skip := 0 // entries already in the log, matching
	for skip < len(entries) && prevIndex+1+skip <= l.lastIndex() && l.term(prevIndex+1+skip) == entries[skip].Term {
		skip++
	}
	if skip == len(entries) {
		return 0, false
	}
	if index := prevIndex + 1 + skip; index <= l.lastIndex() {
		l.truncateFrom(index)
		truncatedFrom = index
	}
	l.append(entries[skip:]...)
	return truncatedFrom, true
}

// firstConflict returns the index of the first entry of the log that
// mergeFromLeader(prevIndex, entries) would delete, or 0 if it would
// delete none.
func (l *raftLog) firstConflict(prevIndex int, entries []LogEntry) int {
	for i, e := range entries {
		index := prevIndex + 1 + i
		if index > l.lastIndex() {
			return 0
		}
		if l.term(index) != e.Term {
			return index
		}
	}
	return 0
}

// checkTermsMonotonic returns an error naming the first entry after index
// from (snapshotIndex <= from <= lastIndex) whose term is lower than the
// one before it, or nil; from = snapshotIndex checks the whole log, against
// the snapshot's term. Tests and RAFT_DEBUG=1 run it over the entries added
// since the last check, after every change (see Raft.checkInvariantsLocked);
// append checks each new boundary always.
func (l *raftLog) checkTermsMonotonic(from int) error {
	if from >= l.lastIndex() {
		return nil
	}
	prev := l.term(from)
	for i := from - l.snapshotIndex; i < len(l.entries); i++ {
		e := l.entries[i]
		if e.Term < prev {
			return fmt.Errorf("entry %d has term %d after term %d", l.snapshotIndex+1+i, e.Term, prev)
		}
		prev = e.Term
	}
	return nil
}

// firstIndexOfTerm returns the first index in the log whose term is term,
// looking no further back than snapshotIndex+1 (what came before is gone). The
// caller knows the log holds an entry of that term. Terms never decrease along
// the log, so this is a binary search.
func (l *raftLog) firstIndexOfTerm(term int) int {
	p := sort.Search(len(l.entries), func(i int) bool { return l.entries[i].Term >= term })
	return l.snapshotIndex + 1 + p
}

// lastIndexOfTerm returns the last index whose term is term, counting the
// snapshot's last entry, and false if the log (as far as it is known) holds no
// entry of that term.
func (l *raftLog) lastIndexOfTerm(term int) (int, bool) {
	p := sort.Search(len(l.entries), func(i int) bool { return l.entries[i].Term > term })
	index := l.snapshotIndex + p // the entry just before position p
	if index > 0 && l.term(index) == term {
		return index, true
	}
	return 0, false
}

// conflictHint computes what a follower that refuses an AppendEntries tells
// the leader (the optimization at the end of section 5.3). With no entry at
// prevIndex it returns term 0 and the first index it lacks; with an entry of
// another term, that term and the first index the log holds of it, so the
// leader can skip the whole term in one round trip. prevIndex must be after the
// snapshot (entries up to snapshotIndex are committed and always match).
func conflictHint(l *raftLog, prevIndex int) (conflictTerm, conflictIndex int) {
	if prevIndex > l.lastIndex() {
		return 0, l.lastIndex() + 1
	}
	conflictTerm = l.term(prevIndex)
	return conflictTerm, l.firstIndexOfTerm(conflictTerm)
}

// nextIndexAfterConflict is the leader's side of the fast backup: given a
// follower's conflict hint, the next index to try. If the leader holds entries
// of the follower's conflicting term, it resumes just after its own last entry
// of that term; otherwise it skips the follower's whole term. The result may
// be at or below the leader's snapshot, in which case InstallSnapshot follows.
func nextIndexAfterConflict(l *raftLog, conflictTerm, conflictIndex int) int {
	if conflictTerm != 0 {
		if last, ok := l.lastIndexOfTerm(conflictTerm); ok {
			return last + 1
		}
	}
	return conflictIndex
}

// isLogUpToDate is the election restriction (section 5.4.1): a candidate's log,
// ending with (candidateLastIndex, candidateLastTerm), is at least as up to
// date as a voter's log ending with (lastIndex, lastTerm) if its last term is
// later, or the same with an index at least as large.
func isLogUpToDate(candidateLastIndex, candidateLastTerm, lastIndex, lastTerm int) bool {
	if candidateLastTerm != lastTerm {
		return candidateLastTerm > lastTerm
	}
	return candidateLastIndex >= lastIndex
}

// majorityMatchIndex returns the largest N such that a majority of the peers
// have matchIndex >= N (Figure 2, Rules for Servers, Leaders, last rule). match
// holds one value per peer, the leader's own included; it is not modified.
func majorityMatchIndex(match []int) int {
	sorted := slices.Clone(match)
	slices.Sort(sorted)
	// With n peers, the value at position (n-1)/2 of the ascending order is
	// reached by the n-(n-1)/2 peers at or after it: a majority.
	return sorted[(len(sorted)-1)/2]
}
