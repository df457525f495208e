package kvraft

// Our own tests of the state machine, the duplicate table, snapshots, the
// apply loop and the RPC handlers. The scenario tests of the course's list
// live in test_test.go; these pin down the pieces underneath.

import (
	"bytes"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"6.5840/labgob"
	"6.5840/labrpc"
	"6.5840/raft"
)

// TestStateMachineAppliesOpsAndDropsDuplicates drives the pure state machine
// through short sequences: Put, Append (to a missing key too), Get, and
// retried Puts and Appends, which must take effect once.
func TestStateMachineAppliesOpsAndDropsDuplicates(t *testing.T) {
	put := func(c, s int64, k, v string) Op { return Op{Kind: opPut, Key: k, Value: v, ClientId: c, Seq: s} }
	appendOp := func(c, s int64, k, v string) Op { return Op{Kind: opAppend, Key: k, Value: v, ClientId: c, Seq: s} }
	get := func(c, s int64, k string) Op { return Op{Kind: opGet, Key: k, ClientId: c, Seq: s} }
	type want struct {
		value string
		err   Err
	}
	tests := []struct {
		name      string
		ops       []Op
		results   []want            // one per op
		finalData map[string]string // the data afterwards
	}{
		{
			name:      "get of a missing key",
			ops:       []Op{get(1, 1, "k")},
			results:   []want{{"", ErrNoKey}},
			finalData: map[string]string{},
		},
		{
			name:      "put then get",
			ops:       []Op{put(1, 1, "k", "v"), get(1, 2, "k")},
			results:   []want{{"", OK}, {"v", OK}},
			finalData: map[string]string{"k": "v"},
		},
		{
			name:      "append to a missing key acts like put",
			ops:       []Op{appendOp(1, 1, "k", "x"), appendOp(1, 2, "k", "y")},
			results:   []want{{"", OK}, {"", OK}},
			finalData: map[string]string{"k": "xy"},
		},
		{
			name:      "a retried append is applied once",
			ops:       []Op{appendOp(1, 1, "k", "x"), appendOp(1, 1, "k", "x"), get(1, 2, "k")},
			results:   []want{{"", OK}, {"", OK}, {"x", OK}},
			finalData: map[string]string{"k": "x"},
		},
		{
			name:      "an old request arriving late is dropped",
			ops:       []Op{put(1, 1, "k", "old"), put(1, 2, "k", "new"), put(1, 1, "k", "old")},
			results:   []want{{"", OK}, {"", OK}, {"", OK}},
			finalData: map[string]string{"k": "new"},
		},
		{
			name:      "clients have separate sequences",
			ops:       []Op{appendOp(1, 1, "k", "a"), appendOp(2, 1, "k", "b"), appendOp(2, 1, "k", "b")},
			results:   []want{{"", OK}, {"", OK}, {"", OK}},
			finalData: map[string]string{"k": "ab"},
		},
		{
			name:      "gets do not enter the duplicate table",
			ops:       []Op{get(1, 5, "k"), put(1, 3, "k", "v")},
			results:   []want{{"", ErrNoKey}, {"", OK}},
			finalData: map[string]string{"k": "v"},
		},
		{
			name:      "empty key and empty value are ordinary",
			ops:       []Op{put(1, 1, "", ""), appendOp(1, 2, "", "z"), get(1, 3, "")},
			results:   []want{{"", OK}, {"", OK}, {"z", OK}},
			finalData: map[string]string{"": "z"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sm := newStateMachine()
			for i, op := range tc.ops {
				v, err := sm.apply(op)
				if got := (want{v, err}); got != tc.results[i] {
					t.Errorf("op %d (%v %q): got %+v, want %+v", i, op.Kind, op.Key, got, tc.results[i])
				}
			}
			if fmt.Sprint(sm.data) != fmt.Sprint(tc.finalData) {
				t.Errorf("data %v, want %v", sm.data, tc.finalData)
			}
		})
	}
}

// TestOpWellFormedness lists the Ops the apply loop must refuse.
func TestOpWellFormedness(t *testing.T) {
	tests := []struct {
		name string
		op   Op
		want bool
	}{
		{"get", Op{Kind: opGet, ClientId: 1, Seq: 1}, true},
		{"put", Op{Kind: opPut, ClientId: 1, Seq: 1}, true},
		{"append", Op{Kind: opAppend, ClientId: 1, Seq: 1}, true},
		{"zero op", Op{}, false},
		{"unknown kind", Op{Kind: opAppend + 1, ClientId: 1, Seq: 1}, false},
		{"negative kind", Op{Kind: -1, ClientId: 1, Seq: 1}, false},
		{"no client", Op{Kind: opPut, Seq: 1}, false},
		{"negative client", Op{Kind: opPut, ClientId: -4, Seq: 1}, false},
		{"no seq", Op{Kind: opPut, ClientId: 1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.op.isWellFormed(); got != tc.want {
				t.Errorf("isWellFormed(%+v) = %v, want %v", tc.op, got, tc.want)
			}
		})
	}
}

