package raft

// The test harness for parts 3A-3D: it builds a cluster of Raft peers on a
// simulated labrpc network, plays the service above each peer, and checks
// every message a peer applies as it arrives.
//
// Graders replace this file and test_test.go with their own, so both use
// Raft only through the fixed API (Make, Start, GetState, Kill, Snapshot,
// ApplyMsg, Persister) and labrpc/labgob only through their public API.
// Package-level names declared here are the course's reserved ones (see
// shared/tools/compat/reserved.txt) or start with "harness", so the other
// files of the package, which may not use reserved names, cannot collide
// with them.
//
// Goroutines and their owners, all stopped by cleanup at the end of a test:
//   - one applier per peer incarnation (the service): it reads applyCh until
//     the test ends, or until harnessKillGrace after its peer was killed;
//   - the watchdog, which aborts the test binary (with every goroutine's
//     stack) if a test runs past harnessHardLimit, for example because a
//     Raft call never returns.
//
// Failures seen off the test goroutine (by an applier, or by a client
// goroutine of a test) are recorded with fail and reported by the next
// helper that runs on the test goroutine: only the test goroutine calls
// t.Fatalf.

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"6.5840/labgob"
	"6.5840/labrpc"
)

// RaftElectionTimeout is the time the tests allow a healthy majority to
// elect a leader; they wait multiples of it for elections to settle.
const RaftElectionTimeout = 1000 * time.Millisecond

// SnapShotInterval is how many commands the 3D service applies between two
// calls to Snapshot: it snapshots after every index divisible by it.
const SnapShotInterval = 10

// MAXLOGSIZE is the largest persisted Raft state, in bytes, allowed to a peer
// whose service snapshots (3D); it is the course's limit.
const MAXLOGSIZE = 2000

const (
	harnessSoftLimit      = 100 * time.Second      // helpers fail a test running longer
	harnessHardLimit      = 120 * time.Second      // the watchdog aborts the binary
	harnessAgreeTimeout   = 10 * time.Second       // one() and wait()
	harnessLeaderTimeout  = 5 * time.Second        // a lost leader is replaced within 5 s
	harnessLeaderStable   = 300 * time.Millisecond // how long a leader must hold to count
	harnessKillGrace      = 3 * time.Second        // how long a killed peer's applyCh is drained
	harnessLeakTimeout    = 5 * time.Second        // for goroutines to end after cleanup
	harnessPollInterval   = 20 * time.Millisecond  // for conditions expected soon
	harnessLeaderInterval = 50 * time.Millisecond  // between two looks at the leaders
	harnessSeedVariable   = "RAFT_TEST_SEED"       // fixes the harness's random choices
	harnessRetryPause     = 50 * time.Millisecond  // one(): before asking for a leader again
	harnessCommitWait     = 2 * time.Second        // one(): for a started command to commit
	harnessTermWait       = 1 * time.Second        // checkTerms(): for heartbeats to align terms
	harnessAllStacksBytes = 4 << 20                // room for a dump of every goroutine
)

// config is one test's cluster: n Raft peers on a labrpc network, the
// service above each peer, and the record of what every peer applied.
type config struct {
	t         *testing.T
	n         int
	net       *labrpc.Network
	seed      int64
	rand      *rand.Rand // the test goroutine's only
	snapshots bool       // the services snapshot every SnapShotInterval commands (3D)
	deadline  time.Time  // harnessSoftLimit after the start

	failed   chan struct{}  // closed when the first failure is recorded
	stop     chan struct{}  // closed by cleanup: every applier returns
	appliers sync.WaitGroup // every applier goroutine
	running  atomic.Int32   // appliers that have not returned yet

	baseGoroutines int           // runtime.NumGoroutine before the cluster existed
	watchdogStop   chan struct{} // closed by cleanup
	watchdogDone   chan struct{} // closed when the watchdog returns

	mu        sync.Mutex     // guards every field below
	peers     []*harnessPeer // the running incarnation of each server; nil while crashed
	saved     []*Persister   // what each server restarts from; its incarnation writes to it
	connected []bool         // the server is on the network (both directions)
	ends      [][]string     // ends[i][j]: name of the current end from server i to server j
	nextEnd   int            // numbers end names, so every incarnation gets fresh ones
	committed map[int]any    // the command any peer, in any incarnation, applied at an index
	failure   string         // the first failure recorded; "" if none
	failures  int            // how many failures were recorded

	// Accounting from begin to end.
	t0         time.Time
	rpcs0      int
	bytes0     int64
	committed0 int
}

