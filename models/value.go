package models

import (
	"math/bits"
	"strings"
)

// value is the state of KvModel: one key's value as a persistent list of
// pieces, newest last, so that an append costs the length of what it adds,
// not of the whole value, and earlier states stay valid (the checker keeps
// them to backtrack to and in its memo).
//
// Each node carries the length and a polynomial hash of its whole content,
// so Hash is O(1) and Equal can tell most unequal values apart in O(1).
// Values that agree on both are compared byte by byte, from the end, so a
// hash collision costs time, never a wrong answer.
//
// Nodes are merged like the digits of a counter in base mergeFan: when
// the newest mergeFan nodes all hold the same number of appended pieces
// (their weight), one node holding their concatenation replaces them. A
// chain therefore has at most (mergeFan-1)·log(n) nodes for n appends
// (about 45 for 4096), so comparing or describing a value touches few
// nodes however long the history; each appended byte is copied about
// log(n) times in all (three for 4096), and an append allocates one node
// and, once in mergeFan-1 appends, one more.
//
// Invariants: n == len(piece) + prev.n (0 for prev == nil); hash ==
// hashExtend(prev.hash, piece); weight is a power of mergeFan, 0 only for
// emptyValue, and weights never shrink along a chain towards its root,
// with fewer than mergeFan nodes of any one weight.
// A value is never modified once built, so one may be shared by any number
// of goroutines.
type value struct {
	prev   *value // the content before piece; nil at the root
	piece  string
	n      int    // the length of the whole content
	hash   uint64 // hashExtend over the whole content
	weight int    // the number of pieces merged into this node
}

// mergeFan is the base of the counter: larger means fewer merges and
// longer chains.
const mergeFan = 16

// emptyValue is the value of a key never written, shared by every search.
var emptyValue = &value{}

// rootValue returns the value whose content is s, as a put leaves it.
func rootValue(s string) *value {
	return &value{piece: s, n: len(s), hash: hashExtend(0, s), weight: 1}
}

// appendPiece returns the value v followed by s. v is left as it was.
func (v *value) appendPiece(s string) *value {
	w := &value{prev: v, piece: s, n: v.n + len(s), hash: hashExtend(v.hash, s), weight: 1}
	if v.n == 0 {
		w.prev = nil // nothing to keep from the empty value
	}
	for {
		last := w // the mergeFan-th node of w's weight, counting from w
		k := 1
		for ; k < mergeFan && last.prev != nil && last.prev.weight == w.weight; k++ {
			last = last.prev
		}
		if k < mergeFan {
			return w
		}
		w = merge(w, last)
	}
}

// merge returns one node holding the content of the nodes from last to w,
// all of one weight.
func merge(w, last *value) *value {
	var b strings.Builder
	b.Grow(w.n - last.n + len(last.piece))
	var collect func(*value)
	collect = func(u *value) { // mergeFan deep at most
		if u != last {
			collect(u.prev)
		}
		b.WriteString(u.piece)
	}
	collect(w)
	return &value{prev: last.prev, piece: b.String(), n: w.n, hash: w.hash, weight: mergeFan * w.weight}
}

// String returns the whole content. It costs O(n): the model calls it only
// to describe a short value.
func (v *value) String() string { return v.prefix(v.n) }

// prefix returns the first k bytes (k <= v.n).
func (v *value) prefix(k int) string {
	var chain []*value // newest first; O(log n) long
	for u := v; u != nil; u = u.prev {
		chain = append(chain, u)
	}
	if root := chain[len(chain)-1]; k <= len(root.piece) {
		return root.piece[:k]
	}
	var b strings.Builder
	b.Grow(k)
	for i := len(chain) - 1; i >= 0 && b.Len() < k; i-- {
		p := chain[i].piece
		b.WriteString(p[:min(len(p), k-b.Len())])
	}
	return b.String()
}

// suffix returns the last k bytes (k <= v.n).
func (v *value) suffix(k int) string {
	if k <= len(v.piece) {
		return v.piece[len(v.piece)-k:]
	}
	return v.prev.suffix(k-len(v.piece)) + v.piece
}

// sameValue reports whether a and b have the same content.
func sameValue(a, b *value) bool {
	if a == b {
		return true
	}
	if a.n != b.n || a.hash != b.hash {
		return false
	}
	return sameContent(a, b)
}

// sameContent compares a and b, of equal length, from their ends: the
// newest pieces are where unequal values of the same length and hash would
// differ, and where equal values reached by different orders of commuting
// operations stop sharing nodes. Reaching one node on both sides, at the
// same offset, settles it.
func sameContent(a, b *value) bool {
	ai, bi := len(a.piece), len(b.piece) // bytes of the piece not yet compared
	for {
		if a == b && ai == bi {
			return true
		}
		for ai == 0 && a.prev != nil {
			a = a.prev
			ai = len(a.piece)
		}
		for bi == 0 && b.prev != nil {
			b = b.prev
			bi = len(b.piece)
		}
		if ai == 0 || bi == 0 {
			return ai == bi // equal lengths: both ran out together
		}
		k := min(ai, bi)
		if a.piece[ai-k:ai] != b.piece[bi-k:bi] {
			return false
		}
		ai -= k
		bi -= k
	}
}

// equalsString reports whether v's content is s, comparing from the end.
func (v *value) equalsString(s string) bool {
	if v.n != len(s) {
		return false
	}
	end := len(s)
	for u := v; u != nil; u = u.prev {
		if u.piece != s[end-len(u.piece):end] {
			return false
		}
		end -= len(u.piece)
	}
	return true
}

// The hash is the polynomial sum of (byte+1)·B^k modulo the Mersenne prime
// 2^61-1, extended one byte at a time (Horner), so that the hash of a+b
// follows from the hash of a and the bytes of b, and equal contents hash
// alike however they were built. The +1 keeps zero bytes from vanishing.
const (
	hashPrime = 1<<61 - 1
	hashBase  = 0x1b873593a5c2e3d // any residue far from 0 and 1
)

func hashExtend(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = mulMod(h, hashBase) + uint64(s[i]) + 1
		if h >= hashPrime {
			h -= hashPrime
		}
	}
	return h
}

// mulMod returns a·b mod 2^61-1 for a, b < 2^61.
func mulMod(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	// a·b = q·2^61 + r, and 2^61 ≡ 1.
	q := hi<<3 | lo>>61
	r := lo & hashPrime
	s := q + r
	if s >= hashPrime {
		s -= hashPrime
	}
	return s
}