// TestSnapshotRoundTripKeepsDataAndDuplicateTable: a state restored from its
// snapshot has the same data, duplicate table and index, and still drops a
// retry of a request applied before the snapshot.
func TestSnapshotRoundTripKeepsDataAndDuplicateTable(t *testing.T) {
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	sm := newStateMachine()
	nextSeq := map[int64]int64{}
	for i := 1; i <= 500; i++ {
		client := int64(1 + rng.Intn(20))
		nextSeq[client]++
		op := Op{Kind: opKind(1 + rng.Intn(3)), Key: fmt.Sprint(rng.Intn(50)), Value: fmt.Sprint(i), ClientId: client, Seq: nextSeq[client]}
		sm.apply(op)
		sm.lastApplied = i
	}
	restored, err := decodeStateMachine(sm.encode(0))
	if err != nil {
		t.Fatalf("seed %d: decode: %v", seed, err)
	}
	if fmt.Sprint(restored.data) != fmt.Sprint(sm.data) || fmt.Sprint(restored.lastSeq) != fmt.Sprint(sm.lastSeq) ||
		restored.lastApplied != sm.lastApplied {
		t.Fatalf("seed %d: restored state differs:\n got %v %v %d\nwant %v %v %d", seed,
			restored.data, restored.lastSeq, restored.lastApplied, sm.data, sm.lastSeq, sm.lastApplied)
	}
	for client, seq := range sm.lastSeq {
		before := fmt.Sprint(restored.data)
		restored.apply(Op{Kind: opAppend, Key: "0", Value: "dup", ClientId: client, Seq: seq})
		if fmt.Sprint(restored.data) != before {
			t.Fatalf("seed %d: a retry of client %d's request %d ran again after the snapshot", seed, client, seq)
		}
	}
}

// TestSnapshotOfFewSmallKeysIsSmall: the course demands under 500 bytes.
func TestSnapshotOfFewSmallKeysIsSmall(t *testing.T) {
	sm := newStateMachine()
	for i := 0; i < 5; i++ {
		sm.apply(Op{Kind: opPut, Key: fmt.Sprint(i), Value: "value", ClientId: 1<<62 - int64(i), Seq: 1 << 40})
	}
	sm.lastApplied = 1 << 30
	if n := len(sm.encode(0)); n >= 500 {
		t.Fatalf("a snapshot of 5 small keys and 5 clients takes %d bytes, want < 500", n)
	}
}

// TestDecodeSnapshotRejectsGarbage: an empty snapshot is the initial state;
// bytes that are no snapshot of ours are an error, not a half state.
func TestDecodeSnapshotRejectsGarbage(t *testing.T) {
	sm, err := decodeStateMachine(nil)
	if err != nil || len(sm.data) != 0 || len(sm.lastSeq) != 0 || sm.lastApplied != 0 {
		t.Fatalf("decode(nil) = %+v, %v; want the empty state", sm, err)
	}
	sm.apply(Op{Kind: opPut, Key: "k", Value: "v", ClientId: 1, Seq: 1}) // the maps must be usable
	good := newStateMachine()
	good.apply(Op{Kind: opPut, Key: "k", Value: "v", ClientId: 1, Seq: 1})
	good.lastApplied = 7
	encoded := good.encode(0)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"text", []byte("not a snapshot")},
		{"truncated", encoded[:len(encoded)/2]},
		{"one byte short", encoded[:len(encoded)-1]},
		{"trailing byte", append(append([]byte(nil), encoded...), 0)},
		{"magic only", []byte(snapshotMagic)},
		{"other version", append([]byte(snapshotMagic), snapshotVersion+1, 0, 0, 0)},
		{"more keys than bytes", append([]byte(snapshotMagic), snapshotVersion, 7, 0xff, 0xff, 0x03, 1, 1)},
		{"key longer than the rest", append([]byte(snapshotMagic), snapshotVersion, 7, 1, 50, 'k', 1, 'v', 0)},
		{"client id zero", append([]byte(snapshotMagic), snapshotVersion, 7, 0, 1, 0, 1)},
		{"overlong number", append([]byte(snapshotMagic), snapshotVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if sm, err := decodeStateMachine(tc.data); err == nil {
				t.Fatalf("decode(%q) = %+v, want an error", tc.data, sm)
			}
		})
	}
}

