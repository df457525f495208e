package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// faultSet says which kinds of fault a run injects.
type faultSet struct {
	drops      bool // an unreliable network: delays, lost requests and replies
	partitions bool // servers split into groups that cannot talk, about every second
	crashes    bool // servers crash and restart from their persisted state
	reorder    bool // replies held back up to 2.2 s, so they arrive out of order
}

// faultNames lists the words -faults accepts, in the order String prints them.
var faultNames = []string{"drops", "partitions", "crashes", "reorder"}

// parseFaults reads a comma-separated list of fault names, "all" or "none".
func parseFaults(s string) (faultSet, error) {
	var f faultSet
	for _, word := range strings.Split(s, ",") {
		switch strings.TrimSpace(word) {
		case "none":
		case "all":
			f = faultSet{drops: true, partitions: true, crashes: true, reorder: true}
		case "drops":
			f.drops = true
		case "partitions":
			f.partitions = true
		case "crashes":
			f.crashes = true
		case "reorder":
			f.reorder = true
		default:
			return faultSet{}, fmt.Errorf("unknown fault %q: want a comma-separated list of %s, or all, or none",
				strings.TrimSpace(word), strings.Join(faultNames, ", "))
		}
	}
	return f, nil
}

func (f faultSet) String() string {
	var on []string
	for i, yes := range []bool{f.drops, f.partitions, f.crashes, f.reorder} {
		if yes {
			on = append(on, faultNames[i])
		}
	}
	switch len(on) {
	case 0:
		return "none"
	case len(faultNames):
		return "all"
	}
	return strings.Join(on, ",")
}

// faultKind is one kind of scheduled event.
type faultKind int

const (
	doPartition faultKind = iota // put servers in the groups of event.group
	doCrash                      // crash event.server
	doRestart                    // restart event.server
)

// faultEvent is one step of the schedule.
type faultEvent struct {
	at     time.Duration // since the start of the run
	kind   faultKind
	server int   // doCrash, doRestart
	group  []int // doPartition: group of each server; all zero heals
}

func (e faultEvent) String() string {
	switch e.kind {
	case doCrash:
		return fmt.Sprintf("%v crash S%d", e.at, e.server)
	case doRestart:
		return fmt.Sprintf("%v restart S%d", e.at, e.server)
	default:
		return fmt.Sprintf("%v partition %v", e.at, e.group)
	}
}

// Pacing of the schedule.
const (
	partitionEvery = time.Second     // a new partition about this often (0.5x to 1.5x)
	crashEvery     = 2 * time.Second // a crash about this often (0.5x to 1.5x)
	downFor        = time.Second     // a crashed server restarts after about this (0.5x to 2x)
)

// nemesis names a fault schedule: how partitions and crashes combine.
type nemesis int

const (
	// minorityNemesis, the default, keeps a connected majority at every
	// moment: the servers that are crashed or cut off are together a
	// minority, as Jepsen's nemeses isolate or kill a minority. The service
	// can always make progress; how fast it does is what a run measures.
	minorityNemesis nemesis = iota
	// harshNemesis picks partitions and crashes independently, each sparing
	// a majority on its own, so that together they often leave no connected
	// majority at all (three of five servers crashed or cut off).
	harshNemesis
)

// nemesisNames lists the words -nemesis accepts, indexed by nemesis.
var nemesisNames = []string{minorityNemesis: "minority", harshNemesis: "harsh"}

func parseNemesis(s string) (nemesis, error) {
	for i, name := range nemesisNames {
		if s == name {
			return nemesis(i), nil
		}
	}
	return 0, fmt.Errorf("unknown schedule %q: want %s", s, strings.Join(nemesisNames, " or "))
}

func (n nemesis) String() string { return nemesisNames[n] }

// schedule returns the fault events of a run, in time order. It depends
// only on its arguments, so one seed always gives one schedule.
func schedule(seed uint64, servers int, length time.Duration, f faultSet, n nemesis) []faultEvent {
	rng := rand.New(rand.NewPCG(seed, 0x6b7673696d)) // "kvsim"
	if n == harshNemesis {
		return harshSchedule(rng, servers, length, f)
	}
	return minoritySchedule(rng, servers, length, f)
}

// jitter returns d scaled by a random factor between lo and hi.
func jitter(rng *rand.Rand, d time.Duration, lo, hi float64) time.Duration {
	return time.Duration(float64(d) * (lo + (hi-lo)*rng.Float64()))
}

