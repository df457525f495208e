package porcupine

import (
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"time"
)

// Refuting a history from a settled state.
//
// A search that finds no linearization has to explore every configuration
// reachable from the start before it may say so. When a history breaks
// late, that is nearly all of it: backtracking from the break, the search
// retries every order of every stretch before it, however well those
// stretches were already explained. A run of fifteen overlapping appends
// with no read among them has hundreds of thousands of orders, all legal
// until the next read, and a history of thousands of operations has
// several such runs.
//
// A model with StateAfter lets the checker cut the history instead. Let u
// be the operation a failed quick pass could not place (search.stuck), and
// g a closed operation that returned before u was called and whose step
// always leaves the same state X (a read, a write). In any linearization L,
// g precedes u; let A be the operations up to and including g in L. Then:
//
//   - A contains every closed operation that returned before g was called
//     (they must precede g): the set D.
//   - A contains no operation called after g returned (it must follow g).
//   - The rest of A is a set B of the operations W that overlap g, and B
//     is closed under real-time order: an operation of W that returned
//     before a member of B was called is in B too.
//   - The state after A is X, whatever came before g.
//
// So L continues from one of the configurations (D ∪ B ∪ {g}, X), the
// roots, on to u. The refuter searches from every root, with u as the goal
// (search.goal): if u cannot be linearized from any, no linearization
// exists, and the history is Illegal. From each root the search is
// complete by the argument of search.go (every next operation of L is a
// candidate). The searches share one memo: a configuration they exhausted
// cannot lead to u, whichever root it was reached from, since what may
// follow a configuration depends only on its set and state. The roots
// over-approximate: some may not be reachable from the start, which can
// only make the refuter fail to prove, never prove wrongly.
//
// The cost is the few operations between g and u, so the refuter picks
// the g that returned last before u was called. If u can be placed from
// some root (the pass got stuck because of an earlier choice), that cut
// proves nothing; the refuter tries two more, then gives up on u, and the
// passes go on as before.
//
// A root that is not reachable may still cost much: one that wrongly puts
// before g a write overlapping it can only be exhausted, through every
// order of the writes between g and u. So the refuter runs the roots in
// rounds, each root with a budget that grows from round to round, and
// stops at the first root from which u can be placed. Its memo records
// configurations as they are exhausted (search.memoOnExit), so a search
// cut short leaves it true and the next round, or the next call about u
// with a larger budget, takes up the work where it stopped.

const (
	maxCutTries     = 3       // cuts tried per stuck operation
	maxCutsSeen     = 16      // cuts looked at per stuck operation
	maxOverlapping  = 16      // operations overlapping a cut beyond which it is skipped
	maxRoots        = 1 << 12 // roots beyond which a cut is skipped
	firstRootBudget = 1 << 8  // configurations per root in the first round; 4 times more each round
)

// stallConfigs is how many configurations a search explores without
// getting deeper before it first calls stall: far more than a linearizable
// history needs to get past a run of overlapping operations, far fewer
// than the backtracking through a whole history that follows a break. A
// variable only so that tests can make searches stall all the time.
var stallConfigs = 1 << 13

// checkStall, called when the search has explored s.stallAt
// configurations without getting deeper, calls s.stall with a quarter as
// many to spend, and doubles s.stallAt. So on a linearizable history,
// where the search stalls in a long run of overlapping writes and refute
// cannot prove anything, refuting adds at most a quarter to the search's
// own cost; on a broken one, where a proof usually takes a few hundred
// configurations, the first stall finds it, and a proof that needs many
// gets them once the search has shown it needs help. It returns exhausted
// (with s.proved set) or stopped when the search must end, found
// otherwise.
func (s *search) checkStall() outcome {
	budget := s.stallAt / 4
	s.stallAt *= 2
	switch out := s.stall(s.stuck, budget); out {
	case exhausted:
		s.proved = true
		return out
	case stopped:
		return out
	}
	return found
}

// refuter refutes one partition from settled states (see above). It
// remembers what it learned about the last stuck operation it was asked
// about, and starts afresh when asked about another.
type refuter struct {
	aux        *search // goal u, memoOnExit; its root starts with cuts[base].before
	stateAfter func(input, output interface{}) (interface{}, bool)
	u          int32  // the stuck operation, or -1
	cuts       []*cut // the cuts tried for u, in order
	looked     int    // candidate cuts looked at for u
	base       int    // the cut whose before is lifted in aux's root, or -1
}

