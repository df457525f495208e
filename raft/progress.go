package raft

// The leader's dealings with one follower, as a small state machine, and the
// pure decision of what to send it next. The replicator (replication.go)
// asks decideSend, sends what it says, and sleeps until the time it names;
// reply handlers move the follower between states.
//
//	            rejection                       success
//	  probing <----------- replicating  probing ---------> replicating
//	     |                     |
//	     | next entry gone     | next entry gone (the log was compacted)
//	     v                     v
//	  snapshotting --(snapshot installed, or a heartbeat that matched)--> replicating
//
// Nothing here locks or reads the clock: the caller passes now.

import "time"

// followerState is where the leader stands with one follower.
type followerState int

const (
	// probing: nextIndex is a guess (a new leader's, or one moved back by
	// a rejection). AppendEntries carry at most maxProbeEntries, since a
	// wrong guess wastes them; a rejection moves the guess back by the
	// follower's conflict hint and sends again at once.
	probing followerState = iota
	// replicating: the follower's log matches the leader's through
	// matchIndex, and nextIndex = matchIndex+1. New entries go as soon as
	// the batch in flight is answered, in batches of up to
	// maxEntriesPerAppend: whatever accumulated meanwhile goes together.
	replicating
	// snapshotting: the entries the follower needs are gone from the log
	// (section 7). One InstallSnapshot is in flight at a time, never
	// resent while it is: a snapshot can be large, and the network may
	// hold a reply back for seconds. Heartbeats go meanwhile, so the
	// follower does not start an election while it waits.
	snapshotting
)

func (s followerState) String() string {
	switch s {
	case probing:
		return "probing"
	case replicating:
		return "replicating"
	case snapshotting:
		return "snapshotting"
	}
	return "state(?)"
}

// peerProgress is the leader's record of one follower: its state and what
// is in flight to it.
type peerProgress struct {
	state      followerState
	inflight   int       // calls in flight to the peer, of every kind; at most maxInflightPerPeer
	dataSeq    uint64    // the call in flight carrying entries or the snapshot; 0: none
	dataSentAt time.Time // when it was sent
	lastSent   time.Time // when any AppendEntries or InstallSnapshot was last sent
	sentCommit int       // the largest leaderCommit sent so far (less one if it was lost)
	lost       int       // calls lost in a row; backs off resending
	retryAt    time.Time // after a lost call: no entries, snapshot or commit notice before then
	heardAt    time.Time // when the peer last answered, in this term; zero: not yet
}

// sendKind is what the leader sends a follower.
type sendKind int

const (
	sendNothing   sendKind = iota
	sendEntries            // AppendEntries with the entries from nextIndex on
	sendHeartbeat          // AppendEntries with no entries (section 5.2), or a commit notice
	sendSnapshot           // InstallSnapshot (section 7)
)

func (k sendKind) String() string {
	return [...]string{"nothing", "entries", "heartbeat", "snapshot"}[k]
}

// followerView is what decideSend needs to know of one follower besides its
// progress: what it lacks, as the leader's log and commitIndex stand.
type followerView struct {
	lacksEntries bool      // nextIndex <= the leader's last index
	commitNotice bool      // commitIndex > sentCommit: it has not been told the commit index
	noticeFrom   time.Time // a commit notice may go from then on (see commitNoticeDelay)
}

// decideSend is the leader's rule for what to send one follower at now, and
// when to look again if nothing else changes (a reply, a Start, a commit
// wakes the replicator earlier):
//   - nothing while maxInflightPerPeer calls are in flight;
//   - snapshotting: the snapshot, unless one is in flight or a lost call's
//     backoff runs; otherwise a heartbeat every heartbeatInterval;
//   - probing or replicating: the entries it lacks, unless a batch is in
//     flight and not yet retryInterval old, or a backoff runs; otherwise a
//     heartbeat every heartbeatInterval, or a commit notice when it has not
//     heard of the latest commit within commitNoticeDelay.
//
// A call sent counts as a heartbeat.
func decideSend(pr *peerProgress, v followerView, now time.Time) (sendKind, time.Time) {
	heartbeatAt := pr.lastSent.Add(heartbeatInterval)
	if pr.inflight >= maxInflightPerPeer {
		// A reply or a loss frees a slot; look again by the next heartbeat.
		return sendNothing, later(heartbeatAt, now.Add(failureBackoff))
	}
	next := heartbeatAt
	switch {
	case pr.state == snapshotting:
		if pr.dataSeq == 0 {
			if !now.Before(pr.retryAt) {
				return sendSnapshot, now
			}
			next = earlier(next, pr.retryAt)
		}
		if !now.Before(heartbeatAt) {
			return sendHeartbeat, now
		}
		return sendNothing, next
	case v.lacksEntries:
		dataAt := pr.retryAt
		if pr.dataSeq != 0 {
			dataAt = later(dataAt, pr.dataSentAt.Add(retryInterval))
		}
		if !now.Before(dataAt) {
			return sendEntries, now
		}
		next = earlier(next, dataAt)
	}
	if !now.Before(heartbeatAt) {
		return sendHeartbeat, now
	}
	if v.commitNotice {
		noticeAt := later(pr.retryAt, v.noticeFrom)
		if !now.Before(noticeAt) {
			return sendHeartbeat, now
		}
		next = earlier(next, noticeAt)
	}
	return sendNothing, next
}

// noteSent records a call of kind sent at now; seq numbers it if it carries
// entries or the snapshot.
func (pr *peerProgress) noteSent(kind sendKind, seq uint64, commit int, now time.Time) {
	pr.inflight++
	pr.lastSent = now
	if kind == sendEntries || kind == sendSnapshot {
		pr.dataSeq, pr.dataSentAt = seq, now
	}
	if kind != sendSnapshot {
		pr.sentCommit = max(pr.sentCommit, commit)
	}
}

// noteReturned records that the call numbered seq (0 for a heartbeat) came
// back, answered or lost: its slot is free, and if it carried data a new
// batch may go.
func (pr *peerProgress) noteReturned(seq uint64) {
	pr.inflight--
	if seq != 0 && pr.dataSeq == seq {
		pr.dataSeq = 0
	}
}

// noteLost records a lost call that carried commit (-1 for none): what it
// carried goes again after a backoff that doubles with each loss in a row.
func (pr *peerProgress) noteLost(commit int, now time.Time) {
	pr.lost++
	pr.retryAt = now.Add(lostCallBackoff(pr.lost))
	if commit == pr.sentCommit {
		pr.sentCommit = commit - 1 // the peer may not know it yet
	}
}

// noteAnswered records an answer of the current term, to a call sent at
// sentAt: the peer is reachable, so the backoff ends.
func (pr *peerProgress) noteAnswered(now time.Time) {
	pr.lost = 0
	pr.retryAt = time.Time{}
	pr.heardAt = now
}

// lostCallBackoff is the wait before resending after lost calls in a row:
// failureBackoff, doubled for each further loss, at most maxFailureBackoff.
func lostCallBackoff(lost int) time.Duration {
	d := failureBackoff
	for i := 1; i < lost && d < maxFailureBackoff; i++ {
		d *= 2
	}
	return min(d, maxFailureBackoff)
}

// earlier returns the earlier of two times.
func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