// harnessPeer is one incarnation of a server: a Raft instance and the
// service state above it. A restart makes a new one; the old one keeps
// draining (and checking) what the killed Raft still applies for a while.
type harnessPeer struct {
	server      int
	applyCh     chan ApplyMsg
	killedCh    chan struct{} // closed when Kill has returned
	rf          *Raft         // guarded by cfg.mu; nil until Make returns
	killed      bool          // guarded by cfg.mu
	applied     map[int]any   // guarded by cfg.mu: the service's state, index -> command
	lastApplied int           // guarded by cfg.mu: the next command must have index lastApplied+1
}

// makeSeed returns the seed of the harness's random choices: the value of
// the environment variable RAFT_TEST_SEED if set, else one from the clock.
// A failing test prints it. (Raft's and labrpc's own randomness are not
// seeded by it, so a rerun repeats the harness's choices, not every timing.)
func makeSeed(t *testing.T) int64 {
	if s := os.Getenv(harnessSeedVariable); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q is not an integer", harnessSeedVariable, s)
		}
		return seed
	}
	return time.Now().UnixNano()
}

// make_config starts n connected peers. With unreliable set the network
// delays, drops and reorders messages; with snapshots set each peer's
// service snapshots every SnapShotInterval commands. cleanup runs when the
// test ends and stops everything.
func make_config(t *testing.T, n int, unreliable bool, snapshots bool) *config {
	t.Helper()
	seed := makeSeed(t)
	cfg := &config{
		t:              t,
		n:              n,
		seed:           seed,
		rand:           rand.New(rand.NewSource(seed)),
		snapshots:      snapshots,
		deadline:       time.Now().Add(harnessSoftLimit),
		failed:         make(chan struct{}),
		stop:           make(chan struct{}),
		baseGoroutines: runtime.NumGoroutine(),
		watchdogStop:   make(chan struct{}),
		watchdogDone:   make(chan struct{}),
		peers:          make([]*harnessPeer, n),
		saved:          make([]*Persister, n),
		connected:      make([]bool, n),
		ends:           make([][]string, n),
		committed:      make(map[int]any),
	}
	cfg.net = labrpc.MakeNetwork()
	t.Cleanup(cfg.cleanup)
	go cfg.watchdog()

	cfg.setUnreliable(unreliable)
	// A call to a disconnected or crashed peer takes a long time to fail,
	// as the course's harness has it: Raft must not wait for it.
	cfg.net.LongDelays(true)
	for i := 0; i < n; i++ {
		cfg.startPeer(i)
	}
	for i := 0; i < n; i++ {
		cfg.connect(i)
	}
	return cfg
}

// ---------------------------------------------------------------------------
// Starting, crashing and connecting peers.

// startPeer starts server i afresh (crashing its running incarnation first):
// new ends, a copy of its persister, a new service restored from the saved
// snapshot, and Make. The new peer is disconnected until connect(i).
func (cfg *config) startPeer(i int) {
	cfg.crashPeer(i)

	cfg.mu.Lock()
	names := make([]string, cfg.n)
	for j := range names {
		cfg.nextEnd++
		names[j] = fmt.Sprintf("end%d-%d-to-%d", cfg.nextEnd, i, j)
	}
	cfg.ends[i] = names
	ps := MakePersister()
	if cfg.saved[i] != nil {
		ps = cfg.saved[i].Copy()
	}
	cfg.saved[i] = ps
	p := &harnessPeer{
		server:   i,
		applyCh:  make(chan ApplyMsg),
		killedCh: make(chan struct{}),
		applied:  make(map[int]any),
	}
	// The service restores itself from the snapshot, as a real one would;
	// Raft must then deliver only what follows it.
	if snapshot := ps.ReadSnapshot(); len(snapshot) > 0 {
		cfg.adoptSnapshotLocked(p, snapshot, -1)
	}
	cfg.mu.Unlock()

	ends := make([]*labrpc.ClientEnd, cfg.n)
	for j := range ends {
		ends[j] = cfg.net.MakeEnd(names[j]) // disabled until connect
		cfg.net.Connect(names[j], j)
	}

	// The service reads applyCh before Make is called, in case Make
	// delivers something (a snapshot) before it returns.
	cfg.appliers.Add(1)
	cfg.running.Add(1)
	go cfg.applier(p)

	rf := Make(ends, i, ps, p.applyCh)

	cfg.mu.Lock()
	p.rf = rf
	cfg.peers[i] = p
	cfg.mu.Unlock()

	srv := labrpc.MakeServer()
	srv.AddService(labrpc.MakeService(rf))
	cfg.net.AddServer(i, srv)
}

