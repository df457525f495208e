package kvraft

// Clerk: the client side. It numbers its requests, finds the leader, and
// retries until an operation succeeds.

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
}

// MakeClerk returns a Clerk that talks to the given servers (ends to the
// KVServers, in any order). It panics if there are none.
func MakeClerk(servers []*labrpc.ClientEnd) *Clerk {
	if len(servers) == 0 {
		panic("kvraft: MakeClerk needs at least one server")
	}
	return &Clerk{servers: servers, clientId: newClientId()}
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
	err    Err
	value  string
}

// untilSuccess asks the servers in turn, starting with the last known
// leader, until one answers OK or ErrNoKey; it remembers that server and
// returns the value it gave. A wrong leader, a timeout or a lost call sends
// the Clerk to the next server at once; after a full round of failures it
// rests for retryPause. A server that has not answered within hedgeAfter is
// not waited for: the next server is asked as well, and the first success
// wins. Every attempt carries the same client id and sequence number, so
// the servers execute the operation once however many of them see it.
//
// Each attempt is a goroutine that ends when its Call returns. At most one
// attempt per server is in flight, and answers has room for all of them, so
// attempts still running when untilSuccess returns finish without blocking.
func (ck *Clerk) untilSuccess(call func(server *labrpc.ClientEnd) (Err, string)) string {
	n := len(ck.servers)
	answers := make(chan answer, n)
	inFlight, next, failures := 0, ck.leader, 0
	ask := func() {
		server := next
		next = (next + 1) % n
		inFlight++
		go func() {
			err, value := call(ck.servers[server])
			answers <- answer{server: server, err: err, value: value}
		}()
	}
	ask()
	hedge := time.NewTimer(hedgeAfter)
	defer hedge.Stop()
	for {
		select {
		case a := <-answers:
			inFlight--
			switch a.err {
			case OK, ErrNoKey:
				ck.leader = a.server
				return a.value
			case ErrUnknownOp, ErrBadRequest:
				// Only a Clerk that builds bad requests gets these.
				panic(fmt.Sprintf("kvraft: server %d rejected client %d's request %d: %v",
					a.server, ck.clientId, ck.seq, a.err))
			}
			// ErrWrongLeader, ErrTimeout or a lost call.
			failures++
			if inFlight == 0 {
				if failures%n == 0 {
					time.Sleep(retryPause)
				}
				ask()
				if !hedge.Stop() {
					select {
					case <-hedge.C:
					default:
					}
				}
				hedge.Reset(hedgeAfter)
			}
		case <-hedge.C:
			if inFlight < n {
				ask()
			}
			hedge.Reset(hedgeAfter)
		}
	}
}