// minoritySchedule walks through the run in time order, keeping track of
// which servers are down and which are cut off, and lets a partition or a
// crash happen only if the servers crashed or cut off stay a minority. A
// partition heals the network one time in four; otherwise it cuts off one
// or more servers, possibly crashed ones, which then restart cut off. A
// crash picks a server that is up; when the minority is already used up, it
// picks one that is cut off, or none.
func minoritySchedule(rng *rand.Rand, servers int, length time.Duration, f faultSet) []faultEvent {
	maxOut := (servers - 1) / 2 // the most servers that may be crashed or cut off together
	if maxOut == 0 {
		return nil // with one or two servers any fault takes out the majority
	}
	const never = time.Duration(1<<63 - 1)
	nextPartition, nextCrash := never, never
	if f.partitions {
		nextPartition = jitter(rng, partitionEvery, 0.5, 1.5)
	}
	if f.crashes {
		nextCrash = jitter(rng, crashEvery, 0.5, 1.5)
	}
	upAt := make([]time.Duration, servers) // when each server is (back) up; 0: up
	group := make([]int, servers)          // 1: cut off
	var events []faultEvent
	for {
		restart, at := -1, never
		for s, t := range upAt {
			if t > 0 && t < at {
				restart, at = s, t
			}
		}
		t := min(at, nextPartition, nextCrash)
		if t >= length {
			return events
		}
		out := func(s int) bool { return upAt[s] > 0 || group[s] != 0 }
		switch t {
		case at:
			upAt[restart] = 0
			events = append(events, faultEvent{at: t, kind: doRestart, server: restart})
		case nextPartition:
			nextPartition += jitter(rng, partitionEvery, 0.5, 1.5)
			clear(group)
			if rng.IntN(4) != 0 {
				want := 1 + rng.IntN(maxOut)
				outs := 0
				for s := range servers {
					if out(s) {
						outs++
					}
				}
				for _, s := range rng.Perm(servers) {
					if want == 0 {
						break
					}
					if upAt[s] > 0 {
						group[s], want = 1, want-1 // already out: costs nothing
					} else if outs < maxOut {
						group[s], want, outs = 1, want-1, outs+1
					}
				}
			}
			events = append(events, faultEvent{at: t, kind: doPartition, group: append([]int(nil), group...)})
		default:
			nextCrash += jitter(rng, crashEvery, 0.5, 1.5)
			outs := 0
			for s := range servers {
				if out(s) {
					outs++
				}
			}
			var candidates []int
			for s := range servers {
				if upAt[s] == 0 && (outs < maxOut || group[s] != 0) {
					candidates = append(candidates, s)
				}
			}
			if len(candidates) == 0 {
				continue
			}
			s := candidates[rng.IntN(len(candidates))]
			upAt[s] = t + jitter(rng, downFor, 0.5, 2)
			events = append(events, faultEvent{at: t, kind: doCrash, server: s})
		}
	}
}

// harshSchedule is the schedule of harshNemesis: partitions and crashes
// drawn independently. At most a minority of servers is down at any
// moment and each partition cuts off a minority, so that healing the
// network always lets the service make progress; but the two together
// may leave no majority up and connected.
func harshSchedule(rng *rand.Rand, servers int, length time.Duration, f faultSet) []faultEvent {
	var events []faultEvent
	if f.partitions {
		for t := jitter(rng, partitionEvery, 0.5, 1.5); t < length; t += jitter(rng, partitionEvery, 0.5, 1.5) {
			events = append(events, faultEvent{at: t, kind: doPartition, group: randomPartition(rng, servers)})
		}
	}
	if f.crashes {
		maxDown := (servers - 1) / 2
		upAt := make([]time.Duration, servers) // when each server is (back) up
		for t := jitter(rng, crashEvery, 0.5, 1.5); t < length; t += jitter(rng, crashEvery, 0.5, 1.5) {
			var up []int
			down := 0
			for s := 0; s < servers; s++ {
				if upAt[s] <= t {
					up = append(up, s)
				} else {
					down++
				}
			}
			if down >= maxDown || len(up) == 0 {
				continue
			}
			s := up[rng.IntN(len(up))]
			back := t + jitter(rng, downFor, 0.5, 2)
			upAt[s] = back
			events = append(events, faultEvent{at: t, kind: doCrash, server: s})
			if back < length {
				events = append(events, faultEvent{at: back, kind: doRestart, server: s})
			}
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].at < events[j].at })
	return events
}

// randomPartition heals the network one time in four; otherwise it cuts a
// random minority of one or more servers off from the rest.
func randomPartition(rng *rand.Rand, servers int) []int {
	group := make([]int, servers)
	if servers < 2 || rng.IntN(4) == 0 {
		return group
	}
	cut := 1 + rng.IntN((servers-1)/2+1) // 1 .. servers/2 (rounded down) servers
	if cut > servers/2 {
		cut = servers / 2
	}
	for _, s := range rng.Perm(servers)[:cut] {
		group[s] = 1
	}
	return group
}
