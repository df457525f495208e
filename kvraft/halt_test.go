package kvraft

// Tests of a server that cannot hold its state: it stops, says why in one
// log line, and takes its Raft peer down with it, so the others carry on.

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"strings"
	"sync"
	"testing"
	"time"

	"6.5840/raft"
)

// syncBuffer collects log output: the logger writes from the servers'
// goroutines while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// captureLog copies the standard logger's output into a buffer (it still
// goes where it went) until the test ends.
func captureLog(t *testing.T) *syncBuffer {
	b := &syncBuffer{}
	prev := log.Writer()
	log.SetOutput(io.MultiWriter(prev, b))
	t.Cleanup(func() { log.SetOutput(prev) })
	return b
}

// linesAbout returns the lines of logs that start with prefix.
func linesAbout(logs, prefix string) []string {
	var found []string
	for _, line := range strings.Split(logs, "\n") {
		// The standard logger puts the date and time first.
		if i := strings.Index(line, prefix); i >= 0 {
			found = append(found, line[i:])
		}
	}
	return found
}

// awaitHalted waits for server i's apply loop to end, or fails.
func awaitHalted(t *testing.T, kv *KVServer, timeout time.Duration) {
	t.Helper()
	select {
	case <-kv.applierDone:
	case <-time.After(timeout):
		t.Fatalf("server %d's apply loop was still running %v after the bad snapshot", kv.me, timeout)
	}
}

