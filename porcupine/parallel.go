package porcupine

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// partitionResult is how one partition's search ended.
type partitionResult struct {
	outcome  outcome
	partials [][]int32 // with verbose: as recorder.result
}

// checkPartitions decides every partition, on up to GOMAXPROCS goroutines,
// and returns the verdict on the whole history with each partition's result.
//
// Linearizability is local: the history is Ok iff every partition is. So
// unless verbose asks for every partition's story, the first Illegal
// partition stops the others. At the deadline (zero: none) every search
// stops and the verdict is Unknown, unless some partition was already found
// Illegal, which settles it.
//
// The worker goroutines belong to this call: it waits for all of them
// before returning, so none outlives it. A panic in the model (say a Step
// handed an input of the wrong type) stops the other workers and is raised
// again here, in the caller's goroutine, with the worker's stack.
func checkPartitions(m Model, hs []timeline, deadline time.Time, verbose bool) (CheckResult, []partitionResult) {
	results := make([]partitionResult, len(hs))
	order := make([]int, len(hs)) // largest first, so no big one starts last
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(hs[order[a]].ops) > len(hs[order[b]].ops) })

	var stop atomic.Bool
	var next atomic.Int64
	work := func() {
		for {
			k := int(next.Add(1)) - 1
			if k >= len(order) {
				return
			}
			i := order[k]
			if !deadline.IsZero() && !time.Now().Before(deadline) {
				stop.Store(true)
			}
			if stop.Load() {
				results[i] = partitionResult{outcome: stopped}
				continue
			}
			results[i] = decidePartition(m, &hs[i], &stop, deadline, verbose)
			out := results[i].outcome
			if out == exhausted && !verbose {
				stop.Store(true)
			}
		}
	}

	workers := runtime.GOMAXPROCS(0)
	if workers > len(hs) {
		workers = len(hs)
	}
	if workers <= 1 {
		work()
	} else {
		var wg sync.WaitGroup
		var panicOnce sync.Once
		var panicked string
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					if r := recover(); r != nil {
						panicOnce.Do(func() {
							panicked = fmt.Sprintf("porcupine: the model panicked: %v\n\n%s", r, debug.Stack())
						})
						stop.Store(true)
					}
				}()
				work()
			}()
		}
		wg.Wait()
		if panicked != "" {
			panic(panicked)
		}
	}
	return verdict(results), results
}

// decidePartition searches one partition: quick passes first, which settle
// most linearizable partitions at once, then, if they gave up somewhere
// without finding a linearization, a full one. When a pass stalls or
// fails, the refuter tries to prove the partition Illegal from where it got
// stuck, which spares the backtracking through the whole partition that
// would otherwise follow a break. When instead the refuter finds a way past
// the stuck operation from a root other than the one a quick pass went
// through, the pass leaves that subtree (leaveWrongRoot).
func decidePartition(m Model, h *timeline, stop *atomic.Bool, deadline time.Time, verbose bool) partitionResult {
	var rec *recorder
	if verbose {
		rec = newRecorder()
	}
	s := newSearch(m, h, stop, deadline, 4*len(h.ops))
	var ref *refuter // made at the first stall
	stall := func(stuck int32, budget int) outcome {
		if m.StateAfter == nil {
			return found
		}
		if ref == nil {
			ref = newRefuter(m, h, stop, deadline)
		}
		out := ref.refute(stuck, budget)
		if g, b, ok := ref.placedRoot(stuck); out == found && ok && s.beam > 0 && s.running {
			s.leaveWrongRoot(g, b)
		}
		return out
	}
	var out outcome
	for _, beam := range passes {
		start := time.Now()
		s.reset(beam, rec)
		s.stall = stall
		out = s.run()
		debugPartition(s, out, start)
		if out != exhausted || !s.deferred || s.proved {
			break // decided: a quick pass that gave up nothing proves Illegal too
		}
		if r := stall(s.stuck, s.stallAt/4); r != found {
			out = r // exhausted: proved Illegal; or stopped
			break
		}
	}
	return partitionResult{outcome: out, partials: rec.result()}
}

// verdict combines the partitions' outcomes: one Illegal partition makes
// the history Illegal; otherwise one that was stopped leaves it Unknown.
func verdict(results []partitionResult) CheckResult {
	v := Ok
	for _, r := range results {
		switch r.outcome {
		case exhausted:
			return Illegal
		case stopped:
			v = Unknown
		}
	}
	return v
}

// passes are the beams of the successive passes over a partition (see
// order.go); 0, a full pass, must come last. The second quick pass catches
// most of the linearizable histories the first misses, at a fraction of the
// cost of a full pass.
var passes = [...]int{2, 4, 0}
