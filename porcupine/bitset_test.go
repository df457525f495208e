package porcupine

import (
	"math/bits"
	"math/rand"
	"testing"
)

// TestBitsetSummariesFollowEveryChange checks, after each add and remove of
// a random walk, the invariants the memo relies on: the hash is the XOR of
// the members' keys, every word below low is all ones, every word from high
// on is zero, and count agrees with the words.
func TestBitsetSummariesFollowEveryChange(t *testing.T) {
	for _, n := range []int{1, 63, 64, 65, 200, 1000} {
		seed := int64(n)
		rng := rand.New(rand.NewSource(seed))
		b := newBitset(n, 7)
		in := make([]bool, n)
		for step := 0; step < 20*n; step++ {
			// Favor low ids, as a search does, so that low moves.
			i := int32(rng.Intn(1 + rng.Intn(n)))
			if in[i] {
				b.remove(i)
			} else {
				b.add(i)
			}
			in[i] = !in[i]
			checkBitset(t, &b, in)
		}
	}
}

func checkBitset(t *testing.T, b *bitset, in []bool) {
	t.Helper()
	var hash uint64
	members := 0
	for i, ok := range in {
		if ok {
			hash ^= b.keys[i]
			members++
		}
		if b.has(int32(i)) != ok {
			t.Fatalf("has(%d) = %v, want %v", i, !ok, ok)
		}
	}
	if b.hash != hash {
		t.Fatalf("hash %x, want %x", b.hash, hash)
	}
	for w, word := range b.words {
		if w < b.low && word != ^uint64(0) {
			t.Fatalf("word %d below low %d is %x, not all ones", w, b.low, word)
		}
		if w >= b.high && word != 0 {
			t.Fatalf("word %d at or past high %d is %x, not zero", w, b.high, word)
		}
	}
	if b.low < len(b.words) && b.words[b.low] == ^uint64(0) {
		t.Fatalf("low %d is not the first word that is not all ones", b.low)
	}
	if b.high > 0 && b.words[b.high-1] == 0 {
		t.Fatalf("high %d is not one past the last non-zero word", b.high)
	}
	if got := b.count(); got != members {
		t.Fatalf("count %d, want %d", got, members)
	}
}

// TestBitsetWindowIdentifiesTheSet checks that two sets have the same low
// word and window exactly when they are equal, which is what lets the memo
// store only the window.
func TestBitsetWindowIdentifiesTheSet(t *testing.T) {
	cases := []struct {
		name string
		a, b []int32
		same bool
	}{
		{"BothEmpty", nil, nil, true},
		{"SameMembersAddedInAnotherOrder", []int32{3, 70, 1}, []int32{1, 3, 70}, true},
		{"OneMore", []int32{1, 2}, []int32{1, 2, 3}, false},
		{"FullFirstWordAgainstSpillover", fullWord(0), append(fullWord(0), 64), false},
		{"SameBitInAnotherWord", []int32{5}, []int32{69}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newBitset(200, 1), newBitset(200, 1)
			for _, i := range tc.a {
				a.add(i)
			}
			for _, i := range tc.b {
				b.add(i)
			}
			same := a.low == b.low && equalWords(a.window(), b.window())
			if same != tc.same {
				t.Fatalf("windows equal: %v, want %v (low %d/%d)", same, tc.same, a.low, b.low)
			}
			if (a.hash == b.hash) != tc.same {
				t.Fatalf("hashes equal: %v, want %v", a.hash == b.hash, tc.same)
			}
		})
	}
}

func fullWord(w int32) []int32 {
	var ids []int32
	for i := int32(0); i < 64; i++ {
		ids = append(ids, 64*w+i)
	}
	return ids
}

func equalWords(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSplitmix64Avalanches checks the mixer spreads consecutive inputs, the
// property the Zobrist keys and integer state hashes need: flipping one
// input bit flips about half the output bits.
func TestSplitmix64Avalanches(t *testing.T) {
	total := 0
	for x := uint64(0); x < 1000; x++ {
		total += bits.OnesCount64(splitmix64(x) ^ splitmix64(x^1))
	}
	if mean := float64(total) / 1000; mean < 28 || mean > 36 {
		t.Fatalf("mean flipped bits %.1f, want about 32", mean)
	}
}
