package raft

// Table tests of the pure log helpers in log.go: index translation across a
// snapshot, the merge of Figure 2's AppendEntries rules 3 and 4, the conflict
// search of section 5.3, the election restriction of section 5.4.1 and the
// majority match index of the commit rule.

import (
	"reflect"
	"strings"
	"testing"
)

// logOfTerms builds a log whose snapshot ends at snapshotIndex (with
// snapshotTerm) followed by entries with the given terms; each command is
// its index, so tests can see which entries survive.
func logOfTerms(snapshotIndex, snapshotTerm int, terms ...int) raftLog {
	l := raftLog{snapshotIndex: snapshotIndex, snapshotTerm: snapshotTerm}
	for i, term := range terms {
		l.entries = append(l.entries, LogEntry{Term: term, Command: snapshotIndex + 1 + i})
	}
	return l
}

// termsOf returns the terms of l's entries.
func termsOf(l *raftLog) []int {
	terms := []int{}
	for _, e := range l.entries {
		terms = append(terms, e.Term)
	}
	return terms
}

// TestLogTranslatesIndicesAcrossSnapshot: entries after a snapshot keep their
// log indices (section 7); the snapshot's last entry still has a known term.
func TestLogTranslatesIndicesAcrossSnapshot(t *testing.T) {
	l := logOfTerms(10, 3, 3, 4, 4) // indices 11, 12, 13
	tests := []struct {
		name  string
		index int
		has   bool
		term  int
	}{
		{"before the snapshot", 9, false, 0},
		{"the snapshot's last entry", 10, true, 3},
		{"first entry", 11, true, 3},
		{"last entry", 13, true, 4},
		{"past the end", 14, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := l.has(tc.index); got != tc.has {
				t.Fatalf("has(%d) = %v, want %v", tc.index, got, tc.has)
			}
			if tc.has {
				if got := l.term(tc.index); got != tc.term {
					t.Fatalf("term(%d) = %d, want %d", tc.index, got, tc.term)
				}
			}
		})
	}
	if l.lastIndex() != 13 || l.lastTerm() != 4 {
		t.Fatalf("last entry (%d, term %d), want (13, term 4)", l.lastIndex(), l.lastTerm())
	}
	if got := l.at(12).Command; got != 12 {
		t.Fatalf("at(12) holds command %v, want 12", got)
	}
	if got := l.copyRange(12, 13); len(got) != 2 || got[0].Command != 12 || got[1].Command != 13 {
		t.Fatalf("copyRange(12, 13) = %v", got)
	}
	empty := raftLog{}
	if empty.lastIndex() != 0 || empty.lastTerm() != 0 || !empty.has(0) {
		t.Fatalf("an empty log must end at index 0, term 0")
	}
}

// TestLogPanicsNamingIndexTranslation: asking for an entry the log does not
// hold is a bug, and the panic names the invariant.
func TestLogPanicsNamingIndexTranslation(t *testing.T) {
	l := logOfTerms(5, 2, 2, 2)
	for _, index := range []int{5, 4, 8} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Fatalf("at(%d) did not panic", index)
				} else if msg, _ := r.(string); !strings.Contains(msg, "index translation") {
					t.Fatalf("at(%d) panicked with %q, which does not name the invariant", index, r)
				}
			}()
			l.at(index)
		}()
	}
}

