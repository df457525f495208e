package porcupine_test

import (
	"math/rand"
	"strings"
	"testing"

	"6.5840/models"
	"6.5840/porcupine"
)

// registerSettled is registerModel with StateAfter, so that the checker
// may refute its histories from a settled state (refute.go): a write of a
// leaves a, a read of v leaves v, a successful cas(a, b) leaves b.
var registerSettled = func() porcupine.Model {
	m := registerModel
	m.StateAfter = func(input, output interface{}) (interface{}, bool) {
		in := input.(regInput)
		out, known := output.(regOutput)
		switch {
		case in.op == regWrite:
			return in.a, true
		case in.op == regRead && known:
			return out.value, true
		case in.op == regCas && known && out.ok:
			return in.b, true
		}
		return nil, false
	}
	return m
}()

// randomKvHistory makes a small history of one key with appends of
// distinct pieces, a few puts, and gets that read a random arrangement of
// pieces appended so far, so that both verdicts come up. Some calls never
// return.
func randomKvHistory(rng *rand.Rand) []porcupine.Event {
	var evs []porcupine.Event
	clients := 2 + rng.Intn(3)
	busy := make([]int, clients) // the Id outstanding, or -1
	for c := range busy {
		busy[c] = -1
	}
	inputs := make(map[int]models.KvInput)
	var pieces []string // every piece appended or put so far
	for id, n := 0, 4+rng.Intn(4); len(evs) < 2*n; {
		c := rng.Intn(clients)
		if busy[c] < 0 {
			if id == n {
				continue
			}
			in := models.KvInput{Op: models.OpGet, Key: "k"}
			switch r := rng.Intn(10); {
			case r < 5:
				in.Op, in.Value = models.OpAppend, string(rune('a'+id))
			case r < 6:
				in.Op, in.Value = models.OpPut, string(rune('A'+id))
			}
			if in.Op != models.OpGet {
				pieces = append(pieces, in.Value)
			}
			inputs[id] = in
			evs = append(evs, porcupine.Event{ClientId: c, Kind: porcupine.CallEvent, Value: in, Id: id})
			busy[c] = id
			id++
			continue
		}
		if rng.Intn(8) == 0 { // leave it open
			busy[c] = -1
			evs = append(evs, porcupine.Event{}) // placeholder, dropped below
			continue
		}
		var out models.KvOutput
		if inputs[busy[c]].Op == models.OpGet && len(pieces) > 0 {
			perm := rng.Perm(len(pieces))[:rng.Intn(min(3, len(pieces))+1)]
			var b strings.Builder
			for _, i := range perm {
				b.WriteString(pieces[i])
			}
			out.Value = b.String()
		}
		evs = append(evs, porcupine.Event{ClientId: c, Kind: porcupine.ReturnEvent, Value: out, Id: busy[c]})
		busy[c] = -1
	}
	var clean []porcupine.Event
	for _, e := range evs {
		if e.Value != nil {
			clean = append(clean, e)
		}
	}
	return clean
}

type randomFamily struct {
	name     string
	model    porcupine.Model
	generate func(*rand.Rand) []porcupine.Event
}

var settledFamilies = []randomFamily{
	{"RegisterWithStateAfter", registerSettled, randomRegisterHistory},
	{"KvAppends", models.KvModel, randomKvHistory},
}

// TestRandomSettledHistoriesAgreeWithBruteForce is
// TestRandomSmallHistoriesAgreeWithBruteForce for models with StateAfter,
// whose failed passes the checker tries to refute (refute.go), and for the
// kv model with appends, whose states are not strings.
//
// With StallAtOnce, searches stall every few configurations, so that the
// checker calls the refuter with tiny budgets, takes its searches up again
// and again, and leaves the subtrees of roots the refuter did not place
// the stalled operation from, as it does on long histories.
func TestRandomSettledHistoriesAgreeWithBruteForce(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewSource(seed))
	for _, stall := range []int{0, 2} {
		for _, fam := range settledFamilies {
			name := fam.name
			if stall > 0 {
				name += "/StallAtOnce"
			}
			t.Run(name, func(t *testing.T) {
				if stall > 0 {
					defer porcupine.SetStallConfigsForTest(stall)()
				}
				rounds := 500
				if stall > 0 {
					rounds = 2000 // what it exercises comes up rarely in small histories
				}
				checkSettledFamily(t, fam, rng, seed, rounds)
			})
		}
	}
}

func checkSettledFamily(t *testing.T, fam randomFamily, rng *rand.Rand, seed int64, rounds int) {
	counts := map[bool]int{}
	for round := 0; round < rounds; round++ {
		evs := fam.generate(rng)
		ops := eventsAsOperations([][]porcupine.Event{evs})[0]
		want := bruteForce(fam.model, ops)
		counts[want]++
		if got := porcupine.CheckEvents(fam.model, evs); got != want {
			t.Fatalf("seed %d, round %d: CheckEvents = %v, brute force %v\n%s", seed, round, got, want, dumpEvents(evs))
		}
		res, info := porcupine.CheckEventsVerbose(fam.model, evs, 0)
		if res != wantResult(want) {
			t.Fatalf("seed %d, round %d: CheckEventsVerbose = %s, brute force %v\n%s", seed, round, res, want, dumpEvents(evs))
		}
		checkInfo(t, fam.model, [][]testOp{ops}, info)
	}
	if counts[true] < 50 || counts[false] < 50 {
		t.Fatalf("seed %d: %d linearizable and %d not: the generator should give plenty of both", seed, counts[true], counts[false])
	}
}

// TestRefuteNeverRefutesALinearizableHistory calls the refuter directly,
// with every closed operation of random small histories as the one a pass
// got stuck on: a proof on a linearizable history would be a wrong
// Illegal. It must also prove some of the others, or this test proves
// nothing; and it must reach the same answer when its budget runs out
// again and again, so that it takes up cut-short searches where they
// stopped.
func TestRefuteNeverRefutesALinearizableHistory(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewSource(seed))
	for _, fam := range settledFamilies {
		t.Run(fam.name, func(t *testing.T) {
			proofs, illegal := 0, 0
			for round := 0; round < 400; round++ {
				evs := fam.generate(rng)
				ops := eventsAsOperations([][]porcupine.Event{evs})[0]
				linearizable := bruteForce(fam.model, ops)
				if !linearizable {
					illegal++
				}
				refuted := false
				for u, o := range ops {
					if o.open {
						continue
					}
					// At once, and in small steps that cut searches short
					// and take them up again: the same answer.
					once := porcupine.RefuteForTest(fam.model, evs, u, 1<<20)
					steps := porcupine.RefuteForTest(fam.model, evs, u, 1, 2, 3, 5, 8, 13, 21, 34, 55, 1<<20)
					if once != steps {
						t.Fatalf("seed %d, round %d, operation %d: refuted at once %v, in steps %v\n%s",
							seed, round, u, once, steps, dumpEvents(evs))
					}
					if !once {
						continue
					}
					if linearizable {
						t.Fatalf("seed %d, round %d: refuted from operation %d, but the history is linearizable\n%s",
							seed, round, u, dumpEvents(evs))
					}
					refuted = true
				}
				if refuted {
					proofs++
				}
			}
			if proofs < illegal/4 {
				t.Fatalf("seed %d: refute proved only %d of %d illegal histories", seed, proofs, illegal)
			}
		})
	}
}
