package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"6.5840/labrpc"
)

// replayState is what a schedule has done so far, as replay walks it.
type replayState struct {
	down   map[int]bool // crashed servers
	group  []int        // partition group of each server
	active faultSet     // faults in an episode
}

// out counts the servers crashed or cut off from group 0.
func (st *replayState) out() int {
	n := 0
	for s, g := range st.group {
		if st.down[s] || g != 0 {
			n++
		}
	}
	return n
}

// connectedMajority reports whether more than half of the servers are up
// and in one group.
func (st *replayState) connectedMajority() bool {
	upIn := map[int]int{}
	for s, g := range st.group {
		if !st.down[s] {
			upIn[g]++
		}
	}
	for _, n := range upIn {
		if 2*n > len(st.group) {
			return true
		}
	}
	return false
}

// replay walks a schedule and calls check after each event with what the
// schedule has done so far, after checking that the events are in order,
// within the run, crash only servers that are up, restart only servers
// that are down, and start only faults that are off and stop only faults
// that are on. It returns the number of partitions and crashes.
func replay(t *testing.T, events []faultEvent, servers int, length time.Duration,
	check func(e faultEvent, st *replayState)) (partitions, crashes int) {
	t.Helper()
	st := &replayState{down: map[int]bool{}, group: make([]int, servers)}
	var last time.Duration
	for _, e := range events {
		if e.at < last || e.at >= length {
			t.Fatalf("event %v out of order or past the end", e)
		}
		last = e.at
		switch e.kind {
		case doCrash:
			crashes++
			if st.down[e.server] {
				t.Fatalf("%v crashes a server that is down", e)
			}
			st.down[e.server] = true
		case doRestart:
			if !st.down[e.server] {
				t.Fatalf("%v restarts a server that is up", e)
			}
			delete(st.down, e.server)
		case doPartition:
			partitions++
			if len(e.group) != servers {
				t.Fatalf("partition %v for %d servers", e.group, servers)
			}
			copy(st.group, e.group)
		case doStart, doStop:
			if st.active[e.fault] == (e.kind == doStart) {
				t.Fatalf("%v, but %v is already %v", e, e.fault, map[bool]string{true: "on", false: "off"}[st.active[e.fault]])
			}
			st.active[e.fault] = e.kind == doStart
		}
		check(e, st)
	}
	return partitions, crashes
}

func TestScheduleIsDeterminedBySeed(t *testing.T) {
	for _, n := range []nemesis{minorityNemesis, harshNemesis} {
		for _, f := range []faultSet{allFaults, {drops: true}, {reorder: true}, {partitions: true, crashes: true}} {
			a := schedule(42, 5, 20*time.Second, f, n)
			b := schedule(42, 5, 20*time.Second, f, n)
			if len(a) == 0 || !reflect.DeepEqual(a, b) {
				t.Fatalf("%v, faults %v: the same seed gave two schedules (or none):\n%v\n%v", n, f, a, b)
			}
			if n == minorityNemesis || f[partitions] {
				// Harsh drops and reorder are on all the time, whatever the seed.
				if c := schedule(43, 5, 20*time.Second, f, n); reflect.DeepEqual(a, c) {
					t.Fatalf("%v, faults %v: seeds 42 and 43 gave the same schedule", n, f)
				}
			}
		}
		if got := schedule(1, 5, 20*time.Second, faultSet{}, n); len(got) != 0 {
			t.Fatalf("%v: no faults, yet %d events", n, len(got))
		}
	}
}

