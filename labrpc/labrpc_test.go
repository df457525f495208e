package labrpc

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
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
	mu       sync.Mutex
	calls    int
	block    chan struct{} // when non-nil, Block waits on it
	ran      chan struct{} // when non-nil, Block signals that it started
	returned chan struct{} // when non-nil, Block signals that it is returning
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
	if s.returned != nil {
		s.returned <- struct{}{}
	}
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

// Typed is a service whose arguments and replies are not structs.
type Typed struct{}

// Atoi replies with the number its argument spells.
func (Typed) Atoi(args string, reply *int) { *reply, _ = strconv.Atoi(args) }

// Itoa replies with its argument spelled out, after a prefix.
func (Typed) Itoa(args int, reply *string) { *reply = "n" + strconv.Itoa(args) }

// Join replies with its arguments joined by commas.
func (Typed) Join(args []string, reply *string) { *reply = strings.Join(args, ",") }

// Sum replies with the sum of a map's values, through a pointer argument.
func (Typed) Sum(args *map[string]int, reply *int) {
	for _, v := range *args {
		*reply += v
	}
}

// The types of Typed.Lossy. Each has a lower-case field that gob drops;
// the caller and the handler use different, gob-compatible types.
type (
	callerArgs   struct{ X, note int }
	handlerArgs  struct{ X, seen int }
	handlerReply struct{ Y, cache int }
	callerReply  struct{ Y, memo int }
)

// Lossy replies with its argument.
func (Typed) Lossy(args *handlerArgs, reply *handlerReply) { reply.Y = args.X }

