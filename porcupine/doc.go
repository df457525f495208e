// Package porcupine checks whether a concurrent history is linearizable:
// whether every operation can be given one instant between its call and its
// return at which it took effect, so that taken in that order the operations
// make a legal run of a sequential specification, the Model.
//
// # Recording a history
//
// A test records each call a client makes, either as an Operation (input,
// output, call and return times) or as a pair of Events (a call and a
// return sharing an Id, in the order they happened). Times need only be
// ordered; the kvraft tests use time.Now().UnixNano(). A call that never
// returned can be recorded as a call Event with no return: it is an open
// operation, which may have taken effect at any moment after its call, or
// never.
//
//	res, info := porcupine.CheckOperationsVerbose(models.KvModel, ops, time.Second)
//	switch res {
//	case porcupine.Illegal:
//		porcupine.VisualizePath(models.KvModel, info, "history.html") // open it in a browser
//		t.Fatal("history is not linearizable")
//	case porcupine.Unknown:
//		t.Log("linearizability check timed out, assuming the history is ok")
//	}
//
// # The model
//
// A Model gives the initial state and a Step function that says whether an
// operation with a given input and output is legal in a state, and what state
// follows. States are values: Step must not modify the state it gets. A
// model whose operations on different keys are independent should give
// Partition and PartitionEvent: linearizability is local, so each part is
// checked on its own, which is far cheaper than checking the whole. The
// describe functions only serve the visualization. Two optional fields
// go beyond the course's API (models that leave them nil still work):
// Model.Hash speeds up the search for states that are not strings,
// integers or booleans (those are hashed automatically), and
// Model.StateAfter, which names the state a read or a write always
// leaves, lets the checker prove a broken history Illegal without
// backtracking through all of it.
//
// # Verdicts and time limits
//
// CheckOperations and CheckEvents block until they know. The Timeout and
// Verbose variants take a limit (0: none) and answer Unknown when it runs
// out; they return promptly then and leave no goroutine running. The Verbose
// variants also return a LinearizationInfo: for each partition, a
// linearization, or the longest partial ones the search found, which is what
// Visualize draws.
//
// # How the check works
//
// Each partition is searched on its own goroutine, up to GOMAXPROCS at a
// time; the goroutines belong to the call and end before it returns. Unless
// a verbose check wants every partition's story, the first partition found
// not linearizable stops the others.
//
// The search (search.go) is a depth-first search over the orders in which
// operations could take effect, the algorithm of Wing and Gong as improved
// by Lowe: it walks the time line of calls and returns, linearizes an
// operation whose call it meets if the model allows it, and backtracks when
// it meets the return of an operation it has not yet placed. Two things keep
// it fast:
//
//   - A memo of every configuration explored, a set of linearized operations
//     and a model state, so that no configuration is explored twice
//     (memo.go). The set is a bitset with an incrementally updated hash
//     (bitset.go) and the state is hashed too, so a lookup costs a few word
//     comparisons, however many clients ran at once.
//   - An order of candidates (order.go): earliest return first, and
//     operations that unblock a waiting read before the others. Quick passes
//     bet on that order and find the linearization of most linearizable
//     histories with little backtracking; when they fail, a full pass
//     decides.
//   - A refuter (refute.go), for models with StateAfter. A search that
//     finds no linearization must otherwise retry every order of every
//     earlier stretch of the history before it may say so: with a run of
//     overlapping writes and no read among them, hundreds of thousands.
//     When a pass stalls or fails on an operation u, the refuter takes the
//     last read or write g before u, whose state after is known, and
//     searches from every configuration a linearization could be in just
//     after g: if none can place u, the history is Illegal. The search
//     never goes back past g. When some configuration can place u and the
//     quick pass went through g in another, the pass leaves that wrong
//     turn rather than retry every order of what follows it.
//
// Deciding linearizability is NP-complete, and no checker escapes that: a
// history where many writes to one key overlap and no read pins down their
// order for a long stretch can take exponential time, which is what the
// timeout is for.
//
// Set PORCUPINE_DEBUG=1 in the environment to have each partition's search
// reported on standard error (operations, outcome, configurations, time).
package porcupine
