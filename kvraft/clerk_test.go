package kvraft_test

// Tests of the Clerk's attempts in flight, from outside the package: the
// Clerk calls "KVServer.Get" and "KVServer.PutAppend", and labrpc routes a
// call by the name of the receiver's type, so a type named KVServer here
// can stand in for a server. It counts the attempts at it in flight, and it
// either answers as told or forwards to a real server.

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"6.5840/kvraft"
	"6.5840/labrpc"
	"6.5840/raft"
)

// behaviour is how a stand-in server answers.
type behaviour int

const (
	answerOK          behaviour = iota // OK at once: the leader
	answerWrongLeader                  // ErrWrongLeader at once: a follower, or a server in an election
	hang                               // hold the call until released, then ErrWrongLeader: a crashed server
	forward                            // pass the call on to a real server; a lost call is ErrWrongLeader
)

// KVServer is a stand-in for a kvraft server, reached under the same
// service name. It counts the calls in flight at it, which are the Clerk's
// attempts in flight at this server.
type KVServer struct {
	end *labrpc.ClientEnd // to the real server, for forward

	mu          sync.Mutex
	behaviour   behaviour
	release     chan struct{} // closed to release the calls hanging now
	inFlight    int
	maxInFlight int
	calls       int
}

func newStandIn(b behaviour) *KVServer {
	return &KVServer{behaviour: b, release: make(chan struct{})}
}

// Get is the stand-in's KVServer.Get.
func (s *KVServer) Get(args *kvraft.GetArgs, reply *kvraft.GetReply) {
	defer s.enter()()
	switch s.current() {
	case forward:
		if !s.end.Call("KVServer.Get", args, reply) {
			reply.Err = kvraft.ErrWrongLeader
		}
	default:
		reply.Err = s.answer()
	}
}

// PutAppend is the stand-in's KVServer.PutAppend.
func (s *KVServer) PutAppend(args *kvraft.PutAppendArgs, reply *kvraft.PutAppendReply) {
	defer s.enter()()
	switch s.current() {
	case forward:
		if !s.end.Call("KVServer.PutAppend", args, reply) {
			reply.Err = kvraft.ErrWrongLeader
		}
	default:
		reply.Err = s.answer()
	}
}

// enter counts a call in flight and returns what counts it out.
func (s *KVServer) enter() func() {
	s.mu.Lock()
	s.calls++
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}
}

func (s *KVServer) current() behaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.behaviour
}

// answer answers a call that is not forwarded, hanging first if told to.
func (s *KVServer) answer() kvraft.Err {
	s.mu.Lock()
	b, release := s.behaviour, s.release
	s.mu.Unlock()
	switch b {
	case answerOK:
		return kvraft.OK
	case hang:
		<-release
	}
	return kvraft.ErrWrongLeader
}

// become changes how the stand-in answers from now on, and releases the
// calls hanging at it (they answer ErrWrongLeader).
func (s *KVServer) become(b behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behaviour = b
	close(s.release)
	s.release = make(chan struct{})
}

// counts returns the calls in flight now, the most ever in flight at once,
// and the calls so far.
func (s *KVServer) counts() (inFlight, maxInFlight, calls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight, s.maxInFlight, s.calls
}

// standInNet is a labrpc network with a stand-in server per index and a
// Clerk's ends to them.
type standInNet struct {
	t        *testing.T
	net      *labrpc.Network
	standIns []*KVServer
	ck       *kvraft.Clerk
	running  sync.WaitGroup // the Clerk's operations in progress
}