// TestMergeFromLeaderFollowsAppendEntriesRules3And4: a conflicting entry and
// all that follow it go; matching entries stay; new ones are appended; a
// stale, shorter request never truncates (Figure 2, AppendEntries rules 3, 4).
func TestMergeFromLeaderFollowsAppendEntriesRules3And4(t *testing.T) {
	tests := []struct {
		name          string
		log           raftLog
		prevIndex     int
		entries       []int // terms of the entries sent
		wantTerms     []int
		wantTruncated int
		wantChanged   bool
	}{
		{"append to an empty log", logOfTerms(0, 0), 0, []int{1, 1}, []int{1, 1}, 0, true},
		{"heartbeat changes nothing", logOfTerms(0, 0, 1, 1), 2, nil, []int{1, 1}, 0, false},
		{"all entries already present", logOfTerms(0, 0, 1, 1, 2), 0, []int{1, 1}, []int{1, 1, 2}, 0, false},
		{"stale shorter request keeps later entries", logOfTerms(0, 0, 1, 1, 1, 1), 1, []int{1}, []int{1, 1, 1, 1}, 0, false},
		{"extend past the end", logOfTerms(0, 0, 1, 1), 1, []int{1, 2, 2}, []int{1, 1, 2, 2}, 0, true},
		{"conflict truncates and appends", logOfTerms(0, 0, 1, 1, 1, 1), 1, []int{2, 2}, []int{1, 2, 2}, 2, true},
		{"conflict at the first new entry", logOfTerms(0, 0, 1, 2, 2), 1, []int{3}, []int{1, 3}, 2, true},
		{"after a snapshot", logOfTerms(10, 2, 2, 2, 3), 11, []int{2, 4}, []int{2, 2, 4}, 13, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.log
			var entries []LogEntry
			for _, term := range tc.entries {
				entries = append(entries, LogEntry{Term: term})
			}
			truncated, changed := l.mergeFromLeader(tc.prevIndex, entries)
			if got := termsOf(&l); !reflect.DeepEqual(got, tc.wantTerms) {
				t.Fatalf("log terms %v, want %v", got, tc.wantTerms)
			}
			if truncated != tc.wantTruncated || changed != tc.wantChanged {
				t.Fatalf("truncated from %d, changed %v; want %d, %v", truncated, changed, tc.wantTruncated, tc.wantChanged)
			}
		})
	}
}

// TestTruncateFromFreesEntries: removed entries leave no reference in the
// backing array, so their commands can be collected (section 7's point).
func TestTruncateFromFreesEntries(t *testing.T) {
	l := logOfTerms(0, 0, 1, 1, 1, 1)
	l.truncateFrom(3)
	rest := l.entries[:cap(l.entries)]
	for i := 2; i < len(rest); i++ {
		if rest[i].Command != nil {
			t.Fatalf("slot %d still holds command %v after truncation", i, rest[i].Command)
		}
	}
	if l.lastIndex() != 2 {
		t.Fatalf("last index %d after truncateFrom(3), want 2", l.lastIndex())
	}
}

// TestCompactThroughKeepsOnlyAMatchingSuffix: a snapshot whose last entry
// the log holds keeps the entries after it; otherwise the log is discarded
// (Figure 13, InstallSnapshot rules 6 and 7). Kept entries move to a new
// backing array, so the discarded prefix is freed.
func TestCompactThroughKeepsOnlyAMatchingSuffix(t *testing.T) {
	tests := []struct {
		name         string
		index, term  int
		wantTerms    []int
		wantLastTerm int
	}{
		{"matching entry in the middle", 3, 2, []int{3, 3}, 3},
		{"matching last entry", 5, 3, []int{}, 3},
		{"term differs", 3, 3, []int{}, 3},
		{"beyond the end", 8, 4, []int{}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := logOfTerms(0, 0, 1, 2, 2, 3, 3)
			old := l.entries
			l.compactThrough(tc.index, tc.term)
			if l.snapshotIndex != tc.index || l.snapshotTerm != tc.term {
				t.Fatalf("snapshot (%d, %d), want (%d, %d)", l.snapshotIndex, l.snapshotTerm, tc.index, tc.term)
			}
			if got := termsOf(&l); !reflect.DeepEqual(got, tc.wantTerms) {
				t.Fatalf("kept terms %v, want %v", got, tc.wantTerms)
			}
			if l.lastTerm() != tc.wantLastTerm {
				t.Fatalf("last term %d, want %d", l.lastTerm(), tc.wantLastTerm)
			}
			if len(l.entries) > 0 && &l.entries[0] == &old[tc.index] {
				t.Fatalf("kept entries share the old backing array")
			}
			if len(l.entries) > 0 && l.at(tc.index+1).Command != tc.index+1 {
				t.Fatalf("entry %d holds command %v", tc.index+1, l.at(tc.index+1).Command)
			}
		})
	}
}

