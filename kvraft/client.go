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

// retryPause is how long a Clerk rests after every server in turn has failed
// it (no leader, say, during an election) before asking them all again. It is
// short against an election (hundreds of ms) and keeps many Clerks from
// spinning while there is no one to answer.
const retryPause = 10 * time.Millisecond

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
	var value string
	ck.untilSuccess(func(server *labrpc.ClientEnd) Err {
		var reply GetReply
		if !server.Call("KVServer.Get", &args, &reply) {
			return ErrWrongLeader
		}
		value = reply.Value
		return reply.Err
	})
	return value
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
	ck.untilSuccess(func(server *labrpc.ClientEnd) Err {
		var reply PutAppendReply
		if !server.Call("KVServer.PutAppend", &args, &reply) {
			return ErrWrongLeader
		}
		return reply.Err
	})
}

// untilSuccess calls try on the servers in turn, starting with the last
// known leader, until one answers OK or ErrNoKey, and remembers that server.
// A lost reply, a wrong leader and a timeout all send it to the next server
// at once; after a full round of failures it rests for retryPause.
func (ck *Clerk) untilSuccess(try func(server *labrpc.ClientEnd) Err) {
	n := len(ck.servers)
	for failures := 0; ; failures++ {
		if failures > 0 && failures%n == 0 {
			time.Sleep(retryPause)
		}
		server := (ck.leader + failures) % n
		switch err := try(ck.servers[server]); err {
		case OK, ErrNoKey:
			ck.leader = server
			return
		case ErrUnknownOp, ErrBadRequest:
			// Only a Clerk that builds bad requests gets these.
			panic(fmt.Sprintf("kvraft: server %d rejected client %d's request %d: %v", server, ck.clientId, ck.seq, err))
		default:
			// ErrWrongLeader or ErrTimeout: try the next server.
		}
	}
}
