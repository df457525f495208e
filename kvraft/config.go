package kvraft

// This file and test_test.go are our own version of the course's kvraft test
// harness. A grader replaces both with the course's files, so they reach the
// service only through the fixed API (StartKVServer, Kill, the rf field,
// MakeClerk, Get, Put, Append), the Persister's methods, and the public API
// of labrpc, porcupine and models. No other file may use what they declare.
//
// The harness runs n KVServers on one labrpc network:
//
//   - every server instance gets its own persister and a fresh set of end
//     names, so a killed instance can neither reach the others nor write into
//     its successor's persister;
//   - every Clerk gets its own ends, so it can be connected to any subset of
//     the servers independently of the partition between them;
//   - servers are split into two groups (a partition: only links inside a
//     group work), crashed (the persister kept, as a copy) and restarted;
//   - every Clerk operation is recorded, with call and return times on one
//     monotonic clock, in a history that porcupine checks against
//     models.KvModel.
//
// Goroutines: the test goroutine owns the config. It may start client
// goroutines (spawn, spawnClients) and one partitioner; clients report
// problems through reportf, and only the test goroutine calls t.Fatalf.
// cleanup, registered with t.Cleanup, stops the partitioner, lets clients
// still running after a failure finish on a healed network, kills every
// server, shuts the network down and checks that no goroutine is left.
//
// A failing test prints the harness's seed; running it again with
// KVRAFT_SEED set to that seed repeats the harness's random choices (not
// the timing of the network and the servers).
//
// The harness is two files, and this one is long, because graders swap
// exactly these two: a third file would stay behind when they do.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"6.5840/labrpc"
	"6.5840/models"
	"6.5840/porcupine"
	"6.5840/raft"
)

const (
	// electionTimeout is an upper bound on the time the servers need to
	// elect a leader; the partitioner keeps each partition about this long.
	electionTimeout = 1 * time.Second

	// linearizabilityCheckTimeout bounds the porcupine check. A fast checker
	// needs a small fraction of it; Unknown (timed out) fails the test.
	linearizabilityCheckTimeout = 10 * time.Second

	// testTimeLimit bounds every test: each wait of the test goroutine
	// ends by then at the latest. With a last linearizability check and
	// cleanup (drainTimeout, goroutineSettleTimeout) a test still ends
	// within two minutes. The slowest test needs about 35 s under -race.
	testTimeLimit = 90 * time.Second

	// opTimeout bounds one operation, or the end of the clients' last
	// operations, on a healed network. It covers several 7 s long-delay
	// Calls to unreachable servers (labrpc LongDelays) and an election.
	opTimeout = 30 * time.Second

	// drainTimeout is how long cleanup lets the clients of a failed test
	// finish on a healed network before it kills the servers.
	drainTimeout = 10 * time.Second

	// goroutineSettleTimeout is how long killed servers have to let all
	// their goroutines exit.
	goroutineSettleTimeout = 5 * time.Second

	// raftStateFactor: with snapshots on, the persisted Raft state must stay
	// under raftStateFactor x maxraftstate (the course's bound).
	raftStateFactor = 8

	// seedEnv names the environment variable that fixes the harness's seed.
	seedEnv = "KVRAFT_SEED"
)

// config is one test's cluster of KVServers and its clients.
type config struct {
	t            *testing.T
	seed         uint64
	rng          *rand.Rand // the test goroutine's; other goroutines get their own
	net          *labrpc.Network
	n            int
	maxraftstate int
	start        time.Time // zero of the history's clock
	deadline     time.Time // every wait of the test goroutine ends by then
	goroutines   int       // before the first server started

	mu          sync.Mutex
	servers     []*KVServer       // nil while crashed
	persisters  []*raft.Persister // each server's current stable storage
	incarnation []int             // starts of each server, to name its ends
	serverEnds  [][]string        // serverEnds[i][j]: end of i's current instance to j; nil while i is down
	group       []int             // partition group of each server: links work only inside a group
	clerks      []*testClerk
	clientSets  []*clientSet

	history opHistory

	activeClients atomic.Int32 // client goroutines not yet returned

	failMu    sync.Mutex
	failures  []string      // reported by client goroutines, for the test goroutine
	failed    chan struct{} // closed at the first report
	failClose sync.Once

	partitionerStop chan struct{} // nil when no partitioner runs
	partitionerDone chan struct{}
}

