package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// nemesis names a fault schedule: when each kind of fault is on, and how
// partitions and crashes combine.
type nemesis int

const (
	// minorityNemesis, the default, runs each kind of fault in episodes
	// that start and stop, as Jepsen's nemeses do, with calm stretches
	// between them, and keeps a connected majority at every moment: the
	// servers that are crashed or cut off are together a minority. The
	// service can always make progress; how fast it does, and how fast it
	// recovers when a fault stops, is what a run measures.
	minorityNemesis nemesis = iota
	// harshNemesis keeps every selected fault on for the whole run and
	// picks partitions and crashes independently, each sparing a majority
	// on its own, so that together they often leave no connected majority
	// at all (three of five servers crashed or cut off).
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

// Pacing of partitions and crashes while they are on.
const (
	partitionEvery = time.Second     // a new partition about this often (0.5x to 1.5x)
	crashEvery     = 2 * time.Second // a crash about this often (0.5x to 1.5x)
	downFor        = time.Second     // a crashed server restarts after about this (0.5x to 2x)
)

// pacing is how long the episodes of one kind of fault last under the
// minority nemesis, and the calm between two of them: each drawn
// uniformly from its range.
type pacing struct {
	onMin, onMax   time.Duration
	offMin, offMax time.Duration
}

// episodePacing gives each kind of fault its episodes. Long reordering is
// on about a third of the time: while it is, two replies in three arrive
// 0.2 to 2.2 s late and a Clerk, which has at most one attempt in flight
// per server, completes an operation or two a second. The others are on
// about half the time or a little more.
var episodePacing = [numFaults]pacing{
	drops:      {onMin: 2 * time.Second, onMax: 5 * time.Second, offMin: 2 * time.Second, offMax: 5 * time.Second},
	partitions: {onMin: 3 * time.Second, onMax: 6 * time.Second, offMin: 2 * time.Second, offMax: 4 * time.Second},
	crashes:    {onMin: 3 * time.Second, onMax: 6 * time.Second, offMin: 2 * time.Second, offMax: 4 * time.Second},
	reorder:    {onMin: 2 * time.Second, onMax: 4 * time.Second, offMin: 4 * time.Second, offMax: 8 * time.Second},
}

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

// between returns a duration drawn uniformly from [lo, hi).
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
}

// episodes draws the episodes of one kind of fault over a run: the first
// starts after a calm of up to p.offMax, and each lasts between p.onMin
// and p.onMax, followed by a calm between p.offMin and p.offMax. The last
// one may run past the end.
func episodes(rng *rand.Rand, p pacing, length time.Duration) []timeWindow {
	var ws []timeWindow
	for t := between(rng, 0, p.offMax); t < length; {
		on := between(rng, p.onMin, p.onMax)
		ws = append(ws, timeWindow{t, t + on})
		t += on + between(rng, p.offMin, p.offMax)
	}
	return ws
}

// minoritySchedule is the schedule of the minority nemesis. Each selected
// kind of fault comes in its own episodes (episodePacing), independent of
// the others. Drops and reorder switch the network's unreliability and
// long reordering on and off. Partitions and crashes happen only during
// their episodes and only while the servers crashed or cut off stay a
// minority (see minorityFaults). With fewer than three servers no
// partition or crash spares a majority, and none is scheduled.
func minoritySchedule(rng *rand.Rand, servers int, length time.Duration, f faultSet) []faultEvent {
	var windows [numFaults][]timeWindow
	for k := range numFaults {
		if f[k] && (servers >= 3 || k == drops || k == reorder) {
			windows[k] = episodes(rng, episodePacing[k], length)
		}
	}
	var events []faultEvent
	for _, k := range []fault{drops, reorder} {
		for _, w := range windows[k] {
			events = append(events, faultEvent{at: w.from, kind: doStart, fault: k})
			if w.to < length {
				events = append(events, faultEvent{at: w.to, kind: doStop, fault: k})
			}
		}
	}
	events = append(events, minorityFaults(rng, servers, length, windows[partitions], windows[crashes])...)
	sort.SliceStable(events, func(i, j int) bool { return events[i].at < events[j].at })
	return events
}

