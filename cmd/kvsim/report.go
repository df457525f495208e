package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"6.5840/models"
	"6.5840/porcupine"
)

// monitor samples the cluster's availability and prints the status line.
// Its own goroutine (run) samples every sampleInterval and prints every
// interval; the goroutine that applies the fault schedule also samples,
// right after each change, so that the figures see every change at the
// moment it happened, whenever run gets the CPU. A sample never waits for
// a peer (see cluster.views).
type monitor struct {
	c          *cluster
	hist       *history
	cfg        config
	out        io.Writer
	isTerminal bool
	interval   time.Duration
	end        atomic.Int64 // when the run ends, since its start; later samples are not counted

	mu    sync.Mutex // guards avail; a sample reads the clock and the cluster holding it, so samples come in time order
	avail *availability

	// Only the goroutine printing status lines uses these: run's, then,
	// once run has returned, simulate's.
	lastDone int64
	lastTime time.Time
	printed  bool // a status line is on the terminal, unfinished
}

func newMonitor(c *cluster, hist *history, cfg config, out io.Writer, isTerminal bool) *monitor {
	interval := cfg.statusInterval
	if interval <= 0 {
		interval = time.Second
	}
	m := &monitor{c: c, hist: hist, cfg: cfg, out: out, isTerminal: isTerminal,
		interval: interval, lastTime: hist.start, avail: newAvailability()}
	m.end.Store(int64(cfg.duration))
	return m
}

// run samples the cluster every sampleInterval and prints the status line
// every interval, until stop is closed.
func (m *monitor) run(stop <-chan struct{}) {
	tick := time.NewTicker(m.interval)
	defer tick.Stop()
	sampler := time.NewTicker(sampleInterval)
	defer sampler.Stop()
	m.sample()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			m.print()
		case <-sampler.C:
			if m.cfg.beforeSample != nil {
				m.cfg.beforeSample(time.Since(m.hist.start), m.c)
			}
			m.sample()
		}
	}
}

// endAt says the run ended at end, since its start. Any goroutine may call it.
func (m *monitor) endAt(end time.Duration) { m.end.Store(int64(end)) }

// sample looks at the cluster now and adds what it sees to the figures,
// unless the run has ended. Any goroutine may call it.
func (m *monitor) sample() {
	m.mu.Lock()
	defer m.mu.Unlock()
	at := time.Since(m.hist.start)
	s := assess(m.c.views())
	if at <= time.Duration(m.end.Load()) {
		m.avail.add(at, s)
	}
}

// finish ends the measurement at the end of the run.
func (m *monitor) finish() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.avail.finish(time.Duration(m.end.Load()))
}

// printAtEnd writes the status line for the end of the run, unless one was
// written less than half an interval ago. Call it once run has returned.
func (m *monitor) printAtEnd() {
	if time.Since(m.lastTime) >= m.interval/2 {
		m.print()
	}
}

// print writes one status line: rewritten in place on a terminal, a plain
// line otherwise.
func (m *monitor) print() {
	now := time.Now()
	done := m.hist.done.Load()
	rate := float64(done-m.lastDone) / now.Sub(m.lastTime).Seconds()
	m.lastDone, m.lastTime = done, now
	st := m.c.observe()
	leader := "none"
	switch {
	case st.leader >= 0:
		leader = fmt.Sprintf("S%d term %d", st.leader, st.term)
	case !st.majority:
		leader = "none (no connected majority)"
	}
	line := fmt.Sprintf("%4.0fs/%.0fs  ops %d  ops/s %.0f  leader %s  crashed %s  cut off %s  faults %s",
		now.Sub(m.hist.start).Seconds(), m.cfg.duration.Seconds(), done, rate, leader,
		serverList(st.crashed), serverList(st.cutOff), st.faultsOn.list())
	if m.isTerminal {
		fmt.Fprintf(m.out, "\r\033[K%s", line)
		m.printed = true
	} else {
		fmt.Fprintln(m.out, line)
	}
}

