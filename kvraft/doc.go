// Package kvraft is a fault-tolerant key/value service built on the raft
// package (MIT 6.5840, parts 4A and 4B): a replicated state machine. Several
// KVServers each keep a copy of a map from strings to strings; each has a Raft
// peer, and every server applies the same operations in the same order, the
// order of the Raft log. The service keeps working while a majority of the
// servers is up and can talk, and it never returns a wrong or stale answer:
// every Get, Put and Append is linearizable, and every Put and Append takes
// effect exactly once, however often it is retried.
//
// # Using it
//
// StartKVServer starts a server; each server's labrpc.Server carries two
// services, the KVServer itself and its Raft peer (kv.Raft()), as the
// example shows. Stats reports how many snapshots a server took and
// installed. Clients use a Clerk:
//
//	ck := kvraft.MakeClerk(ends) // one end to each server
//	ck.Put("k", "a")
//	ck.Append("k", "b")
//	v := ck.Get("k") // "ab"
//
// The Clerk's methods block until the operation has been carried out; they
// retry forever and never fail. A Clerk serves one goroutine at a time;
// concurrent clients each use their own.
//
// # A request's path
//
//  1. The Clerk numbers the request (its random client id and the next
//     sequence number) and sends a Get or PutAppend RPC to the server that
//     last answered it, or on to the next server. If no answer has come
//     within 100 ms it asks the next server as well, but never a server
//     that still has one of its attempts in flight (see Goroutines below).
//  2. The handler checks the request (an unknown operation or a missing id
//     gets ErrUnknownOp or ErrBadRequest and changes nothing), answers a
//     Put or Append it has already applied with OK at once, and otherwise
//     hands an Op to rf.Start. If this server's Raft peer is not the
//     leader, the answer is ErrWrongLeader and the Clerk tries the next
//     server at once (resting 10 ms after a full round without success).
//  3. The handler registers a waiter for the log index Start returned, and
//     waits. The apply loop applies the entry at that index when Raft
//     commits it; if the entry there is the handler's own Op, the waiter
//     gets the result, otherwise (another leader's entry took the index)
//     ErrWrongLeader. Every 20 ms the handler also asks Raft whether the
//     term moved on or the peer lost office, and then answers
//     ErrWrongLeader; after 500 ms without a commit (a leader cut off in a
//     minority can never commit) it answers ErrTimeout. So a handler always
//     returns in bounded time, and the Clerk moves on to find the real
//     leader. (A handler that never returned would hold the Clerk's
//     attempt at that server, and a labrpc worker, until the server
//     crashed or its link was cut.)
//  4. Kill wakes every waiting handler at once with ErrWrongLeader.
//
// Gets go through the log like writes. A leader that answered reads from its
// own state could have been replaced without knowing it and serve a stale
// value; an entry that commits proves a majority still followed this leader
// when the read took its place in the order.
//
// # Exactly once
//
// Each server's duplicate table maps a client id to the sequence number of
// the newest Put or Append applied for that client. A Clerk has one request
// outstanding at a time and numbers them in increasing order, so when the
// apply loop meets a Put or Append whose number is not above the table's, it
// is a retry of something already done (the reply was lost, or the Clerk
// sent it to a new leader too): it is not executed again, and its waiter is
// told OK. The table is part of the replicated state: every server builds
// the same one from the same log, and it travels in every snapshot, so a
// server restarted from a snapshot still recognises old retries. Gets are
// not recorded: running a read twice changes nothing, and each run returns a
// value current at a moment inside the call.
//
// # Snapshots
//
// With maxraftstate > 0, the apply loop watches the size of the persisted
// Raft state and, as it nears maxraftstate, encodes the data, the duplicate
// table and the index applied so far, and calls rf.Snapshot(index, ...), so
// Raft can drop its log through that index (see isSnapshotDue for the rules
// that keep snapshots from being taken needlessly often). On a restart the
// server reads persister.ReadSnapshot() before starting Raft; when Raft
// delivers a snapshot from the leader on applyCh (SnapshotValid) the server
// replaces its state with it, unless it has already applied that far. With
// maxraftstate -1 it never snapshots.
//
// A snapshot the server cannot decode, whether saved or delivered at run
// time, stops the server and its Raft peer for good, with one log line
// naming the server and the error. A server without its state must not take
// part: if only the service stopped, its Raft peer, were it leader or
// elected later, would keep heartbeating while the server turned every
// Clerk away, and the service would stay down. With the peer killed, the
// other servers elect a leader among themselves and carry on.
//
// A snapshot removes only entries the server has applied. The persisted
// state therefore stays near maxraftstate plus the entries committed but
// not yet applied. That backlog is small when all is quiet, but it can grow
// for a few milliseconds: when many Clerks send at once, or when a
// follower's apply loop falls behind on a busy machine. Then the state can
// pass maxraftstate several times over until the loop catches up. With
// maxraftstate 1000 and a snapshot of about 21 KB, the benchmarks measured
// peaks of 2-28 KB (medians 10-11 KB).
//
// # Goroutines and locks
//
// A KVServer owns one goroutine, the apply loop (applier). It alone reads
// applyCh and changes the state machine, takes snapshots and installs them.
// Raft never closes applyCh, so Kill ends the loop by closing the done
// channel; Kill then kills the Raft peer and returns once the loop has
// ended. RPC handlers run on their callers' goroutines; they wait on their
// waiter's channel, a 20 ms ticker and done. kv.mu guards the state machine
// (for readers other than the apply loop) and the waiters; it is never held
// across a call into Raft or a channel send that could block (a waiter's
// channel has room for its one answer).
//
// A Clerk runs each attempt (one RPC to one server) on a goroutine of its
// own, which sends its answer on a channel with room for one answer per
// server and ends when its Call returns; labrpc bounds how long that takes,
// though a call to a crashed server can take seconds. An attempt may
// outlive its operation: the Clerk returns on the first success. So the
// Clerk keeps, across operations, which servers have an attempt in flight,
// and asks only the others; when all have one, it waits for the first to
// come back. A Clerk so never has more than one attempt (and goroutine) per
// server, and calls stuck at a minority of crashed servers never keep it
// from the rest.
//
// # Debugging
//
// Set KVRAFT_DEBUG=1 to log each operation's start, each apply and each
// snapshot, with the milliseconds since start and the server; RAFT_DEBUG=1
// does the same for the raft package.
package kvraft
