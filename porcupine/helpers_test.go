package porcupine_test

import (
	"fmt"
	"math"
	"sort"
	"testing"

	"6.5840/porcupine"
)

// testOp is an operation with its openness made explicit, so that operation
// and event histories can be checked by the same helpers.
type testOp struct {
	porcupine.Operation
	open bool // no return: Return is math.MaxInt64 and Output nil
}

func partitionOps(m porcupine.Model, ops []porcupine.Operation) [][]testOp {
	partition := m.Partition
	if partition == nil {
		partition = porcupine.NoPartition
	}
	var out [][]testOp
	for _, part := range partition(ops) {
		var p []testOp
		for _, o := range part {
			p = append(p, testOp{Operation: o})
		}
		out = append(out, p)
	}
	return out
}

func partitionEvents(m porcupine.Model, evs []porcupine.Event) [][]porcupine.Event {
	partition := m.PartitionEvent
	if partition == nil {
		partition = porcupine.NoPartitionEvent
	}
	return partition(evs)
}

// eventsAsOperations turns each part of events into operations, indexed by
// the position of their call among the part's calls (as LinearizationInfo
// indexes them) and timed by event positions.
func eventsAsOperations(parts [][]porcupine.Event) [][]testOp {
	var out [][]testOp
	for _, part := range parts {
		var ops []testOp
		index := make(map[int]int)
		for pos, e := range part {
			if e.Kind == porcupine.CallEvent {
				index[e.Id] = len(ops)
				ops = append(ops, testOp{
					Operation: porcupine.Operation{ClientId: e.ClientId, Input: e.Value, Call: int64(pos), Return: math.MaxInt64},
					open:      true,
				})
				continue
			}
			o := &ops[index[e.Id]]
			o.Output, o.Return, o.open = e.Value, int64(pos), false
		}
		out = append(out, ops)
	}
	return out
}

// operationsAsEvents turns a history of operations into the equivalent
// history of events: by time, a call before a return at equal times (the
// checker takes touching operations to overlap).
func operationsAsEvents(ops []porcupine.Operation) []porcupine.Event {
	type timed struct {
		t   int64
		ret bool
		ev  porcupine.Event
	}
	var ts []timed
	for id, o := range ops {
		ts = append(ts,
			timed{o.Call, false, porcupine.Event{ClientId: o.ClientId, Kind: porcupine.CallEvent, Value: o.Input, Id: id}},
			timed{o.Return, true, porcupine.Event{ClientId: o.ClientId, Kind: porcupine.ReturnEvent, Value: o.Output, Id: id}})
	}
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].t != ts[j].t {
			return ts[i].t < ts[j].t
		}
		return !ts[i].ret && ts[j].ret
	})
	evs := make([]porcupine.Event, len(ts))
	for i, t := range ts {
		evs[i] = t.ev
	}
	return evs
}

// checkInfo checks a verbose result against the partitions it describes:
// each linearization must be a legal order of distinct operations that
// respects real time; an Ok partition has exactly one, placing every closed
// operation; any other has at least one, which does not.
func checkInfo(t *testing.T, m porcupine.Model, parts [][]testOp, info porcupine.LinearizationInfo) {
	t.Helper()
	results := info.PartitionResults()
	lins := info.PartialLinearizations()
	if len(results) != len(parts) || len(lins) != len(parts) {
		t.Fatalf("info describes %d partitions (%d linearization lists), want %d", len(results), len(lins), len(parts))
	}
	for p, ops := range parts {
		closed := 0
		for _, o := range ops {
			if !o.open {
				closed++
			}
		}
		if len(lins[p]) == 0 {
			t.Errorf("partition %d (%s): no linearization recorded", p, results[p])
			continue
		}
		if results[p] == porcupine.Ok && len(lins[p]) != 1 {
			t.Errorf("partition %d is Ok but has %d linearizations, want 1", p, len(lins[p]))
		}
		for k, lin := range lins[p] {
			placed, err := replay(m, ops, lin)
			if err != "" {
				t.Errorf("partition %d, linearization %d: %s", p, k, err)
				continue
			}
			complete := placed == closed
			if complete != (results[p] == porcupine.Ok) {
				t.Errorf("partition %d is %s, but linearization %d places %d of its %d closed operations",
					p, results[p], k, placed, closed)
			}
		}
	}
}

// replay steps the model through lin and returns how many closed operations
// it placed, or what is wrong with it.
func replay(m porcupine.Model, ops []testOp, lin []int) (closedPlaced int, problem string) {
	state := m.Init()
	used := make([]bool, len(ops))
	maxCall := int64(math.MinInt64)
	for step, i := range lin {
		if i < 0 || i >= len(ops) || used[i] {
			return 0, fmt.Sprintf("bad or repeated index %d", i)
		}
		used[i] = true
		o := ops[i]
		if o.Return < maxCall {
			return 0, fmt.Sprintf("step %d returned before an earlier step was called", step)
		}
		if o.Call > maxCall {
			maxCall = o.Call
		}
		var legal bool
		legal, state = m.Step(state, o.Input, o.Output)
		if !legal {
			return 0, fmt.Sprintf("step %d is illegal in the model", step)
		}
		if !o.open {
			closedPlaced++
		}
	}
	return closedPlaced, ""
}
