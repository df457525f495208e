package labrpc

// Benchmarks of a Call's round trip on a reliable network, ours and a model
// of the course's design, which runs each request on goroutines of its own
// and polls the server's state every 100 ms while the handler runs. The
// model makes the comparison measurable: the issue asks that our Call stay
// at least 3x faster than that design.
//
//	go test -run '^$' -bench . -count 5 ./labrpc

import (
	"bytes"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"6.5840/labgob"
)

func BenchmarkCallReliable(b *testing.B) {
	_, end, _, _ := newPair(b)
	args := EchoArgs{X: 1}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var reply EchoReply
		if !end.Call("Echo.Double", &args, &reply) {
			b.Fatal("Call failed")
		}
	}
}

func BenchmarkCallConcurrent64(b *testing.B) {
	_, end, _, _ := newPair(b)
	b.ReportAllocs()
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		args := EchoArgs{X: 1}
		for pb.Next() {
			var reply EchoReply
			if !end.Call("Echo.Double", &args, &reply) {
				b.Error("Call failed")
				return
			}
		}
	})
}

// courseModel is a model of the course's labrpc design, reduced to one end
// and one server: a Call hands its request to the network's goroutine,
// which starts a goroutine per request; that goroutine starts the handler
// on another goroutine and waits for it, checking the server's state every
// 100 ms, then sends the reply back to the caller. With warmCodecs false,
// arguments and replies cross with a fresh encoder and decoder each, as in
// the course; with warmCodecs true they use our pooled gob streams, so that
// only the goroutines and the polling differ from our Call.
type courseModel struct {
	mu         sync.Mutex
	server     *Server // nil: deleted
	echo       *Echo   // the server's service
	codecs     *Server // the server, for its pooled codecs, even once deleted
	warmCodecs bool
	requests   chan courseRequest
	done       chan struct{}
	stopped    sync.WaitGroup
}

type courseRequest struct {
	svcMeth   string
	args      []byte        // encoded arguments (fresh codecs)
	argsValue reflect.Value // decoded arguments (warm codecs)
	replies   chan courseReply
}

type courseReply struct {
	ok         bool
	reply      []byte        // encoded reply (fresh codecs)
	replyValue reflect.Value // the handler's reply (warm codecs)
	m          *method
}

func newCourseModel(tb testing.TB, warmCodecs bool) *courseModel {
	echo := &Echo{}
	srv := MakeServer()
	srv.AddService(MakeService(echo))
	cm := &courseModel{server: srv, echo: echo, codecs: srv, warmCodecs: warmCodecs,
		requests: make(chan courseRequest), done: make(chan struct{})}
	cm.stopped.Add(1)
	go cm.network()
	tb.Cleanup(func() {
		close(cm.done)
		cm.stopped.Wait()
	})
	return cm
}

// network is the network's goroutine: one more goroutine per request.
func (cm *courseModel) network() {
	defer cm.stopped.Done()
	for {
		select {
		case req := <-cm.requests:
			go cm.process(req)
		case <-cm.done:
			return
		}
	}
}

func (cm *courseModel) serverNow() *Server {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	return cm.server
}

// process runs the handler on a goroutine of its own and polls every 100 ms
// whether its server is still there, giving up if not.
func (cm *courseModel) process(req courseRequest) {
	srv := cm.serverNow()
	if srv == nil {
		req.replies <- courseReply{}
		return
	}
	handled := make(chan courseReply)
	go func() { handled <- cm.dispatch(srv, req) }()
	for {
		select {
		case reply := <-handled:
			if cm.serverNow() != srv {
				reply = courseReply{}
			}
			req.replies <- reply
			return
		case <-time.After(100 * time.Millisecond):
			if cm.serverNow() != srv {
				go func() { <-handled }()
				req.replies <- courseReply{}
				return
			}
		}
	}
}