// cut is a settled operation g with the roots of the search from it.
type cut struct {
	g          int32
	state      interface{} // the state g leaves
	before     []int32     // D
	roots      [][]int32   // each B
	exhausted  []bool      // per root
	rootBudget int         // per root, in the next round
	placed     int         // the index of a root from which u can be linearized, or -1
}

func newRefuter(m Model, h *timeline, stop *atomic.Bool, deadline time.Time) *refuter {
	aux := newSearch(m, h, stop, deadline, 0)
	aux.memoOnExit = true
	return &refuter{aux: aux, stateAfter: m.StateAfter, u: -1, base: -1}
}

// refute tries to prove that no linearization of the partition exists
// because none can linearize operation u, exploring at most budget
// configurations. It returns exhausted when it proved that, stopped when
// asked to stop, and found when it could not prove it (yet: a call with a
// larger budget may go further).
func (r *refuter) refute(u int32, budget int) outcome {
	h := r.aux.h
	if r.stateAfter == nil || u < 0 || h.ops[u].open {
		return found
	}
	if u != r.u {
		r.aux.reset(0, nil)
		r.aux.goal = u
		r.u, r.cuts, r.looked, r.base = u, nil, 0, -1
	}
	start, spent := time.Now(), 0
	out := found
	for k := 0; k < maxCutTries && out == found; k++ {
		if k == len(r.cuts) && !r.nextCut() {
			break
		}
		c := r.cuts[k]
		if c.placed >= 0 {
			continue
		}
		out = r.fromCut(k, budget, &spent)
		switch out {
		case found: // c.placed is set
		case overBudget:
			out = found // no proof yet
			k = maxCutTries
		}
		debugRefute(h, u, c, out, spent, start)
	}
	if searchHook != nil {
		searchHook(len(h.ops), spent)
	}
	return out
}

// placedRoot returns, if the refuter found that u can be linearized from
// a root of one of its cuts, the cut's settled operation g and the root's
// set B of operations overlapping g taken before it.
func (r *refuter) placedRoot(u int32) (g int32, b []int32, ok bool) {
	if u != r.u {
		return 0, nil, false
	}
	for _, c := range r.cuts {
		if c.placed >= 0 {
			return c.g, c.roots[c.placed], true
		}
	}
	return 0, nil, false
}

// leaveWrongRoot is for a quick pass stalled on an operation that the
// refuter could linearize from the root at cut g with overlapping set b. If
// the search's own path went through g from another root, the stall most
// likely comes from that: a wrong order just before g, which a read after
// a long run of writes shows only much later. So the search drops the rest
// of that subtree, going back to where it linearized g, and reports whether
// it did. It then proves nothing (deferred), as when it cuts candidates.
func (s *search) leaveWrongRoot(g int32, b []int32) bool {
	j := slices.IndexFunc(s.stack, func(f frame) bool { return f.id == g })
	if j < 0 {
		return false
	}
	l := &s.list
	inB := 0 // members of b before g on the path
	for _, f := range s.stack[:j] {
		if r := l.retNode[f.id]; r != 0 && r < l.callNode[g] {
			continue // in D, on every root
		}
		if !slices.Contains(b, f.id) {
			return s.backjump(j)
		}
		inB++
	}
	if inB == len(b) {
		return false // the path took the very root
	}
	return s.backjump(j)
}

// backjump abandons the configurations above the first depth of the
// stack, leaving the search to try the next candidate there.
func (s *search) backjump(depth int) bool {
	for len(s.stack) > depth {
		s.leaveLevel()
		s.pop()
	}
	s.deferred = true
	return true
}

// nextCut appends to r.cuts the next cut to try for r.u, the closed
// settled operation that returned latest before u was called among those
// not yet looked at, and reports whether there was one.
func (r *refuter) nextCut() bool {
	h, l := r.aux.h, &r.aux.list // l: only the call and return nodes, which never change
	var cands []int32
	for id := range h.ops {
		if ret := l.retNode[id]; ret != 0 && ret < l.callNode[r.u] {
			cands = append(cands, int32(id))
		}
	}
	slices.SortFunc(cands, func(a, b int32) int { return int(l.retNode[b] - l.retNode[a]) })
	for ; r.looked < min(len(cands), maxCutsSeen); r.looked++ {
		g := cands[r.looked]
		x, ok := r.stateAfter(h.ops[g].input, h.ops[g].output)
		if !ok {
			continue
		}
		d, w := around(l, g)
		if len(w) > maxOverlapping {
			continue
		}
		roots := closedSubsets(l, w, l.retNode[g])
		if roots == nil {
			continue
		}
		r.looked++
		r.cuts = append(r.cuts, &cut{g: g, state: x, before: d, roots: roots,
			exhausted: make([]bool, len(roots)), rootBudget: firstRootBudget, placed: -1})
		return true
	}
	return false
}