// TestSnapshotWithNegativeIndexIsRejected: a snapshot must cover a real
// prefix of the log.
func TestSnapshotWithNegativeIndexIsRejected(t *testing.T) {
	sm := newStateMachine()
	sm.lastApplied = -3
	if _, err := decodeStateMachine(sm.encode(0)); err == nil {
		t.Fatal("decoded a snapshot claiming to cover through index -3")
	}
}

// newBareServer returns a KVServer with no Raft peer and no goroutines, for
// driving applyCommand and installSnapshot directly.
func newBareServer() *KVServer {
	return &KVServer{sm: newStateMachine(), waiters: map[int]*waiter{}, done: make(chan struct{}), persister: raft.MakePersister()}
}

// addWaiter registers a handler waiting at index for (client, seq).
func addWaiter(kv *KVServer, index int, client, seq int64) *waiter {
	w := &waiter{clientId: client, seq: seq, ch: make(chan result, 1)}
	kv.mu.Lock()
	kv.waiters[index] = w
	kv.mu.Unlock()
	return w
}

// answerOf returns the answer w has received, or fails.
func answerOf(t *testing.T, w *waiter) result {
	t.Helper()
	select {
	case res := <-w.ch:
		return res
	default:
		t.Fatal("the waiter got no answer")
		return result{}
	}
}

// TestApplyLoopSkipsMalformedCommands: commands that are no well-formed Op
// (another type, a zero Op, an unknown kind) use up their index, change
// nothing, and tell a waiter at that index to retry.
func TestApplyLoopSkipsMalformedCommands(t *testing.T) {
	kv := newBareServer()
	kv.applyCommand(1, Op{Kind: opPut, Key: "k", Value: "v", ClientId: 9, Seq: 1})
	malformed := []interface{}{
		"a string",
		nil,
		Op{},
		Op{Kind: 42, Key: "k", Value: "x", ClientId: 9, Seq: 2},
		Op{Kind: opAppend, Key: "k", Value: "x", ClientId: 0, Seq: 2},
		&Op{Kind: opAppend, Key: "k", Value: "x", ClientId: 9, Seq: 2},
	}
	for i, cmd := range malformed {
		index := 2 + i
		w := addWaiter(kv, index, 9, 2)
		kv.applyCommand(index, cmd)
		if res := answerOf(t, w); res.err != ErrWrongLeader {
			t.Errorf("waiter at the malformed command %#v got %+v, want ErrWrongLeader", cmd, res)
		}
	}
	if kv.sm.lastApplied != 1+len(malformed) {
		t.Errorf("lastApplied %d, want %d", kv.sm.lastApplied, 1+len(malformed))
	}
	if fmt.Sprint(kv.sm.data) != "map[k:v]" || kv.sm.lastSeq[9] != 1 {
		t.Errorf("state changed by malformed commands: %v %v", kv.sm.data, kv.sm.lastSeq)
	}
}

// TestApplyLoopAnswersOnlyTheWaiterWhoseEntryCommitted: the waiter at an
// index gets the result if the entry there is its own request, and
// ErrWrongLeader if another leader put a different entry there.
func TestApplyLoopAnswersOnlyTheWaiterWhoseEntryCommitted(t *testing.T) {
	kv := newBareServer()
	mine := addWaiter(kv, 1, 5, 1)
	kv.applyCommand(1, Op{Kind: opPut, Key: "k", Value: "v", ClientId: 5, Seq: 1})
	if res := answerOf(t, mine); res.err != OK {
		t.Errorf("own Put: %+v, want OK", res)
	}
	reader := addWaiter(kv, 2, 5, 2)
	kv.applyCommand(2, Op{Kind: opGet, Key: "k", ClientId: 5, Seq: 2})
	if res := answerOf(t, reader); res != (result{err: OK, value: "v"}) {
		t.Errorf("own Get: %+v, want OK v", res)
	}
	displaced := addWaiter(kv, 3, 5, 3)
	kv.applyCommand(3, Op{Kind: opPut, Key: "k", Value: "other", ClientId: 6, Seq: 1})
	if res := answerOf(t, displaced); res.err != ErrWrongLeader {
		t.Errorf("waiter whose entry was replaced: %+v, want ErrWrongLeader", res)
	}
	kv.mu.Lock()
	left := len(kv.waiters)
	kv.mu.Unlock()
	if left != 0 {
		t.Errorf("%d waiters left registered after their indices were applied", left)
	}
}