func (cm *courseModel) dispatch(srv *Server, req courseRequest) courseReply {
	svc, m := srv.lookup(req.svcMeth)
	srv.count.Add(1)
	argsValue := req.argsValue
	if !cm.warmCodecs {
		t := m.argsType
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		ptr := reflect.New(t)
		if err := labgob.NewDecoder(bytes.NewBuffer(req.args)).Decode(ptr.Interface()); err != nil {
			panic(err)
		}
		argsValue = ptr
		if m.argsType.Kind() != reflect.Pointer {
			argsValue = ptr.Elem()
		}
	}
	replyValue := reflect.New(m.method.Type.In(2).Elem())
	m.method.Func.Call([]reflect.Value{svc.rcvr, argsValue, replyValue})
	if cm.warmCodecs {
		return courseReply{ok: true, replyValue: replyValue, m: m}
	}
	var buf bytes.Buffer
	if err := labgob.NewEncoder(&buf).EncodeValue(replyValue); err != nil {
		panic(err)
	}
	return courseReply{ok: true, reply: buf.Bytes()}
}

// call is the model's ClientEnd.Call.
func (cm *courseModel) call(svcMeth string, args interface{}, reply interface{}) bool {
	req := courseRequest{svcMeth: svcMeth, replies: make(chan courseReply)}
	if cm.warmCodecs {
		_, m := cm.codecs.lookup(svcMeth)
		req.argsValue, _ = m.copyArgs(svcMeth, args)
	} else {
		var buf bytes.Buffer
		if err := labgob.NewEncoder(&buf).Encode(args); err != nil {
			panic(err)
		}
		req.args = buf.Bytes()
	}
	select {
	case cm.requests <- req:
	case <-cm.done:
		return false
	}
	r := <-req.replies
	if !r.ok {
		return false
	}
	if cm.warmCodecs {
		r.m.copyReply(svcMeth, r.replyValue, reply)
		return true
	}
	if err := labgob.NewDecoder(bytes.NewBuffer(r.reply)).Decode(reply); err != nil {
		panic(err)
	}
	return true
}

// TestCourseModelBehaves checks the model the benchmarks compare against:
// it answers, and it fails a Call whose server is deleted while the handler
// runs, after its next 100 ms poll.
func TestCourseModelBehaves(t *testing.T) {
	for _, warm := range []bool{false, true} {
		cm := newCourseModel(t, warm)
		var reply EchoReply
		if !cm.call("Echo.Double", &EchoArgs{X: 4}, &reply) || reply.X != 8 {
			t.Fatalf("warm codecs %v: reply %+v", warm, reply)
		}
		cm.echo.block = make(chan struct{})
		cm.echo.ran = make(chan struct{}, 1)
		result := make(chan bool, 1)
		go func() { result <- cm.call("Echo.Block", &EchoArgs{X: 4}, &EchoReply{}) }()
		<-cm.echo.ran
		cm.mu.Lock()
		cm.server = nil
		cm.mu.Unlock()
		select {
		case ok := <-result:
			if ok {
				t.Fatalf("warm codecs %v: Call to a deleted server succeeded", warm)
			}
		case <-time.After(time.Second):
			t.Fatalf("warm codecs %v: Call did not notice its server was deleted", warm)
		}
		close(cm.echo.block)
	}
}

func benchmarkCourseModel(b *testing.B, warmCodecs bool) {
	cm := newCourseModel(b, warmCodecs)
	args := EchoArgs{X: 1}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var reply EchoReply
		if !cm.call("Echo.Double", &args, &reply) || reply.X != 2 {
			b.Fatal("Call failed")
		}
	}
}

// BenchmarkCourseModelCallReliable is BenchmarkCallReliable on the model of
// the course's design, codecs included.
func BenchmarkCourseModelCallReliable(b *testing.B) { benchmarkCourseModel(b, false) }

// BenchmarkCourseModelWarmCodecsCallReliable is the course's goroutines and
// polling with our codecs: what the design alone costs.
func BenchmarkCourseModelWarmCodecsCallReliable(b *testing.B) { benchmarkCourseModel(b, true) }