// crashPeer crashes server i, if it runs: off the network, its server
// deleted (so no handler that is still running can answer anyone), the
// persister swapped for a copy (so nothing the killed instance saves from
// now on reaches the next incarnation), then Kill.
func (cfg *config) crashPeer(i int) {
	cfg.disconnect(i)
	cfg.net.DeleteServer(i)

	cfg.mu.Lock()
	p := cfg.peers[i]
	if p == nil {
		cfg.mu.Unlock()
		return
	}
	cfg.peers[i] = nil
	cfg.ends[i] = nil
	// Everything a reply or an outgoing RPC of the killed instance depended
	// on was saved before the server was deleted or the ends disabled, so
	// the copy holds it.
	cfg.saved[i] = cfg.saved[i].Copy()
	p.killed = true // its service makes no more snapshots
	rf := p.rf
	cfg.mu.Unlock()

	rf.Kill()
	close(p.killedCh) // the applier drains applyCh a little longer
}

// connect puts server i back on the network, in both directions, towards
// every other connected server.
func (cfg *config) connect(i int) {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	cfg.connected[i] = true
	cfg.setLinksLocked(i, true)
}

// disconnect takes server i off the network, in both directions.
func (cfg *config) disconnect(i int) {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	cfg.connected[i] = false
	cfg.setLinksLocked(i, false)
}

// setLinksLocked enables or disables the ends between server i and every
// connected server. A crashed server has no ends of its own (ends[i] is nil),
// so a killed instance is never put back on the network.
func (cfg *config) setLinksLocked(i int, enabled bool) {
	for j := 0; j < cfg.n; j++ {
		if enabled && !cfg.connected[j] {
			continue
		}
		if cfg.ends[i] != nil {
			cfg.net.Enable(cfg.ends[i][j], enabled)
		}
		if cfg.ends[j] != nil {
			cfg.net.Enable(cfg.ends[j][i], enabled)
		}
	}
}

// setUnreliable makes the network delay, drop and reorder messages, or not.
func (cfg *config) setUnreliable(unreliable bool) {
	cfg.net.Reliable(!unreliable)
}

// setLongReordering makes the network hold some replies back for a long time.
func (cfg *config) setLongReordering(on bool) {
	cfg.net.LongReordering(on)
}

// raftOf returns server i's running Raft, or nil while it is crashed.
func (cfg *config) raftOf(i int) *Raft {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	if cfg.peers[i] == nil {
		return nil
	}
	return cfg.peers[i].rf
}

// isUp reports whether server i runs and is connected.
func (cfg *config) isUp(i int) bool {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	return cfg.peers[i] != nil && cfg.connected[i]
}

// start calls Start(cmd) on server i; ok is false if it is crashed or does
// not think it leads. Safe to call from any goroutine.
func (cfg *config) start(i int, cmd any) (index int, term int, ok bool) {
	rf := cfg.raftOf(i)
	if rf == nil {
		return -1, -1, false
	}
	return rf.Start(cmd)
}

// ---------------------------------------------------------------------------
// The service above each peer, and the checks on what it applies.