// newPair builds a network with one server "s" holding an Echo and an
// Other service, and one enabled end "e" connected to it.
func newPair(t testing.TB) (*Network, *ClientEnd, *Echo, *Server) {
	net := MakeNetwork()
	t.Cleanup(net.Cleanup)
	echo := &Echo{}
	srv := MakeServer()
	srv.AddService(MakeService(echo))
	srv.AddService(MakeService(&Other{}))
	srv.AddService(MakeService(Typed{}))
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

// TestArgsAndRepliesOfBasicTypes: arguments and replies need not be
// structs; strings, ints, slices and maps travel too, by value or pointer.
func TestArgsAndRepliesOfBasicTypes(t *testing.T) {
	_, end, _, _ := newPair(t)
	var n int
	if !end.Call("Typed.Atoi", "9099", &n) || n != 9099 {
		t.Errorf("Typed.Atoi(\"9099\") = %d", n)
	}
	var str string
	if !end.Call("Typed.Itoa", 111, &str) || str != "n111" {
		t.Errorf("Typed.Itoa(111) = %q", str)
	}
	str = ""
	if !end.Call("Typed.Join", []string{"a", "b", "c"}, &str) || str != "a,b,c" {
		t.Errorf("Typed.Join = %q", str)
	}
	n = 0
	if !end.Call("Typed.Sum", map[string]int{"x": 2, "y": 40}, &n) || n != 42 {
		t.Errorf("Typed.Sum = %d", n)
	}
}

// lossyChildVariable, when set, makes TestLabgobWarnsAboutEveryTypeACallCarries
// run its scenario rather than start a process that does.
const lossyChildVariable = "LABRPC_TEST_LOSSY_CHILD"

// TestLabgobWarnsAboutEveryTypeACallCarries: labgob's warnings reach the
// user through Calls: one about each lower-case field of the caller's and
// the handler's argument and reply types, and one about decoding a reply
// into a variable that is not zero. labgob warns about a type only the
// first time it meets it in a process, so the scenario runs in a process
// of its own.
func TestLabgobWarnsAboutEveryTypeACallCarries(t *testing.T) {
	if os.Getenv(lossyChildVariable) != "" {
		runLossyCalls()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLabgobWarnsAboutEveryTypeACallCarries$", "-test.count=1")
	// GORACE: under -race, a process otherwise sleeps a second as it exits.
	cmd.Env = append(os.Environ(), lossyChildVariable+"=1", "GORACE=atexit_sleep_ms=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	got := string(out)
	if !strings.Contains(got, "lossy calls done") {
		t.Fatalf("child process did not run the scenario:\n%s", got)
	}
	for _, field := range []string{"note", "seen", "cache", "memo"} {
		if !strings.Contains(got, "field "+field+" ") {
			t.Errorf("no warning about the lower-case field %q; output:\n%s", field, got)
		}
	}
	if n := strings.Count(got, "non-zero"); n != 1 {
		t.Errorf("%d warnings about decoding into a non-zero reply, want 1; output:\n%s", n, got)
	}
}

// runLossyCalls is the child's side of
// TestLabgobWarnsAboutEveryTypeACallCarries: labgob logs its warnings.
func runLossyCalls() {
	net := MakeNetwork()
	defer net.Cleanup()
	srv := MakeServer()
	srv.AddService(MakeService(Typed{}))
	net.AddServer("s", srv)
	end := net.MakeEnd("e")
	net.Connect("e", "s")
	net.Enable("e", true)
	var fresh callerReply
	if !end.Call("Typed.Lossy", callerArgs{X: 3}, &fresh) || fresh.Y != 3 {
		panic(fmt.Sprintf("first Call: reply %+v", fresh))
	}
	reused := callerReply{Y: 5} // not zero: labgob warns
	if !end.Call("Typed.Lossy", callerArgs{X: 4}, &reused) || reused.Y != 4 {
		panic(fmt.Sprintf("second Call: reply %+v", reused))
	}
	fmt.Println("lossy calls done")
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
			// With LongDelays, 20 Calls would take up to 7 s; all 20 under
			// 250 ms has probability (1/28)^20.
			if d := time.Duration(maxDur.Load()); d > 250*time.Millisecond {
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
	// Calls that waited for each other's delays would take about 40 s
	// (3000 times 13.5 ms); concurrent ones take well under a second,
	// more on a loaded machine under -race.
	if elapsed > 10*time.Second {
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

// blockedCall is a Call to Echo.Block whose handler is running.
type blockedCall struct {
	result chan bool  // Call's result, once it returns
	reply  *EchoReply // the caller's reply; read it only after result
}

// startBlockedCall starts a Call to Echo.Block and waits until its handler
// runs. The test must release the handler (close(echo.block)) before it ends.
func startBlockedCall(t *testing.T, end *ClientEnd, echo *Echo) *blockedCall {
	t.Helper()
	echo.block = make(chan struct{})
	echo.ran = make(chan struct{}, 1)
	echo.returned = make(chan struct{}, 1)
	bc := &blockedCall{result: make(chan bool, 1), reply: &EchoReply{}}
	go func() {
		bc.result <- end.Call("Echo.Block", &EchoArgs{X: 7}, bc.reply)
	}()
	select {
	case <-echo.ran:
	case <-time.After(5 * time.Second):
		close(echo.block)
		t.Fatal("handler did not start")
	}
	return bc
}

// killWithin is how soon a Call must give up on a handler whose server
// crashed or whose link was cut: the course's TestKilled allows 100 ms.
const killWithin = 100 * time.Millisecond

// TestCallWhoseServerCrashesReturnsFalseWhileHandlerRuns is the course's
// "killed" scenario: a handler blocks for a long time, its server is deleted
// (or replaced, or the link is cut) meanwhile, and the Call returns false
// within 100 ms, without waiting for the handler. When the handler finally
// returns, its reply is discarded and its goroutine ends.
func TestCallWhoseServerCrashesReturnsFalseWhileHandlerRuns(t *testing.T) {
	cases := []struct {
		name  string
		fault func(net *Network, srv *Server)
	}{
		{"DeleteServer", func(net *Network, srv *Server) { net.DeleteServer("s") }},
		{"replaced by AddServer", func(net *Network, srv *Server) { net.AddServer("s", MakeServer()) }},
		{"end disabled", func(net *Network, srv *Server) { net.Enable("e", false) }},
		{"end disabled and enabled again", func(net *Network, srv *Server) {
			net.Enable("e", false)
			net.Enable("e", true)
		}},
		{"end deleted", func(net *Network, srv *Server) { net.DeleteEnd("e") }},
		{"end connected elsewhere", func(net *Network, srv *Server) {
			other := MakeServer()
			other.AddService(MakeService(&Echo{}))
			net.AddServer("s2", other)
			net.Connect("e", "s2")
		}},
		{"end connected elsewhere and back", func(net *Network, srv *Server) {
			net.Connect("e", "s2")
			net.Connect("e", "s")
		}},
		{"server deleted and added back", func(net *Network, srv *Server) {
			net.DeleteServer("s")
			net.AddServer("s", srv)
		}},
		{"network cleaned up", func(net *Network, srv *Server) { net.Cleanup() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			net, end, echo, srv := newPair(t)
			bc := startBlockedCall(t, end, echo)
			defer close(echo.block)

			// The handler is still blocked: the Call must not have returned.
			select {
			case ok := <-bc.result:
				t.Fatalf("Call returned %v while its handler was still running", ok)
			case <-time.After(20 * time.Millisecond):
			}

			faulted := time.Now()
			tc.fault(net, srv)
			select {
			case ok := <-bc.result:
				if ok {
					t.Fatal("Call returned true for a handler whose server crashed or was cut off")
				}
				// Measured: 0.07 ms median, 0.5 ms at worst, at load 5 on 2 cores.
				if d := time.Since(faulted); d > killWithin {
					t.Fatalf("Call returned %v after the fault, want within %v", d, killWithin)
				}
			case <-time.After(killWithin):
				t.Fatalf("Call still waiting %v after the fault, for a handler that blocks until released", killWithin)
			}

			// Release the handler: its reply goes nowhere, and its
			// goroutine ends.
			echo.block <- struct{}{}
			select {
			case <-echo.returned:
			case <-time.After(5 * time.Second):
				t.Fatal("released handler did not return")
			}
			if *bc.reply != (EchoReply{}) {
				t.Fatalf("the caller's reply was written after its Call returned false: %+v", *bc.reply)
			}
			net.Cleanup()
			awaitGoroutines(t, base)
		})
	}
}

// awaitGoroutines fails the test unless the number of goroutines falls to
// base within a few seconds.
func awaitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left, %d before the test:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// TestCallSurvivesChangesThatDoNotConcernIt checks that a Call waiting for
// its handler is not cut off by changes to other ends and servers: when the
// handler returns, the reply arrives.
func TestCallSurvivesChangesThatDoNotConcernIt(t *testing.T) {
	net, end, echo, _ := newPair(t)
	bc := startBlockedCall(t, end, echo)
	net.MakeEnd("other")
	net.Connect("other", "s")
	net.Enable("other", true)
	net.Enable("other", false)
	net.AddServer("elsewhere", MakeServer())
	net.DeleteServer("elsewhere")
	net.DeleteEnd("other")
	net.Connect("e", "s") // the same connection again
	net.Enable("e", true) // already enabled
	net.Reliable(true)
	select {
	case ok := <-bc.result:
		close(echo.block)
		t.Fatalf("Call returned %v before its handler did", ok)
	case <-time.After(20 * time.Millisecond):
	}
	close(echo.block)
	select {
	case ok := <-bc.result:
		if !ok || bc.reply.X != 7 {
			t.Fatalf("Call = %v, reply %+v; want true, X=7", ok, *bc.reply)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Call did not return after its handler did")
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

// TestEndReachesOnlyTheServerItIsConnectedTo: an end connected to nothing
// fails and leaves the reply alone; once connected it reaches its server,
// and connecting it again moves it to another server.
func TestEndReachesOnlyTheServerItIsConnectedTo(t *testing.T) {
	net := MakeNetwork()
	defer net.Cleanup()
	first, second := &Echo{}, &Echo{}
	for name, echo := range map[string]*Echo{"first": first, "second": second} {
		srv := MakeServer()
		srv.AddService(MakeService(echo))
		net.AddServer(name, srv)
	}
	end := net.MakeEnd("e")
	net.Enable("e", true)

	reply := EchoReply{X: -5}
	if end.Call("Echo.Double", &EchoArgs{X: 1}, &reply) || reply.X != -5 {
		t.Fatalf("Call on an unconnected end: reply %+v", reply)
	}
	net.Connect("e", "first")
	reply = EchoReply{}
	if !end.Call("Echo.Double", &EchoArgs{X: 2}, &reply) || reply.X != 4 {
		t.Fatalf("Call after Connect: reply %+v", reply)
	}
	net.Connect("e", "second")
	reply = EchoReply{}
	if !end.Call("Echo.Double", &EchoArgs{X: 3}, &reply) || reply.X != 6 {
		t.Fatalf("Call after connecting elsewhere: reply %+v", reply)
	}
	if first.callCount() != 1 || second.callCount() != 1 {
		t.Fatalf("handlers ran %d and %d times, want 1 and 1", first.callCount(), second.callCount())
	}
}

// TestCallsDelayedWhileDisabledDoNotDelayLaterCalls: Calls made while an
// end is disabled, with LongDelays, fail after seconds; enabling the end
// does not rescue them, and a Call made after enabling it completes at once.
func TestCallsDelayedWhileDisabledDoNotDelayLaterCalls(t *testing.T) {
	net, end, echo, _ := newPair(t)
	net.Enable("e", false)
	net.LongDelays(true)
	const n = 20
	results := make(chan bool, n)
	for i := 0; i < n; i++ {
		go func() {
			var reply EchoReply
			results <- end.Call("Echo.Double", &EchoArgs{X: 1}, &reply)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them start their delays
	net.Enable("e", true)
	start := time.Now()
	var reply EchoReply
	if !end.Call("Echo.Double", &EchoArgs{X: 9}, &reply) || reply.X != 18 {
		t.Fatalf("Call after Enable: reply %+v", reply)
	}
	// A Call queued behind the delayed ones would wait for the longest of
	// 20 delays of 0-7 s (all 20 under 1 s: probability (1/7)^20).
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("Call after Enable took %v, as if it waited behind the delayed ones", d)
	}
	net.Cleanup() // ends the delays
	for i := 0; i < n; i++ {
		select {
		case ok := <-results:
			if ok {
				t.Fatal("a Call made while its end was disabled succeeded")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Cleanup did not end a delayed Call")
		}
	}
	if got := echo.callCount(); got != 1 {
		t.Fatalf("handler ran %d times, want 1 (only the Call made after Enable)", got)
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

// TestManyEndsCallOneServerConcurrently: many clients, each with its own
// end, call one server at once; every call is answered and counted.
func TestManyEndsCallOneServerConcurrently(t *testing.T) {
	net, _, echo, _ := newPair(t)
	const ends, callsPerEnd = 20, 10
	var wg sync.WaitGroup
	for c := 0; c < ends; c++ {
		name := fmt.Sprintf("client-%d", c)
		end := net.MakeEnd(name)
		net.Connect(name, "s")
		net.Enable(name, true)
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; i < callsPerEnd; i++ {
				x := c*1000 + i
				var reply EchoReply
				if !end.Call("Echo.Double", &EchoArgs{X: x}, &reply) || reply.X != 2*x {
					t.Errorf("client %d call %d: reply %+v", c, i, reply)
				}
			}
		}(c)
	}
	wg.Wait()
	if got := net.GetCount("s"); got != ends*callsPerEnd {
		t.Errorf("GetCount = %d, want %d", got, ends*callsPerEnd)
	}
	if got := echo.callCount(); got != ends*callsPerEnd {
		t.Errorf("handler ran %d times, want %d", got, ends*callsPerEnd)
	}
}

// TestManyServersServeConcurrently: clients call many servers at once, each
// client through its own end to one server; each server counts its own.
func TestManyServersServeConcurrently(t *testing.T) {
	net := MakeNetwork()
	defer net.Cleanup()
	const servers, clientsPerServer, callsPerClient = 8, 4, 25
	echoes := make([]*Echo, servers)
	for s := range echoes {
		echoes[s] = &Echo{}
		srv := MakeServer()
		srv.AddService(MakeService(echoes[s]))
		net.AddServer(s, srv)
	}
	var wg sync.WaitGroup
	for s := 0; s < servers; s++ {
		for c := 0; c < clientsPerServer; c++ {
			name := fmt.Sprintf("%d->%d", c, s)
			end := net.MakeEnd(name)
			net.Connect(name, s)
			net.Enable(name, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < callsPerClient; i++ {
					var reply EchoReply
					if !end.Call("Echo.Double", &EchoArgs{X: s}, &reply) || reply.X != 2*s {
						t.Errorf("%s: reply %+v", name, reply)
					}
				}
			}()
		}
	}
	wg.Wait()
	for s, echo := range echoes {
		want := clientsPerServer * callsPerClient
		if got := net.GetCount(s); got != want || echo.callCount() != want {
			t.Errorf("server %d: GetCount %d, handler ran %d times; want %d", s, got, echo.callCount(), want)
		}
	}
	if got := net.GetTotalCount(); got != servers*clientsPerServer*callsPerClient {
		t.Errorf("GetTotalCount = %d, want %d", got, servers*clientsPerServer*callsPerClient)
	}
}

// TestHandOffsToWorkersLoseNoCall mixes Calls made one at a time, which
// hand their handlers to a yielding worker, with bursts of concurrent Calls
// and pauses, so that workers keep switching between yielding, giving up
// and waiting, while Calls race to hand them handlers. A handler lost in a
// hand-over would leave its Call waiting forever.
func TestHandOffsToWorkersLoseNoCall(t *testing.T) {
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	_, end, echo, _ := newPair(t)
	const steadyCalls, bursts = 3000, 200
	pauses := make([]time.Duration, bursts)
	sizes := make([]int, bursts)
	for i := range pauses {
		pauses[i] = time.Duration(rng.IntN(200)) * time.Microsecond
		sizes[i] = 1 + rng.IntN(4)
	}
	var succeeded atomic.Int64
	call := func(x int) {
		var reply EchoReply
		if end.Call("Echo.Double", &EchoArgs{X: x}, &reply) && reply.X == 2*x {
			succeeded.Add(1)
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < steadyCalls; i++ {
			call(i)
		}
	}()
	go func() {
		defer wg.Done()
		for i := range pauses {
			time.Sleep(pauses[i])
			var burst sync.WaitGroup
			for j := 0; j < sizes[i]; j++ {
				burst.Add(1)
				go func() {
					defer burst.Done()
					call(j)
				}()
			}
			burst.Wait()
		}
	}()
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("seed %d: Calls still waiting after 30 s; a handler was lost on its way to a worker:\n%s",
			seed, buf[:runtime.Stack(buf, true)])
	}
	want := steadyCalls
	for _, n := range sizes {
		want += n
	}
	if got := succeeded.Load(); got != int64(want) || echo.callCount() != want {
		t.Fatalf("seed %d: %d of %d Calls succeeded and the handler ran %d times", seed, got, want, echo.callCount())
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
