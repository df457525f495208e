// Package labrpc is an in-process RPC network for testing distributed
// programs. It looks like a real network to the code under test: messages can
// be delayed, lost and reordered, links can be cut, and servers can crash.
//
// A Network holds named client ends and named servers:
//
//	net := labrpc.MakeNetwork()
//	defer net.Cleanup()
//
//	srv := labrpc.MakeServer()
//	srv.AddService(labrpc.MakeService(rf)) // rf is a *Raft: service "Raft"
//	net.AddServer("server-1", srv)
//
//	end := net.MakeEnd("client-to-1")
//	net.Connect("client-to-1", "server-1")
//	net.Enable("client-to-1", true)
//
//	var reply AppendEntriesReply
//	ok := end.Call("Raft.AppendEntries", &args, &reply)
//
// Call dispatches by reflection to the method AppendEntries of the service
// registered from a receiver of type Raft. Handlers have the form
//
//	func (rf *Raft) AppendEntries(args *AppendEntriesArgs, reply *AppendEntriesReply)
//
// Arguments and replies travel labgob-encoded, so the caller and the handler
// never share memory, and fields gob cannot carry are lost just as they would
// be on a real network.
//
// Call returns true only when the handler ran and its reply arrived. It
// returns false, after a delay, when the request or the reply was lost or
// the end is disabled or connected to no server. It returns false at once
// when, while the handler runs, the server is deleted or replaced (it
// crashed) or the end is disabled, deleted or connected elsewhere, even if
// the handler has not returned yet: a crashed server never acknowledges
// anything, and a reply cannot cross a cut link.
//
// Faults, as in the course's network model:
//   - Reliable(false): each request is delayed 0-27 ms; 10% of requests and
//     10% of replies are lost.
//   - A disabled, unconnected or deleted destination: Call returns false
//     after 0-100 ms, or after 0-7 s with LongDelays(true).
//   - LongReordering(true): about two replies in three are held back
//     200-2200 ms, so replies arrive out of order.
//
// Handlers run on the network's workers, goroutines that each run one
// handler at a time and wait for the next; a Call hands its handler to an
// idle worker, or starts a new one, and waits. (A worker that finished a
// handler while no other Call was being served yields a few times before
// it waits, so that the next Call can hand it a handler without waking
// it.) Every change that can cut a
// Call off from its server (DeleteServer, AddServer, Enable, Connect,
// DeleteEnd, Cleanup) is announced by closing a channel that waiting Calls
// select on, so such a Call returns false as soon as the change is made,
// without polling; its handler runs on to the end and its reply is dropped.
// Delays are sleeps of the caller, so only workers are the network's own
// goroutines: idle ones end when Cleanup is called (at most 64 stay idle
// before then), busy ones when their handler returns after Cleanup; a
// handler that never returns keeps its worker. Cleanup also wakes waiting
// Calls (they return false) and makes every later Call return false at once.
package labrpc

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"6.5840/labgob"
)

// Timing of the network model, in milliseconds.
const (
	unreliableMaxDelayMs = 27   // request delay on an unreliable network
	unreliableLossPerMil = 100  // requests lost, and replies lost, per 1000
	missingShortMaxMs    = 100  // a Call to nowhere fails within this
	missingLongMaxMs     = 7000 // ... or within this with LongDelays(true)
	reorderPerMil        = 667  // replies held back per 1000 with LongReordering(true)
	reorderMinMs         = 200  // a held-back reply waits at least this
	reorderSpreadMs      = 2000 // ... plus up to this much more
)

