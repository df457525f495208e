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
// returns false, after a delay, when the request or the reply was lost, when
// the end is disabled or connected to no server, or when the server was
// deleted (crashed) while the handler ran: a crashed server never
// acknowledges anything.
//
// Faults, as in the course's network model:
//   - Reliable(false): each request is delayed 0-27 ms; 10% of requests and
//     10% of replies are lost.
//   - A disabled, unconnected or deleted destination: Call returns false
//     after 0-100 ms, or after 0-7 s with LongDelays(true).
//   - LongReordering(true): about two replies in three are held back
//     200-2200 ms, so replies arrive out of order.
//
// The handler runs on the caller's goroutine and every delay is a sleep of
// the caller, so a Call costs no goroutine switch and the network owns no
// goroutines at all. Cleanup wakes sleeping callers (their Calls return
// false) and makes every later Call return false at once.
package labrpc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
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
	longDelays     bool                        // disabled destinations take long to fail
	longReordering bool                        // replies are held back at random
	ends           map[interface{}]*ClientEnd  // end name -> end
	enabled        map[interface{}]bool        // end name -> may it send?
	connections    map[interface{}]interface{} // end name -> server name
	servers        map[interface{}]*Server     // server name -> server

	done     chan struct{} // closed by Cleanup
	doneOnce sync.Once

	count atomic.Int64 // RPCs attempted, over all ends
	bytes atomic.Int64 // bytes of requests and replies sent
}

// MakeNetwork returns an empty, reliable network.
func MakeNetwork() *Network {
	return &Network{
		reliable:    true,
		ends:        map[interface{}]*ClientEnd{},
		enabled:     map[interface{}]bool{},
		connections: map[interface{}]interface{}{},
		servers:     map[interface{}]*Server{},
		done:        make(chan struct{}),
	}
}

// Cleanup shuts the network down: Calls sleeping on a delay return false at
// once, and every later Call returns false. It is safe to call more than once.
func (rn *Network) Cleanup() {
	rn.doneOnce.Do(func() { close(rn.done) })
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
	if _, ok := rn.ends[endname]; ok {
		panic(fmt.Sprintf("labrpc: MakeEnd(%v): an end of that name already exists", endname))
	}
	e := &ClientEnd{endname: endname, net: rn}
	rn.ends[endname] = e
	rn.enabled[endname] = false
	rn.connections[endname] = nil
	return e
}

// DeleteEnd removes an end. Calls on it fail as if it were disabled.
func (rn *Network) DeleteEnd(endname interface{}) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	delete(rn.ends, endname)
	delete(rn.enabled, endname)
	delete(rn.connections, endname)
}

// AddServer adds a server under a name, replacing (crashing) any server
// already there.
func (rn *Network) AddServer(servername interface{}, rs *Server) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.servers[servername] = rs
}

// DeleteServer removes a server: it crashes. Calls to it fail, including
// Calls whose handler is running now; their replies are never delivered.
func (rn *Network) DeleteServer(servername interface{}) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	delete(rn.servers, servername)
}

// Connect connects an end to a server name. The server need not exist yet.
// An end connects to one server; connecting again replaces the connection.
func (rn *Network) Connect(endname interface{}, servername interface{}) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.connections[endname] = servername
}

// Enable enables or disables an end. A disabled end's Calls fail.
func (rn *Network) Enable(endname interface{}, enabled bool) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.enabled[endname] = enabled
}

