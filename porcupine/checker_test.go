package porcupine_test

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"6.5840/models"
	"6.5840/porcupine"
)

// Small hand-made histories with their verdicts, checked through every
// entry point. The definition of linearizability (Herlihy and Wing, 1990):
// each operation appears to take effect at one instant between its call and
// its return, and the resulting sequential order is legal for the model.

func get(client int, key, value string, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: models.KvInput{Op: models.OpGet, Key: key},
		Output: models.KvOutput{Value: value}, Call: call, Return: ret}
}

func put(client int, key, value string, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: models.KvInput{Op: models.OpPut, Key: key, Value: value},
		Output: models.KvOutput{}, Call: call, Return: ret}
}

func appendOp(client int, key, value string, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: models.KvInput{Op: models.OpAppend, Key: key, Value: value},
		Output: models.KvOutput{}, Call: call, Return: ret}
}

type handMade struct {
	name  string
	model porcupine.Model
	ops   []porcupine.Operation
	want  bool
}

func handMadeHistories() []handMade {
	kv := models.KvModel
	return []handMade{
		{"EmptyHistory", kv, nil, true},
		{"GetAfterPutSeesIt", kv, []porcupine.Operation{
			put(0, "x", "a", 0, 10), get(1, "x", "a", 20, 30)}, true},
		{"GetAfterPutSeesOldValue", kv, []porcupine.Operation{
			put(0, "x", "a", 0, 10), get(1, "x", "", 20, 30)}, false},
		{"ConcurrentGetMaySeeOldValue", kv, []porcupine.Operation{
			put(0, "x", "a", 0, 10), get(1, "x", "", 5, 15)}, true},
		{"ConcurrentGetMaySeeNewValue", kv, []porcupine.Operation{
			put(0, "x", "a", 0, 10), get(1, "x", "a", 5, 15)}, true},
		{"TouchingIntervalsOverlap", kv, []porcupine.Operation{
			put(0, "x", "a", 0, 10), get(1, "x", "", 10, 20)}, true},
		{"ConcurrentAppendsInEitherOrder", kv, []porcupine.Operation{
			appendOp(0, "x", "a", 0, 10), appendOp(1, "x", "b", 0, 10), get(2, "x", "ba", 20, 30)}, true},
		// The search tries candidates earliest return first, and its quick
		// first pass only the first two: these need the third, or a read
		// that only three writes can satisfy.
		{"LinearizationStartsWithTheLastCandidate", kv, []porcupine.Operation{
			appendOp(0, "x", "a", 0, 10), appendOp(1, "x", "b", 0, 11), appendOp(2, "x", "c", 0, 12),
			get(3, "x", "cba", 20, 30)}, true},
		{"ReadWaitsForThreeAppends", kv, []porcupine.Operation{
			appendOp(0, "x", "a", 0, 100), appendOp(1, "x", "b", 0, 100), appendOp(2, "x", "c", 0, 100),
			get(3, "x", "abc", 0, 50)}, true},
		{"ReadsDisagreeOnAppendOrder", kv, []porcupine.Operation{
			appendOp(0, "x", "a", 0, 10), appendOp(1, "x", "b", 0, 10),
			get(2, "x", "ab", 20, 30), get(2, "x", "ba", 40, 50)}, false},
		{"ValueSeenThenUnseen", kv, []porcupine.Operation{
			put(0, "x", "a", 0, 100), get(1, "x", "a", 10, 20), get(2, "x", "", 30, 40)}, false},
		{"ReadsOfConcurrentGetsMayCross", kv, []porcupine.Operation{
			put(0, "x", "a", 0, 100), get(1, "x", "a", 10, 40), get(2, "x", "", 30, 50)}, true},
		{"KeysAreIndependent", kv, []porcupine.Operation{
			put(0, "x", "1", 0, 10), put(1, "y", "2", 0, 10),
			get(2, "y", "2", 20, 30), get(2, "x", "1", 40, 50)}, true},
		{"OneBadKeyAmongGoodOnes", kv, []porcupine.Operation{
			put(0, "x", "1", 0, 10), put(1, "y", "2", 0, 10), put(1, "z", "3", 20, 30),
			get(2, "y", "2", 20, 30), get(2, "x", "1", 40, 50), get(2, "z", "", 60, 70)}, false},
		{"RegisterCasSucceedsOnMatch", registerModel, []porcupine.Operation{
			regOp(0, regInput{op: regWrite, a: 1}, regOutput{ok: true}, 0, 10),
			regOp(1, regInput{op: regCas, a: 1, b: 2}, regOutput{ok: true}, 20, 30),
			regOp(0, regInput{op: regRead}, regOutput{ok: true, value: 2}, 40, 50)}, true},
		{"RegisterCasCannotFailOnMatch", registerModel, []porcupine.Operation{
			regOp(0, regInput{op: regWrite, a: 1}, regOutput{ok: true}, 0, 10),
			regOp(1, regInput{op: regCas, a: 1, b: 2}, regOutput{ok: false}, 20, 30)}, false},
	}
}

