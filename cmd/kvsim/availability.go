package main

import (
	"sort"
	"time"
)

// What a run measures of availability. A sample, taken every
// sampleInterval, looks at every server: up or crashed, its partition
// group, its term and whether it believes it leads (the last two as the
// server's poller last read them, at most about pollInterval ago; see
// cluster). From those:
//
//   - a connected majority exists when more than half of all servers are up
//     and in one partition group (the network may still drop or delay
//     their messages: that is a fault the service must ride out);
//   - a leader is a server that believes it leads term T and has a
//     majority of all servers, itself included, up, in its group and at
//     term T: servers that would accept its AppendEntries, so it can commit.
//     A server that still thinks it leads but has been cut off, or whose
//     followers moved to a higher term, is not a leader.
//
// The time with a connected majority but no leader is the time users wait
// that the faults do not excuse. Its stretches are measured to about one
// sample interval.

// sampleInterval is how often the cluster is sampled: fine enough to
// measure leaderless stretches to about 10 ms, coarse enough to cost
// nothing.
const sampleInterval = 10 * time.Millisecond

// serverView is what one sample sees of one server.
type serverView struct {
	up       bool
	group    int // partition group; servers talk only within a group
	term     int
	isLeader bool // the server believes it leads term
}

// sample is the verdict of one sample.
type sample struct {
	majority bool // more than half of the servers are up and in one group
	leader   int  // -1: none, by the definition above
	term     int  // the leader's term
}

// assess judges one sample: whether a connected majority exists, and which
// server, if any, leads it. It is pure, for table tests.
func assess(views []serverView) sample {
	n := len(views)
	s := sample{leader: -1}
	upIn := map[int]int{} // up servers per group
	for _, v := range views {
		if v.up {
			upIn[v.group]++
		}
	}
	for _, k := range upIn {
		if 2*k > n {
			s.majority = true
		}
	}
	for i, v := range views {
		if !v.up || !v.isLeader {
			continue
		}
		followers := 0 // up, in its group, in its term; itself included
		for _, w := range views {
			if w.up && w.group == v.group && w.term == v.term {
				followers++
			}
		}
		if 2*followers > n {
			s.leader, s.term = i, v.term
		}
	}
	return s
}

// availability accumulates samples into the figures the summary reports.
// Each sample's verdict holds from its time to the next sample's.
type availability struct {
	started bool
	last    time.Duration // time of the last sample, since the start of the run
	prev    sample

	majority   time.Duration // total time with a connected majority
	leaderless time.Duration // of which without a leader
	inStretch  bool          // a leaderless stretch is in progress
	stretch    time.Duration // its length so far
	stretchAt  time.Duration // when it began
	longest    time.Duration // the longest leaderless stretch
	longestAt  time.Duration // when it began
	stretches  int           // leaderless stretches, the one in progress included
	windows    []timeWindow  // when a connected majority existed, in order
	changes    int           // leader changes: a new leader or a new term
	lastLeader sample        // the last leader seen; leader -1 before the first
}

// timeWindow is a span of run time, [from, to).
type timeWindow struct{ from, to time.Duration }

func newAvailability() *availability {
	return &availability{lastLeader: sample{leader: -1}}
}

// add records a sample taken at time at; samples come in time order.
func (a *availability) add(at time.Duration, s sample) {
	if a.started {
		a.advance(at)
	}
	a.started = true
	a.last, a.prev = at, s
	if s.leader >= 0 {
		if a.lastLeader.leader >= 0 && (s.leader != a.lastLeader.leader || s.term != a.lastLeader.term) {
			a.changes++
		}
		a.lastLeader = s
	}
	switch {
	case !s.majority || s.leader >= 0:
		a.inStretch = false
	case !a.inStretch:
		a.inStretch, a.stretch, a.stretchAt = true, 0, at
		a.stretches++
	}
}

// advance credits the time since the last sample to the last verdict.
func (a *availability) advance(at time.Duration) {
	dt := at - a.last
	if dt <= 0 || !a.prev.majority {
		return
	}
	a.majority += dt
	if n := len(a.windows); n > 0 && a.windows[n-1].to == a.last {
		a.windows[n-1].to = at
	} else {
		a.windows = append(a.windows, timeWindow{a.last, at})
	}
	if a.inStretch {
		a.leaderless += dt
		a.stretch += dt
		if a.stretch > a.longest {
			a.longest, a.longestAt = a.stretch, a.stretchAt
		}
	}
}

// finish credits the time up to at, the end of the measured run.
func (a *availability) finish(at time.Duration) {
	if a.started {
		a.advance(at)
		a.last = at
	}
	a.inStretch = false
}

// during counts the times (since the start of the run) that fall in a
// window with a connected majority.
func (a *availability) during(times []time.Duration) int {
	n := 0
	for _, t := range times {
		i := sort.Search(len(a.windows), func(i int) bool { return a.windows[i].to > t })
		if i < len(a.windows) && a.windows[i].from <= t {
			n++
		}
	}
	return n
}
