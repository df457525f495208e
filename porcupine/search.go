package porcupine

import (
	"sync/atomic"
	"time"
)

// outcome is how the search of one partition ended.
type outcome int

const (
	found     outcome = iota // a linearization exists
	exhausted                // every configuration explored: none exists
	stopped                  // asked to stop (deadline, or another partition is Illegal)
)

// pollEvery is how many search steps pass between looks at the stop flag and
// the clock: a step costs about a microsecond, so the search notices a stop
// within a few milliseconds (unless the model's Step is slow) without
// reading the clock on every step.
const pollEvery = 1 << 10

// frame is one linearized operation on the search stack, with what is needed
// to undo it.
type frame struct {
	id        int32
	state     interface{} // the state before the operation
	stateHash uint64
}

// search decides one partition, depth first over linearization orders
// (Wing and Gong's algorithm as improved by Lowe, with a memo of explored
// configurations).
//
// The time line is a list of calls and returns, from which the search lifts
// the entries of each operation it linearizes. In a configuration, the
// candidates to linearize next are the operations whose calls come before
// the first return left in the list: an operation called after that return
// must follow the operation returning there. A candidate is taken if the
// model accepts it and the configuration it leads to is unexplored (see
// memo.go); order.go decides which to try first. When no candidate is left,
// some earlier choice was wrong: the search pops it and tries the next
// candidate there. With the stack empty and no candidate left, every order
// has failed. When no closed operation remains, the stack is a
// linearization; open operations still in the list never took effect.
type search struct {
	h         *timeline
	list      entryList
	set       bitset
	memo      *memo
	step      func(state, input, output interface{}) (bool, interface{})
	hash      func(state interface{}) uint64
	state     interface{}
	stateHash uint64
	stack     []frame
	remaining int // closed operations not yet linearized
	deepest   int // the longest the stack has been, for debugging

	// levels[d] is the configuration after the first d operations of the
	// stack: the candidates still to try there, best first, are
	// cands[levels[d].next:levels[d].to]. Invariant: len(levels) ==
	// len(stack)+1 while running.
	levels  []level
	cands   []candidate
	blocked []int32 // scratch for order
	rank    []int32 // per operation: the order.go rank, earliest return first, open last

	// beam, if not 0, makes this a quick pass that tries at most beam
	// candidates per configuration (see order.go): it finds most
	// linearizations fast, but when it fails it proves nothing if deferred
	// is set, since it gave up on some candidates.
	beam     int
	deferred bool

	stop     *atomic.Bool // set by anyone who wants every search to end now
	deadline time.Time    // zero: none
	rec      *recorder    // nil unless the caller wants partial linearizations
}

type level struct {
	from, to, next int32
}

func newSearch(m Model, h *timeline, stop *atomic.Bool, deadline time.Time, beam int, rec *recorder) *search {
	s := &search{
		h:        h,
		list:     newEntryList(h),
		set:      newBitset(len(h.ops), uint64(len(h.ops))),
		memo:     newMemo(m.Equal, 4*len(h.ops)),
		step:     m.Step,
		hash:     stateHasher(m),
		state:    m.Init(),
		rank:     make([]int32, len(h.ops)),
		beam:     beam,
		stop:     stop,
		deadline: deadline,
		rec:      rec,
	}
	s.stateHash = s.hash(s.state)
	for id := range h.ops {
		if h.ops[id].open {
			s.rank[id] = int32(len(h.entries)) + s.list.callNode[id]
		} else {
			s.rank[id] = s.list.retNode[id]
			s.remaining++
		}
	}
	return s
}

// run searches until it finds a linearization, exhausts the configurations,
// or is stopped. It returns what it found; with a recorder, the recorder
// then holds the linearization or the longest partial ones.
func (s *search) run() outcome {
	s.enterLevel()
	for steps := 1; ; steps++ {
		if s.remaining == 0 {
			s.rec.offerDone(s.stack)
			return found
		}
		if steps%pollEvery == 0 && s.shouldStop() {
			s.rec.offer(s.stack, s.set.hash)
			return stopped
		}
		if lv := &s.levels[len(s.levels)-1]; lv.next < lv.to {
			c := &s.cands[lv.next]
			lv.next++
			if !c.stepped {
				o := &s.h.ops[c.id]
				var legal bool
				if legal, c.next = s.step(s.state, o.input, o.output); !legal {
					continue
				}
			}
			if s.tryLinearize(c.id, c.next) {
				s.enterLevel()
			}
			continue
		}
		s.rec.offer(s.stack, s.set.hash)
		if len(s.stack) == 0 {
			return exhausted
		}
		s.leaveLevel()
		s.pop()
	}
}

// enterLevel starts exploring the current configuration.
func (s *search) enterLevel() {
	from := int32(len(s.cands))
	s.cands = s.order(s.cands)
	s.levels = append(s.levels, level{from: from, to: int32(len(s.cands)), next: from})
}

// leaveLevel ends exploring the current configuration.
func (s *search) leaveLevel() {
	lv := s.levels[len(s.levels)-1]
	clear(s.cands[lv.from:lv.to]) // drop the states they hold
	s.cands = s.cands[:lv.from]
	s.levels = s.levels[:len(s.levels)-1]
}

// tryLinearize linearizes operation id, which the model allows and which
// leads to state next, if the configuration it leads to is unexplored.
func (s *search) tryLinearize(id int32, next interface{}) bool {
	o := &s.h.ops[id]
	nextHash := s.hash(next)
	s.set.add(id)
	if !s.memo.insert(&s.set, next, nextHash) {
		s.set.remove(id)
		return false
	}
	s.stack = append(s.stack, frame{id: id, state: s.state, stateHash: s.stateHash})
	s.state, s.stateHash = next, nextHash
	s.list.lift(id)
	if !o.open {
		s.remaining--
	}
	s.deepest = max(s.deepest, len(s.stack))
	return true
}

// pop undoes the last linearization.
func (s *search) pop() {
	top := s.stack[len(s.stack)-1]
	s.stack[len(s.stack)-1] = frame{} // let the state go once the memo drops it
	s.stack = s.stack[:len(s.stack)-1]
	s.state, s.stateHash = top.state, top.stateHash
	s.set.remove(top.id)
	s.list.unlift(top.id)
	if !s.h.ops[top.id].open {
		s.remaining++
	}
}

func (s *search) shouldStop() bool {
	if s.stop.Load() {
		return true
	}
	if !s.deadline.IsZero() && !time.Now().Before(s.deadline) {
		s.stop.Store(true)
		return true
	}
	return false
}