func regOp(client int, in regInput, out interface{}, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret}
}

// TestHandMadeHistoriesThroughEveryEntryPoint checks each small history with
// all six checking functions, the event forms on the equivalent events.
func TestHandMadeHistoriesThroughEveryEntryPoint(t *testing.T) {
	for _, tc := range handMadeHistories() {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			want := wantResult(tc.want)
			evs := operationsAsEvents(tc.ops)
			if got := porcupine.CheckOperations(tc.model, tc.ops); got != tc.want {
				t.Errorf("CheckOperations = %v, want %v", got, tc.want)
			}
			if got := porcupine.CheckOperationsTimeout(tc.model, tc.ops, time.Minute); got != want {
				t.Errorf("CheckOperationsTimeout = %s, want %s", got, want)
			}
			got, info := porcupine.CheckOperationsVerbose(tc.model, tc.ops, 0)
			if got != want {
				t.Errorf("CheckOperationsVerbose = %s, want %s", got, want)
			}
			checkInfo(t, tc.model, partitionOps(tc.model, tc.ops), info)
			if got := porcupine.CheckEvents(tc.model, evs); got != tc.want {
				t.Errorf("CheckEvents = %v, want %v", got, tc.want)
			}
			if got := porcupine.CheckEventsTimeout(tc.model, evs, time.Minute); got != want {
				t.Errorf("CheckEventsTimeout = %s, want %s", got, want)
			}
			got, info = porcupine.CheckEventsVerbose(tc.model, evs, 0)
			if got != want {
				t.Errorf("CheckEventsVerbose = %s, want %s", got, want)
			}
			checkInfo(t, tc.model, eventsAsOperations(partitionEvents(tc.model, evs)), info)
		})
	}
}

// Open operations: a call with no return may take effect at any moment
// after its call, or never.
func TestOpenOperations(t *testing.T) {
	call := func(id, client int, in models.KvInput) porcupine.Event {
		return porcupine.Event{ClientId: client, Kind: porcupine.CallEvent, Value: in, Id: id}
	}
	ret := func(id, client int, value string) porcupine.Event {
		return porcupine.Event{ClientId: client, Kind: porcupine.ReturnEvent, Value: models.KvOutput{Value: value}, Id: id}
	}
	putA := models.KvInput{Op: models.OpPut, Key: "x", Value: "a"}
	getX := models.KvInput{Op: models.OpGet, Key: "x"}
	cases := []struct {
		name string
		evs  []porcupine.Event
		want bool
	}{
		{"OpenPutMayTakeEffect", []porcupine.Event{
			call(0, 0, putA), call(1, 1, getX), ret(1, 1, "a")}, true},
		{"OpenPutMayNeverTakeEffect", []porcupine.Event{
			call(0, 0, putA), call(1, 1, getX), ret(1, 1, "")}, true},
		{"OpenPutCannotTakeEffectBeforeItsCall", []porcupine.Event{
			call(1, 1, getX), ret(1, 1, "a"), call(0, 0, putA)}, false},
		{"OpenPutOnceSeenStaysInEffect", []porcupine.Event{
			call(0, 0, putA), call(1, 1, getX), ret(1, 1, "a"), call(2, 1, getX), ret(2, 1, "")}, false},
		{"OpenPutMayTakeEffectLate", []porcupine.Event{
			call(0, 0, putA), call(1, 1, getX), ret(1, 1, ""), call(2, 1, getX), ret(2, 1, "a")}, true},
		{"OpenGetConstrainsNothing", []porcupine.Event{
			call(0, 0, getX), call(1, 1, putA), ret(1, 1, ""), call(2, 1, getX), ret(2, 1, "a")}, true},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			if got := porcupine.CheckEvents(models.KvModel, tc.evs); got != tc.want {
				t.Errorf("CheckEvents = %v, want %v", got, tc.want)
			}
			res, info := porcupine.CheckEventsVerbose(models.KvModel, tc.evs, 0)
			if res != wantResult(tc.want) {
				t.Errorf("CheckEventsVerbose = %s, want %v", res, tc.want)
			}
			checkInfo(t, models.KvModel, eventsAsOperations(partitionEvents(models.KvModel, tc.evs)), info)
		})
	}
}

// TestMalformedEventHistoriesPanic checks that a history the checker cannot
// interpret is reported loudly rather than judged.
func TestMalformedEventHistoriesPanic(t *testing.T) {
	getX := models.KvInput{Op: models.OpGet, Key: "x"}
	cases := map[string][]porcupine.Event{
		"ReturnWithoutCall": {{Kind: porcupine.ReturnEvent, Value: models.KvOutput{}, Id: 7}},
		"CallIdTwice":       {{Kind: porcupine.CallEvent, Value: getX, Id: 1}, {Kind: porcupine.CallEvent, Value: getX, Id: 1}},
	}
	for name, evs := range cases {
		evs := evs
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("CheckEvents did not panic")
				}
			}()
			porcupine.CheckEvents(porcupine.Model{Init: models.KvModel.Init, Step: models.KvModel.Step}, evs)
		})
	}
}

