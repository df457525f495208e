package porcupine

import (
	"math/rand"
	"testing"
)

// TestEntryListUnliftRestoresExactly lifts random operations and puts them
// back in stack order, checking after each step that the list holds
// exactly the entries of the operations not lifted, in time order.
func TestEntryListUnliftRestoresExactly(t *testing.T) {
	seed := int64(11)
	rng := rand.New(rand.NewSource(seed))
	var ops []Operation
	for i := 0; i < 40; i++ {
		call := int64(rng.Intn(100))
		ops = append(ops, Operation{Call: call, Return: call + int64(rng.Intn(30))})
	}
	h := timelineFromOperations(ops)
	l := newEntryList(&h)
	lifted := make([]bool, len(h.ops))
	var stack []int32
	for step := 0; step < 2000; step++ {
		if len(stack) > 0 && (len(stack) == len(h.ops) || rng.Intn(2) == 0) {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			l.unlift(id)
			lifted[id] = false
		} else {
			id := int32(rng.Intn(len(h.ops)))
			if lifted[id] {
				continue
			}
			l.lift(id)
			lifted[id] = true
			stack = append(stack, id)
		}
		var want []int32
		for k, e := range h.entries {
			if !lifted[e.id] {
				want = append(want, int32(k+1))
			}
		}
		var got []int32
		for node := l.first(); node != 0; node = l.next[node] {
			got = append(got, node)
		}
		if len(got) != len(want) {
			t.Fatalf("seed %d, step %d: %d nodes in the list, want %d", seed, step, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("seed %d, step %d: node %d at %d, want %d", seed, step, got[i], i, want[i])
			}
		}
	}
}

// TestTimelineOrdersCallsBeforeReturnsAtEqualTimes pins the tie rule: an
// operation returning when another is called overlaps it.
func TestTimelineOrdersCallsBeforeReturnsAtEqualTimes(t *testing.T) {
	h := timelineFromOperations([]Operation{{Call: 0, Return: 5}, {Call: 5, Return: 9}})
	var got []string
	for _, e := range h.entries {
		kind := "call"
		if e.isReturn {
			kind = "return"
		}
		got = append(got, kind+string(rune('0'+e.id)))
	}
	want := []string{"call0", "call1", "return0", "return1"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("entries %v, want %v", got, want)
		}
	}
}