// Network is a simulated network of named client ends and named servers.
// All its methods are safe for concurrent use.
type Network struct {
	mu             sync.RWMutex
	reliable       bool
	longDelays     bool                         // disabled destinations take long to fail
	longReordering bool                         // replies are held back at random
	ends           map[interface{}]*endState    // end name -> its state
	servers        map[interface{}]*serverState // server name -> the server there

	// changes counts the cuts: the changes that can cut a Call off from
	// the server running its handler (an end disabled, connected elsewhere
	// or deleted; a server replaced or deleted). Each cut stamps the
	// endState or serverState it changed with the new count, and closes
	// changed and replaces it with a fresh channel. A Call reads the count
	// and the channel with its route; while it waits for its handler it
	// selects on the channel, and on each wake-up it still reaches its
	// server only if neither its end nor its server was stamped since. So
	// it misses no cut, not even one undone before it looked (a link cut
	// and restored). Other changes (an end made, enabled or connected
	// where it was not; a server added under a free name) cannot affect a
	// waiting Call, and wake none.
	changes uint64
	changed chan struct{}

	// The workers that run handlers; see worker and spin.
	handoff        atomic.Pointer[handlerCall] // see spin
	serving        atomic.Int32                // Calls in serve, the one whose handler just returned included
	workersMu      sync.Mutex
	idleWorkers    []chan *handlerCall // each idle worker waits on its own
	workersStopped bool                // Cleanup was called

	done     chan struct{} // closed by Cleanup
	doneOnce sync.Once

	count atomic.Int64 // RPCs attempted, over all ends
	bytes atomic.Int64 // bytes of requests and replies sent
}

// endState is what the network knows of one end name; the ClientEnd made
// under the name points to it too. Its fields are guarded by Network.mu.
type endState struct {
	made       bool         // MakeEnd created the end (Enable or Connect may come first)
	deleted    bool         // DeleteEnd removed it
	enabled    bool         // may it send?
	servername interface{}  // the server name it is connected to; nil: none
	server     *serverState // the server registered under servername now; nil: none
	changedAt  uint64       // Network.changes when it was last disabled, connected elsewhere or deleted
}

// serverState is one server registered under a name.
type serverState struct {
	server    *Server
	changedAt uint64 // Network.changes when AddServer put it there, or when it was replaced or deleted
}

// MakeNetwork returns an empty, reliable network.
func MakeNetwork() *Network {
	return &Network{
		reliable: true,
		ends:     map[interface{}]*endState{},
		servers:  map[interface{}]*serverState{},
		changed:  make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// announceCutLocked counts a cut and wakes every Call waiting for a
// handler, so that each checks whether it still reaches its server. It
// returns the new count, to stamp what changed with. Closing a channel
// never blocks, so it is done under rn.mu, which orders it with the cut.
func (rn *Network) announceCutLocked() uint64 {
	rn.changes++
	close(rn.changed)
	rn.changed = make(chan struct{})
	return rn.changes
}

// endLocked returns the state of an end name, creating it if needed.
func (rn *Network) endLocked(endname interface{}) *endState {
	es := rn.ends[endname]
	if es == nil {
		es = &endState{}
		rn.ends[endname] = es
	}
	return es
}

// Cleanup shuts the network down: Calls sleeping on a delay or waiting for
// a handler return false at once, and every later Call returns false. It is
// safe to call more than once.
func (rn *Network) Cleanup() {
	rn.doneOnce.Do(func() {
		close(rn.done)
		rn.mu.Lock()
		rn.announceCutLocked() // wakes Calls waiting for handlers
		rn.mu.Unlock()
		rn.stopWorkers()
	})
}

// Reliable sets whether the network delivers every request and reply
// (true, the default) or delays and loses some (false).
func (rn *Network) Reliable(yes bool) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.reliable = yes
}

// LongReordering sets whether replies are held back at random for a long
// time, so that they arrive out of order.
func (rn *Network) LongReordering(yes bool) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.longReordering = yes
}

// LongDelays sets whether a Call to a disabled or missing destination takes
// up to 7 seconds, rather than up to 100 ms, to fail.
func (rn *Network) LongDelays(yes bool) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.longDelays = yes
}

// MakeEnd creates a client end with the given name, initially disabled and
// connected to nothing. It panics if the name is taken.
func (rn *Network) MakeEnd(endname interface{}) *ClientEnd {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if es := rn.ends[endname]; es != nil && es.made {
		panic(fmt.Sprintf("labrpc: MakeEnd(%v): an end of that name already exists", endname))
	}
	es := &endState{made: true}
	rn.ends[endname] = es
	return &ClientEnd{state: es, net: rn}
}