// bruteForce decides linearizability by trying every order: exponential,
// for histories of a few operations only. An operation whose Return is
// open may be left out.
func bruteForce(m porcupine.Model, ops []testOp) bool {
	placed := make([]bool, len(ops))
	var try func(state interface{}, left int) bool
	try = func(state interface{}, left int) bool {
		if left == 0 {
			return true
		}
		for i, o := range ops {
			if placed[i] || !mayGoNext(ops, placed, i) {
				continue
			}
			legal, next := m.Step(state, o.Input, o.Output)
			if !legal {
				continue
			}
			placed[i] = true
			done := 0
			if !o.open {
				done = 1
			}
			ok := try(next, left-done)
			placed[i] = false
			if ok {
				return true
			}
		}
		return false
	}
	closed := 0
	for _, o := range ops {
		if !o.open {
			closed++
		}
	}
	return try(m.Init(), closed)
}

// mayGoNext reports whether no unplaced closed operation returned before
// operation i was called.
func mayGoNext(ops []testOp, placed []bool, i int) bool {
	for j, o := range ops {
		if j != i && !placed[j] && !o.open && o.Return < ops[i].Call {
			return false
		}
	}
	return true
}

// randomRegisterHistory makes a small history of a register with random
// outputs, so that both verdicts come up. Each client runs its operations
// one after another; some never return.
func randomRegisterHistory(rng *rand.Rand) []porcupine.Event {
	var evs []porcupine.Event
	clients := 2 + rng.Intn(3)
	busy := make([]int, clients) // the Id outstanding, or -1
	for c := range busy {
		busy[c] = -1
	}
	inputs := make(map[int]regInput)
	for id, n := 0, 4+rng.Intn(4); len(evs) < 2*n; {
		c := rng.Intn(clients)
		if busy[c] < 0 {
			if id == n {
				continue
			}
			in := regInput{op: rng.Intn(3), a: rng.Intn(3), b: rng.Intn(3)}
			inputs[id] = in
			evs = append(evs, porcupine.Event{ClientId: c, Kind: porcupine.CallEvent, Value: in, Id: id})
			busy[c] = id
			id++
			continue
		}
		if rng.Intn(8) == 0 { // leave it open: the client moves on under a new number
			busy[c] = -1
			evs = append(evs, porcupine.Event{}) // placeholder, dropped below
			continue
		}
		out := regOutput{ok: rng.Intn(2) == 0, value: rng.Intn(3) - 1}
		if inputs[busy[c]].op != regCas {
			out.ok = true
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

// TestRandomSmallHistoriesAgreeWithBruteForce compares the checker, on
// operations and on events, with an exhaustive search over all orders, on
// random register histories with open operations.
func TestRandomSmallHistoriesAgreeWithBruteForce(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewSource(seed))
	counts := map[bool]int{}
	for round := 0; round < 600; round++ {
		evs := randomRegisterHistory(rng)
		ops := eventsAsOperations([][]porcupine.Event{evs})[0]
		want := bruteForce(registerModel, ops)
		counts[want]++
		if got := porcupine.CheckEvents(registerModel, evs); got != want {
			t.Fatalf("seed %d, round %d: CheckEvents = %v, brute force %v\n%s", seed, round, got, want, dumpEvents(evs))
		}
		res, info := porcupine.CheckEventsVerbose(registerModel, evs, 0)
		if res != wantResult(want) {
			t.Fatalf("seed %d, round %d: CheckEventsVerbose = %s, brute force %v\n%s", seed, round, res, want, dumpEvents(evs))
		}
		checkInfo(t, registerModel, [][]testOp{ops}, info)
		// The same history as operations: close the open ones at the end,
		// with an unknown output, which the register accepts in any state.
		var closed []porcupine.Operation
		for _, o := range ops {
			if o.open {
				o.Return = int64(len(evs))
			}
			closed = append(closed, o.Operation)
		}
		if got := porcupine.CheckOperations(registerModel, closed); got != want {
			t.Fatalf("seed %d, round %d: CheckOperations = %v, brute force %v\n%s", seed, round, got, want, dumpEvents(evs))
		}
	}
	if counts[true] < 50 || counts[false] < 50 {
		t.Fatalf("seed %d: %d linearizable and %d not: the generator should give plenty of both", seed, counts[true], counts[false])
	}
}

func dumpEvents(evs []porcupine.Event) string {
	s := ""
	for _, e := range evs {
		kind := "call"
		if e.Kind == porcupine.ReturnEvent {
			kind = "ret "
		}
		s += fmt.Sprintf("  client %d %s id %d %+v\n", e.ClientId, kind, e.Id, e.Value)
	}
	return s
}
