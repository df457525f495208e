package kvraft

// Clerk: the client side. It numbers its requests, finds the leader, and
// retries until an operation succeeds, with at most one attempt in flight
// per server.

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"6.5840/labrpc"
)

// Timing of a Clerk's retries.
const (
	// retryPause is how long a Clerk rests after every server in turn has
	// failed it (no leader, say, during an election) before asking them all
	// again. It is short against an election (hundreds of ms) and keeps many
	// Clerks from spinning while there is no one to answer.
	retryPause = 10 * time.Millisecond
	// hedgeAfter is how long a Clerk waits for an answer before it also asks
	// the next server. An answer on a healthy network takes well under a
	// millisecond; one that has not come in this long is stuck: held back by
	// the network, or at a crashed server (labrpc fails such a call only
	// after up to 7 s), or at a leader cut off in a minority.
	hedgeAfter = 100 * time.Millisecond
)

// Clerk is a client of the key/value service. Its Get, Put and Append block
// until the service has carried the operation out, retrying across servers
// as long as it takes; they never fail. A Clerk must be used by one goroutine
// at a time; use one Clerk per concurrent client.
type Clerk struct {
	servers  []*labrpc.ClientEnd
	clientId int64 // random, positive: names this Clerk in every server's duplicate table
	seq      int64 // number of the last request sent; each operation takes the next
	leader   int   // the server that last answered successfully; asked first

	// Attempts in flight, possibly left over from earlier operations: a
	// call to a crashed server can take seconds to fail, and an operation
	// that succeeded elsewhere does not wait for it. Only the goroutine
	// using the Clerk touches these fields; attempts only send on answers.
	// Invariant: at most one attempt per server is in flight, and
	// busy[i] says whether server i has one.
	busy    []bool
	answers chan answer // capacity len(servers): every attempt sends its answer without blocking
}

// MakeClerk returns a Clerk that talks to the given servers (ends to the
// KVServers, in any order). It panics if there are none.
func MakeClerk(servers []*labrpc.ClientEnd) *Clerk {
	if len(servers) == 0 {
		panic("kvraft: MakeClerk needs at least one server")
	}
	return &Clerk{
		servers:  servers,
		clientId: newClientId(),
		busy:     make([]bool, len(servers)),
		answers:  make(chan answer, len(servers)),
	}
}

// newClientId returns a random positive 62-bit number. Clerks never
// coordinate, so random ids of this size are what keeps two of them from
// sharing an entry in the duplicate table.
func newClientId() int64 {
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(fmt.Sprintf("kvraft: no randomness for a client id: %v", err))
		}
		if id := int64(binary.LittleEndian.Uint64(b[:]) >> 2); id > 0 {
			return id
		}
	}
}

// Get returns the current value of key, or "" if it has none. It blocks
// until some leader has answered.
func (ck *Clerk) Get(key string) string {
	ck.seq++
	args := GetArgs{Key: key, ClientId: ck.clientId, Seq: ck.seq}
	return ck.untilSuccess(func(server *labrpc.ClientEnd) (Err, string) {
		var reply GetReply
		if !server.Call("KVServer.Get", &args, &reply) {
			return ErrWrongLeader, ""
		}
		return reply.Err, reply.Value
	})
}

// Put sets key to value. It blocks until the service has done it, exactly once.
func (ck *Clerk) Put(key string, value string) {
	ck.putAppend(key, value, "Put")
}

// Append appends value to key's value (a missing key counts as ""). It blocks
// until the service has done it, exactly once.
func (ck *Clerk) Append(key string, value string) {
	ck.putAppend(key, value, "Append")
}

func (ck *Clerk) putAppend(key, value, op string) {
	ck.seq++
	args := PutAppendArgs{Key: key, Value: value, Op: op, ClientId: ck.clientId, Seq: ck.seq}
	ck.untilSuccess(func(server *labrpc.ClientEnd) (Err, string) {
		var reply PutAppendReply
		if !server.Call("KVServer.PutAppend", &args, &reply) {
			return ErrWrongLeader, ""
		}
		return reply.Err, ""
	})
}

