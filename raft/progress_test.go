package raft

// Tests of the leader's per-follower state machine (progress.go): the pure
// rule for what to send, the backoff after lost calls, and the bound on
// calls in flight to an unreachable peer.

import (
	"testing"
	"time"
)

// TestDecideSendFollowsTheRules pins down decideSend, one rule a case.
func TestDecideSendFollowsTheRules(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	none := followerView{}
	lacks := followerView{lacksEntries: true}
	tests := []struct {
		name     string
		pr       peerProgress
		view     followerView
		now      time.Time
		want     sendKind
		wantNext time.Time // checked when want is sendNothing
	}{
		{"idle: sleep until the heartbeat", peerProgress{state: replicating, lastSent: at(0)}, none, at(30), sendNothing, at(100)},
		{"heartbeat due", peerProgress{state: replicating, lastSent: at(0)}, none, at(100), sendHeartbeat, time.Time{}},
		{"new entries go at once", peerProgress{state: replicating, lastSent: at(0)}, lacks, at(1), sendEntries, time.Time{}},
		{"entries wait for the batch in flight", peerProgress{state: replicating, lastSent: at(0), dataSeq: 7, dataSentAt: at(0)},
			lacks, at(50), sendNothing, at(100)},
		{"an overdue batch goes again", peerProgress{state: probing, lastSent: at(90), dataSeq: 7, dataSentAt: at(0)},
			lacks, at(100), sendEntries, time.Time{}},
		{"entries wait out a lost call's backoff", peerProgress{state: replicating, lastSent: at(0), retryAt: at(40)},
			lacks, at(10), sendNothing, at(40)},
		{"a commit notice goes once its delay passed", peerProgress{state: replicating, lastSent: at(0)},
			followerView{commitNotice: true, noticeFrom: at(5)}, at(5), sendHeartbeat, time.Time{}},
		{"a commit notice waits for its delay", peerProgress{state: replicating, lastSent: at(0)},
			followerView{commitNotice: true, noticeFrom: at(5)}, at(2), sendNothing, at(5)},
		{"snapshotting: the snapshot goes", peerProgress{state: snapshotting, lastSent: at(0)}, lacks, at(1), sendSnapshot, time.Time{}},
		{"snapshotting: never a second copy in flight", peerProgress{state: snapshotting, lastSent: at(0), dataSeq: 3, dataSentAt: at(0)},
			lacks, at(1000), sendHeartbeat, time.Time{}},
		{"snapshotting: heartbeats meanwhile", peerProgress{state: snapshotting, lastSent: at(900), dataSeq: 3, dataSentAt: at(0)},
			lacks, at(950), sendNothing, at(1000)},
		{"snapshotting: a lost snapshot waits out the backoff", peerProgress{state: snapshotting, lastSent: at(0), retryAt: at(40)},
			lacks, at(10), sendNothing, at(40)},
		{"snapshotting: no commit notices", peerProgress{state: snapshotting, lastSent: at(0), dataSeq: 3},
			followerView{lacksEntries: true, commitNotice: true, noticeFrom: at(0)}, at(10), sendNothing, at(100)},
		{"too many calls in flight", peerProgress{state: replicating, lastSent: at(0), inflight: maxInflightPerPeer},
			lacks, at(200), sendNothing, at(200 + int(failureBackoff/time.Millisecond))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, next := decideSend(&tc.pr, tc.view, tc.now)
			if got != tc.want {
				t.Fatalf("decideSend = %v, want %v", got, tc.want)
			}
			if got == sendNothing && !next.Equal(tc.wantNext) {
				t.Fatalf("next look at +%v, want +%v", next.Sub(t0), tc.wantNext.Sub(t0))
			}
		})
	}
}

// TestLostCallsBackOff: each call lost in a row doubles the wait before
// resending, up to maxFailureBackoff; an answer ends the backoff.
func TestLostCallsBackOff(t *testing.T) {
	for lost, want := range map[int]time.Duration{1: 10, 2: 20, 3: 40, 7: 640, 8: 640, 100: 640} {
		if got := lostCallBackoff(lost); got != want*time.Millisecond {
			t.Errorf("lostCallBackoff(%d) = %v, want %v", lost, got, want*time.Millisecond)
		}
	}
	var pr peerProgress
	now := time.Now()
	for i := 0; i < 4; i++ {
		pr.noteLost(-1, now)
	}
	if pr.retryAt.Sub(now) != 80*time.Millisecond {
		t.Fatalf("after 4 losses: retry in %v, want 80ms", pr.retryAt.Sub(now))
	}
	pr.noteAnswered(now)
	if pr.lost != 0 || !pr.retryAt.IsZero() {
		t.Fatalf("after an answer: %d lost, retry at %v; want none", pr.lost, pr.retryAt)
	}
}

// TestCallsToCrashedPeerAreBounded: with calls to a crashed peer taking up
// to 7 s to fail (labrpc's long delays), the leader keeps at most
// maxInflightPerPeer calls in flight to it, while heartbeats to it fall due
// every 100 ms; the others still commit.
func TestCallsToCrashedPeerAreBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("five seconds of calls to a crashed peer; run without -short")
	}
	c := newBenchCluster(t, 3, 0)
	defer c.cleanup()
	leader := c.leader()
	crashed := (leader + 1) % 3
	c.net.LongDelays(true)
	c.net.DeleteServer(crashed)
	most, commits := 0, 0
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		// Whoever leads: a loaded machine may delay heartbeats enough
		// for an election.
		if l := c.findLeader(); l >= 0 && l != crashed {
			leader = l
		}
		if c.proposeWithin(leader, "while crashed", time.Second) {
			commits++
		}
		c.peers[leader].mu.Lock()
		most = max(most, c.peers[leader].progress[crashed].inflight)
		c.peers[leader].mu.Unlock()
	}
	t.Logf("%d commits; at most %d calls in flight to the crashed peer", commits, most)
	if commits < 10 {
		t.Fatalf("only %d commits in 5 s with one peer of three crashed", commits)
	}
	if most > maxInflightPerPeer {
		t.Fatalf("%d calls in flight to the crashed peer; want at most %d", most, maxInflightPerPeer)
	}
	if most < maxInflightPerPeer/2 {
		t.Fatalf("only %d calls ever in flight: the test no longer exercises the bound", most)
	}
}