// TestConflictHintNamesTermAndFirstIndex: a follower that refuses an
// AppendEntries names the term of its entry at prevLogIndex and the first
// index of that term, or its log's end (end of section 5.3).
func TestConflictHintNamesTermAndFirstIndex(t *testing.T) {
	tests := []struct {
		name      string
		log       raftLog
		prevIndex int
		wantTerm  int
		wantIndex int
	}{
		{"log too short", logOfTerms(0, 0, 1, 1), 5, 0, 3},
		{"empty log", logOfTerms(0, 0), 1, 0, 1},
		{"conflicting term spans several entries", logOfTerms(0, 0, 1, 2, 2, 2), 4, 2, 2},
		{"conflict at the first entry of a term", logOfTerms(0, 0, 1, 1, 3), 3, 3, 3},
		{"term begins inside the snapshot", logOfTerms(10, 4, 4, 4, 5), 12, 4, 11},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			term, index := conflictHint(&tc.log, tc.prevIndex)
			if term != tc.wantTerm || index != tc.wantIndex {
				t.Fatalf("conflictHint(%d) = (term %d, index %d), want (term %d, index %d)",
					tc.prevIndex, term, index, tc.wantTerm, tc.wantIndex)
			}
		})
	}
}

// TestNextIndexAfterConflictSkipsWholeTerms: the leader resumes after its
// own last entry of the follower's conflicting term, or skips that term
// entirely when it has none of it (section 5.3).
func TestNextIndexAfterConflictSkipsWholeTerms(t *testing.T) {
	leaderLog := logOfTerms(0, 0, 1, 1, 4, 4, 5, 5) // indices 1..6
	tests := []struct {
		name          string
		log           raftLog
		conflictTerm  int
		conflictIndex int
		want          int
	}{
		{"follower log too short", leaderLog, 0, 3, 3},
		{"leader has the term", leaderLog, 4, 3, 5},
		{"leader lacks the term", leaderLog, 2, 2, 2},
		{"term only in the leader's snapshot", logOfTerms(20, 3, 5, 5), 3, 15, 21},
		{"older term gone with the snapshot", logOfTerms(20, 3, 5, 5), 2, 12, 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextIndexAfterConflict(&tc.log, tc.conflictTerm, tc.conflictIndex); got != tc.want {
				t.Fatalf("next index %d, want %d", got, tc.want)
			}
		})
	}
}

// TestIndexOfTermSearches: first and last index of a term, by binary search
// over a log whose terms never decrease.
func TestIndexOfTermSearches(t *testing.T) {
	l := logOfTerms(0, 0, 1, 1, 3, 3, 3, 6) // indices 1..6
	for _, tc := range []struct {
		term, first, last int
		has               bool
	}{{1, 1, 2, true}, {3, 3, 5, true}, {6, 6, 6, true}, {2, 0, 0, false}, {7, 0, 0, false}} {
		last, ok := l.lastIndexOfTerm(tc.term)
		if ok != tc.has || (ok && last != tc.last) {
			t.Errorf("lastIndexOfTerm(%d) = (%d, %v), want (%d, %v)", tc.term, last, ok, tc.last, tc.has)
		}
		if tc.has {
			if first := l.firstIndexOfTerm(tc.term); first != tc.first {
				t.Errorf("firstIndexOfTerm(%d) = %d, want %d", tc.term, first, tc.first)
			}
		}
	}
}