// answer is one server's reply to one attempt.
type answer struct {
	server int
	seq    int64 // the request it answers: an earlier operation's attempt may answer late
	err    Err
	value  string
}

// untilSuccess asks the servers in turn, starting with the last known
// leader, until one answers OK or ErrNoKey; it remembers that server and
// returns the value it gave. A wrong leader, a timeout or a lost call sends
// the Clerk to the next server at once; after n failures in a row it rests
// for retryPause. A server that has not answered within hedgeAfter is not
// waited for: the next server is asked as well, and the first success wins.
// Every attempt carries the same client id and sequence number, so the
// servers execute the operation once however many of them see it.
//
// A server that still has an attempt in flight, from this operation or an
// earlier one, is skipped: a call stuck at a crashed server is never joined
// by a second, so stuck calls hold at most one of a Clerk's goroutines per
// server, and a minority of crashed servers cannot keep the Clerk from the
// rest. When every server has an attempt in flight, the Clerk waits for
// the first to come back. The attempts of earlier operations still in
// flight when an operation starts are waited for only in that way: their
// answers just mark their servers free.
func (ck *Clerk) untilSuccess(call func(server *labrpc.ClientEnd) (Err, string)) string {
	n := len(ck.servers)
	seq := ck.seq
	next := ck.leader // where the search for a free server starts
	mine := 0         // attempts of this operation in flight
	failures := 0     // failed attempts of this operation since the last rest
	hedge := time.NewTimer(hedgeAfter)
	defer hedge.Stop()
	for {
		if mine == 0 {
			if s := ck.ask(next, seq, call); s >= 0 {
				mine++
				next = (s + 1) % n
				resetTimer(hedge, hedgeAfter)
			}
			// Otherwise every server is busy with an earlier
			// operation's attempt: wait for one to come back.
		}
		select {
		case a := <-ck.answers:
			ck.busy[a.server] = false
			if a.seq != seq {
				continue // an earlier operation's attempt; its server is free again
			}
			mine--
			switch a.err {
			case OK, ErrNoKey:
				ck.leader = a.server
				return a.value
			case ErrUnknownOp, ErrBadRequest:
				// Only a Clerk that builds bad requests gets these.
				panic(fmt.Sprintf("kvraft: server %d rejected client %d's request %d: %v",
					a.server, ck.clientId, seq, a.err))
			}
			// ErrWrongLeader, ErrTimeout or a lost call.
			failures++
			if mine == 0 && failures >= n {
				failures = 0
				time.Sleep(retryPause)
			}
		case <-hedge.C:
			if s := ck.ask(next, seq, call); s >= 0 {
				mine++
				next = (s + 1) % n
			}
			hedge.Reset(hedgeAfter)
		}
	}
}

// ask starts an attempt of request seq at the first server, from from on in
// turn, that has none in flight, and returns that server; it returns -1 if
// every server has one. The attempt is a goroutine that ends when its Call
// returns (labrpc bounds how long that takes), after sending its answer,
// for which ck.answers always has room.
func (ck *Clerk) ask(from int, seq int64, call func(server *labrpc.ClientEnd) (Err, string)) int {
	n := len(ck.servers)
	for i := 0; i < n; i++ {
		server := (from + i) % n
		if ck.busy[server] {
			continue
		}
		ck.busy[server] = true
		end := ck.servers[server]
		go func() {
			err, value := call(end)
			ck.answers <- answer{server: server, seq: seq, err: err, value: value}
		}()
		return server
	}
	return -1
}

// resetTimer makes t fire d from now, discarding a firing it has not
// delivered yet (before Go 1.23, Reset alone could leave one in t.C).
func resetTimer(t *time.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(d)
}