// TestApplyLoopIgnoresEntriesCoveredBySnapshot: after a snapshot through
// index 10 is installed, entries up to 10 delivered again change nothing.
func TestApplyLoopIgnoresEntriesCoveredBySnapshot(t *testing.T) {
	kv := newBareServer()
	snap := newStateMachine()
	snap.apply(Op{Kind: opPut, Key: "k", Value: "snap", ClientId: 1, Seq: 1})
	snap.lastApplied = 10
	if err := kv.installSnapshot(10, snap.encode(0)); err != nil {
		t.Fatal(err)
	}
	kv.applyCommand(9, Op{Kind: opPut, Key: "k", Value: "stale", ClientId: 2, Seq: 1})
	kv.applyCommand(11, Op{Kind: opAppend, Key: "k", Value: "+", ClientId: 2, Seq: 1})
	if got := kv.sm.data["k"]; got != "snap+" {
		t.Fatalf("k = %q, want %q", got, "snap+")
	}
}

// TestInstallSnapshotIgnoresStaleAndWakesCoveredWaiters: a snapshot at or
// below lastApplied is ignored; a newer one replaces the state and answers
// every waiter at an index it covers (they cannot learn their result), but
// not waiters beyond it.
func TestInstallSnapshotIgnoresStaleAndWakesCoveredWaiters(t *testing.T) {
	kv := newBareServer()
	for i := 1; i <= 5; i++ {
		kv.applyCommand(i, Op{Kind: opAppend, Key: "k", Value: fmt.Sprint(i), ClientId: 1, Seq: int64(i)})
	}
	old := newStateMachine()
	old.apply(Op{Kind: opPut, Key: "k", Value: "old", ClientId: 1, Seq: 1})
	old.lastApplied = 5
	if err := kv.installSnapshot(5, old.encode(0)); err != nil {
		t.Fatal(err)
	}
	if kv.sm.data["k"] != "12345" {
		t.Fatalf("a stale snapshot replaced the state: k = %q", kv.sm.data["k"])
	}

	covered := addWaiter(kv, 7, 3, 1)
	beyond := addWaiter(kv, 9, 3, 2)
	newer := newStateMachine()
	newer.apply(Op{Kind: opPut, Key: "k", Value: "new", ClientId: 1, Seq: 8})
	newer.lastApplied = 8
	if err := kv.installSnapshot(8, newer.encode(0)); err != nil {
		t.Fatal(err)
	}
	if kv.sm.data["k"] != "new" || kv.sm.lastApplied != 8 || kv.sm.lastSeq[1] != 8 {
		t.Fatalf("after the snapshot: %v %v lastApplied %d", kv.sm.data, kv.sm.lastSeq, kv.sm.lastApplied)
	}
	if res := answerOf(t, covered); res.err != ErrWrongLeader {
		t.Errorf("waiter at a covered index: %+v, want ErrWrongLeader", res)
	}
	select {
	case res := <-beyond.ch:
		t.Errorf("waiter beyond the snapshot answered early: %+v", res)
	default:
	}
	if err := kv.installSnapshot(12, []byte("garbage")); err == nil {
		t.Error("installing an undecodable snapshot succeeded")
	}
	if err := kv.installSnapshot(12, newer.encode(0)); err == nil {
		t.Error("installing a snapshot whose index disagrees with Raft's succeeded")
	}
	if kv.sm.lastApplied != 8 {
		t.Errorf("a rejected snapshot changed lastApplied to %d", kv.sm.lastApplied)
	}
}

// TestApplyLoopPanicsOnAGapInTheLog: Raft must deliver every index in order;
// a gap would silently drop a command, so it stops the server loudly.
func TestApplyLoopPanicsOnAGapInTheLog(t *testing.T) {
	kv := newBareServer()
	kv.applyCommand(1, Op{Kind: opPut, Key: "k", Value: "v", ClientId: 1, Seq: 1})
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "in order") {
			t.Fatalf("recovered %v, want a panic naming the in-order invariant", r)
		}
	}()
	kv.applyCommand(3, Op{Kind: opPut, Key: "k", Value: "w", ClientId: 1, Seq: 2})
}

// TestClientIdsArePositiveAnd62Bit: ids never collide in practice and never
// take the reserved value 0.
func TestClientIdsArePositiveAnd62Bit(t *testing.T) {
	seen := map[int64]bool{}
	for i := 0; i < 10000; i++ {
		id := newClientId()
		if id <= 0 || id >= 1<<62 {
			t.Fatalf("client id %d outside (0, 2^62)", id)
		}
		if seen[id] {
			t.Fatalf("client id %d drawn twice in %d draws", id, i)
		}
		seen[id] = true
	}
}

