package kvraft

// The RPC types a Clerk and a KVServer exchange, the Err values they answer
// with, the Op carried in the Raft log, and the package's debug logging.

import (
	"fmt"
	"log"
	"os"
	"time"
)

// Err is the outcome of a Get or PutAppend RPC.
type Err string

// The outcomes a KVServer answers with. OK and ErrNoKey are successes; the
// Clerk retries on ErrWrongLeader and ErrTimeout (at another server); the
// last two reject a request the Clerk never sends, so a well-behaved Clerk
// never sees them.
const (
	OK             Err = "OK"             // the operation took effect
	ErrNoKey       Err = "ErrNoKey"       // Get of a key that has no value; the reply's Value is ""
	ErrWrongLeader Err = "ErrWrongLeader" // not the leader, or the operation did not commit; try another server
	ErrTimeout     Err = "ErrTimeout"     // the leader could not commit in time (perhaps cut off); try another server
	ErrUnknownOp   Err = "ErrUnknownOp"   // PutAppendArgs.Op is neither "Put" nor "Append"; nothing was done
	ErrBadRequest  Err = "ErrBadRequest"  // ClientId or Seq is not positive; nothing was done
)

// PutAppendArgs are the arguments of the KVServer.PutAppend RPC.
type PutAppendArgs struct {
	Key      string
	Value    string
	Op       string // "Put" or "Append"
	ClientId int64  // the Clerk's random identity, positive
	Seq      int64  // the Clerk's request number, positive and increasing; retries reuse it
}

// PutAppendReply is the reply of the KVServer.PutAppend RPC.
type PutAppendReply struct {
	Err Err
}

// GetArgs are the arguments of the KVServer.Get RPC.
type GetArgs struct {
	Key      string
	ClientId int64 // the Clerk's random identity, positive
	Seq      int64 // the Clerk's request number, positive; identifies the Get in the log
}

// GetReply is the reply of the KVServer.Get RPC.
type GetReply struct {
	Err   Err
	Value string // the key's value when Err is OK; "" otherwise
}

// opKind says what an Op does. The zero value is no valid kind, so a command
// that decoded to a zero Op is recognised as malformed.
type opKind int

const (
	opGet opKind = iota + 1
	opPut
	opAppend
)

func (k opKind) String() string {
	switch k {
	case opGet:
		return "Get"
	case opPut:
		return "Put"
	case opAppend:
		return "Append"
	}
	return fmt.Sprintf("opKind(%d)", int(k))
}

// Op is the command a KVServer hands to Raft: one client request. Every
// server applies the same Ops in the same order. Fields are exported for gob;
// StartKVServer registers the type with labgob.
type Op struct {
	Kind     opKind // opGet, opPut or opAppend
	Key      string
	Value    string // Put and Append only
	ClientId int64  // the Clerk that sent it
	Seq      int64  // its request number; with ClientId it names the request
}

// isWellFormed reports whether op could have come from a valid request. The
// apply loop skips an Op that is not, rather than guessing what it meant.
func (op Op) isWellFormed() bool {
	return op.Kind >= opGet && op.Kind <= opAppend && op.ClientId > 0 && op.Seq > 0
}

// debugEnabled turns on debug logging: set KVRAFT_DEBUG=1 in the environment.
var debugEnabled = os.Getenv("KVRAFT_DEBUG") == "1"

var debugStart = time.Now()

// debugf logs one line with fixed leading columns (milliseconds since start,
// topic, server) when debug logging is on; it costs one test when off.
func debugf(topic string, me int, format string, args ...interface{}) {
	if !debugEnabled {
		return
	}
	ms := time.Since(debugStart).Milliseconds()
	log.Printf("%6d %-5s K%d "+format, append([]interface{}{ms, topic, me}, args...)...)
}
