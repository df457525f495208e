package porcupine

// entryList is a partition's time line as a circular doubly-linked list of
// its entries, from which the search lifts the entries of each operation it
// linearizes and puts them back when it backtracks. Node 0 is the head
// sentinel; node k+1 is timeline.entries[k].
//
// Lifting unlinks a node but leaves its own prev and next alone, so putting
// nodes back in the reverse order of lifting restores the list exactly
// (Knuth's dancing links). The search backtracks in stack order, so that
// order holds.
type entryList struct {
	next, prev []int32
	callNode   []int32 // per operation: its call's node
	retNode    []int32 // per operation: its return's node, or 0 when open
	isReturn   []bool  // per node
	opOf       []int32 // per node: the operation
}

func newEntryList(h *timeline) entryList {
	n := len(h.entries) + 1
	l := entryList{
		next:     make([]int32, n),
		prev:     make([]int32, n),
		callNode: make([]int32, len(h.ops)),
		retNode:  make([]int32, len(h.ops)),
		isReturn: make([]bool, n),
		opOf:     make([]int32, n),
	}
	for k, e := range h.entries {
		node := int32(k + 1)
		l.opOf[node] = e.id
		l.isReturn[node] = e.isReturn
		if e.isReturn {
			l.retNode[e.id] = node
		} else {
			l.callNode[e.id] = node
		}
	}
	for node := 0; node < n; node++ {
		l.next[node] = int32((node + 1) % n)
		l.prev[node] = int32((node + n - 1) % n)
	}
	return l
}

// first returns the first node after the head, or 0 when the list is empty.
func (l *entryList) first() int32 { return l.next[0] }

func (l *entryList) unlink(node int32) {
	l.next[l.prev[node]] = l.next[node]
	l.prev[l.next[node]] = l.prev[node]
}

func (l *entryList) relink(node int32) {
	l.next[l.prev[node]] = node
	l.prev[l.next[node]] = node
}

// lift removes the call and return of operation id.
func (l *entryList) lift(id int32) {
	l.unlink(l.callNode[id])
	if r := l.retNode[id]; r != 0 {
		l.unlink(r)
	}
}

// unlift puts back what lift(id) removed; id must be the last lifted.
func (l *entryList) unlift(id int32) {
	if r := l.retNode[id]; r != 0 {
		l.relink(r)
	}
	l.relink(l.callNode[id])
}