// makeConfig starts n servers (reliable or not, snapshotting at maxraftstate
// or never with -1) and registers cleanup with t. The network delays Calls to
// unreachable servers by up to 7 s, as the course's does.
func makeConfig(t *testing.T, n int, unreliable bool, maxraftstate int) *config {
	seed := makeSeed(t)
	now := time.Now()
	cfg := &config{
		t:            t,
		seed:         seed,
		rng:          rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		net:          labrpc.MakeNetwork(),
		n:            n,
		maxraftstate: maxraftstate,
		start:        now,
		deadline:     now.Add(testTimeLimit),
		goroutines:   runtime.NumGoroutine(),
		servers:      make([]*KVServer, n),
		persisters:   make([]*raft.Persister, n),
		incarnation:  make([]int, n),
		serverEnds:   make([][]string, n),
		group:        make([]int, n),
		failed:       make(chan struct{}),
	}
	t.Cleanup(cfg.cleanup)
	cfg.net.Reliable(!unreliable)
	cfg.net.LongDelays(true)
	for i := 0; i < n; i++ {
		cfg.persisters[i] = raft.MakePersister()
		cfg.startServer(i)
	}
	return cfg
}

// makeSeed returns the seed of the harness's random choices: $KVRAFT_SEED if
// set, otherwise a fresh one. cleanup prints it when the test fails.
func makeSeed(t *testing.T) uint64 {
	if s := os.Getenv(seedEnv); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", seedEnv, s, err)
		}
		return seed
	}
	return rand.Uint64()
}

// now is the history's clock: nanoseconds since the config started, read
// from the monotonic clock, shared by every client.
func (cfg *config) now() int64 {
	return int64(time.Since(cfg.start))
}

// all returns the indices of all servers.
func (cfg *config) all() []int {
	all := make([]int, cfg.n)
	for i := range all {
		all[i] = i
	}
	return all
}

func (cfg *config) serverName(i int) string {
	return "server-" + strconv.Itoa(i)
}

// startServer starts a new instance of server i on its saved persister, with
// fresh ends that follow the current partition.
func (cfg *config) startServer(i int) {
	cfg.mu.Lock()
	if cfg.servers[i] != nil {
		cfg.mu.Unlock()
		panic(fmt.Sprintf("harness: startServer(%d): server %d is running", i, i))
	}
	cfg.incarnation[i]++
	names := make([]string, cfg.n)
	ends := make([]*labrpc.ClientEnd, cfg.n)
	for j := range ends {
		names[j] = fmt.Sprintf("server-%d.%d-to-%d", i, cfg.incarnation[i], j)
		ends[j] = cfg.net.MakeEnd(names[j])
		cfg.net.Connect(names[j], cfg.serverName(j))
	}
	cfg.serverEnds[i] = names
	cfg.enableServerLinksLocked(i)
	persister := cfg.persisters[i]
	cfg.mu.Unlock()

	kv := StartKVServer(ends, i, persister, cfg.maxraftstate)
	srv := labrpc.MakeServer()
	srv.AddService(labrpc.MakeService(kv))
	srv.AddService(labrpc.MakeService(kv.rf))

	cfg.mu.Lock()
	cfg.servers[i] = kv
	cfg.net.AddServer(cfg.serverName(i), srv)
	cfg.mu.Unlock()
}