// final ends the status line.
func (m *monitor) final() {
	if m.printed {
		fmt.Fprintln(m.out)
		m.printed = false
	}
}

func serverList(ids []int) string {
	if len(ids) == 0 {
		return "-"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprintf("S%d", id)
	}
	return strings.Join(s, ",")
}

// summary is what kvsim reports at the end, also as JSON with -json.
type summary struct {
	Config       configSummary       `json:"config"`
	Interrupted  bool                `json:"interrupted"`
	Seconds      float64             `json:"seconds"`
	Ops          int                 `json:"ops"`
	OpsByKind    map[string]int      `json:"ops_by_kind"`
	OpenOps      int                 `json:"open_ops"`
	OpsPerSecond float64             `json:"ops_per_second"`
	LatencyP50   float64             `json:"latency_p50_ms"`
	LatencyP99   float64             `json:"latency_p99_ms"`
	LatencyMax   float64             `json:"latency_max_ms"`
	Availability availabilitySummary `json:"availability"`
	FaultSeconds map[string]float64  `json:"fault_seconds"` // how long each selected fault was on
	RPCs         int                 `json:"rpcs"`
	Bytes        int64               `json:"bytes"`
	LeaderChange int                 `json:"leader_changes"`
	SnapsTaken   int                 `json:"snapshots_taken"`
	SnapsInstall int                 `json:"snapshots_installed"`
	MaxRaftState int                 `json:"max_raft_state_bytes"`
	Linearizable string              `json:"linearizable"`
	CheckSeconds float64             `json:"check_seconds"`
	HTML         string              `json:"html,omitempty"`
	HTMLShows    string              `json:"html_shows,omitempty"` // what the visualization shows, and what it leaves out
	HTMLError    string              `json:"html_error,omitempty"`
}

// availabilitySummary is what the run measured of availability while the
// faults ran (see availability.go for the definitions).
type availabilitySummary struct {
	MajoritySeconds     float64 `json:"majority_seconds"`              // time with a majority up and connected
	LeaderlessSeconds   float64 `json:"leaderless_seconds"`            // of which without a leader
	LongestLeaderlessMs float64 `json:"longest_leaderless_ms"`         // the longest such stretch
	LongestAtSeconds    float64 `json:"longest_leaderless_at_seconds"` // when it began, since the start
	LeaderlessStretches int     `json:"leaderless_stretches"`          // how many stretches
	OpsWithMajority     int     `json:"ops_with_majority"`             // operations that completed with a majority up and connected
	OpsPerSecond        float64 `json:"ops_per_second_with_majority"`  // their rate over MajoritySeconds
	SampleMs            float64 `json:"sample_ms"`                     // the sampling interval
}

// configSummary echoes the run's settings.
type configSummary struct {
	Servers      int    `json:"servers"`
	Clients      int    `json:"clients"`
	Duration     string `json:"duration"`
	Faults       string `json:"faults"`
	Nemesis      string `json:"nemesis"`
	MaxRaftState int    `json:"maxraftstate"`
	Keys         int    `json:"keys"`
	Seed         uint64 `json:"seed"`
}

func describe(cfg config) configSummary {
	return configSummary{Servers: cfg.servers, Clients: cfg.clients, Duration: cfg.duration.String(),
		Faults: cfg.faults.String(), Nemesis: cfg.nemesis.String(), MaxRaftState: cfg.maxraftstate, Keys: cfg.keys, Seed: cfg.seed}
}

func (s *summary) fill(completed []porcupine.Operation, open int, elapsed time.Duration, rpcs int, bytes int64) {
	s.Seconds = elapsed.Seconds()
	s.Ops = len(completed)
	s.OpenOps = open
	s.OpsByKind = map[string]int{}
	for _, name := range opNames {
		s.OpsByKind[name] = 0
	}
	for _, op := range completed {
		s.OpsByKind[opNames[op.Input.(models.KvInput).Op]]++
	}
	if elapsed > 0 {
		s.OpsPerSecond = float64(len(completed)) / elapsed.Seconds()
	}
	lat := latencies(completed)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	s.LatencyP50 = ms(percentile(lat, 50))
	s.LatencyP99 = ms(percentile(lat, 99))
	if len(lat) > 0 {
		s.LatencyMax = ms(lat[len(lat)-1])
	}
	s.RPCs, s.Bytes = rpcs, bytes
}