// applier is the service of one incarnation: it checks and records each
// message from applyCh and, in 3D, snapshots every SnapShotInterval
// commands. It returns when the test ends, or harnessKillGrace after Kill
// returned (a killed peer may still deliver for a short while).
func (cfg *config) applier(p *harnessPeer) {
	defer cfg.appliers.Done()
	defer cfg.running.Add(-1)

	killed := p.killedCh
	grace := time.NewTimer(harnessKillGrace)
	grace.Stop() // started when the peer is killed
	defer grace.Stop()
	for {
		select {
		case <-cfg.stop:
			return
		case <-killed:
			killed = nil
			grace.Reset(harnessKillGrace)
		case <-grace.C:
			return
		case m := <-p.applyCh:
			cfg.mu.Lock()
			snapshot := cfg.applyLocked(p, m)
			rf := p.rf
			cfg.mu.Unlock()
			if snapshot != nil && rf != nil {
				rf.Snapshot(m.CommandIndex, snapshot)
			}
		}
	}
}

// applyLocked checks one message and adds it to the service's state. It
// returns a snapshot of the state when the service should hand Raft one.
func (cfg *config) applyLocked(p *harnessPeer, m ApplyMsg) []byte {
	switch {
	case m.CommandValid:
		if m.CommandIndex != p.lastApplied+1 {
			cfg.failLocked("server %d applied index %d right after index %d: applies must be in order, without gaps or repeats",
				p.server, m.CommandIndex, p.lastApplied)
		}
		cfg.recordLocked(p, m.CommandIndex, m.Command)
		p.lastApplied = m.CommandIndex
		if cfg.snapshots && !p.killed && m.CommandIndex%SnapShotInterval == 0 {
			return cfg.encodeStateLocked(p)
		}
	case m.SnapshotValid:
		if !cfg.snapshots {
			cfg.failLocked("server %d delivered a snapshot (index %d), but its service never made one", p.server, m.SnapshotIndex)
			return nil
		}
		if m.SnapshotIndex < p.lastApplied {
			cfg.failLocked("server %d delivered a snapshot through index %d after applying index %d: its service would go back in time",
				p.server, m.SnapshotIndex, p.lastApplied)
			return nil
		}
		cfg.adoptSnapshotLocked(p, m.Snapshot, m.SnapshotIndex)
	}
	// Other messages (neither valid flag set) carry nothing for the service.
	return nil
}

// recordLocked notes that p applied cmd at index, failing the test if any
// peer, in any incarnation, applied something else there.
func (cfg *config) recordLocked(p *harnessPeer, index int, cmd any) {
	if index <= 0 {
		cfg.failLocked("server %d applied command %v at index %d; indices start at 1", p.server, cmd, index)
	}
	if prev, ok := cfg.committed[index]; !ok {
		cfg.committed[index] = cmd
	} else if !reflect.DeepEqual(prev, cmd) {
		cfg.failLocked("server %d applied %v at index %d, where another peer applied %v", p.server, cmd, index, prev)
	}
	p.applied[index] = cmd
}

// encodeStateLocked encodes the service's state: the last index applied and
// every command through it.
func (cfg *config) encodeStateLocked(p *harnessPeer) []byte {
	cmds := make([]any, p.lastApplied)
	for k := range cmds {
		cmd, ok := p.applied[k+1]
		if !ok {
			return nil // a gap, already reported as a failure
		}
		cmds[k] = cmd
	}
	var buf bytes.Buffer
	e := labgob.NewEncoder(&buf)
	if err := e.Encode(p.lastApplied); err != nil {
		cfg.failLocked("encoding a snapshot: %v", err)
		return nil
	}
	if err := e.Encode(cmds); err != nil {
		cfg.failLocked("encoding a snapshot: %v", err)
		return nil
	}
	return buf.Bytes()
}

