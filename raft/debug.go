package raft

// Debug logging, off unless RAFT_DEBUG=1 is set when the program starts.
// Every line begins with fixed columns, so logs are easy to filter and sort:
//
//	   1234 VOTE S2 T5   granted vote to S0 (its last entry: index 5, term 7; ours: index 5, term 6)
//
// milliseconds since start-up, topic, peer, term, then the message.

import (
	"fmt"
	"os"
	"time"
)

// Topics of debug lines.
const (
	tVote    = "VOTE" // elections
	tRole    = "ROLE" // changes of role
	tAppend  = "APND" // AppendEntries refusals and truncations
	tCommit  = "CMIT" // the commit index
	tApply   = "APLY" // the applier
	tSnap    = "SNAP" // snapshots
	tPersist = "PERS" // restoring saved state
	tKill    = "KILL" // Kill
)

var (
	debugEnabled = os.Getenv("RAFT_DEBUG") == "1"
	debugStart   = time.Now()
)

// debugf prints one debug line for topic when RAFT_DEBUG=1, and does nothing
// else otherwise. It reads no state guarded by rf.mu, so any goroutine may
// call it. Its arguments are evaluated (and boxed) even when debugging is
// off, so on a hot path guard the call with "if debugEnabled".
func (rf *Raft) debugf(topic string, format string, args ...interface{}) {
	if !debugEnabled {
		return
	}
	prefix := fmt.Sprintf("%7d %-4s S%d T%-3d ", time.Since(debugStart).Milliseconds(), topic, rf.me, rf.debugTerm.Load())
	fmt.Fprintf(os.Stderr, prefix+format+"\n", args...)
}