// TestRPCWithBadInputIsRejectedWithoutEffect: an unknown operation or a
// missing client id or sequence number gets an error reply, and neither the
// state nor the log changes.
func TestRPCWithBadInputIsRejectedWithoutEffect(t *testing.T) {
	c := newKVCluster(t, 3, -1)
	ck := c.makeClerk()
	ck.Put("k", "v")
	leader := c.awaitLeader(5 * time.Second)
	kv := c.server(leader)
	kv.mu.Lock()
	appliedBefore := kv.sm.lastApplied
	kv.mu.Unlock()

	putAppends := []struct {
		args PutAppendArgs
		want Err
	}{
		{PutAppendArgs{Key: "k", Value: "x", Op: "Delete", ClientId: 1, Seq: 1}, ErrUnknownOp},
		{PutAppendArgs{Key: "k", Value: "x", Op: "", ClientId: 1, Seq: 1}, ErrUnknownOp},
		{PutAppendArgs{Key: "k", Value: "x", Op: "put", ClientId: 1, Seq: 1}, ErrUnknownOp},
		{PutAppendArgs{Key: "k", Value: "x", Op: "Put", ClientId: 0, Seq: 1}, ErrBadRequest},
		{PutAppendArgs{Key: "k", Value: "x", Op: "Append", ClientId: -7, Seq: 1}, ErrBadRequest},
		{PutAppendArgs{Key: "k", Value: "x", Op: "Append", ClientId: 7, Seq: 0}, ErrBadRequest},
		{PutAppendArgs{Key: "k", Value: "x", Op: "Put", ClientId: 7, Seq: -1}, ErrBadRequest},
	}
	for _, tc := range putAppends {
		var reply PutAppendReply
		kv.PutAppend(&tc.args, &reply)
		if reply.Err != tc.want {
			t.Errorf("PutAppend(%+v) = %v, want %v", tc.args, reply.Err, tc.want)
		}
	}
	gets := []struct {
		args GetArgs
		want Err
	}{
		{GetArgs{Key: "k", ClientId: 0, Seq: 1}, ErrBadRequest},
		{GetArgs{Key: "k", ClientId: 3, Seq: 0}, ErrBadRequest},
	}
	for _, tc := range gets {
		var reply GetReply
		kv.Get(&tc.args, &reply)
		if reply.Err != tc.want || reply.Value != "" {
			t.Errorf("Get(%+v) = %v %q, want %v \"\"", tc.args, reply.Err, reply.Value, tc.want)
		}
	}
	kv.mu.Lock()
	appliedAfter := kv.sm.lastApplied
	kv.mu.Unlock()
	if appliedAfter != appliedBefore {
		t.Errorf("rejected requests reached the log: applied %d -> %d", appliedBefore, appliedAfter)
	}
	if got := ck.Get("k"); got != "v" {
		t.Errorf("k = %q after rejected requests, want %q", got, "v")
	}
}

// TestRetriedRequestRunsOnceThroughHandlersAndLog: the same Append sent twice
// to the leader (a lost reply) and started twice in the log (a retry that
// reached a new leader before the first copy committed) takes effect once.
func TestRetriedRequestRunsOnceThroughHandlersAndLog(t *testing.T) {
	c := newKVCluster(t, 3, -1)
	ck := c.makeClerk()
	ck.Put("k", "")
	leader := c.awaitLeader(5 * time.Second)
	kv := c.server(leader)

	args := PutAppendArgs{Key: "k", Value: "x", Op: "Append", ClientId: 77, Seq: 1}
	for i := 0; i < 2; i++ {
		var reply PutAppendReply
		kv.PutAppend(&args, &reply)
		if reply.Err != OK {
			t.Fatalf("Append attempt %d: %v", i, reply.Err)
		}
	}
	op := Op{Kind: opAppend, Key: "k", Value: "y", ClientId: 77, Seq: 2}
	first, _, ok1 := kv.rf.Start(op)
	second, _, ok2 := kv.rf.Start(op)
	if !ok1 || !ok2 {
		t.Fatal("the leader lost office during the test; no leader change is expected on a reliable network")
	}
	for i := 0; i < 3; i++ {
		c.awaitApplied(i, second, 5*time.Second)
	}
	if second != first+1 {
		t.Fatalf("Start gave indices %d and %d", first, second)
	}
	for i := 0; i < 3; i++ {
		kv := c.server(i)
		kv.mu.Lock()
		got := kv.sm.data["k"]
		kv.mu.Unlock()
		if got != "xy" {
			t.Errorf("server %d: k = %q, want %q", i, got, "xy")
		}
	}
}

