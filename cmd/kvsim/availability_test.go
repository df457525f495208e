package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestAssessFindsALeaderOnlyWithAMajorityInItsTerm(t *testing.T) {
	up := func(group, term int) serverView { return serverView{up: true, group: group, term: term} }
	lead := func(group, term int) serverView {
		return serverView{up: true, group: group, term: term, isLeader: true}
	}
	down := serverView{}
	cases := []struct {
		name  string
		views []serverView
		want  sample
	}{
		{"all up, one leader", []serverView{up(0, 3), lead(0, 3), up(0, 3), up(0, 3), up(0, 3)},
			sample{majority: true, leader: 1, term: 3}},
		{"all up, no leader", []serverView{up(0, 3), up(0, 3), up(0, 4), up(0, 3), up(0, 3)},
			sample{majority: true, leader: -1}},
		{"leader with two followers of five", []serverView{lead(0, 3), up(0, 3), up(0, 3), down, down},
			sample{majority: true, leader: 0, term: 3}},
		{"leader with one follower of five", []serverView{lead(0, 3), up(0, 3), down, down, down},
			sample{majority: false, leader: -1}},
		{"followers moved on to a higher term", []serverView{lead(0, 3), up(0, 3), up(0, 4), up(0, 4), up(0, 4)},
			sample{majority: true, leader: -1}},
		{"a restarted server behind in term does not count", []serverView{lead(0, 5), up(0, 5), up(0, 2), up(1, 5), up(1, 5)},
			sample{majority: true, leader: -1}},
		{"an old leader cut off, a new one in the majority", []serverView{lead(1, 3), up(1, 3), lead(0, 4), up(0, 4), up(0, 4)},
			sample{majority: true, leader: 2, term: 4}},
		{"an old leader cut off, no new one yet", []serverView{lead(1, 3), up(0, 3), up(0, 4), up(0, 3), up(0, 3)},
			sample{majority: true, leader: -1}},
		{"a straggler at a higher term does not depose it yet", []serverView{lead(0, 3), up(0, 3), up(0, 3), up(0, 9), up(0, 3)},
			sample{majority: true, leader: 0, term: 3}},
		{"every server alone", []serverView{lead(0, 3), up(1, 3), up(2, 3), up(3, 3), up(4, 3)},
			sample{majority: false, leader: -1}},
		{"a crashed leader is no leader", []serverView{{group: 0, term: 3, isLeader: true}, up(0, 3), up(0, 3), up(0, 3), up(0, 3)},
			sample{majority: true, leader: -1}},
		{"one server", []serverView{lead(0, 1)}, sample{majority: true, leader: 0, term: 1}},
		{"two of four is no majority", []serverView{lead(0, 2), up(0, 2), up(1, 2), up(1, 2)},
			sample{majority: false, leader: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := assess(tc.views); got != tc.want {
				t.Fatalf("assess = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestAvailabilityMeasuresLeaderlessStretchesWithAMajority(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	led := func(leader, term int) sample { return sample{majority: true, leader: leader, term: term} }
	none := sample{majority: true, leader: -1}
	split := sample{majority: false, leader: -1}
	type step struct {
		at int // ms
		s  sample
	}
	cases := []struct {
		name                       string
		steps                      []step
		end                        int
		majority, leaderless, long time.Duration
		longAt                     time.Duration
		stretches, changes         int
		windows                    []timeWindow
	}{
		{"always led", []step{{0, led(1, 1)}, {10, led(1, 1)}, {20, led(1, 1)}}, 30,
			ms(30), 0, 0, 0, 0, 0, []timeWindow{{0, ms(30)}}},
		{"one stretch", []step{{0, led(1, 1)}, {10, none}, {20, none}, {35, led(2, 2)}}, 50,
			ms(50), ms(25), ms(25), ms(10), 1, 1, []timeWindow{{0, ms(50)}}},
		{"two stretches, the second longer", []step{{0, none}, {10, led(0, 1)}, {20, none}, {50, led(0, 2)}}, 60,
			ms(60), ms(40), ms(30), ms(20), 2, 1, []timeWindow{{0, ms(60)}}},
		{"no majority is not counted and ends a stretch", []step{{0, none}, {20, split}, {70, none}, {80, led(3, 4)}}, 100,
			ms(50), ms(30), ms(20), 0, 2, 0, []timeWindow{{0, ms(20)}, {ms(70), ms(100)}}},
		{"a stretch running at the end counts", []step{{0, led(0, 1)}, {10, none}}, 500,
			ms(500), ms(490), ms(490), ms(10), 1, 0, []timeWindow{{0, ms(500)}}},
		{"same leader in a new term is a change", []step{{0, led(0, 1)}, {10, led(0, 2)}, {20, split}, {30, led(0, 2)}, {40, led(1, 3)}}, 50,
			ms(40), 0, 0, 0, 0, 2, []timeWindow{{0, ms(20)}, {ms(30), ms(50)}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newAvailability()
			for _, st := range tc.steps {
				a.add(ms(st.at), st.s)
			}
			a.finish(ms(tc.end))
			if a.majority != tc.majority || a.leaderless != tc.leaderless || a.longest != tc.long ||
				a.longestAt != tc.longAt || a.stretches != tc.stretches || a.changes != tc.changes {
				t.Fatalf("majority %v, leaderless %v, longest %v at %v, %d stretches, %d changes; want %v, %v, %v at %v, %d, %d",
					a.majority, a.leaderless, a.longest, a.longestAt, a.stretches, a.changes,
					tc.majority, tc.leaderless, tc.long, tc.longAt, tc.stretches, tc.changes)
			}
			if len(a.windows) != len(tc.windows) {
				t.Fatalf("windows %v, want %v", a.windows, tc.windows)
			}
			for i := range a.windows {
				if a.windows[i] != tc.windows[i] {
					t.Fatalf("windows %v, want %v", a.windows, tc.windows)
				}
			}
		})
	}
}

func TestAvailabilityCountsOperationsDuringMajorityWindows(t *testing.T) {
	a := &availability{windows: []timeWindow{{10, 20}, {30, 40}}}
	times := []time.Duration{0, 10, 15, 19, 20, 25, 30, 39, 40, 50}
	if got, want := a.during(times), 5; got != want { // 10, 15, 19, 30, 39
		t.Fatalf("during = %d, want %d", got, want)
	}
}

// TestCuttingOffTheLeaderMakesAMeasuredLeaderlessStretch samples a real
// cluster while its leader is cut off: the time until a new leader is
// elected (section 5.2: at least an election timeout) is a leaderless
// stretch with a connected majority, measured to about a sample interval.
func TestCuttingOffTheLeaderMakesAMeasuredLeaderlessStretch(t *testing.T) {
	c := newCluster(3, -1)
	defer c.shutdown()
	start := time.Now()
	a := newAvailability()
	sampleFor := func(d time.Duration, done func(sample) bool) sample {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			s := assess(c.views())
			a.add(time.Since(start), s)
			if done(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("no change within %v; last sample %+v", d, s)
			}
			time.Sleep(sampleInterval)
		}
	}
	first := sampleFor(10*time.Second, func(s sample) bool { return s.leader >= 0 })
	a = newAvailability() // measure from here: the first election was a stretch too
	a.add(time.Since(start), first)
	group := make([]int, 3)
	group[first.leader] = 1
	c.partition(group)
	cutAt := time.Since(start)
	second := sampleFor(10*time.Second, func(s sample) bool { return s.leader >= 0 })
	took := time.Since(start) - cutAt
	a.finish(time.Since(start))

	if second.leader == first.leader || second.term <= first.term {
		t.Fatalf("leader S%d term %d, then S%d term %d", first.leader, first.term, second.leader, second.term)
	}
	if a.longest < 100*time.Millisecond || a.longest > took+2*sampleInterval || a.stretches != 1 {
		t.Fatalf("longest leaderless stretch %v of %d; the new leader took %v", a.longest, a.stretches, took)
	}
	if a.longestAt < cutAt-2*sampleInterval || a.longestAt > cutAt+2*sampleInterval {
		t.Fatalf("the longest stretch began at %v; the leader was cut off at %v", a.longestAt, cutAt)
	}
	if a.changes != 1 {
		t.Fatalf("%d leader changes, want 1", a.changes)
	}
}

// TestTimeWithoutAMajorityIsNotCounted runs kvsim with every server alone
// for the middle second of three: the figures count only the two seconds
// with a connected majority, to within a sample or so of when the split
// and the heal were actually made.
func TestTimeWithoutAMajorityIsNotCounted(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3 s run; run without -short")
	}
	cfg, err := parseFlags([]string{"-duration", "3s", "-servers", "3", "-clients", "2", "-seed", "11",
		"-html", filepath.Join(t.TempDir(), "h.html")}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	cfg.events = []faultEvent{
		{at: time.Second, kind: doPartition, group: []int{0, 1, 2}},
		{at: 2 * time.Second, kind: doPartition, group: []int{0, 0, 0}},
	}
	// On a loaded machine the events may come late: expect the time
	// between their actual moments to be left out.
	var applied []time.Duration
	cfg.afterApply = func(e faultEvent, at time.Duration) { applied = append(applied, at) }
	sum, err := simulate(context.Background(), cfg, new(bytes.Buffer), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 2 {
		t.Fatalf("%d events applied, want 2", len(applied))
	}
	a := sum.Availability
	want := (3*time.Second - (applied[1] - applied[0])).Seconds()
	if a.MajoritySeconds < want-0.3 || a.MajoritySeconds > want+0.1 {
		t.Fatalf("a connected majority for %.2f s, want about %.2f (split from %v to %v): %+v",
			a.MajoritySeconds, want, applied[0], applied[1], a)
	}
	if a.LeaderlessSeconds > a.MajoritySeconds || a.LongestLeaderlessMs/1000 > a.LeaderlessSeconds+1e-9 {
		t.Fatalf("inconsistent: %+v", a)
	}
	if a.OpsWithMajority == 0 || a.OpsWithMajority > sum.Ops {
		t.Fatalf("%d operations with a majority, of %d: %+v", a.OpsWithMajority, sum.Ops, a)
	}
	if got := float64(a.OpsWithMajority) / a.MajoritySeconds; got != a.OpsPerSecond {
		t.Fatalf("ops/s with a majority %.1f, want %.1f", a.OpsPerSecond, got)
	}
}
