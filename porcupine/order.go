package porcupine

// candidate is an operation the search may linearize next, with the state
// the model steps to.
type candidate struct {
	id      int32
	key     int64 // the order to try: lower first; class<<32 | rank
	stepped bool  // next holds the state after it; otherwise not yet stepped
	next    interface{}
}

// Classes of candidates, best first.
const (
	classEnablesUrgent  = iota // the urgent operation, illegal now, is legal after it
	classEnablesUrgent2        // ... after it and one more operation (quick passes only)
	classEnablesOther          // some other illegal candidate is legal after it
	classRest
)

// order appends to cands the candidates of the current configuration, in the
// order to try them, and returns the extended slice.
//
// The candidates are the operations called before the first return left in
// the list; the operation returning there is the urgent one, since anything
// called after its return must follow it. In a full pass no order changes
// a verdict, since every candidate is tried before the search gives up on a
// configuration, but a good one finds a linearization of a linearizable
// history with little backtracking:
//
//   - Earliest return first, open operations last. Operations tend to take
//     effect in the order they return (a server replies once it has
//     applied an operation), and an operation that stays pending for long
//     (a Jepsen timeout, an open call) can usually wait: placing it early
//     leads down long wrong paths.
//   - When the urgent operation is illegal, something must come first that
//     makes it legal (a read waiting for a write): the search steps every
//     candidate, drops those the model rejects (nothing deeper can make them
//     legal here), and tries first those after which the urgent operation
//     becomes legal, then those after which some other rejected candidate
//     does.
//
// A wrong turn is costly when many operations are pending: the search may
// explore every order of them before it learns that a read can no longer be
// satisfied. So the search first makes quick passes that bet on the order
// above (see passes in parallel.go): a quick pass tries only the first few
// candidates of a configuration, its beam, and gives up on a configuration
// whose urgent operation is illegal and cannot be made legal by one or two
// operations. A linearization a quick pass finds is a linearization; if it
// finds none and gave up nowhere, none exists; otherwise (s.deferred) the
// next pass decides, and the last pass is full.
func (s *search) order(cands []candidate) []candidate {
	from := len(cands)
	node := s.list.first()
	for ; node != 0 && !s.list.isReturn[node]; node = s.list.next[node] {
		id := s.list.opOf[node]
		cands = append(cands, candidate{id: id, key: classKey(classRest, s.rank[id])})
	}
	mine := cands[from:]
	sortCandidates(mine)
	if node == 0 {
		s.urgent = -1
		return s.cut(cands, from) // only open operations are left
	}
	urgent := s.list.opOf[node]
	s.urgent = urgent
	// The urgent operation has the earliest return, so it sorts first.
	o := &s.h.ops[urgent]
	if legal, next := s.step(s.state, o.input, o.output); legal {
		mine[0].stepped, mine[0].next = true, next
		return s.cut(cands, from)
	}

	blocked := s.blocked[:0]
	kept := mine[:0]
	for _, c := range mine {
		if c.id != urgent {
			o := &s.h.ops[c.id]
			if legal, next := s.step(s.state, o.input, o.output); legal {
				c.stepped, c.next = true, next
				kept = append(kept, c)
				continue
			}
		}
		blocked = append(blocked, c.id)
	}
	clear(mine[len(kept):])
	cands, mine = cands[:from+len(kept)], kept
	s.blocked = blocked
	enabled := false
	for i := range mine {
		c := &mine[i]
		class := classRest
		switch {
		case s.allows(c.next, urgent):
			class, enabled = classEnablesUrgent, true
		case s.allowsAny(c.next, blocked):
			class = classEnablesOther
		}
		c.key = classKey(class, s.rank[c.id])
	}
	if s.beam > 0 && len(mine) > 0 && !enabled && !s.markEnablersInTwo(mine, urgent) {
		s.deferred = true
		clear(mine)
		return cands[:from]
	}
	sortCandidates(mine)
	return s.cut(cands, from)
}

func classKey(class int, rank int32) int64 { return int64(class)<<32 | int64(rank) }

// sortCandidates sorts c by key. The slices are a handful of candidates,
// and the keys are distinct (ranks are), so an insertion sort is the
// whole job, without the calls of a general one.
func sortCandidates(c []candidate) {
	for i := 1; i < len(c); i++ {
		if c[i].key > c[i-1].key {
			continue
		}
		x, j := c[i], i
		for ; j > 0 && c[j-1].key > x.key; j-- {
			c[j] = c[j-1]
		}
		c[j] = x
	}
}

// cut cuts the candidates from cands[from:] down to the beam of a quick
// pass, noting that it gave up the rest.
func (s *search) cut(cands []candidate, from int) []candidate {
	if s.beam == 0 || len(cands)-from <= s.beam {
		return cands
	}
	s.deferred = true
	clear(cands[from+s.beam:])
	return cands[:from+s.beam]
}

// markEnablersInTwo moves to classEnablesUrgent2 the candidates after which
// one more operation (a candidate, or one rejected now) makes the urgent
// operation legal, and reports whether there is any.
func (s *search) markEnablersInTwo(mine []candidate, urgent int32) bool {
	found := false
	for i := range mine {
		if s.enablesInTwo(mine, i, urgent) {
			mine[i].key = classKey(classEnablesUrgent2, s.rank[mine[i].id])
			found = true
		}
	}
	return found
}

func (s *search) enablesInTwo(mine []candidate, first int, urgent int32) bool {
	state := mine[first].next
	for _, id := range s.blocked {
		if id != urgent && s.enablesAfter(state, id, urgent) {
			return true
		}
	}
	for j := range mine {
		if j != first && s.enablesAfter(state, mine[j].id, urgent) {
			return true
		}
	}
	return false
}

// enablesAfter reports whether, from state, operation id is legal and makes
// operation urgent legal.
func (s *search) enablesAfter(state interface{}, id, urgent int32) bool {
	o := &s.h.ops[id]
	legal, next := s.step(state, o.input, o.output)
	return legal && s.allows(next, urgent)
}

// allows reports whether operation id is legal in state.
func (s *search) allows(state interface{}, id int32) bool {
	o := &s.h.ops[id]
	legal, _ := s.step(state, o.input, o.output)
	return legal
}

func (s *search) allowsAny(state interface{}, ids []int32) bool {
	for _, id := range ids {
		if s.allows(state, id) {
			return true
		}
	}
	return false
}
