package porcupine

// memo remembers every configuration (set of linearized operations, model
// state) a search has entered, so that it never explores one twice.
//
// Why this matters: with many clients calling at once, many orders of the
// same operations are legal, and the search reaches the same configuration
// along each of them. Without the memo it re-explores the subtree below it
// each time, exponentially often. With a weak key the memo itself becomes
// the cost: a checker that files configurations under the set alone, or
// under a hash that ignores where the members are, piles thousands of them
// into one bucket and compares long states one by one on every lookup.
//
// So the key is the set's Zobrist hash (kept up to date on every step, never
// recomputed) mixed with the state's hash. A lookup compares 32-bit tags,
// then 64-bit keys, and only on a key match compares the stored set window
// and calls Equal on the states, so a false match is impossible and a full
// comparison is almost always a real hit.
//
// The table is open addressing with linear probing. Each entry keeps its
// set's window (the words past the all-ones prefix) in a shared arena: a
// few words per entry, for histories of any length. The states are kept
// apart from the entries, so that the entries, the bulk of the memo, hold
// no pointers: the garbage collector neither scans them nor pays write
// barriers when they grow. Memory grows with the number of configurations
// explored, and the memo and the model's states are nearly all the search
// allocates; reset keeps it for the next pass.
type memo struct {
	slots   []memoSlot // power-of-two length, at most half full
	entries []memoEntry
	states  []interface{} // states[i] is the state of entries[i]
	arena   []uint64      // the set windows of all entries, back to back
	equal   func(state1, state2 interface{}) bool
}

// memoSlot is kept to eight bytes so that a probe, which misses the cache
// once the table outgrows it, fetches as many slots as it can: the low bits
// of the key chose the slot, the high ones are the tag.
type memoSlot struct {
	tag   uint32
	entry uint32 // index into entries plus one; 0 marks an empty slot
}

type memoEntry struct {
	key uint64
	low int32 // the set's low word
	off int32 // the set's window is arena[off : off+n]
	n   int32
}

// newMemo returns an empty memo sized for about expect configurations; it
// grows as needed.
func newMemo(equal func(state1, state2 interface{}) bool, expect int) *memo {
	size := 64
	for size < 2*expect {
		size *= 2
	}
	return &memo{
		slots:   make([]memoSlot, size),
		entries: make([]memoEntry, 0, size/2),
		states:  make([]interface{}, 0, size/2),
		equal:   equal,
	}
}

// reset forgets every configuration, keeping the memory for the next
// search.
func (m *memo) reset() {
	clear(m.slots)
	clear(m.states) // let the states go
	m.entries, m.states, m.arena = m.entries[:0], m.states[:0], m.arena[:0]
}

// len returns the number of configurations stored.
func (m *memo) len() int { return len(m.entries) }

// insert adds the configuration (set, state), whose state hashes to
// stateHash, and reports whether it was new.
func (m *memo) insert(set *bitset, state interface{}, stateHash uint64) bool {
	key := set.hash ^ splitmix64(stateHash)
	i, found := m.find(set, state, key)
	if found {
		return false
	}
	window := set.window()
	m.entries = append(m.entries, memoEntry{
		key: key,
		low: int32(set.low),
		off: int32(len(m.arena)),
		n:   int32(len(window)),
	})
	m.states = append(m.states, state)
	m.arena = append(m.arena, window...)
	m.slots[i] = memoSlot{tag: uint32(key >> 32), entry: uint32(len(m.entries))}
	if 2*len(m.entries) > len(m.slots) {
		m.grow()
	}
	return true
}

// contains reports whether the configuration (set, state), whose state
// hashes to stateHash, is stored.
func (m *memo) contains(set *bitset, state interface{}, stateHash uint64) bool {
	_, found := m.find(set, state, set.hash^splitmix64(stateHash))
	return found
}

// find returns the slot holding the configuration with this key, or the
// empty slot where it would go.
func (m *memo) find(set *bitset, state interface{}, key uint64) (slot uint64, found bool) {
	tag := uint32(key >> 32)
	mask := uint64(len(m.slots) - 1)
	i := key & mask
	for ; m.slots[i].entry != 0; i = (i + 1) & mask {
		if m.slots[i].tag == tag {
			if k := m.slots[i].entry - 1; m.entries[k].key == key && m.matches(k, set, state) {
				return i, true
			}
		}
	}
	return i, false
}

// matches reports whether entry k is the configuration (set, state): the
// same set window, then a state Equal calls the same.
func (m *memo) matches(k uint32, set *bitset, state interface{}) bool {
	e := &m.entries[k]
	window := set.window()
	if int(e.low) != set.low || int(e.n) != len(window) {
		return false
	}
	for j, w := range m.arena[e.off : e.off+e.n] {
		if w != window[j] {
			return false
		}
	}
	return m.equal(m.states[k], state)
}

func (m *memo) grow() {
	old := m.slots
	m.slots = make([]memoSlot, 2*len(old))
	mask := uint64(len(m.slots) - 1)
	for _, s := range old {
		if s.entry == 0 {
			continue
		}
		i := m.entries[s.entry-1].key & mask
		for m.slots[i].entry != 0 {
			i = (i + 1) & mask
		}
		m.slots[i] = s
	}
}