// TestIsLogUpToDateIsTheElectionRestriction: a later last term wins; with
// equal last terms the longer log wins (section 5.4.1).
func TestIsLogUpToDateIsTheElectionRestriction(t *testing.T) {
	tests := []struct {
		name                           string
		candIndex, candTerm, idx, term int
		want                           bool
	}{
		{"later term, shorter log", 3, 5, 10, 4, true},
		{"earlier term, longer log", 10, 4, 3, 5, false},
		{"same term, longer", 6, 5, 5, 5, true},
		{"same term, same length", 5, 5, 5, 5, true},
		{"same term, shorter", 4, 5, 5, 5, false},
		{"both empty", 0, 0, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isLogUpToDate(tc.candIndex, tc.candTerm, tc.idx, tc.term); got != tc.want {
				t.Fatalf("isLogUpToDate = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMajorityMatchIndexIsHeldByAMajority: the largest index a majority of
// peers hold (Figure 2, Rules for Servers, Leaders).
func TestMajorityMatchIndexIsHeldByAMajority(t *testing.T) {
	tests := []struct {
		name  string
		match []int
		want  int
	}{
		{"one peer", []int{7}, 7},
		{"three, leader ahead", []int{9, 4, 2}, 4},
		{"three, all equal", []int{5, 5, 5}, 5},
		{"four needs three", []int{9, 8, 1, 0}, 1},
		{"five needs three", []int{10, 0, 7, 3, 9}, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]int(nil), tc.match...)
			if got := majorityMatchIndex(tc.match); got != tc.want {
				t.Fatalf("majorityMatchIndex(%v) = %d, want %d", in, got, tc.want)
			}
			if !reflect.DeepEqual(in, tc.match) {
				t.Fatalf("majorityMatchIndex modified its argument: %v -> %v", in, tc.match)
			}
		})
	}
}

// snapshotWithTail does what Snapshot does to the log and the tail: retain
// the entries through index, then compact.
func snapshotWithTail(l *raftLog, t *compactedTail, index, keepFrom int) {
	t.retain(l, index, keepFrom)
	l.compactThrough(index, l.term(index))
}

// checkTail fails unless t holds exactly the entries first..end of the
// original log (whose commands are their indices), knows the term before
// them, and ends at l's snapshot.
func checkTail(tb testing.TB, t *compactedTail, l *raftLog, first, end int, termOf func(int) int) {
	tb.Helper()
	if t.first() != first || t.end != end || t.end != l.snapshotIndex {
		tb.Fatalf("tail holds %d..%d (log snapshot through %d), want %d..%d", t.first(), t.end, l.snapshotIndex, first, end)
	}
	if t.hasTerm(first-2) || t.hasTerm(end+1) || !t.hasTerm(first-1) {
		tb.Fatalf("tail %d..%d: hasTerm wrong at its edges", first, end)
	}
	for i := first - 1; i <= end; i++ {
		if got := t.term(i); got != termOf(i) {
			tb.Fatalf("tail term(%d) = %d, want %d", i, got, termOf(i))
		}
		if i >= first {
			if e := t.at(i); e.Command != i {
				tb.Fatalf("tail at(%d) holds command %v", i, e.Command)
			}
		}
	}
}

// TestCompactedTailKeepsWhatSnapshotsRemove: the entries each snapshot
// removes join the tail, which keeps at most maxCompactedTail of them and
// none before what followers may need, and starts over when it would not
// end at the snapshot.
func TestCompactedTailKeepsWhatSnapshotsRemove(t *testing.T) {
	const n = 3000
	terms := make([]int, n)
	for i := range terms {
		terms[i] = 1 + i/500 // term 1 for indices 1-500, 2 for 501-1000, ...
	}
	termOf := func(i int) int {
		if i == 0 {
			return 0
		}
		return terms[i-1]
	}
	l := logOfTerms(0, 0, terms...)
	var tail compactedTail
	if tail.hasTerm(0) || tail.hasTerm(1) {
		t.Fatalf("an empty tail claims to know a term")
	}

	snapshotWithTail(&l, &tail, 10, 0)
	checkTail(t, &tail, &l, 1, 10, termOf) // knows the sentinel's term 0
	snapshotWithTail(&l, &tail, 700, 0)
	checkTail(t, &tail, &l, 1, 700, termOf)
	// Past the bound: only the newest maxCompactedTail remain.
	snapshotWithTail(&l, &tail, 1500, 0)
	checkTail(t, &tail, &l, 1500-maxCompactedTail+1, 1500, termOf)
	// Followers all hold 1,600 or more: the entry at 1,600 is the oldest
	// one an AppendEntries may name.
	snapshotWithTail(&l, &tail, 1700, 1600)
	checkTail(t, &tail, &l, 1600, 1700, termOf)
	// keepFrom beyond the snapshot: nothing is needed, the tail is empty.
	snapshotWithTail(&l, &tail, 1800, 2500)
	if len(tail.entries) != 0 || tail.hasTerm(1800) {
		t.Fatalf("tail holds %d entries though no follower needs them", len(tail.entries))
	}
	snapshotWithTail(&l, &tail, 1900, 0)
	checkTail(t, &tail, &l, 1801, 1900, termOf)

	// A tail that no longer ends at the snapshot (one was installed)
	// starts over from the log's snapshot.
	l = logOfTerms(2000, termOf(2000), terms[2000:]...)
	snapshotWithTail(&l, &tail, 2100, 0)
	checkTail(t, &tail, &l, 2001, 2100, termOf)
	tail.reset()
	if len(tail.entries) != 0 || tail.hasTerm(2100) {
		t.Fatalf("reset left %d entries", len(tail.entries))
	}
}