// crashServer crashes server i: it vanishes from the network (its ends are
// deleted and Calls to it fail, even those running now), its persister is
// replaced by a copy so that whatever the dying instance still writes cannot
// reach its successor, and it is killed. A crashed server stays down until
// startServer.
func (cfg *config) crashServer(i int) {
	cfg.mu.Lock()
	kv := cfg.servers[i]
	if kv == nil {
		cfg.mu.Unlock()
		return
	}
	for _, name := range cfg.serverEnds[i] {
		cfg.net.DeleteEnd(name)
	}
	cfg.serverEnds[i] = nil
	cfg.net.DeleteServer(cfg.serverName(i))
	cfg.persisters[i] = cfg.persisters[i].Copy()
	cfg.servers[i] = nil
	cfg.mu.Unlock()

	kv.Kill()
}

// crashAll crashes every server.
func (cfg *config) crashAll() {
	for i := 0; i < cfg.n; i++ {
		cfg.crashServer(i)
	}
}

// startAll starts every server that is down.
func (cfg *config) startAll() {
	for i := 0; i < cfg.n; i++ {
		cfg.mu.Lock()
		down := cfg.servers[i] == nil
		cfg.mu.Unlock()
		if down {
			cfg.startServer(i)
		}
	}
}

// enableServerLinksLocked enables server i's ends to the servers of its
// group and disables the others. Links into i are the other servers' ends.
func (cfg *config) enableServerLinksLocked(i int) {
	for j, name := range cfg.serverEnds[i] {
		cfg.net.Enable(name, cfg.group[i] == cfg.group[j])
	}
}

// setGroups installs a partition: group[i] is server i's group.
func (cfg *config) setGroups(group []int) {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	copy(cfg.group, group)
	for i := 0; i < cfg.n; i++ {
		cfg.enableServerLinksLocked(i)
	}
}

// partition splits the servers into the given groups, which must together
// name every server exactly once. Servers talk only inside their group;
// Clerks' links are not affected.
func (cfg *config) partition(groups ...[]int) {
	group := make([]int, cfg.n)
	seen := make([]bool, cfg.n)
	for g, members := range groups {
		for _, i := range members {
			if seen[i] {
				panic(fmt.Sprintf("harness: partition%v names server %d twice", groups, i))
			}
			seen[i] = true
			group[i] = g
		}
	}
	for i, ok := range seen {
		if !ok {
			panic(fmt.Sprintf("harness: partition%v leaves out server %d", groups, i))
		}
	}
	cfg.setGroups(group)
}

// heal reconnects all servers to each other.
func (cfg *config) heal() {
	cfg.setGroups(make([]int, cfg.n))
}

// startPartitioner starts a goroutine that puts every server in one of two
// random groups, again every electionTimeout plus up to 200 ms, until
// stopPartitioner. Some group always holds a majority.
func (cfg *config) startPartitioner() {
	if cfg.partitionerStop != nil {
		panic("harness: startPartitioner: a partitioner is running")
	}
	stop, done := make(chan struct{}), make(chan struct{})
	cfg.partitionerStop, cfg.partitionerDone = stop, done
	rng := rand.New(rand.NewPCG(cfg.rng.Uint64(), cfg.rng.Uint64()))
	go func() {
		defer close(done)
		group := make([]int, cfg.n)
		for {
			for i := range group {
				group[i] = rng.IntN(2)
			}
			cfg.setGroups(group)
			timer := time.NewTimer(electionTimeout + time.Duration(rng.IntN(200))*time.Millisecond)
			select {
			case <-stop:
				timer.Stop()
				return
			case <-timer.C:
			}
		}
	}()
}

// stopPartitioner stops the partitioner, waits for it, and heals the
// network. It does nothing when no partitioner runs.
func (cfg *config) stopPartitioner() {
	if cfg.partitionerStop == nil {
		return
	}
	close(cfg.partitionerStop)
	<-cfg.partitionerDone
	cfg.partitionerStop, cfg.partitionerDone = nil, nil
	cfg.heal()
}

