package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"6.5840/models"
	"6.5840/porcupine"
)

// monitor prints the status line and counts leader changes.
type monitor struct {
	c          *cluster
	hist       *history
	cfg        config
	out        io.Writer
	isTerminal bool
	interval   time.Duration

	lastDone      int64
	lastTime      time.Time
	lastLeader    int
	lastTerm      int
	leaderChanges int
	printed       bool // a status line is on the terminal, unfinished
}

func newMonitor(c *cluster, hist *history, cfg config, out io.Writer, isTerminal bool) *monitor {
	interval := cfg.statusInterval
	if interval <= 0 {
		interval = time.Second
	}
	return &monitor{c: c, hist: hist, cfg: cfg, out: out, isTerminal: isTerminal,
		interval: interval, lastTime: hist.start, lastLeader: -1}
}

// watchLeader notes a change of leader (a new leader, or a new term).
func (m *monitor) watchLeader() {
	st := m.c.observe()
	if st.leader < 0 {
		return
	}
	if st.leader != m.lastLeader || st.term != m.lastTerm {
		if m.lastLeader >= 0 {
			m.leaderChanges++
		}
		m.lastLeader, m.lastTerm = st.leader, st.term
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
	if st.leader >= 0 {
		leader = fmt.Sprintf("S%d term %d", st.leader, st.term)
	}
	line := fmt.Sprintf("%4.0fs/%.0fs  ops %d  ops/s %.0f  leader %s  crashed %s  cut off %s",
		now.Sub(m.hist.start).Seconds(), m.cfg.duration.Seconds(), done, rate, leader,
		serverList(st.crashed), serverList(st.cutOff))
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
	Config       configSummary  `json:"config"`
	Interrupted  bool           `json:"interrupted"`
	Seconds      float64        `json:"seconds"`
	Ops          int            `json:"ops"`
	OpsByKind    map[string]int `json:"ops_by_kind"`
	OpenOps      int            `json:"open_ops"`
	OpsPerSecond float64        `json:"ops_per_second"`
	LatencyP50   float64        `json:"latency_p50_ms"`
	LatencyP99   float64        `json:"latency_p99_ms"`
	LatencyMax   float64        `json:"latency_max_ms"`
	RPCs         int            `json:"rpcs"`
	Bytes        int64          `json:"bytes"`
	LeaderChange int            `json:"leader_changes"`
	SnapsTaken   int            `json:"snapshots_taken"`
	SnapsInstall int            `json:"snapshots_installed"`
	MaxRaftState int            `json:"max_raft_state_bytes"`
	Linearizable string         `json:"linearizable"`
	CheckSeconds float64        `json:"check_seconds"`
	HTML         string         `json:"html,omitempty"`
	HTMLError    string         `json:"html_error,omitempty"`
}

// configSummary echoes the run's settings.
type configSummary struct {
	Servers      int    `json:"servers"`
	Clients      int    `json:"clients"`
	Duration     string `json:"duration"`
	Faults       string `json:"faults"`
	MaxRaftState int    `json:"maxraftstate"`
	Keys         int    `json:"keys"`
	Seed         uint64 `json:"seed"`
}

func describe(cfg config) configSummary {
	return configSummary{Servers: cfg.servers, Clients: cfg.clients, Duration: cfg.duration.String(),
		Faults: cfg.faults.String(), MaxRaftState: cfg.maxraftstate, Keys: cfg.keys, Seed: cfg.seed}
}

func (s *summary) fill(completed []porcupine.Operation, open int, elapsed time.Duration,
	rpcs int, bytes int64, leaderChanges int, st clusterState) {
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
	s.LeaderChange = leaderChanges
	s.SnapsTaken, s.SnapsInstall = st.taken, st.install
	s.MaxRaftState = st.maxState
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
	fmt.Fprintf(w, "network        %d RPCs, %s\n", s.RPCs, byteSize(s.Bytes))
	fmt.Fprintf(w, "raft           %d leader changes, %d snapshots taken, %d installed, largest persisted state %s\n",
		s.LeaderChange, s.SnapsTaken, s.SnapsInstall, byteSize(int64(s.MaxRaftState)))
	fmt.Fprintf(w, "linearizable: %s (checked in %.2f s)\n", s.Linearizable, s.CheckSeconds)
	if s.HTML != "" {
		fmt.Fprintf(w, "visualization: %s\n", s.HTML)
	} else if s.HTMLError != "" {
		fmt.Fprintf(w, "visualization not written: %s\n", s.HTMLError)
	}
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
