package porcupine

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// writes is a register whose operations are writes of their input, all
// legal; StateAfter is the value written.
var writes = Model{
	Init:       func() interface{} { return 0 },
	Step:       func(state, input, output interface{}) (bool, interface{}) { return true, input },
	StateAfter: func(input, output interface{}) (interface{}, bool) { return input, true },
}

// TestLeaveWrongRootDropsOnlyAPathThroughAnotherRoot is a table of search
// paths through the cut g = op 1, which op 0 and op 2 overlap: the search
// leaves the subtree at g (back to g's depth, and deferred, since it gives
// up configurations) exactly when the set it linearized before g differs
// from the root the refuter placed the stuck operation from.
func TestLeaveWrongRootDropsOnlyAPathThroughAnotherRoot(t *testing.T) {
	// op 0 [0,3], op 1 [1,5], op 2 [2,6], op 3 [7,8]: 0, 1 and 2 overlap;
	// 3 follows them all.
	evs := []Event{
		{Kind: CallEvent, Value: 10, Id: 0}, {Kind: CallEvent, Value: 11, Id: 1},
		{Kind: CallEvent, Value: 12, Id: 2}, {Kind: ReturnEvent, Id: 0},
		{Kind: ReturnEvent, Id: 1}, {Kind: ReturnEvent, Id: 2},
		{Kind: CallEvent, Value: 13, Id: 3}, {Kind: ReturnEvent, Id: 3},
	}
	cases := []struct {
		name  string
		path  []int32
		b     []int32 // the placed root's operations overlapping g, before it
		leave bool
	}{
		{"SameRoot", []int32{0, 1, 2}, []int32{0}, false},
		{"SameEmptyRoot", []int32{1, 0, 2}, nil, false},
		{"PathTookAnOverlappingOpTheRootLeavesOut", []int32{0, 1, 2}, nil, true},
		{"PathLeftOutAnOpTheRootTakes", []int32{1, 0, 2}, []int32{0}, true},
		{"PathTookAnotherOp", []int32{2, 1, 0}, []int32{0}, true},
		{"GNotOnThePath", []int32{0, 2}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := timelineFromEvents(evs)
			var stop atomic.Bool
			s := newSearch(writes.withDefaults(), &h, &stop, time.Time{}, 0)
			s.reset(0, nil) // a full pass: only leaving sets deferred
			s.enterLevel()
			for _, id := range tc.path {
				if !s.tryLinearize(id, h.ops[id].input) {
					t.Fatalf("could not linearize %d", id)
				}
				s.enterLevel()
			}
			left := s.leaveWrongRoot(1, tc.b)
			g := slices.IndexFunc(tc.path, func(id int32) bool { return id == 1 })
			wantDepth := len(tc.path)
			if tc.leave {
				wantDepth = g
			}
			if left != tc.leave || len(s.stack) != wantDepth || len(s.levels) != wantDepth+1 || s.deferred != tc.leave {
				t.Fatalf("left %v, depth %d, levels %d, deferred %v; want %v, %d, %d, %v",
					left, len(s.stack), len(s.levels), s.deferred, tc.leave, wantDepth, wantDepth+1, tc.leave)
			}
			s.reset(0, nil) // and the search is whole again
			if len(s.stack) != 0 || s.list.first() != 1 || s.set.count() != 0 || s.remaining != 4 {
				t.Fatalf("after reset: depth %d, first node %d, %d linearized, %d remaining",
					len(s.stack), s.list.first(), s.set.count(), s.remaining)
			}
		})
	}
}