// minorityFaults schedules partitions during the episodes pw and crashes
// during the episodes cw, walking through the run in time order and keeping
// track of which servers are down and which are cut off, so that together
// they stay a minority (at most (servers-1)/2).
//
// A partition episode begins with a partition and changes it about every
// partitionEvery: each cuts off one to that many servers, counting the
// crashed ones, which restart cut off if it has not healed by then. The
// episode ends by healing the network.
//
// A crash episode begins with a crash and crashes another server about
// every crashEvery; each restarts from its persisted state about downFor
// later. A crash picks a server that is up, or, when the minority is used
// up, one that is cut off, or none. The episode ends by restarting every
// server still down.
func minorityFaults(rng *rand.Rand, servers int, length time.Duration, pw, cw []timeWindow) []faultEvent {
	maxOut := (servers - 1) / 2 // the most servers that may be crashed or cut off together
	const never = time.Duration(1<<63 - 1)
	upAt := make([]time.Duration, servers) // when each crashed server restarts; 0: up
	group := make([]int, servers)          // 1: cut off
	var events []faultEvent
	emit := func(e faultEvent) { events = append(events, e) }
	// bound is the next start or end of an episode in ws[*i:].
	bound := func(ws []timeWindow, i int, in bool) time.Duration {
		switch {
		case i >= len(ws):
			return never
		case in:
			return ws[i].to
		default:
			return ws[i].from
		}
	}
	outs := func() int {
		n := 0
		for s := range servers {
			if upAt[s] > 0 || group[s] != 0 {
				n++
			}
		}
		return n
	}
	var pi, ci int    // the current or next episode of partitions, of crashes
	var inP, inC bool // in an episode of partitions, of crashes
	nextPartition, nextCrash := never, never
	for {
		restart, at := -1, never
		for s, t := range upAt {
			if t > 0 && t < at {
				restart, at = s, t
			}
		}
		pBound, cBound := bound(pw, pi, inP), bound(cw, ci, inC)
		t := min(at, pBound, cBound, nextPartition, nextCrash)
		if t >= length {
			return events
		}
		switch t {
		case at:
			upAt[restart] = 0
			emit(faultEvent{at: t, kind: doRestart, server: restart})
		case pBound:
			if inP = !inP; inP {
				emit(faultEvent{at: t, kind: doStart, fault: partitions})
				nextPartition = t
				continue
			}
			pi++
			nextPartition = never
			clear(group)
			emit(faultEvent{at: t, kind: doPartition, group: make([]int, servers)})
			emit(faultEvent{at: t, kind: doStop, fault: partitions})
		case cBound:
			if inC = !inC; inC {
				emit(faultEvent{at: t, kind: doStart, fault: crashes})
				nextCrash = t
				continue
			}
			ci++
			nextCrash = never
			for s := range servers {
				if upAt[s] > 0 {
					upAt[s] = 0
					emit(faultEvent{at: t, kind: doRestart, server: s})
				}
			}
			emit(faultEvent{at: t, kind: doStop, fault: crashes})
		case nextPartition:
			nextPartition += jitter(rng, partitionEvery, 0.5, 1.5)
			clear(group)
			want, n := 1+rng.IntN(maxOut), outs()
			for _, s := range rng.Perm(servers) {
				if want == 0 {
					break
				}
				if upAt[s] > 0 {
					group[s], want = 1, want-1 // already out: costs nothing
				} else if n < maxOut {
					group[s], want, n = 1, want-1, n+1
				}
			}
			emit(faultEvent{at: t, kind: doPartition, group: append([]int(nil), group...)})
		default:
			nextCrash += jitter(rng, crashEvery, 0.5, 1.5)
			n := outs()
			var candidates []int
			for s := range servers {
				if upAt[s] == 0 && (n < maxOut || group[s] != 0) {
					candidates = append(candidates, s)
				}
			}
			if len(candidates) == 0 {
				continue
			}
			s := candidates[rng.IntN(len(candidates))]
			upAt[s] = t + jitter(rng, downFor, 0.5, 2)
			emit(faultEvent{at: t, kind: doCrash, server: s})
		}
	}
}

// harshSchedule is the schedule of harshNemesis: every selected fault on
// from the start to the end, and partitions and crashes drawn
// independently. At most a minority of servers is down at any moment and
// each partition cuts off a minority, so that healing the network always
// lets the service make progress; but the two together may leave no
// majority up and connected.
func harshSchedule(rng *rand.Rand, servers int, length time.Duration, f faultSet) []faultEvent {
	var events []faultEvent
	for k := range numFaults {
		if f[k] {
			events = append(events, faultEvent{at: 0, kind: doStart, fault: k})
		}
	}
	if f[partitions] {
		for t := jitter(rng, partitionEvery, 0.5, 1.5); t < length; t += jitter(rng, partitionEvery, 0.5, 1.5) {
			events = append(events, faultEvent{at: t, kind: doPartition, group: randomPartition(rng, servers)})
		}
	}
	if f[crashes] {
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