// TestMinorityNemesisRunsEachFaultInEpisodes checks the default schedule's
// episodes, as Jepsen's nemeses run faults: each kind of fault starts and
// stops again and again, each episode and each calm between two lasting
// what episodePacing says, so that every kind is off for a good part of
// every run (long reordering for most of it); partitions and crashes
// happen only during their episodes, and each episode of them ends with
// the network healed and every server up.
func TestMinorityNemesisRunsEachFaultInEpisodes(t *testing.T) {
	const length = 20 * time.Second
	const seeds = 100
	for _, servers := range []int{3, 5, 7} {
		var total [numFaults]time.Duration
		for seed := uint64(0); seed < seeds; seed++ {
			events := schedule(seed, servers, length, allFaults, minorityNemesis)
			var starts [numFaults]int
			var since, stopped [numFaults]time.Duration
			for f := range numFaults {
				stopped[f] = -1
			}
			replay(t, events, servers, length, func(e faultEvent, st *replayState) {
				p := episodePacing[e.fault]
				switch e.kind {
				case doStart:
					starts[e.fault]++
					calm := e.at - stopped[e.fault]
					if stopped[e.fault] < 0 && e.at > p.offMax || stopped[e.fault] >= 0 && (calm < p.offMin || calm > p.offMax) {
						t.Fatalf("seed %d, %d servers: %v after a calm of %v (since %v); want %v to %v",
							seed, servers, e, calm, stopped[e.fault], p.offMin, p.offMax)
					}
					since[e.fault] = e.at
				case doStop:
					if on := e.at - since[e.fault]; on < p.onMin || on > p.onMax {
						t.Fatalf("seed %d, %d servers: %v after an episode of %v; want %v to %v", seed, servers, e, on, p.onMin, p.onMax)
					}
					stopped[e.fault] = e.at
					if e.fault == partitions && st.out() > len(st.down) {
						t.Fatalf("seed %d, %d servers: %v leaves groups %v", seed, servers, e, st.group)
					}
					if e.fault == crashes && len(st.down) > 0 {
						t.Fatalf("seed %d, %d servers: %v leaves %v down", seed, servers, e, st.down)
					}
				case doPartition:
					if !st.active[partitions] {
						t.Fatalf("seed %d, %d servers: %v outside an episode of partitions", seed, servers, e)
					}
				case doCrash:
					if !st.active[crashes] {
						t.Fatalf("seed %d, %d servers: %v outside an episode of crashes", seed, servers, e)
					}
				}
			})
			on := faultTimes(events, length)
			for f := range numFaults {
				total[f] += on[f]
				if starts[f] < 2 || on[f] < length/10 || on[f] > length*17/20 {
					t.Fatalf("seed %d, %d servers: %v had %d episodes, on for %v of %v; want 2 or more, on for 10%% to 85%% of the run",
						seed, servers, faultNames[f], starts[f], on[f], length)
				}
			}
		}
		for f := range numFaults {
			share := float64(total[f]) / float64(seeds*length)
			p := episodePacing[f]
			mean := float64(p.onMin+p.onMax) / float64(p.onMin+p.onMax+p.offMin+p.offMax)
			if share < mean-0.1 || share > mean+0.1 {
				t.Errorf("%d servers: %v on for %.0f%% of the time over %d runs; its pacing says about %.0f%%",
					servers, faultNames[f], 100*share, seeds, 100*mean)
			}
		}
	}
}

// TestMinorityNemesisAlwaysLeavesAConnectedMajority checks the default
// schedule: at every moment the servers crashed or cut off are a minority,
// and yet faults are frequent and sometimes use up the whole minority.
func TestMinorityNemesisAlwaysLeavesAConnectedMajority(t *testing.T) {
	for _, servers := range []int{1, 2, 3, 4, 5, 7} {
		usedUp := false
		for seed := uint64(0); seed < 100; seed++ {
			events := schedule(seed, servers, 20*time.Second, allFaults, minorityNemesis)
			partitions, crashes := replay(t, events, servers, 20*time.Second, func(e faultEvent, st *replayState) {
				out := st.out()
				if !st.connectedMajority() || out > (servers-1)/2 {
					t.Fatalf("seed %d, %d servers: after %v, down %v and groups %v leave no connected majority",
						seed, servers, e, st.down, st.group)
				}
				if out == (servers-1)/2 && len(st.down) > 0 && out > len(st.down) {
					usedUp = true // crashes and a partition together
				}
			})
			if servers >= 3 && (partitions < 6 || crashes < 2) {
				t.Fatalf("seed %d, %d servers: only %d partitions and %d crashes in 20 s", seed, servers, partitions, crashes)
			}
			if servers <= 2 && partitions+crashes > 0 {
				t.Fatalf("seed %d, %d servers: %d partitions and %d crashes, but any takes out the majority", seed, servers, partitions, crashes)
			}
		}
		if servers >= 5 && !usedUp {
			t.Fatalf("%d servers: in 100 seeds, crashes and partitions never together took out the whole minority", servers)
		}
	}
}