// putThroughOthers sends a Put straight to the handler of every server but
// skip, in turn, until one answers OK; it fails the test if none has by the
// timeout. Unlike a Clerk it gives up, so a service that stays down ends
// the test instead of hanging it. Each handler returns within about
// commitTimeout.
func putThroughOthers(t *testing.T, c *kvCluster, skip int, args PutAppendArgs, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for i := 0; ; i = (i + 1) % c.n {
		if time.Now().After(deadline) {
			t.Fatalf("no server but %d took Put(%q) within %v: the service stayed down", skip, args.Key, timeout)
		}
		if i == skip {
			continue
		}
		var reply PutAppendReply
		c.server(i).PutAppend(&args, &reply)
		if reply.Err == OK {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// raftState returns server i's persisted Raft state and its Raft term.
func raftState(c *kvCluster, i int) ([]byte, int) {
	c.mu.Lock()
	ps, kv := c.persisters[i], c.servers[i]
	c.mu.Unlock()
	term, _ := kv.rf.GetState()
	return ps.ReadRaftState(), term
}

// checkRaftStopped fails the test if server i's Raft peer took part in the
// cluster since its state was state and its term was term: a running peer
// hears of the later terms and entries and saves them.
func checkRaftStopped(t *testing.T, c *kvCluster, i int, state []byte, term int) {
	t.Helper()
	nowState, nowTerm := raftState(c, i)
	if nowTerm != term {
		t.Errorf("server %d's Raft peer moved from term %d to %d after its server stopped", i, term, nowTerm)
	}
	if !bytes.Equal(nowState, state) {
		t.Errorf("server %d's Raft peer saved new state (%d bytes, was %d) after its server stopped", i, len(nowState), len(state))
	}
	if _, _, isLeader := c.server(i).rf.Start(Op{Kind: opGet, Key: "probe", ClientId: 1, Seq: 1}); isLeader {
		t.Errorf("server %d's Raft peer still accepts commands as leader after its server stopped", i)
	}
}

// checkOneHaltLine fails the test unless the log has exactly one line about
// server i, naming the snapshot and the error.
func checkOneHaltLine(t *testing.T, logs *syncBuffer, i int, wantError string) {
	t.Helper()
	lines := linesAbout(logs.String(), fmt.Sprintf("kvraft: server %d:", i))
	if len(lines) != 1 || !strings.Contains(lines[0], "snapshot") || !strings.Contains(lines[0], wantError) ||
		!strings.Contains(lines[0], "Raft peer") {
		t.Errorf("want one log line about server %d saying it stops with its Raft peer because of %q; got %q", i, wantError, lines)
	}
}

// TestLeaderThatCannotInstallASnapshotStopsItsRaftPeer: the apply loop of
// the leader is handed a snapshot it cannot decode, as Raft would deliver
// one installed from a leader. The server stops, and so must its Raft
// peer: a leader whose service stopped but whose peer still heartbeats
// keeps every other server from being elected and turns every Clerk away
// (ErrWrongLeader), so the whole service would stay down. With the peer
// stopped, the other two elect a leader (Raft section 5.2) and go on.
func TestLeaderThatCannotInstallASnapshotStopsItsRaftPeer(t *testing.T) {
	logs := captureLog(t)
	c := newKVCluster(t, 3, -1)
	c.makeClerk().Put("k", "a")
	victim := c.awaitLeader(5 * time.Second)
	kv := c.server(victim)
	term, _ := kv.rf.GetState()
	kv.mu.Lock()
	index := kv.sm.lastApplied + 100 // ahead of the server, so not ignored as stale
	kv.mu.Unlock()
	bad := raft.ApplyMsg{SnapshotValid: true, Snapshot: []byte("no snapshot at all"), SnapshotTerm: term, SnapshotIndex: index}
	select {
	case kv.applyCh <- bad:
	case <-time.After(5 * time.Second):
		t.Fatal("the apply loop took no message within 5 s")
	}
	awaitHalted(t, kv, 5*time.Second)
	checkOneHaltLine(t, logs, victim, "not a kvraft snapshot")
	state, stoppedTerm := raftState(c, victim)

	halted := time.Now()
	putThroughOthers(t, c, victim, PutAppendArgs{Key: "k", Value: "b", Op: "Put", ClientId: 7, Seq: 1}, 10*time.Second)
	t.Logf("the others took a Put %v after server %d stopped", time.Since(halted).Round(time.Millisecond), victim)
	if leader := c.awaitLeader(5 * time.Second); leader == victim {
		t.Fatalf("server %d still leads", victim)
	}
	putThroughOthers(t, c, victim, PutAppendArgs{Key: "k", Value: "c", Op: "Append", ClientId: 7, Seq: 2}, 10*time.Second)
	if got := c.makeClerk().Get("k"); got != "bc" {
		t.Errorf("k = %q, want %q", got, "bc")
	}
	checkRaftStopped(t, c, victim, state, stoppedTerm)

	var reply PutAppendReply
	kv.PutAppend(&PutAppendArgs{Key: "k", Value: "x", Op: "Append", ClientId: 8, Seq: 1}, &reply)
	if reply.Err != ErrWrongLeader {
		t.Errorf("the stopped server answered %v, want ErrWrongLeader", reply.Err)
	}
}

// TestFollowerSentAnUndecodableSnapshotStopsItsRaftPeer: the same through
// Raft itself. A follower is cut off while the others go on and replace
// their snapshots with bytes that are no kvraft snapshot; when it returns,
// the leader sends it that snapshot by InstallSnapshot (Raft section 7),
// its Raft peer saves it and delivers it, and the server cannot decode it.
// The server stops with its Raft peer, which then saves nothing more while
// the other two go on.
func TestFollowerSentAnUndecodableSnapshotStopsItsRaftPeer(t *testing.T) {
	logs := captureLog(t)
	c := newKVCluster(t, 3, -1)
	ck := c.makeClerk()
	ck.Put("k", "")
	leader := c.awaitLeader(5 * time.Second)
	victim := (leader + 1) % 3
	c.setCutOff(victim, true)
	// Long enough that the leader no longer keeps entries its snapshot
	// removed for the victim, which must get the snapshot (see
	// TestLaggingServerCatchesUpBySnapshot).
	time.Sleep(time.Second)
	for i := 0; i < 5; i++ {
		ck.Append("k", "x")
	}
	for i := 0; i < 3; i++ {
		if i == victim {
			continue
		}
		kv := c.server(i)
		kv.mu.Lock()
		applied := kv.sm.lastApplied
		kv.mu.Unlock()
		kv.rf.Snapshot(applied, []byte("no snapshot at all")) // whoever leads sends it
	}
	c.setCutOff(victim, false)
	awaitHalted(t, c.server(victim), 10*time.Second)
	checkOneHaltLine(t, logs, victim, "not a kvraft snapshot")
	state, stoppedTerm := raftState(c, victim)

	for i := 0; i < 5; i++ {
		ck.Append("k", "y")
	}
	if got, want := ck.Get("k"), "xxxxxyyyyy"; got != want {
		t.Errorf("k = %q, want %q", got, want)
	}
	checkRaftStopped(t, c, victim, state, stoppedTerm)
}