// leader returns a server whose Raft peer believes it leads, in the highest
// term if several do, waiting up to a few election timeouts; -1 if none.
func (cfg *config) leader() int {
	deadline := time.Now().Add(5 * electionTimeout)
	for {
		best, bestTerm := -1, -1
		for i := 0; i < cfg.n; i++ {
			cfg.mu.Lock()
			kv := cfg.servers[i]
			cfg.mu.Unlock()
			if kv == nil {
				continue
			}
			if term, isLeader := kv.rf.GetState(); isLeader && term > bestTerm {
				best, bestTerm = i, term
			}
		}
		if best >= 0 || time.Now().After(deadline) {
			return best
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// raftStateSizes returns each server's persisted Raft state size.
func (cfg *config) raftStateSizes() []int {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	sizes := make([]int, cfg.n)
	for i, p := range cfg.persisters {
		sizes[i] = p.RaftStateSize()
	}
	return sizes
}

// snapshotSizes returns each server's persisted snapshot size.
func (cfg *config) snapshotSizes() []int {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	sizes := make([]int, cfg.n)
	for i, p := range cfg.persisters {
		sizes[i] = p.SnapshotSize()
	}
	return sizes
}

// checkPersistedSizes fails the test if, with snapshots on, some server's
// persisted Raft state exceeds raftStateFactor x maxraftstate, or if, with
// snapshots off (maxraftstate -1), some server saved a snapshot.
func (cfg *config) checkPersistedSizes() {
	cfg.t.Helper()
	if cfg.maxraftstate > 0 {
		limit := raftStateFactor * cfg.maxraftstate
		for i, size := range cfg.raftStateSizes() {
			if size > limit {
				cfg.t.Fatalf("server %d persists %d bytes of Raft state, over %d x maxraftstate = %d: the log is not trimmed by snapshots",
					i, size, raftStateFactor, limit)
			}
		}
		return
	}
	for i, size := range cfg.snapshotSizes() {
		if size != 0 {
			cfg.t.Fatalf("server %d saved a %d-byte snapshot although maxraftstate is %d (never snapshot)", i, size, cfg.maxraftstate)
		}
	}
}

// testClerk is a Clerk with its own ends, one per server, that records
// every operation in the config's history. A testClerk is used by one
// goroutine at a time.
type testClerk struct {
	cfg  *config
	ck   *Clerk
	id   int      // porcupine's ClientId
	ends []string // ends[j] reaches server j
}

// makeClerk makes a Clerk connected to the given servers only. It gets ends
// to all servers, in random order, so that it can be reconnected later.
func (cfg *config) makeClerk(to []int) *testClerk {
	cfg.mu.Lock()
	id := len(cfg.clerks)
	c := &testClerk{cfg: cfg, id: id, ends: make([]string, cfg.n)}
	cfg.clerks = append(cfg.clerks, c)
	ends := make([]*labrpc.ClientEnd, cfg.n)
	for j := range ends {
		c.ends[j] = fmt.Sprintf("clerk-%d-to-%d", id, j)
		ends[j] = cfg.net.MakeEnd(c.ends[j])
		cfg.net.Connect(c.ends[j], cfg.serverName(j))
	}
	cfg.mu.Unlock()

	cfg.connectClerk(c, to)
	cfg.rng.Shuffle(len(ends), func(a, b int) { ends[a], ends[b] = ends[b], ends[a] })
	c.ck = MakeClerk(ends)
	return c
}

// connectClerk connects the Clerk to exactly the given servers.
func (cfg *config) connectClerk(c *testClerk, to []int) {
	reach := make([]bool, cfg.n)
	for _, j := range to {
		reach[j] = true
	}
	for j, name := range c.ends {
		cfg.net.Enable(name, reach[j])
	}
}

// Get calls the Clerk's Get and records it. It blocks until the Clerk
// returns, which may be never.
func (c *testClerk) Get(key string) string {
	call := c.cfg.now()
	value := c.ck.Get(key)
	c.cfg.history.add(porcupine.Operation{
		ClientId: c.id,
		Input:    models.KvInput{Op: models.OpGet, Key: key},
		Call:     call,
		Output:   models.KvOutput{Value: value},
		Return:   c.cfg.now(),
	})
	return value
}

// Put calls the Clerk's Put and records it.
func (c *testClerk) Put(key, value string) {
	c.recordWrite(models.OpPut, key, value, c.ck.Put)
}

// Append calls the Clerk's Append and records it.
func (c *testClerk) Append(key, value string) {
	c.recordWrite(models.OpAppend, key, value, c.ck.Append)
}

// recordWrite calls write (the Clerk's Put or Append) and records it as an
// operation of kind op.
func (c *testClerk) recordWrite(op uint8, key, value string, write func(key, value string)) {
	call := c.cfg.now()
	write(key, value)
	c.cfg.history.add(porcupine.Operation{
		ClientId: c.id,
		Input:    models.KvInput{Op: op, Key: key, Value: value},
		Call:     call,
		Output:   models.KvOutput{},
		Return:   c.cfg.now(),
	})
}

// opHistory is the record of every completed Clerk operation.
type opHistory struct {
	mu  sync.Mutex
	ops []porcupine.Operation
}

func (h *opHistory) add(op porcupine.Operation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, op)
}

// operations returns a copy of the history so far.
func (h *opHistory) operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]porcupine.Operation(nil), h.ops...)
}