// TestHarshNemesisKeepsEveryFaultOnForTheWholeRun checks that the harsh
// schedule turns each selected fault on at the start and never off.
func TestHarshNemesisKeepsEveryFaultOnForTheWholeRun(t *testing.T) {
	const length = 20 * time.Second
	for _, f := range []faultSet{allFaults, {drops: true}, {reorder: true}, {partitions: true, crashes: true}} {
		events := schedule(7, 5, length, f, harshNemesis)
		replay(t, events, 5, length, func(e faultEvent, st *replayState) {
			if e.kind == doStart && e.at != 0 || e.kind == doStop {
				t.Fatalf("faults %v: %v", f, e)
			}
		})
		on := faultTimes(events, length)
		for k := range numFaults {
			if want := map[bool]time.Duration{true: length}[f[k]]; on[k] != want {
				t.Fatalf("faults %v: %v on for %v, want %v", f, faultNames[k], on[k], want)
			}
		}
	}
}

// TestHarshNemesisSometimesLeavesNoMajority checks the harsher schedule:
// crashes and partitions each spare a majority, but together often do not.
func TestHarshNemesisSometimesLeavesNoMajority(t *testing.T) {
	for _, servers := range []int{3, 5, 7} {
		runsWithout := 0
		for seed := uint64(0); seed < 50; seed++ {
			events := schedule(seed, servers, 20*time.Second, allFaults, harshNemesis)
			without := false
			partitions, crashes := replay(t, events, servers, 20*time.Second, func(e faultEvent, st *replayState) {
				if len(st.down) > (servers-1)/2 {
					t.Fatalf("seed %d: %d of %d servers down at %v", seed, len(st.down), servers, e.at)
				}
				cut := 0
				for _, g := range st.group {
					cut += g
				}
				if 2*cut > servers {
					t.Fatalf("seed %d: partition %v cuts off a majority", seed, st.group)
				}
				if !st.connectedMajority() {
					without = true
				}
			})
			if partitions < 10 || crashes < 5 {
				t.Fatalf("seed %d, %d servers: only %d partitions and %d crashes in 20 s", seed, servers, partitions, crashes)
			}
			if without {
				runsWithout++
			}
		}
		if runsWithout < 25 {
			t.Fatalf("%d servers: only %d of 50 harsh schedules ever left no connected majority", servers, runsWithout)
		}
	}
}

func TestFaultTimesAddsUpEpisodes(t *testing.T) {
	s := func(n int) time.Duration { return time.Duration(n) * time.Second }
	start := func(at int, f fault) faultEvent { return faultEvent{at: s(at), kind: doStart, fault: f} }
	stop := func(at int, f fault) faultEvent { return faultEvent{at: s(at), kind: doStop, fault: f} }
	cases := []struct {
		name   string
		events []faultEvent
		length int
		want   [numFaults]time.Duration
	}{
		{"none", nil, 10, [numFaults]time.Duration{}},
		{"two episodes", []faultEvent{start(1, reorder), stop(3, reorder), start(5, reorder), stop(6, reorder)}, 10,
			[numFaults]time.Duration{reorder: s(3)}},
		{"on at the end", []faultEvent{start(0, drops), stop(2, drops), start(8, drops)}, 10,
			[numFaults]time.Duration{drops: s(4)}},
		{"cut short", []faultEvent{start(2, crashes), {at: s(3), kind: doCrash}, stop(9, crashes)}, 5,
			[numFaults]time.Duration{crashes: s(3)}},
		{"kinds apart", []faultEvent{start(0, partitions), start(1, drops), stop(4, partitions), stop(7, drops)}, 10,
			[numFaults]time.Duration{drops: s(6), partitions: s(4)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := faultTimes(tc.events, s(tc.length)); got != tc.want {
				t.Fatalf("faultTimes = %v, want %v", got, tc.want)
			}
		})
	}
}

