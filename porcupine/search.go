package porcupine

import (
	"sync/atomic"
	"time"
)

// outcome is how the search of one partition ended.
type outcome int

const (
	found      outcome = iota // a linearization exists (with a goal: the goal was reached)
	exhausted                 // every configuration explored: none exists
	stopped                   // asked to stop (deadline, or another partition is Illegal)
	overBudget                // explored as many configurations as it was allowed: no verdict
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
//
// A search normally starts from the initial state with nothing
// linearized. refute.go also starts searches from a given configuration,
// a root, with a goal: an operation whose linearization ends the search.
// Then found means that the goal can be linearized from the root, and
// exhausted that it cannot.
type search struct {
	h         *timeline
	list      entryList
	set       bitset
	memo      *memo
	step      func(state, input, output interface{}) (bool, interface{})
	init      func() interface{}
	hash      func(state interface{}) uint64
	state     interface{}
	stateHash uint64
	stack     []frame
	remaining int // closed operations not yet linearized
	explored  int // configurations entered since reset
	deepest   int // the longest the stack has been
	deepestAt int // explored when it first got there

	// memoOnExit makes the memo record a configuration when the search
	// leaves it explored, not when it enters it. In a depth-first search
	// that prunes the same configurations (none can be reached again from
	// below itself, since every step adds an operation), and it keeps the
	// memo true even when a search stops half way: it then holds only
	// configurations from which the goal is out of reach, so another
	// search for the same goal may use it (refute.go).
	memoOnExit bool

	// stuck is the urgent operation (see order.go) of the first
	// configuration the search entered at depth deepest, or -1: where a
	// failed pass got stuck, and where refute.go looks for the reason.
	stuck  int32
	urgent int32 // set by order: the current configuration's urgent operation, or -1

	// stall, if set, is called when the search stalls (see checkStall in
	// refute.go); proved records that it proved no linearization exists.
	stall   func(stuck int32, budget int) outcome
	stallAt int // configurations explored without getting deeper that make the next stall
	proved  bool
	running bool // inside run: the stack may be changed by stall

	goal   int32   // found once this operation is linearized; -1: once all are
	budget int     // if not 0, give up (overBudget) once explored reaches it
	root   []int32 // the operations linearized at the start, in the order lifted

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

// newSearch returns a search of h, at its start; reset prepares it for a
// pass. The memo is sized for about expect configurations and grows as
// needed.
func newSearch(m Model, h *timeline, stop *atomic.Bool, deadline time.Time, expect int) *search {
	s := &search{
		h:        h,
		list:     newEntryList(h),
		set:      newBitset(len(h.ops), uint64(len(h.ops))),
		memo:     newMemo(m.Equal, expect),
		step:     m.Step,
		hash:     stateHasher(m),
		init:     m.Init,
		stop:     stop,
		deadline: deadline,
	}
	for id := range h.ops {
		if !h.ops[id].open {
			s.remaining++
		}
	}
	s.rank = make([]int32, len(h.ops))
	for id := range h.ops {
		if h.ops[id].open {
			s.rank[id] = int32(len(h.entries)) + s.list.callNode[id]
		} else {
			s.rank[id] = s.list.retNode[id]
		}
	}
	s.reset(0, nil)
	return s
}

// reset brings the search back to its start, the initial state with
// nothing linearized and nothing explored, for a pass with this beam and
// recorder, with no root, goal, budget or stall. A partition's passes
// share one search, so they share its memory too.
func (s *search) reset(beam int, rec *recorder) {
	s.rewind(0)
	s.memo.reset()
	s.state = s.init()
	s.stateHash = s.hash(s.state)
	s.stall, s.proved = nil, false
	s.goal, s.budget = -1, 0
	s.beam, s.deferred, s.rec = beam, false, rec
}

// rewind brings the search back to its root, keeping only the first keep
// operations in it, and keeps its memo and goal.
func (s *search) rewind(keep int) {
	for len(s.stack) > 0 {
		s.pop()
	}
	s.truncateRoot(keep)
	clear(s.cands)
	s.cands, s.levels = s.cands[:0], s.levels[:0]
	s.explored, s.deepest, s.deepestAt, s.stuck, s.urgent = 0, -1, 0, -1, -1
	s.stallAt = stallConfigs
}

// run searches until it finds a linearization (or reaches the goal),
// exhausts the configurations, or is stopped. It returns what it found;
// with a recorder, the recorder then holds the linearization or the longest
// partial ones. After exhausted, the search is back at its root, so another
// root may be set (see addToRoot).
func (s *search) run() outcome {
	s.running = true
	defer func() { s.running = false }()
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
		if s.explored-s.deepestAt >= s.stallAt && s.stall != nil {
			if out := s.checkStall(); out != found {
				return out
			}
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
				if c.id == s.goal {
					return found
				}
				if s.explored == s.budget {
					return overBudget
				}
				s.enterLevel()
			}
			continue
		}
		s.rec.offer(s.stack, s.set.hash)
		s.leaveLevel()
		if s.memoOnExit {
			s.memo.insert(&s.set, s.state, s.stateHash)
		}
		if len(s.stack) == 0 {
			return exhausted
		}
		s.pop()
	}
}

// enterLevel starts exploring the current configuration.
func (s *search) enterLevel() {
	from := int32(len(s.cands))
	s.cands = s.order(s.cands)
	s.levels = append(s.levels, level{from: from, to: int32(len(s.cands)), next: from})
	if len(s.stack) > s.deepest {
		s.deepest, s.stuck = len(s.stack), s.urgent
		s.deepestAt, s.stallAt = s.explored, stallConfigs
	}
}

// leaveLevel ends exploring the current configuration.
func (s *search) leaveLevel() {
	lv := s.levels[len(s.levels)-1]
	clear(s.cands[lv.from:lv.to]) // drop the states they hold
	s.cands = s.cands[:lv.from]
	s.levels = s.levels[:len(s.levels)-1]
}

// addToRoot adds the operations ids to the search's starting point, the
// root, as linearized, and makes state the root's state. The search must
// be at its root: new, or after run returned exhausted.
func (s *search) addToRoot(ids []int32, state interface{}) {
	for _, id := range ids {
		s.set.add(id)
		s.list.lift(id)
		if !s.h.ops[id].open {
			s.remaining--
		}
	}
	s.root = append(s.root, ids...)
	s.state, s.stateHash = state, s.hash(state)
}

// truncateRoot takes back out of the root all but its first n operations,
// the last added first, as dancing links need.
func (s *search) truncateRoot(n int) {
	for len(s.root) > n {
		id := s.root[len(s.root)-1]
		s.root = s.root[:len(s.root)-1]
		s.set.remove(id)
		s.list.unlift(id)
		if !s.h.ops[id].open {
			s.remaining++
		}
	}
}

// tryLinearize linearizes operation id, which the model allows and which
// leads to state next, if the configuration it leads to is unexplored.
func (s *search) tryLinearize(id int32, next interface{}) bool {
	o := &s.h.ops[id]
	nextHash := s.hash(next)
	s.set.add(id)
	if s.memoOnExit && s.memo.contains(&s.set, next, nextHash) || !s.memoOnExit && !s.memo.insert(&s.set, next, nextHash) {
		s.set.remove(id)
		return false
	}
	s.explored++
	s.stack = append(s.stack, frame{id: id, state: s.state, stateHash: s.stateHash})
	s.state, s.stateHash = next, nextHash
	s.list.lift(id)
	if !o.open {
		s.remaining--
	}
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