// adoptSnapshotLocked replaces p's state with the one encoded in snapshot,
// checking it against what the peers applied. wantIndex is the index the
// ApplyMsg announced, or -1 when the snapshot was read from the persister.
func (cfg *config) adoptSnapshotLocked(p *harnessPeer, snapshot []byte, wantIndex int) {
	d := labgob.NewDecoder(bytes.NewReader(snapshot))
	var lastIndex int
	var cmds []any
	if err := d.Decode(&lastIndex); err != nil {
		cfg.failLocked("server %d: undecodable snapshot (%d bytes): %v", p.server, len(snapshot), err)
		return
	}
	if err := d.Decode(&cmds); err != nil {
		cfg.failLocked("server %d: undecodable snapshot (%d bytes): %v", p.server, len(snapshot), err)
		return
	}
	if len(cmds) != lastIndex {
		cfg.failLocked("server %d: snapshot through index %d holds %d commands", p.server, lastIndex, len(cmds))
		return
	}
	if wantIndex >= 0 && lastIndex != wantIndex {
		cfg.failLocked("server %d: ApplyMsg.SnapshotIndex is %d but the snapshot holds the state through index %d",
			p.server, wantIndex, lastIndex)
		return
	}
	p.applied = make(map[int]any, len(cmds))
	for k, cmd := range cmds {
		cfg.recordLocked(p, k+1, cmd)
	}
	p.lastApplied = lastIndex
}

// ---------------------------------------------------------------------------
// Failures, time limits and cleanup.

// fail records a failure, for the test goroutine to report. Safe to call
// from any goroutine.
func (cfg *config) fail(format string, args ...any) {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	cfg.failLocked(format, args...)
}

func (cfg *config) failLocked(format string, args ...any) {
	cfg.failures++
	if cfg.failure == "" {
		cfg.failure = fmt.Sprintf(format, args...)
		close(cfg.failed)
	}
}

// hasFailed reports whether a failure was recorded. Safe from any goroutine.
func (cfg *config) hasFailed() bool {
	select {
	case <-cfg.failed:
		return true
	default:
		return false
	}
}

// checkFailure fails the test if a failure was recorded. Test goroutine only.
func (cfg *config) checkFailure() {
	cfg.t.Helper()
	cfg.mu.Lock()
	failure, failures := cfg.failure, cfg.failures
	cfg.mu.Unlock()
	if failure != "" {
		if failures > 1 {
			failure += fmt.Sprintf(" (and %d more failures)", failures-1)
		}
		cfg.t.Fatalf("%s", failure)
	}
}

// checkTimeout fails a test that has run too long. Test goroutine only.
func (cfg *config) checkTimeout() {
	cfg.t.Helper()
	if time.Now().After(cfg.deadline) {
		cfg.t.Fatalf("test took longer than %v", harnessSoftLimit)
	}
}

// pause waits for d, or less if a failure is recorded, then reports any
// failure or overrun. Test goroutine only; use it instead of time.Sleep.
func (cfg *config) pause(d time.Duration) {
	cfg.t.Helper()
	if d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-cfg.failed:
		}
		timer.Stop()
	}
	cfg.checkFailure()
	cfg.checkTimeout()
}

// nap waits for d; it returns false early if a failure is recorded. For
// goroutines other than the test goroutine.
func (cfg *config) nap(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-cfg.failed:
		return false
	}
}

// randDuration returns a random duration in [0, d).
func (cfg *config) randDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(cfg.rand.Int63n(int64(d)))
}

// randomString returns n random characters.
func (cfg *config) randomString(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[cfg.rand.Intn(len(letters))]
	}
	return string(b)
}

// watchdog aborts the test binary, printing every goroutine's stack, if the
// test is still running after harnessHardLimit: a Raft call that never
// returns would otherwise hang the whole run.
func (cfg *config) watchdog() {
	defer close(cfg.watchdogDone)
	timer := time.NewTimer(harnessHardLimit)
	defer timer.Stop()
	select {
	case <-cfg.watchdogStop:
		return
	case <-timer.C:
	}
	fmt.Fprintf(os.Stderr, "%s is still running after %v (harness seed %d); every goroutine:\n%s\n",
		cfg.t.Name(), harnessHardLimit, cfg.seed, harnessAllStacks())
	panic(fmt.Sprintf("%s: hung for %v", cfg.t.Name(), harnessHardLimit))
}

// harnessAllStacks returns the stacks of every goroutine.
func harnessAllStacks() []byte {
	buf := make([]byte, harnessAllStacksBytes)
	return buf[:runtime.Stack(buf, true)]
}