// Probe is a labrpc service that counts the calls it has served.
type Probe struct{ served atomic.Int64 }

// ProbeArgs are the arguments of Probe.Echo.
type ProbeArgs struct{ N int }

// ProbeReply is the reply of Probe.Echo.
type ProbeReply struct{ N int }

// Echo answers with its argument.
func (p *Probe) Echo(args *ProbeArgs, reply *ProbeReply) {
	reply.N = args.N
	p.served.Add(1)
}

// probeCalls starts n calls to Probe.Echo at once, through fresh ends to
// the server named "probe" on net; wait waits for them and gives how many
// failed and how long each took, sorted.
func probeCalls(net *labrpc.Network, n int) (wait func() (failed int, took []time.Duration)) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var failures int
	var durations []time.Duration
	var names []string
	for i := range n {
		name := fmt.Sprintf("probe-%p-%d", &wg, i)
		names = append(names, name)
		end := net.MakeEnd(name)
		net.Connect(name, "probe")
		net.Enable(name, true)
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			var reply ProbeReply
			ok := end.Call("Probe.Echo", &ProbeArgs{N: i}, &reply)
			mu.Lock()
			defer mu.Unlock()
			if !ok || reply.N != i {
				failures++
			}
			durations = append(durations, time.Since(start))
		}()
	}
	return func() (int, []time.Duration) {
		wg.Wait()
		for _, name := range names {
			net.DeleteEnd(name)
		}
		sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
		return failures, durations
	}
}

// TestEpisodesSwitchTheNetwork checks that starting and stopping episodes
// of drops and reorder switch labrpc's unreliable network and long
// reordering. With drops on, about one call in five fails (one request and
// one reply in ten are lost); with drops off, none does. With reorder on,
// about two replies in three are held back 200 ms or more. A loaded machine
// slows every call, so calls made with reorder on are compared with calls
// made with it off at the same time: a Call reads the network's settings
// when it starts.
func TestEpisodesSwitchTheNetwork(t *testing.T) {
	c := newCluster(1, -1)
	defer c.shutdown()
	probe := &Probe{}
	srv := labrpc.MakeServer()
	srv.AddService(labrpc.MakeService(probe))
	c.net.AddServer("probe", srv)
	const n = 60

	c.setFault(drops, true)
	dropped, _ := probeCalls(c.net, n)()
	c.setFault(drops, false)
	calmFailed, _ := probeCalls(c.net, n)()
	if dropped == 0 || calmFailed > 0 {
		t.Fatalf("%d of %d calls failed with drops on, %d with drops off; want about %d, then none", dropped, n, calmFailed, n/5)
	}

	c.setFault(reorder, true)
	served := probe.served.Load()
	waitReordered := probeCalls(c.net, n)
	for deadline := time.Now().Add(10 * time.Second); probe.served.Load() < served+n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d calls served within 10 s", probe.served.Load()-served, n)
		}
	}
	c.setFault(reorder, false) // the calls above have started: they keep it
	waitCalm := probeCalls(c.net, n)
	reorderFailed, reordered := waitReordered()
	calmFailed, calm := waitCalm()
	// Two calls in three are held back, so the fastest three quarters of
	// the calls made with reorder on hold a held-back one but for a
	// vanishing chance: the last quarter begins 200 ms or more after a
	// call's own time. Compare where it begins with the calm calls.
	const heldBack = 200 * time.Millisecond
	late := n - sort.Search(n, func(i int) bool { return reordered[i] >= heldBack })
	q := 3 * n / 4
	t.Logf("%d calls with reorder on: %d took %v or more, the fastest of the last quarter %v; %d with it off at the same time: %v, slowest %v",
		n, late, heldBack, reordered[q], n, calm[q], calm[n-1])
	if reorderFailed+calmFailed > 0 {
		t.Fatalf("calls failed without drops: %d with reorder on, %d with it off", reorderFailed, calmFailed)
	}
	if late < n/3 || reordered[q] < calm[q]+heldBack/2 {
		t.Fatalf("reorder on: %d of %d calls took %v or more; the fastest of the last quarter took %v, against %v with it off",
			late, n, heldBack, reordered[q], calm[q])
	}
}