// fillFaults fills in how long each selected fault was on.
func (s *summary) fillFaults(selected faultSet, on [numFaults]time.Duration) {
	s.FaultSeconds = map[string]float64{}
	for f, yes := range selected {
		if yes {
			s.FaultSeconds[faultNames[f]] = on[f].Seconds()
		}
	}
}

// fillAvailability fills in the availability figures, and the leader
// changes, from what the monitor measured.
func (s *summary) fillAvailability(a *availability, completed []porcupine.Operation) {
	returns := make([]time.Duration, len(completed))
	for i, op := range completed {
		returns[i] = time.Duration(op.Return)
	}
	s.LeaderChange = a.changes
	s.Availability = availabilitySummary{
		MajoritySeconds:     a.majority.Seconds(),
		LeaderlessSeconds:   a.leaderless.Seconds(),
		LongestLeaderlessMs: float64(a.longest) / float64(time.Millisecond),
		LongestAtSeconds:    a.longestAt.Seconds(),
		LeaderlessStretches: a.stretches,
		OpsWithMajority:     a.during(returns),
		SampleMs:            float64(sampleInterval) / float64(time.Millisecond),
	}
	if a.majority > 0 {
		s.Availability.OpsPerSecond = float64(s.Availability.OpsWithMajority) / a.majority.Seconds()
	}
}

// writeText prints the summary for a person. The run's settings were
// printed when it started.
func (s *summary) writeText(w io.Writer) {
	if s.Interrupted {
		fmt.Fprintf(w, "interrupted after %.1f s: summarizing what ran\n", s.Seconds)
	}
	fmt.Fprintf(w, "operations     %d (get %d, put %d, append %d), %.0f/s; %d still open at the end\n",
		s.Ops, s.OpsByKind["get"], s.OpsByKind["put"], s.OpsByKind["append"], s.OpsPerSecond, s.OpenOps)
	fmt.Fprintf(w, "latency        p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", s.LatencyP50, s.LatencyP99, s.LatencyMax)
	a := s.Availability
	fmt.Fprintf(w, "availability   a connected majority for %.1f s: no leader for %.2f s of it in %d stretches, the longest %.0f ms (from %.1f s); %.0f ops/s\n",
		a.MajoritySeconds, a.LeaderlessSeconds, a.LeaderlessStretches, a.LongestLeaderlessMs, a.LongestAtSeconds, a.OpsPerSecond)
	fmt.Fprintf(w, "faults         %s\n", s.faultLine())
	fmt.Fprintf(w, "network        %d RPCs, %s\n", s.RPCs, byteSize(s.Bytes))
	fmt.Fprintf(w, "raft           %d leader changes, %d snapshots taken, %d installed, largest persisted state %s\n",
		s.LeaderChange, s.SnapsTaken, s.SnapsInstall, byteSize(int64(s.MaxRaftState)))
	fmt.Fprintf(w, "linearizable: %s (checked in %.2f s)\n", s.Linearizable, s.CheckSeconds)
	if s.HTML != "" {
		fmt.Fprintf(w, "visualization: %s\n  (%s)\n", s.HTML, s.HTMLShows)
	} else if s.HTMLError != "" {
		fmt.Fprintf(w, "visualization not written: %s\n", s.HTMLError)
	}
}

// faultLine says how long each selected fault was on, in -faults order.
func (s *summary) faultLine() string {
	var parts []string
	for _, name := range faultNames {
		if secs, ok := s.FaultSeconds[name]; ok {
			parts = append(parts, fmt.Sprintf("%s %.1f s", name, secs))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return fmt.Sprintf("on for %s (nemesis %s)", strings.Join(parts, ", "), s.Config.Nemesis)
}

func (s *summary) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