// cleanup runs when the test ends (t.Cleanup): it kills every peer, shuts
// the network down, checks that every goroutine the test started ends, and
// prints the seed if the test failed.
func (cfg *config) cleanup() {
	t := cfg.t
	for i := 0; i < cfg.n; i++ {
		cfg.crashPeer(i)
	}
	cfg.net.Cleanup()

	// First Raft's and labrpc's goroutines end, while the appliers still
	// drain applyCh; then the appliers and the watchdog stop.
	leaked := !cfg.awaitGoroutines(func() int { return cfg.baseGoroutines + int(cfg.running.Load()) + 1 })
	close(cfg.stop)
	cfg.appliers.Wait()
	close(cfg.watchdogStop)
	<-cfg.watchdogDone
	if !leaked {
		leaked = !cfg.awaitGoroutines(func() int { return cfg.baseGoroutines })
	}
	if leaked {
		t.Errorf("goroutines still running %v after the peers were killed and the network cleaned up: %d, against %d before the test; every goroutine:\n%s",
			harnessLeakTimeout, runtime.NumGoroutine(), cfg.baseGoroutines, harnessAllStacks())
	}

	cfg.mu.Lock()
	failure := cfg.failure
	cfg.mu.Unlock()
	if failure != "" && !t.Failed() {
		t.Errorf("%s", failure) // recorded after the test's last check
	}
	if t.Failed() {
		t.Logf("harness seed %d: set %s=%d to repeat the harness's random choices", cfg.seed, harnessSeedVariable, cfg.seed)
	}
}

// awaitGoroutines polls until at most target() goroutines run, or
// harnessLeakTimeout passes; it reports whether the count got there.
func (cfg *config) awaitGoroutines(target func() int) bool {
	deadline := time.Now().Add(harnessLeakTimeout)
	for runtime.NumGoroutine() > target() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(harnessPollInterval)
	}
	return true
}

// ---------------------------------------------------------------------------
// Accounting.

// begin prints the test's description and starts its accounting.
func (cfg *config) begin(description string) {
	fmt.Printf("%s ...\n", description)
	cfg.t0 = time.Now()
	cfg.rpcs0 = cfg.net.GetTotalCount()
	cfg.bytes0 = cfg.net.GetTotalBytes()
	cfg.mu.Lock()
	cfg.committed0 = len(cfg.committed)
	cfg.mu.Unlock()
}

// end checks once more for failures (and, in 3D, the size of the persisted
// Raft state), then prints a one-line summary of what the test cost.
func (cfg *config) end() {
	cfg.t.Helper()
	cfg.checkFailure()
	cfg.checkTimeout()
	if cfg.snapshots {
		cfg.checkLogSize()
	}
	cfg.mu.Lock()
	commands := len(cfg.committed) - cfg.committed0
	cfg.mu.Unlock()
	fmt.Printf("  ... Passed in %.1fs: %d peers, %d RPCs, %d bytes, %d commands\n",
		time.Since(cfg.t0).Seconds(), cfg.n, cfg.net.GetTotalCount()-cfg.rpcs0,
		cfg.net.GetTotalBytes()-cfg.bytes0, commands)
}

// rpcTotal returns the number of RPCs the servers have received. (It asks
// every server, so call it only while all of them run.)
func (cfg *config) rpcTotal() int {
	total := 0
	for j := 0; j < cfg.n; j++ {
		total += cfg.net.GetCount(j)
	}
	return total
}

// logSize returns the largest persisted Raft state of any server, in bytes.
func (cfg *config) logSize() int {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	size := 0
	for _, ps := range cfg.saved {
		if ps != nil && ps.RaftStateSize() > size {
			size = ps.RaftStateSize()
		}
	}
	return size
}

// checkLogSize fails the test if a peer's persisted Raft state has reached
// MAXLOGSIZE although its service snapshots (section 7).
func (cfg *config) checkLogSize() {
	cfg.t.Helper()
	if size := cfg.logSize(); size >= MAXLOGSIZE {
		cfg.t.Fatalf("persisted Raft state is %d bytes although the service snapshots every %d commands; the limit is %d",
			size, SnapShotInterval, MAXLOGSIZE)
	}
}

// ---------------------------------------------------------------------------
// Checks on leaders, terms and agreement.

