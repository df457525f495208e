package porcupine

import "math/bits"

// bitset is the set of linearized operations of a search, with two
// summaries kept up to date on every add and remove, in O(1) amortized:
//
//   - hash, a Zobrist hash: the XOR of one random word per member. Adding
//     or removing a member flips its word in, so the hash never needs a pass
//     over the set, and sets that differ anywhere hash apart.
//   - the window [low, high) of words that are neither all ones nor all
//     zeros at the edges: every word below low is all ones, every word from
//     high on is zero. Operations are numbered in call order and a search
//     linearizes them roughly in that order, so the window stays a few words
//     wide however long the history: the memo stores only the window.
//
// Invariant: low is the first word that is not all ones (or len(words)),
// high is one past the last non-zero word (or 0), and hash is the XOR of
// keys[i] over every member i.
type bitset struct {
	words []uint64
	keys  []uint64 // the random word of each operation
	hash  uint64
	low   int
	high  int
}

func newBitset(n int, seed uint64) bitset {
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = splitmix64(seed + uint64(i)*0x9e3779b97f4a7c15)
	}
	return bitset{words: make([]uint64, (n+63)/64), keys: keys}
}

func (b *bitset) add(i int32) {
	w := int(i >> 6)
	b.words[w] |= 1 << (uint(i) & 63)
	b.hash ^= b.keys[i]
	if w >= b.high {
		b.high = w + 1
	}
	for b.low < len(b.words) && b.words[b.low] == ^uint64(0) {
		b.low++
	}
}

func (b *bitset) remove(i int32) {
	w := int(i >> 6)
	b.words[w] &^= 1 << (uint(i) & 63)
	b.hash ^= b.keys[i]
	if w < b.low {
		b.low = w
	}
	for b.high > 0 && b.words[b.high-1] == 0 {
		b.high--
	}
}

func (b *bitset) has(i int32) bool {
	return b.words[i>>6]&(1<<(uint(i)&63)) != 0
}

// window returns the words in [low, high): with low, all a set needs to be
// told apart from another set of the same size of universe.
func (b *bitset) window() []uint64 {
	if b.high <= b.low {
		return nil
	}
	return b.words[b.low:b.high]
}

// count returns the number of members.
func (b *bitset) count() int {
	n := 64 * b.low
	for _, w := range b.window() {
		n += bits.OnesCount64(w)
	}
	return n
}

// splitmix64 is a fast 64-bit mixer with full avalanche (Steele et al.).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