// TestCutOffLeaderAnswersWithinBoundedTime: a leader cut off from its peers
// cannot commit; its handler must give up (so the Clerk tries elsewhere)
// rather than hang, and the request must not take effect once the majority
// has moved on.
func TestCutOffLeaderAnswersWithinBoundedTime(t *testing.T) {
	c := newKVCluster(t, 3, -1)
	ck := c.makeClerk()
	ck.Put("k", "before")
	old := c.awaitLeader(5 * time.Second)
	c.setCutOff(old, true)

	start := time.Now()
	var reply PutAppendReply
	c.server(old).PutAppend(&PutAppendArgs{Key: "k", Value: "+lost", Op: "Append", ClientId: 5, Seq: 1}, &reply)
	if elapsed := time.Since(start); elapsed > 5*commitTimeout {
		t.Errorf("the cut-off leader answered after %v", elapsed)
	}
	if reply.Err != ErrTimeout && reply.Err != ErrWrongLeader {
		t.Errorf("the cut-off leader answered %v, want ErrTimeout or ErrWrongLeader", reply.Err)
	}
	var getReply GetReply
	c.server(old).Get(&GetArgs{Key: "k", ClientId: 5, Seq: 2}, &getReply)
	if getReply.Err == OK {
		t.Errorf("the cut-off leader answered a Get (%q): a stale read", getReply.Value)
	}

	ck.Append("k", "+after") // the majority elects a new leader and goes on
	c.setCutOff(old, false)
	if got := ck.Get("k"); got != "before+after" {
		t.Errorf("k = %q, want %q", got, "before+after")
	}
}

// TestKillWakesWaitingHandlers: a handler waiting for a commit that will
// never come returns as soon as its server is killed.
func TestKillWakesWaitingHandlers(t *testing.T) {
	c := newKVCluster(t, 3, -1)
	c.makeClerk().Put("k", "v")
	leader := c.awaitLeader(5 * time.Second)
	c.setCutOff(leader, true)
	kv := c.server(leader)

	answered := make(chan Err, 1)
	go func() {
		var reply PutAppendReply
		kv.PutAppend(&PutAppendArgs{Key: "k", Value: "x", Op: "Append", ClientId: 8, Seq: 1}, &reply)
		answered <- reply.Err
	}()
	deadline := time.Now().Add(commitTimeout / 2)
	for {
		kv.mu.Lock()
		waiting := len(kv.waiters)
		kv.mu.Unlock()
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the handler never started waiting")
		}
		time.Sleep(time.Millisecond)
	}
	killed := time.Now()
	c.crashServer(leader)
	select {
	case err := <-answered:
		if err != ErrWrongLeader {
			t.Errorf("woken handler answered %v, want ErrWrongLeader", err)
		}
		if elapsed := time.Since(killed); elapsed >= commitTimeout {
			t.Errorf("the handler answered %v after Kill: it waited for its timeout instead of being woken", elapsed)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not return after Kill")
	}
}

// TestManyClerksAppendExactlyOnceOverUnreliableNetwork: Clerks appending
// through lost requests and replies, delays and retries end with every
// value present exactly once and in each Clerk's order.
func TestManyClerksAppendExactlyOnceOverUnreliableNetwork(t *testing.T) {
	c := newKVCluster(t, 3, -1)
	c.net.Reliable(false)
	const clerks, appends = 5, 15
	var wg sync.WaitGroup
	for i := 0; i < clerks; i++ {
		ck := c.makeClerk()
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < appends; j++ {
				ck.Append("shared", fmt.Sprintf("[%d.%d]", i, j))
			}
		}(i)
	}
	wg.Wait()
	c.net.Reliable(true)
	got := c.makeClerk().Get("shared")
	for i := 0; i < clerks; i++ {
		last := -1
		for j := 0; j < appends; j++ {
			elem := fmt.Sprintf("[%d.%d]", i, j)
			if n := strings.Count(got, elem); n != 1 {
				t.Fatalf("%s appears %d times in %q", elem, n, got)
			}
			at := strings.Index(got, elem)
			if at < last {
				t.Fatalf("clerk %d's appends out of order in %q", i, got)
			}
			last = at
		}
	}
}

// TestRestartRecoversStateFromSnapshotAndLog: with snapshots on, servers that
// all crash and restart come back with every acknowledged write, the
// persisted Raft state stays under 8 x maxraftstate, and a snapshot was taken.
func TestRestartRecoversStateFromSnapshotAndLog(t *testing.T) {
	const maxraftstate = 1000
	c := newKVCluster(t, 3, maxraftstate)
	ck := c.makeClerk()
	for i := 0; i < 200; i++ {
		ck.Append(fmt.Sprint(i%7), fmt.Sprintf("%d,", i))
		if size := c.maxRaftStateSize(); size > 8*maxraftstate {
			t.Fatalf("persisted Raft state of %d bytes, over 8 x %d", size, maxraftstate)
		}
	}
	want := map[string]string{}
	for i := 0; i < 200; i++ {
		want[fmt.Sprint(i%7)] += fmt.Sprintf("%d,", i)
	}
	var killed []*KVServer
	for i := 0; i < 3; i++ {
		killed = append(killed, c.server(i))
		c.crashServer(i)
	}
	for i := 0; i < 3; i++ {
		if c.persisters[i].SnapshotSize() == 0 || killed[i].Stats().SnapshotsTaken == 0 {
			t.Errorf("server %d never snapshotted (%+v)", i, killed[i].Stats())
		}
		c.startServer(i)
	}
	ck2 := c.makeClerk()
	for k, v := range want {
		if got := ck2.Get(k); got != v {
			t.Fatalf("after restart %s = %q, want %q", k, got, v)
		}
	}
	// The duplicate table survived too: the old Clerk's last request,
	// retried, does not run again.
	leader := c.awaitLeader(5 * time.Second)
	var reply PutAppendReply
	c.server(leader).PutAppend(&PutAppendArgs{Key: "6", Value: "dup", Op: "Append", ClientId: ck.clientId, Seq: ck.seq}, &reply)
	if got := ck2.Get("6"); reply.Err != OK || got != want["6"] {
		t.Fatalf("retry after restart: %v, key 6 = %q, want OK and %q", reply.Err, got, want["6"])
	}
}