// DeleteEnd removes an end. Calls on it fail as if it were disabled,
// including those whose handler is running: they return false at once.
func (rn *Network) DeleteEnd(endname interface{}) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	es := rn.ends[endname]
	if es == nil {
		return
	}
	delete(rn.ends, endname)
	es.deleted = true
	es.changedAt = rn.announceCutLocked()
}

// AddServer adds a server under a name, replacing (crashing) any server
// already there: Calls whose handler runs on the replaced server return
// false at once.
func (rn *Network) AddServer(servername interface{}, rs *Server) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	old := rn.servers[servername]
	if old != nil && old.server == rs {
		return // already there: nothing crashed
	}
	if old != nil {
		old.changedAt = rn.announceCutLocked()
	}
	ss := &serverState{server: rs, changedAt: rn.changes}
	rn.servers[servername] = ss
	rn.pointEndsLocked(servername, ss)
}

// pointEndsLocked records ss as the server of every end connected to
// servername, so that a Call need not look the name up.
func (rn *Network) pointEndsLocked(servername interface{}, ss *serverState) {
	for _, es := range rn.ends {
		if es.servername == servername {
			es.server = ss
		}
	}
}

// DeleteServer removes a server: it crashes. Calls to it fail, including
// Calls whose handler is running now: they return false at once, and the
// handlers' replies are never delivered.
func (rn *Network) DeleteServer(servername interface{}) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	ss := rn.servers[servername]
	if ss == nil {
		return
	}
	delete(rn.servers, servername)
	rn.pointEndsLocked(servername, nil)
	ss.changedAt = rn.announceCutLocked()
}

// Connect connects an end to a server name. The server need not exist yet.
// An end connects to one server; connecting it to another name replaces
// the connection, and Calls whose handler runs at the old server return
// false at once.
func (rn *Network) Connect(endname interface{}, servername interface{}) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	es := rn.endLocked(endname)
	if es.servername == servername {
		return
	}
	if es.servername != nil {
		es.changedAt = rn.announceCutLocked()
	}
	es.servername = servername
	es.server = nil
	if servername != nil {
		es.server = rn.servers[servername]
	}
}

// Enable enables or disables an end. A disabled end's Calls fail, including
// those whose handler is running: they return false at once, and stay
// failed even if the end is enabled again before the handler returns.
func (rn *Network) Enable(endname interface{}, enabled bool) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	es := rn.endLocked(endname)
	if es.enabled && !enabled {
		es.changedAt = rn.announceCutLocked()
	}
	es.enabled = enabled
}

// GetCount returns the number of RPCs delivered to the named server (0 if
// there is none).
func (rn *Network) GetCount(servername interface{}) int {
	rn.mu.RLock()
	defer rn.mu.RUnlock()
	if ss := rn.servers[servername]; ss != nil {
		return ss.server.GetCount()
	}
	return 0
}

// GetTotalCount returns the number of Calls made on all ends, delivered or not.
func (rn *Network) GetTotalCount() int {
	return int(rn.count.Load())
}

// GetTotalBytes returns the number of bytes of encoded arguments and replies
// that have crossed the network.
func (rn *Network) GetTotalBytes() int64 {
	return rn.bytes.Load()
}

// route is what a Call learns about its destination at one moment.
type route struct {
	end            *endState
	server         *serverState // nil: the end is disabled, unconnected or deleted, or no server has its name
	seen           uint64       // Network.changes when the route was read
	changed        <-chan struct{}
	reliable       bool
	longDelays     bool
	longReordering bool
}

func (rn *Network) lookup(es *endState) route {
	rn.mu.RLock()
	defer rn.mu.RUnlock()
	r := route{end: es, seen: rn.changes, changed: rn.changed,
		reliable: rn.reliable, longDelays: rn.longDelays, longReordering: rn.longReordering}
	if !es.deleted && es.enabled {
		r.server = es.server
	}
	return r
}

// stillServes reports whether the end of r still reaches its server: the
// network is up, and no cut stamped the end or the server since r was
// read. It also returns the channel that announces the next cut.
func (rn *Network) stillServes(r *route) (bool, <-chan struct{}) {
	select {
	case <-r.changed:
	default:
		return true, r.changed // no cut at all since: no need to look
	}
	rn.mu.RLock()
	defer rn.mu.RUnlock()
	ok := !rn.isDown() && r.end.changedAt <= r.seen && r.server.changedAt <= r.seen
	return ok, rn.changed
}