// describe returns every server's state, for failure messages.
func (cfg *config) describe() string {
	var b strings.Builder
	for i := 0; i < cfg.n; i++ {
		rf := cfg.raftOf(i)
		if rf == nil {
			fmt.Fprintf(&b, " S%d crashed;", i)
			continue
		}
		term, isLeader := rf.GetState()
		role := "not leader"
		if isLeader {
			role = "leader"
		}
		net := "connected"
		if !cfg.isUp(i) {
			net = "disconnected"
		}
		fmt.Fprintf(&b, " S%d term %d %s %s;", i, term, role, net)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// leadersByTerm returns, for each term, the running and connected servers
// that think they lead in it; two leaders in one term fail the test.
func (cfg *config) leadersByTerm() map[int][]int {
	cfg.t.Helper()
	leaders := make(map[int][]int)
	for i := 0; i < cfg.n; i++ {
		rf := cfg.raftOf(i)
		if rf == nil || !cfg.isUp(i) {
			continue
		}
		if term, isLeader := rf.GetState(); isLeader {
			leaders[term] = append(leaders[term], i)
		}
	}
	for term, ls := range leaders {
		if len(ls) > 1 {
			cfg.t.Fatalf("term %d has %d leaders %v (section 5.2: at most one per term)", term, len(ls), ls)
		}
	}
	return leaders
}

// checkOneLeader waits until the connected servers have one leader in the
// highest term that any of them leads, the same one for
// harnessLeaderStable, and returns it. It fails the test after
// harnessLeaderTimeout.
func (cfg *config) checkOneLeader() int {
	cfg.t.Helper()
	deadline := time.Now().Add(harnessLeaderTimeout)
	candidate, candidateTerm := -1, -1
	var since time.Time
	for {
		cfg.pause(harnessLeaderInterval)
		leaders := cfg.leadersByTerm()
		top := -1
		for term := range leaders {
			if term > top {
				top = term
			}
		}
		now := time.Now()
		switch {
		case top < 0:
			candidate = -1
		case leaders[top][0] != candidate || top != candidateTerm:
			candidate, candidateTerm, since = leaders[top][0], top, now
		case now.Sub(since) >= harnessLeaderStable:
			return candidate
		}
		if now.After(deadline) {
			if candidate < 0 {
				cfg.t.Fatalf("expected one leader, got none within %v:%s", harnessLeaderTimeout, cfg.describe())
			}
			return candidate // a leader, though a young one
		}
	}
}

// checkTerms waits (briefly) for every running and connected server to be
// in the same term, and returns it.
func (cfg *config) checkTerms() int {
	cfg.t.Helper()
	deadline := time.Now().Add(harnessTermWait)
	for {
		term, agree := -1, true
		for i := 0; i < cfg.n; i++ {
			rf := cfg.raftOf(i)
			if rf == nil || !cfg.isUp(i) {
				continue
			}
			t, _ := rf.GetState()
			if term == -1 {
				term = t
			} else if t != term {
				agree = false
			}
		}
		if agree {
			return term
		}
		if time.Now().After(deadline) {
			cfg.t.Fatalf("servers disagree on the term for %v:%s", harnessTermWait, cfg.describe())
		}
		cfg.pause(harnessPollInterval)
	}
}

// checkNoLeaderFor checks, throughout d, that no running and connected
// server thinks it leads.
func (cfg *config) checkNoLeaderFor(d time.Duration) {
	cfg.t.Helper()
	end := time.Now().Add(d)
	for {
		if leaders := cfg.leadersByTerm(); len(leaders) > 0 {
			cfg.t.Fatalf("expected no leader among the connected servers, but there is one:%s", cfg.describe())
		}
		if time.Now().After(end) {
			return
		}
		cfg.pause(harnessLeaderInterval)
	}
}

// checkNotCommittedFor checks, throughout d, that no peer applies index.
func (cfg *config) checkNotCommittedFor(index int, d time.Duration) {
	cfg.t.Helper()
	end := time.Now().Add(d)
	for {
		if n, cmd := cfg.nCommitted(index); n > 0 {
			cfg.t.Fatalf("%d peers applied %v at index %d, which no majority can have stored", n, cmd, index)
		}
		if time.Now().After(end) {
			return
		}
		cfg.pause(harnessLeaderInterval)
	}
}

// countApplied returns how many running servers have applied index, and the
// command there. Safe to call from any goroutine.
func (cfg *config) countApplied(index int) (int, any) {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	count := 0
	var cmd any
	for _, p := range cfg.peers {
		if p == nil {
			continue
		}
		c, ok := p.applied[index]
		if !ok {
			continue
		}
		if count > 0 && !reflect.DeepEqual(c, cmd) {
			cfg.failLocked("server %d applied %v at index %d, another %v", p.server, c, index, cmd)
		}
		count++
		cmd = c
	}
	return count, cmd
}

// nCommitted returns how many running servers have applied index, and the
// command there. Test goroutine only.
func (cfg *config) nCommitted(index int) (int, any) {
	cfg.t.Helper()
	n, cmd := cfg.countApplied(index)
	cfg.checkFailure()
	return n, cmd
}

// one submits cmd to the leader and waits until at least expectedServers
// peers have applied it; it returns its index. With retry set it submits
// again when a leader loses the command; it fails the test if there is no
// agreement within harnessAgreeTimeout. Test goroutine only.
func (cfg *config) one(cmd any, expectedServers int, retry bool) int {
	cfg.t.Helper()
	index, err := cfg.agree(cmd, expectedServers, retry)
	cfg.checkFailure()
	if err != nil {
		cfg.t.Fatalf("%v", err)
	}
	cfg.checkTimeout()
	return index
}

// agree is one() for any goroutine: it returns an error instead of failing.
func (cfg *config) agree(cmd any, expectedServers int, retry bool) (int, error) {
	deadline := time.Now().Add(harnessAgreeTimeout)
	next := 0 // the server to ask first, in turn
	for time.Now().Before(deadline) && !cfg.hasFailed() {
		index := -1
		for k := 0; k < cfg.n && index < 0; k++ {
			i := next
			next = (next + 1) % cfg.n
			if !cfg.isUp(i) {
				continue
			}
			if idx, _, ok := cfg.start(i, cmd); ok {
				index = idx
			}
		}
		if index < 0 {
			cfg.nap(harnessRetryPause) // no leader yet
			continue
		}
		// A leader took the command; wait for it to be applied there.
		waitEnd := time.Now().Add(harnessCommitWait)
		for time.Now().Before(waitEnd) {
			n, got := cfg.countApplied(index)
			if n > 0 && n >= expectedServers && reflect.DeepEqual(got, cmd) {
				return index, nil
			}
			if !cfg.nap(harnessPollInterval) {
				return -1, fmt.Errorf("one(%v): a failure was recorded", cmd)
			}
		}
		if !retry {
			n, got := cfg.countApplied(index)
			return -1, fmt.Errorf("one(%v) failed to reach agreement: after %v, %d peers applied index %d (command %v), %d needed",
				cmd, harnessCommitWait, n, index, got, expectedServers)
		}
	}
	return -1, fmt.Errorf("one(%v) failed to reach agreement among %d peers within %v:%s",
		cmd, expectedServers, harnessAgreeTimeout, cfg.describe())
}

// wait polls until at least n running servers have applied index, and
// returns the command there. If startTerm >= 0 and some server has moved
// past startTerm it returns ok == false: the caller's assumption of one
// leader throughout no longer holds. It fails the test after
// harnessAgreeTimeout.
func (cfg *config) wait(index int, n int, startTerm int) (cmd any, ok bool) {
	cfg.t.Helper()
	deadline := time.Now().Add(harnessAgreeTimeout)
	backoff := 10 * time.Millisecond
	for {
		count, cmd := cfg.nCommitted(index)
		if count >= n {
			return cmd, true
		}
		if startTerm >= 0 {
			for i := 0; i < cfg.n; i++ {
				if rf := cfg.raftOf(i); rf != nil {
					if term, _ := rf.GetState(); term > startTerm {
						return nil, false
					}
				}
			}
		}
		if time.Now().After(deadline) {
			cfg.t.Fatalf("only %d peers applied index %d within %v; wanted %d:%s", count, index, harnessAgreeTimeout, n, cfg.describe())
		}
		cfg.pause(backoff)
		if backoff < time.Second {
			backoff *= 2
		}
	}
}