// TestLaggingServerCatchesUpBySnapshot: a server cut off while the others
// apply (and trim their logs) catches up, by snapshot, when it returns.
// It stays cut off for a second first: the leader keeps entries it has
// snapshotted for a follower that answered within an election timeout, so
// a follower gone only a moment gets entries instead.
func TestLaggingServerCatchesUpBySnapshot(t *testing.T) {
	const maxraftstate = 1000
	c := newKVCluster(t, 3, maxraftstate)
	ck := c.makeClerk()
	ck.Put("k", "")
	leader := c.awaitLeader(5 * time.Second)
	lagging := (leader + 1) % 3
	c.setCutOff(lagging, true)
	time.Sleep(time.Second)
	for i := 0; i < 100; i++ {
		ck.Append("k", "x")
	}
	c.setCutOff(lagging, false)
	ck.Append("k", "!")
	kv := c.server(c.awaitLeader(5 * time.Second))
	kv.mu.Lock()
	target := kv.sm.lastApplied
	kv.mu.Unlock()
	c.awaitApplied(lagging, target, 10*time.Second)
	lag := c.server(lagging)
	lag.mu.Lock()
	got := lag.sm.data["k"]
	lag.mu.Unlock()
	if want := strings.Repeat("x", 100) + "!"; got != want {
		t.Fatalf("the lagging server has k = %q, want %q", got, want)
	}
	if lag.Stats().SnapshotsInstalled == 0 {
		t.Fatal("the lagging server installed no snapshot: it did not catch up by InstallSnapshot")
	}
}

// TestNoSnapshotsWhenMaxraftstateIsNegative: maxraftstate -1 means never.
func TestNoSnapshotsWhenMaxraftstateIsNegative(t *testing.T) {
	c := newKVCluster(t, 3, -1)
	ck := c.makeClerk()
	for i := 0; i < 100; i++ {
		ck.Put("k", strings.Repeat("v", 100))
	}
	for i := 0; i < 3; i++ {
		if n := c.persisters[i].SnapshotSize(); n != 0 {
			t.Errorf("server %d saved a %d-byte snapshot with maxraftstate -1", i, n)
		}
	}
}

// TestLogAndRPCTypesHaveOnlyExportedFields: gob silently drops unexported
// fields, so every type in the Raft log or an RPC must export all of them.
func TestLogAndRPCTypesHaveOnlyExportedFields(t *testing.T) {
	for _, v := range []interface{}{Op{}, PutAppendArgs{}, PutAppendReply{}, GetArgs{}, GetReply{}} {
		typ := reflect.TypeOf(v)
		for i := 0; i < typ.NumField(); i++ {
			if f := typ.Field(i); !f.IsExported() {
				t.Errorf("%v.%s is unexported: gob would drop it", typ, f.Name)
			}
		}
	}
}

// FuzzDecodeSnapshot: no byte string makes decoding panic, and whatever
// decodes encodes back to a snapshot that decodes to the same state.
func FuzzDecodeSnapshot(f *testing.F) {
	sm := newStateMachine()
	sm.apply(Op{Kind: opPut, Key: "k", Value: "v", ClientId: 3, Seq: 9})
	sm.lastApplied = 12
	f.Add(sm.encode(0))
	f.Add(newStateMachine().encode(0))
	f.Add([]byte("KV\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sm, err := decodeStateMachine(data)
		if err != nil {
			return
		}
		again, err := decodeStateMachine(sm.encode(0))
		if err != nil {
			t.Fatalf("re-encoding a decoded snapshot: %v", err)
		}
		if fmt.Sprint(again.data) != fmt.Sprint(sm.data) || fmt.Sprint(again.lastSeq) != fmt.Sprint(sm.lastSeq) ||
			again.lastApplied != sm.lastApplied {
			t.Fatalf("round trip changed the state: %+v -> %+v", sm, again)
		}
	})
}