// fromCut searches for u from the roots of cut k not yet exhausted, in
// rounds, until u is linearized from one (found), all are exhausted
// (exhausted), the search is stopped (stopped), or *spent reaches budget
// (overBudget).
func (r *refuter) fromCut(k int, budget int, spent *int) outcome {
	c, s := r.cuts[k], r.aux
	if r.base != k {
		s.rewind(0)
		s.addToRoot(c.before, c.state)
		r.base = k
	}
	var ids []int32
	for {
		open := false
		for i, b := range c.roots {
			if c.exhausted[i] {
				continue
			}
			if *spent >= budget {
				return overBudget
			}
			s.rewind(len(c.before))
			ids = append(append(ids[:0], b...), c.g)
			s.addToRoot(ids, c.state)
			s.budget = min(c.rootBudget, budget-*spent)
			out := s.run()
			*spent += s.explored
			switch out {
			case exhausted:
				c.exhausted[i] = true
			case overBudget:
				open = true
			case found:
				c.placed = i
				return out
			default:
				return out
			}
		}
		if !open {
			return exhausted
		}
		c.rootBudget *= 4
	}
}

// around returns, for operation g, the closed operations that returned
// before g was called (D above) and the other operations called before g
// returned (W), each in call order.
func around(l *entryList, g int32) (before, overlapping []int32) {
	for id := int32(0); id < int32(len(l.callNode)) && l.callNode[id] < l.retNode[g]; id++ {
		switch r := l.retNode[id]; {
		case id == g:
		case r != 0 && r < l.callNode[g]:
			before = append(before, id)
		default:
			overlapping = append(overlapping, id)
		}
	}
	return before, overlapping
}

// closedSubsets returns every subset B of w (in call order) closed under
// real-time order within w: no member of w outside B returned before a
// member of B was called. It returns nil when there are more than
// maxRoots. The subsets likeliest to be right come first: those that take
// in the operations that returned before the cut did (at node cutReturn),
// and leave out the others, since operations tend to take effect in the
// order they return.
func closedSubsets(l *entryList, w []int32, cutReturn int32) [][]int32 {
	var out [][]int32
	in := make([]bool, len(w))
	mayJoin := func(i int) bool {
		for j := 0; j < i; j++ {
			if r := l.retNode[w[j]]; !in[j] && r != 0 && r < l.callNode[w[i]] {
				return false
			}
		}
		return true
	}
	var pick func(i int) bool
	pick = func(i int) bool {
		if i == len(w) {
			if len(out) == maxRoots {
				return false
			}
			var b []int32
			for j, id := range w {
				if in[j] {
					b = append(b, id)
				}
			}
			out = append(out, b)
			return true
		}
		r := l.retNode[w[i]]
		first := r != 0 && r < cutReturn // probably before the cut
		for _, include := range [2]bool{first, !first} {
			if include && !mayJoin(i) {
				continue
			}
			in[i] = include
			if !pick(i + 1) {
				return false
			}
		}
		in[i] = false
		return true
	}
	if !pick(0) {
		return nil
	}
	return out
}

func debugRefute(h *timeline, u int32, c *cut, out outcome, spent int, start time.Time) {
	if !debugSearch {
		return
	}
	verdict := "no proof"
	switch {
	case out == exhausted:
		verdict = "refuted"
	case out == stopped:
		verdict = "stopped"
	case c.placed >= 0:
		verdict = "placed: no proof"
	}
	done := 0
	for _, e := range c.exhausted {
		if e {
			done++
		}
	}
	fmt.Fprintf(os.Stderr, "porcupine: %5d ops  refute op %d from op %d (%d roots, %d exhausted): %s, %d configurations  %v\n",
		len(h.ops), u, c.g, len(c.roots), done, verdict, spent, time.Since(start).Round(time.Microsecond))
}
