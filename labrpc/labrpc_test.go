package labrpc

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// EchoArgs and EchoReply are the test service's messages.
type EchoArgs struct {
	X    int
	Data []byte
}

type EchoReply struct {
	X int
	N int
}

// Echo is a test service.
type Echo struct {
	mu    sync.Mutex
	calls int
	block chan struct{} // when non-nil, Block waits on it
	ran   chan struct{} // when non-nil, Block signals that it started
}

// Double replies with twice the argument.
func (s *Echo) Double(args *EchoArgs, reply *EchoReply) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	reply.X = 2 * args.X
	reply.N = len(args.Data)
	args.X = -1 // must not reach the caller
	if len(args.Data) > 0 {
		args.Data[0] = 99 // nor this
	}
}

// ByValue takes its arguments by value.
func (s *Echo) ByValue(args EchoArgs, reply *EchoReply) {
	reply.X = args.X + 1
}

// Block waits until the test releases it.
func (s *Echo) Block(args *EchoArgs, reply *EchoReply) {
	s.ran <- struct{}{}
	<-s.block
	reply.X = args.X
}

// WrongShape has a return value, so it is not callable.
func (s *Echo) WrongShape(args *EchoArgs, reply *EchoReply) error { return nil }

// NonPointerReply has a reply by value, so it is not callable.
func (s *Echo) NonPointerReply(args *EchoArgs, reply EchoReply) {}

func (s *Echo) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Other is a second service on the same server.
type Other struct{}

// Negate replies with minus the argument.
func (o *Other) Negate(args *EchoArgs, reply *EchoReply) { reply.X = -args.X }

// newPair builds a network with one server "s" holding an Echo and an
// Other service, and one enabled end "e" connected to it.
func newPair(t testing.TB) (*Network, *ClientEnd, *Echo, *Server) {
	net := MakeNetwork()
	t.Cleanup(net.Cleanup)
	echo := &Echo{}
	srv := MakeServer()
	srv.AddService(MakeService(echo))
	srv.AddService(MakeService(&Other{}))
	net.AddServer("s", srv)
	end := net.MakeEnd("e")
	net.Connect("e", "s")
	net.Enable("e", true)
	return net, end, echo, srv
}

func TestCallRunsHandlerAndCopiesArgsAndReply(t *testing.T) {
	_, end, echo, _ := newPair(t)
	args := EchoArgs{X: 21, Data: []byte{1, 2, 3}}
	var reply EchoReply
	if !end.Call("Echo.Double", &args, &reply) {
		t.Fatal("Call on a reliable network returned false")
	}
	if reply.X != 42 || reply.N != 3 {
		t.Fatalf("reply = %+v, want X=42 N=3", reply)
	}
	if args.X != 21 || args.Data[0] != 1 {
		t.Fatalf("the handler's changes to its arguments reached the caller: %+v", args)
	}
	if echo.callCount() != 1 {
		t.Fatalf("handler ran %d times, want 1", echo.callCount())
	}
}

func TestServerHoldsSeveralServicesAndArgsByValue(t *testing.T) {
	_, end, _, _ := newPair(t)
	var r1, r2 EchoReply
	if !end.Call("Other.Negate", &EchoArgs{X: 5}, &r1) || r1.X != -5 {
		t.Fatalf("Other.Negate: %+v", r1)
	}
	if !end.Call("Echo.ByValue", EchoArgs{X: 5}, &r2) || r2.X != 6 {
		t.Fatalf("Echo.ByValue: %+v", r2)
	}
}

func TestMethodsOfOtherShapesAreNotCallable(t *testing.T) {
	_, end, _, _ := newPair(t)
	for _, meth := range []string{"Echo.WrongShape", "Echo.NonPointerReply", "Echo.callCount", "Echo.Missing", "Nope.Double"} {
		t.Run(meth, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("Call(%q) did not panic", meth)
				}
				if !strings.Contains(r.(string), "unknown") {
					t.Fatalf("panic message %q does not say what is unknown", r)
				}
			}()
			var reply EchoReply
			end.Call(meth, &EchoArgs{}, &reply)
		})
	}
}

// timeCall returns how long a failing or succeeding Call took, and its result.
func timeCall(end *ClientEnd, meth string) (time.Duration, bool) {
	start := time.Now()
	var reply EchoReply
	ok := end.Call(meth, &EchoArgs{X: 1}, &reply)
	return time.Since(start), ok
}