// newStandInNet puts the stand-ins on a reliable network as servers
// "stand-in-0", ... and makes a Clerk with an end to each. Cleanup releases
// whatever hangs, lets every stand-in answer OK, shuts the network down and waits for the goroutines to
// return to their number before.
func newStandInNet(t *testing.T, standIns ...*KVServer) *standInNet {
	goroutines := runtime.NumGoroutine()
	s := &standInNet{t: t, net: labrpc.MakeNetwork(), standIns: standIns}
	ends := make([]*labrpc.ClientEnd, len(standIns))
	for i, si := range standIns {
		srv := labrpc.MakeServer()
		srv.AddService(labrpc.MakeService(si))
		s.net.AddServer(fmt.Sprintf("stand-in-%d", i), srv)
		name := fmt.Sprintf("clerk-%d", i)
		ends[i] = s.net.MakeEnd(name)
		s.net.Connect(name, fmt.Sprintf("stand-in-%d", i))
		s.net.Enable(name, true)
	}
	s.ck = kvraft.MakeClerk(ends)
	t.Cleanup(func() {
		for _, si := range standIns {
			si.become(answerOK) // an operation still running finishes
		}
		finished := make(chan struct{})
		go func() {
			s.running.Wait()
			close(finished)
		}()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("the Clerk's last operation did not finish with every server answering OK")
		}
		s.net.Cleanup()
		awaitGoroutines(t, goroutines)
	})
	return s
}

// checkOneInFlight fails the test if any stand-in ever had more than one
// call in flight.
func (s *standInNet) checkOneInFlight() {
	s.t.Helper()
	for i, si := range s.standIns {
		if _, most, calls := si.counts(); most > 1 {
			s.t.Errorf("server %d had %d of the Clerk's attempts in flight at once (%d calls in all); at most one may be", i, most, calls)
		}
	}
}