// checkLinearizable checks the whole history with porcupine. An Illegal
// history, or a check that times out, fails the test; the visualization is
// written to a temporary file named in the failure.
func (cfg *config) checkLinearizable() {
	cfg.t.Helper()
	ops := cfg.history.operations()
	began := time.Now()
	res, info := porcupine.CheckOperationsVerbose(models.KvModel, ops, linearizabilityCheckTimeout)
	took := time.Since(began)
	if res == porcupine.Ok {
		cfg.t.Logf("history of %d operations is linearizable (checked in %v)", len(ops), took.Round(time.Millisecond))
		return
	}
	verdict := "is not linearizable"
	if res == porcupine.Unknown {
		verdict = fmt.Sprintf("could not be checked within %v (%q): counted as a failure", linearizabilityCheckTimeout, res)
	} else if res != porcupine.Illegal {
		verdict = fmt.Sprintf("got the unexpected verdict %q", res)
	}
	where := cfg.writeVisualization(info)
	cfg.t.Fatalf("history of %d operations %s; visualization: %s", len(ops), verdict, where)
}

// writeVisualization writes porcupine's HTML view of the history to a new
// temporary file and returns its name, or what went wrong.
func (cfg *config) writeVisualization(info porcupine.LinearizationInfo) string {
	name := strings.NewReplacer("/", "-", " ", "_").Replace(cfg.t.Name())
	f, err := os.CreateTemp("", "kvraft-"+name+"-*.html")
	if err != nil {
		return fmt.Sprintf("(none: %v)", err)
	}
	path := f.Name()
	f.Close()
	if err := porcupine.VisualizePath(models.KvModel, info, path); err != nil {
		return fmt.Sprintf("(none: %v)", err)
	}
	return path
}

// spawn runs f in a new client goroutine and returns a channel closed when
// f returns. cleanup waits a while for client goroutines still running.
func (cfg *config) spawn(f func()) <-chan struct{} {
	done := make(chan struct{})
	cfg.activeClients.Add(1)
	go func() {
		defer cfg.activeClients.Add(-1)
		defer close(done)
		f()
	}()
	return done
}