// sleep waits ms milliseconds, or less if the network is cleaned up; it
// reports whether the network is still up.
func (rn *Network) sleep(ms int) bool {
	if ms <= 0 {
		select {
		case <-rn.done:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-rn.done:
		return false
	case <-t.C:
		return true
	}
}

func (rn *Network) isDown() bool {
	select {
	case <-rn.done:
		return true
	default:
		return false
	}
}

// ClientEnd is one end of a link, through which a client calls a server.
type ClientEnd struct {
	state *endState // the network's state of this end, guarded by net.mu
	net   *Network
}

// Call sends an RPC to the server this end is connected to and waits for the
// reply. svcMeth is "Service.Method"; args is a value or pointer; reply must
// be a pointer to a zero value of the handler's reply type. Call returns true
// only when the handler ran and its reply was decoded into reply; it returns
// false when anything was lost, and leaves reply alone. Call returns in
// bounded time unless the handler never returns and its server stays up
// and reachable; once the server crashes or the link is cut, Call returns
// false at once. It panics if the destination has no such method, or if
// args or the reply cannot be encoded: those are bugs in the program, not
// network faults.
func (e *ClientEnd) Call(svcMeth string, args interface{}, reply interface{}) bool {
	rn := e.net
	if rn.isDown() {
		return false
	}
	rn.count.Add(1)

	r := rn.lookup(e.state)
	if r.server == nil {
		// Encode anyway, so that unencodable arguments are caught
		// whether or not the destination is reachable.
		var req bytes.Buffer
		if err := labgob.NewEncoder(&req).Encode(args); err != nil {
			panic(fmt.Sprintf("labrpc: Call(%q): cannot encode the arguments: %v", svcMeth, err))
		}
		rn.bytes.Add(int64(req.Len()))
		// No one to talk to: fail after a while, like a timeout.
		ms := rand.IntN(missingShortMaxMs)
		if r.longDelays {
			ms = rand.IntN(missingLongMaxMs)
		}
		rn.sleep(ms)
		return false
	}

	svc, m := r.server.server.lookup(svcMeth)
	argsValue, n := m.copyArgs(svcMeth, args)
	sent := int64(n) // the request, and the reply if it arrives
	defer func() { rn.bytes.Add(sent) }()
	if !r.reliable {
		if !rn.sleep(rand.IntN(unreliableMaxDelayMs)) {
			return false
		}
		if rand.IntN(1000) < unreliableLossPerMil {
			return false // request lost
		}
	}

	r.server.server.count.Add(1)
	replyValue := reflect.New(m.replyType)
	if !rn.serve(&r, svc, m, argsValue, replyValue) {
		// The server crashed, or the link was cut, while the handler
		// ran: the reply is lost with it.
		return false
	}
	if !r.reliable && rand.IntN(1000) < unreliableLossPerMil {
		return false // reply lost
	}
	if r.longReordering && rand.IntN(1000) < reorderPerMil {
		ms := reorderMinMs + rand.IntN(1+rand.IntN(reorderSpreadMs))
		if !rn.sleep(ms) {
			return false
		}
	}
	if rn.isDown() {
		return false
	}
	sent += int64(m.copyReply(svcMeth, replyValue, reply))
	return true
}

// handlerCall is one run of a handler, handed from its Call to a worker.
type handlerCall struct {
	fn   reflect.Value    // the method
	args [3]reflect.Value // receiver, arguments, reply
	// done receives once the handler has returned. Its capacity is one,
	// so a worker whose Call gave up never blocks on it.
	done chan struct{}
}

// handlerCalls recycles handlerCalls. One goes back only after its Call
// received from done: then it is empty and no worker holds it.
var handlerCalls = sync.Pool{New: func() interface{} { return &handlerCall{done: make(chan struct{}, 1)} }}

// maxIdleWorkers bounds the workers waiting for a handler to run; a worker
// that finds this many idle ends. Workers are kept, rather than started per
// Call, because a fresh goroutine must first grow its stack to what
// reflect's call needs, which costs as much as the rest of a Call's
// overhead. 64 covers the handlers a course test runs at once.
const maxIdleWorkers = 64

// spinYields is how many times a worker that finished a handler yields,
// looking for the next, before it parks: a few microseconds. Handing a
// handler to a worker that is yielding wakes no goroutine and no thread,
// which saves a fifth of a Call when Calls follow each other one at a time.
// A worker yields only when no other Call is being served (with several,
// it would wait behind them in the run queue, and they keep workers busy
// anyway), and at most one worker yields at a time, so the CPU it burns is
// bounded by a few microseconds per handler.
const spinYields = 20

// spinning is the marker the yielding worker leaves in Network.handoff.
var spinning = &handlerCall{}

// startHandler runs hc on the yielding worker if there is one, or on an
// idle worker, or on a new one.
func (rn *Network) startHandler(hc *handlerCall) {
	if rn.handoff.CompareAndSwap(spinning, hc) {
		return // the yielding worker takes it
	}
	rn.workersMu.Lock()
	if n := len(rn.idleWorkers); n > 0 {
		w := rn.idleWorkers[n-1]
		rn.idleWorkers = rn.idleWorkers[:n-1]
		rn.workersMu.Unlock()
		w <- hc // never blocks: capacity one, and only we took w
		return
	}
	rn.workersMu.Unlock()
	go rn.worker(hc)
}

// worker runs handlers: first hc, then those Calls hand it while it yields
// (see spin) or waits on rn.idleWorkers. It ends when the network is
// cleaned up, or after a handler when maxIdleWorkers others are idle. A
// handler that never returns keeps its worker.
//
// An idle worker waits on a channel of its own, not a select or a timer:
// either would cost a tenth of a Call more.
func (rn *Network) worker(hc *handlerCall) {
	next := make(chan *handlerCall, 1)
	for hc != nil {
		hc.fn.Call(hc.args[:])
		hc.done <- struct{}{} // hc belongs to its Call again

		if hc = rn.spin(); hc != nil {
			continue
		}
		rn.workersMu.Lock()
		if rn.workersStopped || len(rn.idleWorkers) >= maxIdleWorkers {
			rn.workersMu.Unlock()
			return
		}
		rn.idleWorkers = append(rn.idleWorkers, next)
		rn.workersMu.Unlock()
		hc = <-next // nil: Cleanup
	}
}

// spin makes the calling worker the yielding one, unless another is: it
// yields up to spinYields times, and returns the handler a Call left in
// rn.handoff meanwhile, or nil.
//
// rn.handoff holds nil (no worker yields), spinning (one does), or the
// handler a Call left for it. Only the yielding worker takes spinning or a
// handler out; a Call only turns spinning into its handler. So when the
// worker stops yielding and swaps nil in, it gets spinning or the handler
// left for it, however late that came: no handler is lost.
func (rn *Network) spin() *handlerCall {
	if rn.serving.Load() > 1 || !rn.handoff.CompareAndSwap(nil, spinning) {
		return nil // other Calls are being served, or another worker yields
	}
	for i := 0; i < spinYields && !rn.isDown() && rn.handoff.Load() == spinning; i++ {
		runtime.Gosched()
	}
	if hc := rn.handoff.Swap(nil); hc != spinning {
		return hc
	}
	return nil
}

// stopWorkers ends the idle workers, and every busy one once its handler
// returns.
func (rn *Network) stopWorkers() {
	rn.workersMu.Lock()
	defer rn.workersMu.Unlock()
	rn.workersStopped = true
	for _, w := range rn.idleWorkers {
		w <- nil // never blocks: capacity one, and the worker was idle
	}
	rn.idleWorkers = nil
}

// serve runs the handler on a worker and waits until it returns, the
// network changes so that the end of r no longer reaches its server, or the
// network is cleaned up. It reports whether the handler returned with the
// end still reaching its server: only then may its reply be delivered.
// When serve gives up, the handler runs on; its worker goes on to other
// work when it returns, and nothing reads replyValue.
func (rn *Network) serve(r *route, svc *Service, m *method, argsValue, replyValue reflect.Value) bool {
	rn.serving.Add(1)
	defer rn.serving.Add(-1)
	hc := handlerCalls.Get().(*handlerCall)
	hc.fn = m.method.Func
	hc.args = [3]reflect.Value{svc.rcvr, argsValue, replyValue}
	rn.startHandler(hc)
	// Most handlers return in microseconds. Yielding, rather than
	// parking at once, lets the worker run the handler on this thread
	// and leave its done without having to wake anyone: a Call then
	// costs two goroutine switches and no thread wake-up. A handler that
	// blocks costs one yield more.
	runtime.Gosched()
	changed := r.changed
	for {
		select {
		case <-hc.done:
			*hc = handlerCall{done: hc.done}
			handlerCalls.Put(hc)
			ok, _ := rn.stillServes(r)
			return ok
		case <-changed: // Cleanup announces itself here too
			var ok bool
			if ok, changed = rn.stillServes(r); !ok {
				return false
			}
		}
	}
}

// Server is a set of services reachable under one server name.
type Server struct {
	mu       sync.RWMutex
	services map[string]*Service
	count    atomic.Int64 // RPCs dispatched
}

// MakeServer returns a server with no services.
func MakeServer() *Server {
	return &Server{services: map[string]*Service{}}
}

// AddService adds a service to the server, replacing one of the same name.
func (rs *Server) AddService(svc *Service) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.services[svc.name] = svc
}