// GetCount returns the number of RPCs delivered to the named server (0 if
// there is none).
func (rn *Network) GetCount(servername interface{}) int {
	rn.mu.RLock()
	defer rn.mu.RUnlock()
	if rs := rn.servers[servername]; rs != nil {
		return rs.GetCount()
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
	server         *Server // nil: the end is disabled, unconnected or deleted, or its server is gone
	reliable       bool
	longDelays     bool
	longReordering bool
}

func (rn *Network) lookup(endname interface{}) route {
	rn.mu.RLock()
	defer rn.mu.RUnlock()
	r := route{reliable: rn.reliable, longDelays: rn.longDelays, longReordering: rn.longReordering}
	if rn.enabled[endname] {
		if servername := rn.connections[endname]; servername != nil {
			r.server = rn.servers[servername]
		}
	}
	return r
}

// stillServes reports whether endname still reaches rs: the end is enabled
// and connected to the name under which rs is still registered.
func (rn *Network) stillServes(endname interface{}, rs *Server) bool {
	rn.mu.RLock()
	defer rn.mu.RUnlock()
	return rn.enabled[endname] && rn.connections[endname] != nil && rn.servers[rn.connections[endname]] == rs
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
	endname interface{}
	net     *Network
}

// Call sends an RPC to the server this end is connected to and waits for the
// reply. svcMeth is "Service.Method"; args is a value or pointer; reply must
// be a pointer to a zero value of the handler's reply type. Call returns true
// only when the handler ran and its reply was decoded into reply; it returns
// false when anything was lost. Call returns in bounded time unless the
// handler itself never returns. It panics if the destination has no such
// method, or if args or the reply cannot be encoded: those are bugs in the
// program, not network faults.
func (e *ClientEnd) Call(svcMeth string, args interface{}, reply interface{}) bool {
	rn := e.net
	if rn.isDown() {
		return false
	}
	rn.count.Add(1)

	r := rn.lookup(e.endname)
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

	svc, m := r.server.lookup(svcMeth)
	argsValue, n := m.copyArgs(svcMeth, args)
	rn.bytes.Add(int64(n))
	if !r.reliable {
		if !rn.sleep(rand.IntN(unreliableMaxDelayMs)) {
			return false
		}
		if rand.IntN(1000) < unreliableLossPerMil {
			return false // request lost
		}
	}

	r.server.count.Add(1)
	replyValue := reflect.New(m.method.Type.In(2).Elem())
	m.method.Func.Call([]reflect.Value{svc.rcvr, argsValue, replyValue})

	if !rn.stillServes(e.endname, r.server) {
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
	rn.bytes.Add(int64(m.copyReply(svcMeth, replyValue, reply)))
	return true
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
type method struct {
	method   reflect.Method
	argsType reflect.Type // the handler's argument type, pointer or not
	args     sync.Pool    // of *codec, for arguments
	replies  sync.Pool    // of *codec, for replies
}

// codec is an encoder and a decoder joined by a buffer: one gob stream.
// Once a type has crossed a stream, later values of that type travel
// without its description, and both ends reuse their compiled coders; that
// makes a warm Call several times cheaper than one with fresh coders. The
// decoder always reads everything the encoder wrote before the codec is
// reused, so the stream never falls out of step.
type codec struct {
	buf bytes.Buffer
	enc *labgob.LabEncoder
	dec *labgob.LabDecoder
}

func newCodec() interface{} {
	c := &codec{}
	c.enc = labgob.NewEncoder(&c.buf)
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
			method:   m,
			argsType: mt.In(1),
			args:     sync.Pool{New: newCodec},
			replies:  sync.Pool{New: newCodec},
		}
	}
	return svc
}

// copyArgs returns a deep copy of args, made by encoding and decoding, as
// the handler's argument type, and the number of bytes it took on the wire.
func (m *method) copyArgs(svcMeth string, args interface{}) (reflect.Value, int) {
	c := m.args.Get().(*codec)
	if err := c.enc.Encode(args); err != nil {
		panic(fmt.Sprintf("labrpc: Call(%q): cannot encode the arguments: %v", svcMeth, err))
	}
	n := c.buf.Len()
	t := m.argsType
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	ptr := reflect.New(t)
	if err := c.dec.Decode(ptr.Interface()); err != nil {
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
	c := m.replies.Get().(*codec)
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