// awaitInFlight polls until stand-in i has want calls in flight.
func (s *standInNet) awaitInFlight(i, want int, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		now, _, _ := s.standIns[i].counts()
		if now == want {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("server %d has %d calls in flight, not %d, after %v", i, now, want, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// put starts a Put and returns a channel closed when it returns.
func (s *standInNet) put(key string) <-chan struct{} {
	done := make(chan struct{})
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		s.ck.Put(key, "v")
		close(done)
	}()
	return done
}

// timedPut runs a Put and returns how long it took; it fails the test if
// the Put has not returned within timeout (and then leaves it running until
// cleanup releases the stand-ins).
func (s *standInNet) timedPut(key string, timeout time.Duration) time.Duration {
	s.t.Helper()
	start := time.Now()
	done := s.put(key)
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(timeout):
		s.checkOneInFlight() // the likely reason
		s.t.Fatalf("Put(%q) had not returned after %v", key, timeout)
		return 0
	}
}

// awaitGoroutines waits until no more goroutines run than before, or fails.
func awaitGoroutines(t *testing.T, before int) {
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines left behind (started with %d):\n%s",
				runtime.NumGoroutine(), before, strings.TrimSpace(string(buf)))
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestClerkNeverSendsASecondAttemptToAServerStillHoldingOne: two of three
// servers are crashed (a call to them hangs, as labrpc holds a call to a
// crashed server for up to 7 s with LongDelays) and the third is in an
// election, answering ErrWrongLeader, for half a second before it leads.
// The Clerk keeps asking the third server, never a crashed one twice, and
// finishes as soon as the third leads; later operations go straight to it.
func TestClerkNeverSendsASecondAttemptToAServerStillHoldingOne(t *testing.T) {
	s := newStandInNet(t, newStandIn(hang), newStandIn(hang), newStandIn(answerWrongLeader))
	electedAt := time.Now().Add(500 * time.Millisecond)
	time.AfterFunc(time.Until(electedAt), func() { s.standIns[2].become(answerOK) })

	s.timedPut("first", 5*time.Second)
	if late := time.Since(electedAt); late > 3*time.Second/2 {
		t.Errorf("the first Put returned %v after the leader was elected", late)
	}
	var slowest time.Duration
	for i := 0; i < 20; i++ {
		slowest = max(slowest, s.timedPut(fmt.Sprint(i), 5*time.Second))
	}
	if slowest > 50*time.Millisecond {
		t.Errorf("with the leader known, the slowest Put took %v", slowest)
	}
	s.checkOneInFlight()
	_, _, leaderCalls := s.standIns[2].counts()
	if leaderCalls < 3 {
		t.Errorf("the live server got %d calls: the Clerk did not keep asking it", leaderCalls)
	}
}

// TestClerkWaitsForABusyServerRatherThanAskingItTwice: the leader crashes
// while the other two servers still hold attempts of an earlier operation.
// The next operation's attempt at the crashed leader hangs, no server is
// free, and the Clerk waits; when an old attempt fails, its server is free
// again, is asked, and answers as the new leader.
func TestClerkWaitsForABusyServerRatherThanAskingItTwice(t *testing.T) {
	s := newStandInNet(t, newStandIn(hang), newStandIn(hang), newStandIn(answerOK))
	s.timedPut("first", 5*time.Second) // 0 and 1 hang; 2 answers
	s.awaitInFlight(0, 1, time.Second)
	s.awaitInFlight(1, 1, time.Second)

	s.standIns[2].become(hang) // the leader crashes
	done := s.put("second")
	s.awaitInFlight(2, 1, time.Second)
	time.Sleep(3 * 100 * time.Millisecond) // three hedging periods with no server free
	s.checkOneInFlight()

	releasedAt := time.Now()
	s.standIns[1].become(answerOK) // the old attempt fails; 1 now leads
	select {
	case <-done:
		if late := time.Since(releasedAt); late > time.Second/2 {
			t.Errorf("the Put returned %v after a server came free", late)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the Put did not return after a server came free")
	}
	s.checkOneInFlight()
}

// kvNet is a real cluster of kvraft servers, each behind a stand-in that
// forwards to it, on a network with labrpc's LongDelays: a call to a
// crashed server fails only after up to 7 s.
type kvNet struct {
	t          *testing.T
	net        *labrpc.Network
	n          int
	servers    []*kvraft.KVServer // nil while crashed
	persisters []*raft.Persister
	generation []int
}

func kvServerName(i int) string { return fmt.Sprintf("kv-%d", i) }

func (c *kvNet) start(i int) {
	c.generation[i]++
	ends := make([]*labrpc.ClientEnd, c.n)
	for j := range ends {
		name := fmt.Sprintf("peer-%d-%d-gen%d", i, j, c.generation[i])
		ends[j] = c.net.MakeEnd(name)
		c.net.Connect(name, kvServerName(j))
		c.net.Enable(name, true)
	}
	kv := kvraft.StartKVServer(ends, i, c.persisters[i], -1)
	srv := labrpc.MakeServer()
	srv.AddService(labrpc.MakeService(kv))
	srv.AddService(labrpc.MakeService(kv.Raft()))
	c.net.AddServer(kvServerName(i), srv)
	c.servers[i] = kv
}

func (c *kvNet) crash(i int) {
	c.net.DeleteServer(kvServerName(i))
	c.persisters[i] = c.persisters[i].Copy()
	c.servers[i].Kill()
	c.servers[i] = nil
}

// leader polls until one running server leads in a term above after, and
// returns it and its term.
func (c *kvNet) leader(after int, timeout time.Duration) (int, int) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for i, kv := range c.servers {
			if kv == nil {
				continue
			}
			if term, isLeader := kv.Raft().GetState(); isLeader && term > after {
				return i, term
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("no leader in a term above %d within %v", after, timeout)
	return -1, -1
}

// TestClerkAttemptsStayOnePerServerWhileLeadersCrashUnderLongDelays: five
// servers with LongDelays; three times, the leader and another server
// crash (and come back a round later). Every crash leaves the Clerk's
// attempts hanging at the crashed servers for seconds while the others
// elect a leader and answer ErrWrongLeader meanwhile. The Clerk never has
// two attempts at one server, so the hanging ones cannot crowd out the live
// servers, and it gets its operations done throughout.
func TestClerkAttemptsStayOnePerServerWhileLeadersCrashUnderLongDelays(t *testing.T) {
	const n, rounds = 5, 3
	goroutines := runtime.NumGoroutine()
	c := &kvNet{t: t, net: labrpc.MakeNetwork(), n: n,
		servers: make([]*kvraft.KVServer, n), persisters: make([]*raft.Persister, n), generation: make([]int, n)}
	c.net.LongDelays(true)
	standIns := make([]*KVServer, n)
	ends := make([]*labrpc.ClientEnd, n)
	for i := 0; i < n; i++ {
		c.persisters[i] = raft.MakePersister()
		c.start(i)
		standIns[i] = newStandIn(forward)
		standIns[i].end = c.net.MakeEnd(fmt.Sprintf("forward-%d", i))
		c.net.Connect(fmt.Sprintf("forward-%d", i), kvServerName(i))
		c.net.Enable(fmt.Sprintf("forward-%d", i), true)
		srv := labrpc.MakeServer()
		srv.AddService(labrpc.MakeService(standIns[i]))
		c.net.AddServer(fmt.Sprintf("stand-in-%d", i), srv)
		ends[i] = c.net.MakeEnd(fmt.Sprintf("clerk-%d", i))
		c.net.Connect(fmt.Sprintf("clerk-%d", i), fmt.Sprintf("stand-in-%d", i))
		c.net.Enable(fmt.Sprintf("clerk-%d", i), true)
	}
	ck := kvraft.MakeClerk(ends)

	// The Clerk appends in the background; each completed Append is
	// timestamped.
	stop := make(chan struct{})
	var mu sync.Mutex
	var completed []time.Time
	clerkDone := make(chan struct{})
	go func() {
		defer close(clerkDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ck.Append("k", fmt.Sprintf("%d;", i))
			mu.Lock()
			completed = append(completed, time.Now())
			mu.Unlock()
		}
	}()
	cleanedUp := false
	cleanup := func() {
		if cleanedUp {
			return
		}
		cleanedUp = true
		for i := range c.servers {
			if c.servers[i] == nil {
				c.start(i) // so the Clerk's last operation can finish
			}
		}
		close(stop)
		select {
		case <-clerkDone:
		case <-time.After(30 * time.Second):
			t.Error("the Clerk did not finish its last operation within 30 s on a healed cluster")
		}
		for i := range c.servers {
			c.crash(i)
		}
		c.net.Cleanup()
		awaitGoroutines(t, goroutines)
	}
	t.Cleanup(cleanup)

	term := 0
	var crashed []int
	start := time.Now()
	for r := 0; r < rounds; r++ {
		var leader int
		leader, term = c.leader(term, 10*time.Second)
		for _, i := range crashed {
			c.start(i)
		}
		other := (leader + 1 + r) % n
		if other == leader {
			other = (other + 1) % n
		}
		crashed = []int{leader, other}
		c.crash(leader)
		c.crash(other)
		time.Sleep(2 * time.Second)
	}
	elapsed := time.Since(start)
	cleanup()

	mu.Lock()
	defer mu.Unlock()
	gap, last := time.Duration(0), start
	for _, at := range completed {
		if at.After(start) {
			gap = max(gap, at.Sub(last))
			last = at
		}
	}
	t.Logf("%d Appends in %v of crashes; longest stretch without one %v", len(completed), elapsed.Round(time.Millisecond), gap.Round(time.Millisecond))
	for i, si := range standIns {
		if _, most, calls := si.counts(); most > 1 {
			t.Errorf("server %d had %d of the Clerk's attempts in flight at once (%d calls in all); at most one may be", i, most, calls)
		}
	}
	if gap > 5*time.Second {
		t.Errorf("the Clerk completed nothing for %v while a majority was up", gap)
	}
}