// GetCount returns the number of RPCs dispatched to this server.
func (rs *Server) GetCount() int {
	return int(rs.count.Load())
}

// lookup finds the service and method for "Service.Method"; it panics if
// there is none, naming what the server does have.
func (rs *Server) lookup(svcMeth string) (*Service, *method) {
	dot := strings.LastIndex(svcMeth, ".")
	if dot < 0 {
		panic(fmt.Sprintf("labrpc: Call(%q): unknown method: want \"Service.Method\"", svcMeth))
	}
	svcName, methName := svcMeth[:dot], svcMeth[dot+1:]
	rs.mu.RLock()
	svc := rs.services[svcName]
	rs.mu.RUnlock()
	if svc == nil {
		panic(fmt.Sprintf("labrpc: Call(%q): unknown service %q; the server has %v", svcMeth, svcName, rs.serviceNames()))
	}
	m := svc.methods[methName]
	if m == nil {
		var names []string
		for name := range svc.methods {
			names = append(names, name)
		}
		sort.Strings(names)
		panic(fmt.Sprintf("labrpc: Call(%q): unknown method %s of service %s; it has %v", svcMeth, methName, svcName, names))
	}
	return svc, m
}

func (rs *Server) serviceNames() []string {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	var names []string
	for name := range rs.services {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Service is an object whose methods can be called over the network.
type Service struct {
	name    string
	rcvr    reflect.Value
	methods map[string]*method
}

// method is one callable method of a service, with pools of warm gob
// streams for its arguments and replies.
//
// The streams are plain gob, not labgob, except where a reply is decoded
// into the caller's variable: labgob's checks cost a lookup per value,
// which would add a tenth to a Call, and a type needs checking only once.
// So each method passes its own argument and reply types through labgob
// once, and each new type of arguments a caller sends; labgob then warns
// about their lower-case fields just as if every value had crossed it. The
// caller's reply is decoded by labgob every time, so it also warns when
// that variable is not zero.
type method struct {
	method    reflect.Method
	argsType  reflect.Type // the handler's argument type, pointer or not
	replyType reflect.Type // the type the handler's reply points to
	args      sync.Pool    // of *argsCodec
	replies   sync.Pool    // of *replyCodec

	ownTypesChecked sync.Once    // argsType and replyType went through labgob
	argsChecked     atomic.Value // of reflect.Type: the callers' argument type last checked
}

// argsCodec is an encoder and a decoder joined by a buffer: one gob stream.
// Once a type has crossed a stream, later values of that type travel
// without its description, and both ends reuse their compiled coders; that
// makes a warm Call several times cheaper than one with fresh coders. The
// decoder always reads everything the encoder wrote before the codec is
// reused, so the stream never falls out of step.
type argsCodec struct {
	buf bytes.Buffer
	enc *gob.Encoder
	dec *gob.Decoder
}

// replyCodec is like argsCodec, with labgob's decoder at the caller's end.
type replyCodec struct {
	buf bytes.Buffer
	enc *gob.Encoder
	dec *labgob.LabDecoder
}

func newArgsCodec() interface{} {
	c := &argsCodec{}
	c.enc = gob.NewEncoder(&c.buf)
	c.dec = gob.NewDecoder(&c.buf)
	return c
}

func newReplyCodec() interface{} {
	c := &replyCodec{}
	c.enc = gob.NewEncoder(&c.buf)
	c.dec = labgob.NewDecoder(&c.buf)
	return c
}

// MakeService returns a service for the methods of rcvr. Its name is the
// name of rcvr's type without the pointer (a *Raft gives "Raft"). Only
// exported methods of the form func (r *T) M(args *A, reply *R), or with
// args by value, are callable; other methods are ignored.
func MakeService(rcvr interface{}) *Service {
	svc := &Service{
		name:    reflect.Indirect(reflect.ValueOf(rcvr)).Type().Name(),
		rcvr:    reflect.ValueOf(rcvr),
		methods: map[string]*method{},
	}
	t := reflect.TypeOf(rcvr)
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		mt := m.Type
		if m.PkgPath != "" || // unexported
			mt.NumIn() != 3 || mt.NumOut() != 0 ||
			mt.In(2).Kind() != reflect.Pointer {
			continue
		}
		svc.methods[m.Name] = &method{
			method:    m,
			argsType:  mt.In(1),
			replyType: mt.In(2).Elem(),
			args:      sync.Pool{New: newArgsCodec},
			replies:   sync.Pool{New: newReplyCodec},
		}
	}
	return svc
}

// checkTypes passes through labgob, once each, the method's own argument
// and reply types and the type of args, so that labgob warns about their
// lower-case fields. Encoding errors are left to the real encoding.
func (m *method) checkTypes(args interface{}) {
	m.ownTypesChecked.Do(func() {
		labgob.NewEncoder(io.Discard).EncodeValue(reflect.New(m.argsType))
		labgob.NewEncoder(io.Discard).EncodeValue(reflect.New(m.replyType))
	})
	t := reflect.TypeOf(args)
	if t == nil {
		return // gob refuses nil; copyArgs says so
	}
	if last, _ := m.argsChecked.Load().(reflect.Type); last != t {
		labgob.NewEncoder(io.Discard).Encode(args)
		m.argsChecked.Store(t)
	}
}

// copyArgs returns a deep copy of args, made by encoding and decoding, as
// the handler's argument type, and the number of bytes it took on the wire.
func (m *method) copyArgs(svcMeth string, args interface{}) (reflect.Value, int) {
	m.checkTypes(args)
	c := m.args.Get().(*argsCodec)
	if err := c.enc.Encode(args); err != nil {
		panic(fmt.Sprintf("labrpc: Call(%q): cannot encode the arguments: %v", svcMeth, err))
	}
	n := c.buf.Len()
	t := m.argsType
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	ptr := reflect.New(t)
	if err := c.dec.DecodeValue(ptr); err != nil {
		panic(fmt.Sprintf("labrpc: Call(%q): cannot decode the arguments into %v: %v", svcMeth, m.argsType, err))
	}
	m.args.Put(c)
	if m.argsType.Kind() == reflect.Pointer {
		return ptr, n
	}
	return ptr.Elem(), n
}

// copyReply encodes the handler's reply and decodes it into the caller's
// reply, returning the number of bytes it took on the wire.
func (m *method) copyReply(svcMeth string, replyValue reflect.Value, reply interface{}) int {
	c := m.replies.Get().(*replyCodec)
	if err := c.enc.EncodeValue(replyValue); err != nil {
		panic(fmt.Sprintf("labrpc: Call(%q): cannot encode the reply: %v", svcMeth, err))
	}
	n := c.buf.Len()
	if err := c.dec.Decode(reply); err != nil {
		panic(fmt.Sprintf("labrpc: Call(%q): cannot decode the reply into %T: %v", svcMeth, reply, err))
	}
	m.replies.Put(c)
	return n
}