func TestCallToNowhereFailsWithinAShortDelay(t *testing.T) {
	net, end, echo, _ := newPair(t)
	lone := net.MakeEnd("lone") // never connected
	gone := net.MakeEnd("gone")
	net.Connect("gone", "nobody") // connected to a server that does not exist
	net.Enable("gone", true)
	net.Enable("e", false)
	cases := map[string]*ClientEnd{"disabled": end, "unconnected": lone, "server missing": gone}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			var maxDur atomic.Int64
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d, ok := timeCall(e, "Echo.Double")
					if ok {
						t.Error("Call succeeded")
					}
					for old := maxDur.Load(); int64(d) > old && !maxDur.CompareAndSwap(old, int64(d)); old = maxDur.Load() {
					}
				}()
			}
			wg.Wait()
			if d := time.Duration(maxDur.Load()); d > 150*time.Millisecond {
				t.Fatalf("slowest failing Call took %v, want under 100 ms plus scheduling", d)
			}
		})
	}
	if echo.callCount() != 0 {
		t.Fatalf("a disabled end reached the handler %d times", echo.callCount())
	}
}

func TestLongDelaysMakeFailingCallsSlowUntilCleanup(t *testing.T) {
	net, end, _, _ := newPair(t)
	net.Enable("e", false)
	net.LongDelays(true)
	const n = 20
	durations := make(chan time.Duration, n)
	for i := 0; i < n; i++ {
		go func() {
			d, _ := timeCall(end, "Echo.Double")
			durations <- d
		}()
	}
	// Each Call fails after a random 0-7 s: with 20 of them, the chance that
	// none is still sleeping after 1 s is (1/7)^20.
	time.Sleep(time.Second)
	slow, got := 0, 0
	for ; len(durations) > 0; got++ {
		<-durations // failed within the first second
	}
	net.Cleanup() // wakes the sleepers
	deadline := time.After(2 * time.Second)
	for ; got < n; got++ {
		select {
		case d := <-durations:
			if d >= time.Second {
				slow++
			}
		case <-deadline:
			t.Fatal("Cleanup did not wake Calls sleeping on a long delay")
		}
	}
	if slow == 0 {
		t.Fatal("with LongDelays no failing Call took over a second")
	}
}

// countOutcomes makes n concurrent Calls and returns how many succeeded.
func countOutcomes(end *ClientEnd, n int) int {
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var reply EchoReply
			if end.Call("Echo.Double", &EchoArgs{X: i}, &reply) {
				if reply.X != 2*i {
					panic("wrong reply")
				}
				ok.Add(1)
			}
		}(i)
	}
	wg.Wait()
	return int(ok.Load())
}

func TestUnreliableNetworkLosesTenPercentEachWay(t *testing.T) {
	net, end, echo, _ := newPair(t)
	net.Reliable(false)
	const n = 3000
	start := time.Now()
	succeeded := countOutcomes(end, n)
	elapsed := time.Since(start)
	// Requests: 10% lost, so the handler runs for ~90% (sd ~16.4).
	// Calls: also 10% of replies lost, so ~81% succeed (sd ~21.5).
	// Accept +-5 standard deviations.
	if ran := echo.callCount(); ran < 2618 || ran > 2782 {
		t.Errorf("handler ran for %d of %d requests, want about 2700 (90%%)", ran, n)
	}
	if succeeded < 2322 || succeeded > 2538 {
		t.Errorf("%d of %d Calls succeeded, want about 2430 (81%%)", succeeded, n)
	}
	if elapsed > 2*time.Second {
		t.Errorf("%d concurrent unreliable Calls took %v; request delays are at most 27 ms", n, elapsed)
	}
}

func TestLongReorderingHoldsBackTwoThirdsOfReplies(t *testing.T) {
	net, end, _, _ := newPair(t)
	net.LongReordering(true)
	const n = 300
	var wg sync.WaitGroup
	var held, ok atomic.Int64
	var maxDur atomic.Int64
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, success := timeCall(end, "Echo.Double")
			if success {
				ok.Add(1)
			}
			if d >= 200*time.Millisecond {
				held.Add(1)
			}
			for old := maxDur.Load(); int64(d) > old && !maxDur.CompareAndSwap(old, int64(d)); old = maxDur.Load() {
			}
		}()
	}
	wg.Wait()
	if ok.Load() != n {
		t.Errorf("%d of %d Calls failed on a reliable, reordering network", n-int(ok.Load()), n)
	}
	// Expect 200 held back (sd ~8.2); accept +-5 sd.
	if h := held.Load(); h < 159 || h > 241 {
		t.Errorf("%d of %d replies held back, want about two thirds", h, n)
	}
	if d := time.Duration(maxDur.Load()); d > 2500*time.Millisecond {
		t.Errorf("a reply was held back %v, want at most 2.2 s", d)
	}
}

// startBlockedCall starts a Call to Echo.Block and waits until its handler runs.
func startBlockedCall(t *testing.T, end *ClientEnd, echo *Echo) chan bool {
	echo.block = make(chan struct{})
	echo.ran = make(chan struct{}, 1)
	result := make(chan bool, 1)
	go func() {
		var reply EchoReply
		result <- end.Call("Echo.Block", &EchoArgs{X: 7}, &reply)
	}()
	select {
	case <-echo.ran:
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not start")
	}
	return result
}