// TestStatusLineShowsEpisodes runs kvsim with an episode of reordering in
// the middle: the status lines say "faults -" before it, "faults reorder"
// during it and "faults -" again after it, and the summary says how long
// it lasted.
func TestStatusLineShowsEpisodes(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3 s run; run without -short")
	}
	cfg, err := parseFlags([]string{"-duration", "3s", "-faults", "reorder", "-servers", "3", "-clients", "2",
		"-seed", "3", "-html", filepath.Join(t.TempDir(), "h.html")}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	cfg.statusInterval = 100 * time.Millisecond
	cfg.events = []faultEvent{
		{at: time.Second, kind: doStart, fault: reorder},
		{at: 2 * time.Second, kind: doStop, fault: reorder},
	}
	var status bytes.Buffer
	sum, err := simulate(context.Background(), cfg, &status, false)
	if err != nil {
		t.Fatal(err)
	}
	// The faults each line shows, with runs of equal ones collapsed.
	var shown []string
	for _, m := range regexp.MustCompile(`faults (\S+)\n`).FindAllStringSubmatch(status.String(), -1) {
		if len(shown) == 0 || shown[len(shown)-1] != m[1] {
			shown = append(shown, m[1])
		}
	}
	if want := []string{"-", "reorder", "-"}; !reflect.DeepEqual(shown, want) {
		t.Fatalf("status lines show faults %v, want %v:\n%s", shown, want, status.String())
	}
	if got := sum.FaultSeconds["reorder"]; got != 1 || len(sum.FaultSeconds) != 1 {
		t.Fatalf("summary: faults on for %v seconds, want reorder for 1", sum.FaultSeconds)
	}
	var text bytes.Buffer
	sum.writeText(&text)
	if !strings.Contains(text.String(), "faults         on for reorder 1.0 s (nemesis minority)") {
		t.Fatalf("the summary does not say how long reorder was on:\n%s", text.String())
	}
}

// TestAStalledSampleDelaysNeitherFaultsNorTheEnd stalls the monitor in
// one sample from about 1.2 s until past the end of a 2 s run: an episode
// due at 1.4 s still starts during the stall, and the figures still cover
// the run's 2 s, not the stall past its end.
func TestAStalledSampleDelaysNeitherFaultsNorTheEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("a 2 s run; run without -short")
	}
	cfg, err := parseFlags([]string{"-duration", "2s", "-faults", "reorder", "-servers", "3", "-clients", "2",
		"-seed", "13", "-html", filepath.Join(t.TempDir(), "h.html")}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	const due = 1400 * time.Millisecond
	cfg.events = []faultEvent{{at: due, kind: doStart, fault: reorder}}
	var stalled atomic.Bool
	var onAt atomic.Int64 // when the stalled sample saw reorder on, since the start; 0: never
	start := time.Now()
	cfg.beforeSample = func(at time.Duration, c *cluster) {
		if at < 1200*time.Millisecond || stalled.Swap(true) {
			return
		}
		for time.Since(start) < 5*time.Second && !c.observe().faultsOn[reorder] {
			time.Sleep(5 * time.Millisecond)
		}
		if c.observe().faultsOn[reorder] {
			onAt.Store(int64(time.Since(start)))
		}
		time.Sleep(time.Second) // past the run's end
	}
	sum, err := simulate(context.Background(), cfg, new(bytes.Buffer), false)
	if err != nil {
		t.Fatal(err)
	}
	if !stalled.Load() {
		t.Fatal("no sample was stalled")
	}
	if onAt.Load() == 0 {
		t.Fatalf("reorder, due at %v, never came on while a sample was stalled: the sample held back the schedule", due)
	}
	if a := sum.Availability; a.MajoritySeconds < 1.9 || a.MajoritySeconds > 2 {
		t.Fatalf("a connected majority for %.3f s of a 2 s run", a.MajoritySeconds)
	}
	if got := sum.FaultSeconds["reorder"]; got < 0.599 || got > 0.601 {
		t.Fatalf("reorder on for %v s, want 0.6", got)
	}
}
