package raft

// Our own tests run with the invariant checks that read the whole log (see
// fullChecks); the benchmarks turn them off while they measure.

func init() { fullChecks.Store(true) }