// TestIsSnapshotDue pins down when the apply loop snapshots: near
// maxraftstate, only when the snapshot would trim a good share of it, and
// while a backlog waits, only when the state is well past maxraftstate.
func TestIsSnapshotDue(t *testing.T) {
	tests := []struct {
		name                                 string
		maxraftstate, size, trimmable, queue int
		want                                 bool
	}{
		{"never with maxraftstate -1", -1, 1 << 20, 1 << 20, 0, false},
		{"never with maxraftstate 0", 0, 1 << 20, 1 << 20, 0, false},
		{"small state", 1000, 500, 500, 0, false},
		{"just below the threshold", 1000, 899, 899, 0, false},
		{"at the threshold", 1000, 900, 800, 0, true},
		{"far above, much to trim", 1000, 7000, 5000, 0, true},
		{"above only because of unapplied entries", 1000, 5000, 100, 0, false},
		{"above, trims half of maxraftstate but keeps much more", 1000, 5000, 500, 0, false},
		{"above, trims half as much as it keeps", 1000, 6000, 2000, 0, true},
		{"long backlog, trims a little", 1000, 30000, 1000, 0, false},
		{"long backlog, trims a third", 1000, 30000, 10000, 5, true},
		{"at the threshold with a backlog", 1000, 900, 800, 10, false},
		{"below twice with a backlog", 1000, 1999, 1500, 1, false},
		{"twice with a backlog", 1000, 2000, 1500, 1, true},
		{"twice with a backlog, trims less than half of what it keeps", 1000, 3000, 900, 1, false},
		{"twice with a backlog, little to trim", 1000, 9000, 499, 64, false},
		{"tiny maxraftstate", 10, 64, 40, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isSnapshotDue(tc.maxraftstate, tc.size, tc.trimmable, tc.queue); got != tc.want {
				t.Errorf("isSnapshotDue(%d, %d, %d, %d) = %v, want %v",
					tc.maxraftstate, tc.size, tc.trimmable, tc.queue, got, tc.want)
			}
		})
	}
}

// TestEstimatedLogBytesErrsLow: the estimate of an entry's persisted size
// must not exceed what it really costs, or a snapshot could be taken that
// trims less than isSnapshotDue assumes. The real cost is measured on a
// gob stream, as Raft keeps its log.
func TestEstimatedLogBytesErrsLow(t *testing.T) {
	type entry struct { // the shape of a Raft log entry
		Term    int
		Command interface{}
	}
	var buf bytes.Buffer
	enc := labgob.NewEncoder(&buf)
	labgob.Register(Op{})
	if err := enc.Encode(entry{Term: 1, Command: Op{Kind: opPut, Key: "warm", ClientId: 1, Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	for _, op := range []Op{
		{Kind: opGet, Key: "", ClientId: 1, Seq: 1},
		{Kind: opPut, Key: "k", Value: "v", ClientId: 1, Seq: 1},
		{Kind: opAppend, Key: "a-longer-key", Value: strings.Repeat("x", 100), ClientId: 1<<62 - 1, Seq: 1 << 40},
	} {
		before := buf.Len()
		if err := enc.Encode(entry{Term: 1, Command: op}); err != nil {
			t.Fatal(err)
		}
		if real, est := buf.Len()-before, estimatedLogBytes(op); est > real {
			t.Errorf("%v key %q: estimated %d bytes, the stream took %d", op.Kind, op.Key, est, real)
		}
	}
}

// TestServerWithUndecodableSnapshotStaysDown: a server whose saved snapshot
// cannot be read must not run with half a state: it starts stopped, answers
// every request with ErrWrongLeader, and Kill still returns.
func TestServerWithUndecodableSnapshotStaysDown(t *testing.T) {
	net := labrpc.MakeNetwork()
	defer net.Cleanup()
	end := net.MakeEnd("self")
	net.Connect("self", "server")
	net.Enable("self", true)
	ps := raft.MakePersister()
	ps.Save(nil, []byte("this is no snapshot"))
	kv := StartKVServer([]*labrpc.ClientEnd{end}, 0, ps, 1000)
	srv := labrpc.MakeServer()
	srv.AddService(labrpc.MakeService(kv))
	srv.AddService(labrpc.MakeService(kv.rf))
	net.AddServer("server", srv)

	// A single peer elects itself within an election timeout (at most
	// 600 ms); poll past that.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		var reply PutAppendReply
		kv.PutAppend(&PutAppendArgs{Key: "k", Value: "v", Op: "Put", ClientId: 1, Seq: 1}, &reply)
		if reply.Err != ErrWrongLeader {
			t.Fatalf("a server that could not restore its snapshot answered %v", reply.Err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() { kv.Kill(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Kill did not return")
	}
}