// waitFor waits until done is closed, up to timeout (and the test's
// deadline); it fails the test naming what did not finish.
func (cfg *config) waitFor(done <-chan struct{}, timeout time.Duration, what string) {
	cfg.t.Helper()
	limit := time.Until(cfg.deadline)
	if timeout < limit {
		limit = timeout
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		cfg.checkReports()
		cfg.t.Fatalf("%s did not finish within %v", what, limit.Round(time.Millisecond))
	}
}

// within runs f in a client goroutine and waits up to timeout for it,
// failing the test if it takes longer. The test goroutine makes its own
// Clerk calls through it, so that a call that never returns cannot hang the
// test.
func (cfg *config) within(timeout time.Duration, what string, f func()) {
	cfg.t.Helper()
	cfg.waitFor(cfg.spawn(f), timeout, what)
}

// mustGet is c.Get, bounded by opTimeout.
func (cfg *config) mustGet(c *testClerk, key string) string {
	cfg.t.Helper()
	var value string
	cfg.within(opTimeout, fmt.Sprintf("Get(%q)", key), func() { value = c.Get(key) })
	return value
}

// mustPut is c.Put, bounded by opTimeout.
func (cfg *config) mustPut(c *testClerk, key, value string) {
	cfg.t.Helper()
	cfg.within(opTimeout, fmt.Sprintf("Put(%q, %q)", key, value), func() { c.Put(key, value) })
}

// mustAppend is c.Append, bounded by opTimeout.
func (cfg *config) mustAppend(c *testClerk, key, value string) {
	cfg.t.Helper()
	cfg.within(opTimeout, fmt.Sprintf("Append(%q, %q)", key, value), func() { c.Append(key, value) })
}

// checkGet fails the test unless Get(key) returns want.
func (cfg *config) checkGet(c *testClerk, key, want string) {
	cfg.t.Helper()
	if got := cfg.mustGet(c, key); got != want {
		cfg.t.Fatalf("Get(%q) = %s, want %s", key, abbreviate(got), abbreviate(want))
	}
}

// clientSet is a group of client goroutines started together, each with its
// own Clerk connected to every server. The test goroutine owns it.
type clientSet struct {
	stopFlag atomic.Bool
	finished chan struct{} // one value from each client as it returns
	outcomes []clientOutcome
}

// clientOutcome is what a client leaves for the test goroutine to check.
type clientOutcome struct {
	ops      int      // operations completed
	key      string   // the client's own key, if it has one
	want     string   // the value its key must have
	appended []string // values it appended (to key, or to a shared key), in order
}

// clientBody is the work of client cli. It runs until stop returns true
// (or its work is done), using only c and rng, and reports problems with
// c.cfg.reportf.
type clientBody func(cli int, c *testClerk, rng *rand.Rand, stop func() bool) clientOutcome

// spawnClients starts n clients running body.
func (cfg *config) spawnClients(n int, body clientBody) *clientSet {
	cs := &clientSet{finished: make(chan struct{}, n), outcomes: make([]clientOutcome, n)}
	cfg.mu.Lock()
	cfg.clientSets = append(cfg.clientSets, cs)
	cfg.mu.Unlock()
	for cli := 0; cli < n; cli++ {
		c := cfg.makeClerk(cfg.all())
		rng := rand.New(rand.NewPCG(cfg.rng.Uint64(), cfg.rng.Uint64()))
		cfg.spawn(func() {
			cs.outcomes[cli] = body(cli, c, rng, cs.stopFlag.Load)
			cs.finished <- struct{}{}
		})
	}
	return cs
}

// stop asks the clients to return after their current operation.
func (cs *clientSet) stop() {
	cs.stopFlag.Store(true)
}

