package porcupine_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"6.5840/models"
	"6.5840/porcupine"
)

// hardHistory is beyond any exhaustive checker: n appends to one key, all
// concurrent, then a read of a value no order of them produces. Proving it
// illegal means trying every order of every subset of the appends.
func hardHistory(key string, n int, client0 int) []porcupine.Operation {
	var ops []porcupine.Operation
	for i := 0; i < n; i++ {
		ops = append(ops, appendOp(client0+i, key, fmt.Sprintf("x %d y", i), 0, 100))
	}
	return append(ops, get(client0+n, key, "impossible", 200, 300))
}

// waitForGoroutines polls until at most want goroutines run, and fails if
// that takes longer than a second: the checker must leave none behind.
func waitForGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines still running, want %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// withProcs runs f with GOMAXPROCS set to n, so that the parallel paths run
// even on a one-core machine.
func withProcs(n int, f func()) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	f()
}

// TestTimeoutReturnsUnknownPromptlyWithNoGoroutineLeft gives a hopeless
// history a tiny timeout, through each entry point that takes one, with one
// partition and with several checked in parallel.
func TestTimeoutReturnsUnknownPromptlyWithNoGoroutineLeft(t *testing.T) {
	const timeout = 50 * time.Millisecond
	const bound = 2 * time.Second // generous: a loaded machine, the race detector
	one := hardHistory("x", 40, 0)
	var three []porcupine.Operation
	for k, key := range []string{"x", "y", "z"} {
		three = append(three, hardHistory(key, 40, 100*k)...)
	}
	withProcs(4, func() {
		before := runtime.NumGoroutine()
		for name, ops := range map[string][]porcupine.Operation{"OnePartition": one, "ThreePartitions": three} {
			evs := operationsAsEvents(ops)
			checks := map[string]func() porcupine.CheckResult{
				"CheckOperationsTimeout": func() porcupine.CheckResult {
					return porcupine.CheckOperationsTimeout(models.KvModel, ops, timeout)
				},
				"CheckEventsTimeout": func() porcupine.CheckResult {
					return porcupine.CheckEventsTimeout(models.KvModel, evs, timeout)
				},
				"CheckOperationsVerbose": func() porcupine.CheckResult {
					res, _ := porcupine.CheckOperationsVerbose(models.KvModel, ops, timeout)
					return res
				},
				"CheckEventsVerbose": func() porcupine.CheckResult {
					res, _ := porcupine.CheckEventsVerbose(models.KvModel, evs, timeout)
					return res
				},
			}
			for entry, check := range checks {
				start := time.Now()
				res := check()
				took := time.Since(start)
				if res != porcupine.Unknown {
					t.Errorf("%s, %s: %s, want Unknown", name, entry, res)
				}
				if took > bound {
					t.Errorf("%s, %s: returned after %v with a timeout of %v", name, entry, took, timeout)
				}
				waitForGoroutines(t, before)
			}
		}
	})
}

// TestTimeoutKeepsBestPartialLinearizations checks that a verbose check cut
// short still reports how far each partition got.
func TestTimeoutKeepsBestPartialLinearizations(t *testing.T) {
	ops := hardHistory("x", 40, 0)
	// The timeout must outlast any pause of this process on a loaded
	// machine: a check whose deadline passes before its search starts
	// rightly reports no partial linearization at all.
	res, info := porcupine.CheckOperationsVerbose(models.KvModel, ops, 500*time.Millisecond)
	if res != porcupine.Unknown {
		t.Fatalf("got %s, want Unknown", res)
	}
	if got := info.PartitionResults(); len(got) != 1 || got[0] != porcupine.Unknown {
		t.Fatalf("partition results %v, want [Unknown]", got)
	}
	checkInfo(t, models.KvModel, partitionOps(models.KvModel, ops), info)
	lins := info.PartialLinearizations()[0]
	if len(lins) == 0 {
		t.Fatalf("no partial linearization reported")
	}
	if len(lins[0]) < 40 {
		t.Fatalf("longest partial linearization places %d operations; all 40 appends fit", len(lins[0]))
	}
}

// TestIllegalPartitionStopsTheOthers puts a hopeless partition beside a
// small illegal one: the check must answer Illegal as soon as the small one
// is decided, not when the hopeless one times out.
func TestIllegalPartitionStopsTheOthers(t *testing.T) {
	const timeout = 30 * time.Second
	ops := hardHistory("x", 40, 0)
	ops = append(ops, put(100, "y", "a", 0, 10), get(101, "y", "b", 20, 30))
	withProcs(2, func() {
		before := runtime.NumGoroutine()
		for name, check := range map[string]func() porcupine.CheckResult{
			"operations": func() porcupine.CheckResult { return porcupine.CheckOperationsTimeout(models.KvModel, ops, timeout) },
			"events": func() porcupine.CheckResult {
				return porcupine.CheckEventsTimeout(models.KvModel, operationsAsEvents(ops), timeout)
			},
		} {
			start := time.Now()
			res := check()
			if res != porcupine.Illegal {
				t.Errorf("%s: %s, want Illegal", name, res)
			}
			if took := time.Since(start); took > timeout/3 {
				t.Errorf("%s: took %v: the illegal partition did not stop the hopeless one", name, took)
			}
			waitForGoroutines(t, before)
		}
	})
}

// TestModelPanicReachesTheCaller checks that a panic in Step, raised on a
// worker goroutine, comes back to the goroutine that called the checker.
func TestModelPanicReachesTheCaller(t *testing.T) {
	m := models.KvModel
	m.Step = func(state, input, output interface{}) (bool, interface{}) { panic("step exploded") }
	ops := []porcupine.Operation{put(0, "x", "a", 0, 10), put(1, "y", "b", 0, 10)}
	withProcs(2, func() {
		before := runtime.NumGoroutine()
		defer func() {
			r := recover()
			if r == nil {
				t.Fatalf("no panic")
			}
			if s := fmt.Sprint(r); !strings.Contains(s, "step exploded") {
				t.Fatalf("panic %q does not carry the model's message", s)
			}
			waitForGoroutines(t, before)
		}()
		porcupine.CheckOperations(m, ops)
	})
}
