package porcupine

import (
	"sync/atomic"
	"time"
)

// Hooks for the external tests and benchmarks (package porcupine_test).

// SetSearchHook has every finished search pass report its partition's size
// and the configurations it explored; nil turns it off. Not safe to change
// while a check runs.
func SetSearchHook(f func(ops, configs int)) { searchHook = f }

// RefuteForTest asks a new refuter of the events' single partition to
// refute it from the operation whose call is the stuck-th call event, once
// per budget in budgets, as a stalled search would with growing budgets.
// It reports whether a call proved the history not linearizable.
func RefuteForTest(m Model, history []Event, stuck int, budgets ...int) bool {
	m = m.withDefaults()
	h := timelineFromEvents(history)
	var stop atomic.Bool
	r := newRefuter(m, &h, &stop, time.Time{})
	for _, budget := range budgets {
		if r.refute(int32(stuck), budget) == exhausted {
			return true
		}
	}
	return false
}

// SetStallConfigsForTest makes searches call the refuter after n
// configurations without progress (see stallConfigs) until the returned
// function restores the default. Not safe to call while a check runs.
func SetStallConfigsForTest(n int) (restore func()) {
	old := stallConfigs
	stallConfigs = n
	return func() { stallConfigs = old }
}