func TestCrashedServerNeverAcknowledges(t *testing.T) {
	cases := []struct {
		name  string
		fault func(net *Network)
	}{
		{"DeleteServer", func(net *Network) { net.DeleteServer("s") }},
		{"replaced by AddServer", func(net *Network) { net.AddServer("s", MakeServer()) }},
		{"end disabled", func(net *Network) { net.Enable("e", false) }},
		{"end deleted", func(net *Network) { net.DeleteEnd("e") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			net, end, echo, _ := newPair(t)
			result := startBlockedCall(t, end, echo)
			tc.fault(net)
			close(echo.block)
			select {
			case ok := <-result:
				if ok {
					t.Fatal("Call returned the reply of a handler whose server crashed or was cut off")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Call did not return after its handler did")
			}
		})
	}
}

func TestServerAddedAfterConnectIsReached(t *testing.T) {
	net := MakeNetwork()
	defer net.Cleanup()
	end := net.MakeEnd(1)
	net.Connect(1, "later")
	net.Enable(1, true)
	var reply EchoReply
	if end.Call("Echo.Double", &EchoArgs{X: 1}, &reply) {
		t.Fatal("Call succeeded before the server existed")
	}
	srv := MakeServer()
	srv.AddService(MakeService(&Echo{}))
	net.AddServer("later", srv)
	if !end.Call("Echo.Double", &EchoArgs{X: 1}, &reply) || reply.X != 2 {
		t.Fatalf("Call to a server added later: %+v", reply)
	}
}

func TestMakeEndTwiceWithOneNamePanics(t *testing.T) {
	net := MakeNetwork()
	defer net.Cleanup()
	net.MakeEnd("x")
	defer func() {
		if recover() == nil {
			t.Fatal("second MakeEnd with the same name did not panic")
		}
	}()
	net.MakeEnd("x")
}

func TestCountsAndBytes(t *testing.T) {
	net, end, _, srv := newPair(t)
	other := net.MakeEnd("other") // disabled: counted in the total, not by the server
	var reply EchoReply
	for i := 0; i < 5; i++ {
		end.Call("Echo.Double", &EchoArgs{X: i}, &reply)
		reply = EchoReply{}
	}
	other.Call("Echo.Double", &EchoArgs{}, &reply)
	if got := net.GetCount("s"); got != 5 {
		t.Errorf("GetCount(s) = %d, want 5", got)
	}
	if got := srv.GetCount(); got != 5 {
		t.Errorf("Server.GetCount() = %d, want 5", got)
	}
	if got := net.GetCount("nobody"); got != 0 {
		t.Errorf("GetCount of a missing server = %d, want 0", got)
	}
	if got := net.GetTotalCount(); got != 6 {
		t.Errorf("GetTotalCount() = %d, want 6", got)
	}
	before := net.GetTotalBytes()
	if before <= 0 {
		t.Fatalf("GetTotalBytes() = %d after 6 Calls", before)
	}
	end.Call("Echo.Double", &EchoArgs{Data: make([]byte, 10000)}, &reply)
	if grown := net.GetTotalBytes() - before; grown < 10000 || grown > 11000 {
		t.Errorf("a Call with 10,000 bytes of arguments added %d bytes", grown)
	}
}

func TestManyConcurrentCallers(t *testing.T) {
	_, end, echo, _ := newPair(t)
	if got := countOutcomes(end, 500); got != 500 {
		t.Fatalf("%d of 500 concurrent reliable Calls succeeded", got)
	}
	if echo.callCount() != 500 {
		t.Fatalf("handler ran %d times, want 500", echo.callCount())
	}
}

func TestCallAfterCleanupFailsAtOnce(t *testing.T) {
	_, end, echo, _ := newPair(t)
	end.net.Cleanup()
	d, ok := timeCall(end, "Echo.Double")
	if ok || d > 10*time.Millisecond || echo.callCount() != 0 {
		t.Fatalf("Call after Cleanup: ok=%v after %v, handler ran %d times", ok, d, echo.callCount())
	}
	end.net.Cleanup() // a second Cleanup is harmless
}

func TestBuildingAndCleaningUpManyNetworksLeaksNoGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		net := MakeNetwork()
		net.LongDelays(true)
		net.Reliable(false)
		srv := MakeServer()
		srv.AddService(MakeService(&Echo{}))
		net.AddServer("s", srv)
		ends := []*ClientEnd{net.MakeEnd("a"), net.MakeEnd("b")}
		net.Connect("a", "s")
		net.Enable("a", true)
		var wg sync.WaitGroup
		for _, e := range ends {
			wg.Add(1)
			go func(e *ClientEnd) {
				defer wg.Done()
				var reply EchoReply
				e.Call("Echo.Double", &EchoArgs{X: 1}, &reply)
			}(e)
		}
		net.Cleanup()
		wg.Wait()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Fatalf("%d goroutines after building and cleaning up 50 networks, %d before", n, base)
	}
}

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
