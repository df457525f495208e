// Package raft implements the Raft consensus protocol, as described in the
// extended Raft paper ("In Search of an Understandable Consensus Algorithm",
// Ongaro and Ousterhout): leader election, log replication, persistence, and
// log compaction with snapshots (Figure 2, Figure 13 and section 7). It is the
// replicated log under a fault-tolerant service such as a key/value store.
//
// # Using it
//
// A service runs one peer per server. Each peer is given the RPC ends of all
// peers (labrpc.ClientEnd, index me is itself), a Persister for its stable
// state, and a channel on which it delivers committed commands:
//
//	applyCh := make(chan raft.ApplyMsg)
//	rf := raft.Make(ends, me, persister, applyCh)
//	srv := labrpc.MakeServer()
//	srv.AddService(labrpc.MakeService(rf)) // peers call "Raft.AppendEntries", ...
//	net.AddServer(me, srv)
//
// The service proposes a command with Start on the peer that leads:
//
//	index, term, isLeader := rf.Start(cmd)
//
// Start returns at once. If isLeader is false the service should try another
// peer. Otherwise the command will, if it commits, come out of applyCh on
// every peer as ApplyMsg{CommandValid: true, Command: cmd, CommandIndex: index}.
// It may never commit (the leader can lose office first); then a different
// command appears at that index, which the service recognizes because it is
// not the one it started. Commands travel through labgob, so a command of a
// type of the service's own must be registered with labgob.Register.
//
// The service reads applyCh in a loop and applies each message in turn.
// Messages come in index order, each exactly once. A message with
// SnapshotValid set instead carries a snapshot, made by another peer's
// service, that the leader sent because this peer fell behind: the service
// replaces its state with it; the commands it covers are never delivered.
//
// When the service's state has grown, it hands Raft a snapshot of it:
//
//	rf.Snapshot(index, data) // data holds the effect of every command through index
//
// Raft then discards its log through index and saves data with its own
// state, so the persisted Raft state stays small. (A leader keeps up to
// 1,024 of the discarded entries in memory, never saved, so that a follower
// a moment behind still gets entries rather than the whole snapshot.)
// Snapshot never waits for the applier, so the service may call it from the
// goroutine that reads applyCh, as it handles the message at index. After a
// restart the service restores itself from persister.ReadSnapshot(); Raft
// delivers only what follows.
//
// GetState reports the peer's term and whether it believes it leads. Kill
// stops the peer, as a crash would: once it returns, nothing more arrives on
// applyCh and nothing is saved.
//
// The Example shows a whole cluster of three peers in one program.
//
// # Beyond Figure 2
//
// Elections follow Ongaro's thesis where the paper is silent: a peer asks
// for pre-votes before it raises its term (section 9.6), so a peer that was
// cut off and comes back never disrupts a working cluster; a peer that
// hears from a leader ignores other candidates for a while (4.2.3); a
// leader that cannot reach a majority steps down (6.2); a vote counts for
// its term however late it arrives, and the election timeout doubles (up
// to 4x) after rounds that fail in a row, so elections converge when the
// network holds replies back longer than a round. The leader treats each
// follower as a small state machine: probing for where the logs match,
// replicating, or sending a snapshot (progress.go). Requests that no
// correct peer could send are refused before they change anything
// (validate.go), and broken invariants stop the peer with a message naming
// them (checkInvariantsLocked; set RAFT_DEBUG=1, as our tests do, to check
// the whole log after every change).
//
// # Goroutines
//
// Each peer runs these goroutines, all started by Make:
//
//   - the ticker (election.go) sleeps until the election deadline, which
//     AppendEntries from the leader and granted votes push back, and then
//     starts a pre-vote round; a leader's ticker checks every heartbeat
//     interval that it still hears from a majority (CheckQuorum). It exits
//     when Kill closes rf.done.
//   - one replicator per other peer (replication.go) sends that peer what
//     it needs, as decideSend (progress.go) rules: new entries, the
//     snapshot, heartbeats, commit notices, retries of lost calls. (The reply to a batch in flight sends what accumulated
//     meanwhile itself, through the same replicateLocked.) It sleeps on a
//     timer set to its next deadline and is woken early, through a channel
//     of capacity one, by Start, when its peer takes office and after a
//     lost call. Before it looks at the log it lets other runnable
//     goroutines go first, so that under load the commands of many Starts
//     leave in one AppendEntries. It exits when Kill closes rf.done.
//   - the commit-notice timer (time.AfterFunc, replication.go), armed when
//     a leader's commitIndex grows, runs sendCommitNotices on a goroutine of
//     its own a millisecond later: followers that no AppendEntries has told
//     of the new commitIndex get an empty one. Kill stops the timer; a run
//     already started does nothing once the peer is killed.
//   - the applier (apply.go) delivers committed entries and installed
//     snapshots on applyCh. It waits on rf.applyCond, signalled when
//     commitIndex grows or a snapshot is installed. Kill broadcasts the
//     condition and closes rf.done, which also ends a blocked send.
//   - one sender per other peer (replication.go) makes the AppendEntries
//     and InstallSnapshot calls to that peer, one at a time, each with the
//     handling of its reply: reusing one goroutine, whose stack has grown to
//     what a call needs, is cheaper than starting one per call. A call that
//     finds the sender busy runs on a short-lived goroutine of its own
//     instead, so that no call waits behind another. Calls are handed over
//     by goCallLocked from the replicators, the commit-notice timer and
//     reply handlers. The sender ends when Kill closes rf.done, once
//     the call it is making returns.
//   - a short-lived goroutine per RequestVote (started by the ticker), and
//     per AppendEntries or InstallSnapshot that found the sender busy: it
//     makes the call, handles the reply and ends.
//
// A leader keeps at most maxInflightPerPeer calls in flight to each peer,
// so a crashed peer, whose calls may take seconds to fail, costs a bounded
// number of goroutines.
//
// After Kill, calls in progress handle nothing: they end when their Call
// returns, which labrpc bounds.
//
// Kill waits for the ticker, the replicators and the applier to end. The
// senders and the short-lived goroutines end by themselves and touch nothing
// after Kill.
//
// # Locking
//
// One mutex, rf.mu, guards all of a peer's state. It is never held across an
// RPC, a send on applyCh or a sleep; functions whose names end in Locked
// expect the caller to hold it. Handlers save state (persistLocked) before
// they reply, still holding the lock.
//
// # Persistence
//
// The log is kept encoded as an append-only labgob stream, so a save encodes
// only the entries appended since the last one and its cost does not grow
// with re-encoding the log (persist.go explains the layout). Set RAFT_DEBUG=1
// to have each peer log what it does (debug.go).
package raft