// awaitClients waits up to timeout for every client of cs to return and
// returns their outcomes. It fails the test if a client reported a problem
// or did not return in time.
func (cfg *config) awaitClients(cs *clientSet, timeout time.Duration) []clientOutcome {
	cfg.t.Helper()
	limit := time.Until(cfg.deadline)
	if timeout < limit {
		limit = timeout
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for returned := 0; returned < len(cs.outcomes); returned++ {
		select {
		case <-cs.finished:
		case <-timer.C:
			cfg.checkReports()
			cfg.t.Fatalf("%d of %d clients did not finish their last operation within %v",
				len(cs.outcomes)-returned, len(cs.outcomes), limit.Round(time.Millisecond))
		}
	}
	cfg.checkReports()
	return cs.outcomes
}

// reportf records a problem found by a client goroutine; the test
// goroutine fails the test with it at its next checkReports. Any goroutine
// may call it.
func (cfg *config) reportf(format string, args ...interface{}) {
	cfg.failMu.Lock()
	defer cfg.failMu.Unlock()
	const keep = 10
	if len(cfg.failures) < keep {
		cfg.failures = append(cfg.failures, fmt.Sprintf(format, args...))
	}
	cfg.failClose.Do(func() { close(cfg.failed) })
}

// checkReports fails the test if a client reported a problem.
func (cfg *config) checkReports() {
	cfg.t.Helper()
	cfg.failMu.Lock()
	msgs := append([]string(nil), cfg.failures...)
	cfg.failMu.Unlock()
	if len(msgs) > 0 {
		cfg.t.Fatalf("clients found problems:\n\t%s", strings.Join(msgs, "\n\t"))
	}
}

// runFor lets the clients work for d, or less if one reports a problem.
func (cfg *config) runFor(d time.Duration) {
	cfg.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-cfg.failed:
		cfg.checkReports()
	}
}

// cleanup ends the test: see the file comment.
func (cfg *config) cleanup() {
	cfg.stopPartitioner()
	if cfg.activeClients.Load() > 0 {
		// The test failed with clients still working. Give them a
		// healed, complete cluster to finish on, rather than leave
		// them retrying forever against dead servers.
		cfg.mu.Lock()
		sets := append([]*clientSet(nil), cfg.clientSets...)
		clerks := append([]*testClerk(nil), cfg.clerks...)
		cfg.mu.Unlock()
		for _, cs := range sets {
			cs.stop()
		}
		cfg.heal()
		for _, c := range clerks {
			cfg.connectClerk(c, cfg.all())
		}
		cfg.startAll()
		deadline := time.Now().Add(drainTimeout)
		for cfg.activeClients.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := cfg.activeClients.Load(); n > 0 {
			cfg.t.Logf("%d client goroutines still blocked in the Clerk at the end of the test", n)
		}
	}
	cfg.crashAll()
	cfg.net.Cleanup()

	if cfg.t.Failed() {
		cfg.t.Logf("harness seed %d (rerun with %s=%d to repeat the harness's random choices; the network's and the servers' timing will differ)",
			cfg.seed, seedEnv, cfg.seed)
		return
	}
	cfg.t.Logf("%d servers, %d operations, %d RPCs, %d bytes, %.1f s",
		cfg.n, len(cfg.history.operations()), cfg.net.GetTotalCount(), cfg.net.GetTotalBytes(), time.Since(cfg.start).Seconds())
	cfg.checkGoroutines()
}

// checkGoroutines waits for the number of goroutines to fall back to what
// it was before the servers started, and fails the test with a dump of the
// remaining ones if it does not.
func (cfg *config) checkGoroutines() {
	deadline := time.Now().Add(goroutineSettleTimeout)
	for {
		n := runtime.NumGoroutine()
		if n <= cfg.goroutines {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 64<<10) // enough to show what leaked
			buf = buf[:runtime.Stack(buf, true)]
			cfg.t.Errorf("%d goroutines still running %v after every server was killed (%d before the test); their stacks:\n%s",
				n, goroutineSettleTimeout, cfg.goroutines, buf)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// abbreviate quotes s, eliding the middle of a long value.
func abbreviate(s string) string {
	const limit = 120
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q…%q (%d bytes)", s[:40], s[len(s)-60:], len(s))
}
