package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runKvsim runs kvsim with args and returns its exit status and output.
func runKvsim(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestBadFlagsExitTwoNamingTheFlag(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-servers", "0"}, "-servers"},
		{[]string{"-servers", "99"}, "-servers"},
		{[]string{"-clients", "0"}, "-clients"},
		{[]string{"-duration", "-1s"}, "-duration"},
		{[]string{"-duration", "soon"}, "-duration"},
		{[]string{"-faults", "floods"}, "-faults"},
		{[]string{"-maxraftstate", "0"}, "-maxraftstate"},
		{[]string{"-keys", "0"}, "-keys"},
		{[]string{"-nemesis", "gentle"}, "-nemesis"},
		{[]string{"-html-ops", "0"}, "-html-ops"},
		{[]string{"-html-at", "-1s"}, "-html-at"},
		{[]string{"-check-timeout", "-2s"}, "-check-timeout"},
		{[]string{"-nosuchflag"}, "nosuchflag"},
		{[]string{"extra"}, "extra"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runKvsim(t, tc.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr does not name %q:\n%s", tc.want, stderr)
			}
			if stdout != "" {
				t.Fatalf("bad flags printed on stdout:\n%s", stdout)
			}
		})
	}
}

func TestParseFaults(t *testing.T) {
	cases := []struct {
		in   string
		want faultSet
		err  bool
	}{
		{"none", faultSet{}, false},
		{"all", faultSet{true, true, true, true}, false},
		{"drops", faultSet{drops: true}, false},
		{"partitions,crashes", faultSet{partitions: true, crashes: true}, false},
		{" reorder , drops", faultSet{drops: true, reorder: true}, false},
		{"drops,bogus", faultSet{}, true},
		{"", faultSet{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseFaults(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("parseFaults(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

// TestEachFaultKindGivesALinearizableConsistentRun runs the engine briefly
// under each kind of fault and checks the verdict and that the summary's
// figures agree with each other. Each kind alone runs on the harsh
// schedule, which keeps it on for the whole run (alone, each spares a
// majority); all of them together run on the default schedule.
func TestEachFaultKindGivesALinearizableConsistentRun(t *testing.T) {
	if testing.Short() {
		t.Skip("six 3 s runs, one per fault kind; run without -short")
	}
	for _, faults := range []string{"none", "drops", "partitions", "crashes", "reorder", "all"} {
		t.Run(faults, func(t *testing.T) {
			html := filepath.Join(t.TempDir(), "history.html")
			nemesis := "harsh"
			if faults == "all" {
				nemesis = "minority"
			}
			code, stdout, stderr := runKvsim(t, "-duration", "3s", "-faults", faults, "-nemesis", nemesis, "-clients", "4",
				"-seed", "7", "-json", "-html", html)
			if code != exitLinearizable {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			var sum summary
			if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
				t.Fatalf("-json output is not JSON: %v\n%s", err, stdout)
			}
			if sum.Linearizable != "yes" {
				t.Fatalf("linearizable: %q", sum.Linearizable)
			}
			byKind := 0
			for _, n := range sum.OpsByKind {
				byKind += n
			}
			if sum.Ops == 0 || byKind != sum.Ops {
				t.Fatalf("ops %d, by kind %v (sum %d)", sum.Ops, sum.OpsByKind, byKind)
			}
			if sum.RPCs == 0 || sum.Bytes == 0 || sum.LatencyMax < sum.LatencyP99 || sum.LatencyP99 < sum.LatencyP50 {
				t.Fatalf("inconsistent figures: %+v", sum)
			}
			if sum.Config.Faults != faults || sum.Config.Nemesis != nemesis {
				t.Fatalf("summary says faults %q, nemesis %q; ran with %q, %q", sum.Config.Faults, sum.Config.Nemesis, faults, nemesis)
			}
			if on, ok := sum.FaultSeconds[faults]; nemesis == "harsh" && faults != "none" && (!ok || on < 2.9 || on > 3) {
				t.Fatalf("%s on for %.2f s of a 3 s run on the harsh schedule: %v", faults, on, sum.FaultSeconds)
			}
			if sum.HTML != html {
				t.Fatalf("summary names visualization %q, want %q", sum.HTML, html)
			}
			if info, err := os.Stat(html); err != nil || info.Size() == 0 {
				t.Fatalf("visualization not written: %v", err)
			}
			if whole := sum.Ops+sum.OpenOps <= defaultHTMLOps; whole != strings.HasPrefix(sum.HTMLShows, "the whole history") {
				t.Fatalf("a run of %d operations: the visualization shows %q", sum.Ops+sum.OpenOps, sum.HTMLShows)
			}
			checkAvailability(t, &sum, 3)
		})
	}
}

// checkAvailability checks that a summary's availability figures agree
// with each other and with a run of about length seconds, and logs them.
func checkAvailability(t *testing.T, sum *summary, length float64) {
	t.Helper()
	a := sum.Availability
	t.Logf("faults %s: majority %.2f s, leaderless %.3f s in %d stretches, longest %.0f ms at %.2f s, %.0f ops/s with a majority (%d ops)",
		sum.Config.Faults, a.MajoritySeconds, a.LeaderlessSeconds, a.LeaderlessStretches, a.LongestLeaderlessMs,
		a.LongestAtSeconds, a.OpsPerSecond, a.OpsWithMajority)
	if a.MajoritySeconds <= 0 || a.MajoritySeconds > length+0.5 || a.LeaderlessSeconds > a.MajoritySeconds ||
		a.LongestLeaderlessMs > 1000*a.LeaderlessSeconds+1e-6 || (a.LeaderlessSeconds > 0) != (a.LeaderlessStretches > 0) ||
		a.OpsWithMajority > sum.Ops || a.SampleMs != 10 {
		t.Fatalf("inconsistent availability figures: %+v", a)
	}
	if (sum.Config.Nemesis == "minority" || !strings.Contains(sum.Config.Faults, ",") && sum.Config.Faults != "all") &&
		a.MajoritySeconds < length-0.5 {
		t.Fatalf("faults %s, nemesis %s left a connected majority for only %.2f s of %.0f",
			sum.Config.Faults, sum.Config.Nemesis, a.MajoritySeconds, length)
	}
}

func TestRunCountsEveryRecordedOperation(t *testing.T) {
	cfg, err := parseFlags([]string{"-duration", "2s", "-faults", "crashes", "-clients", "3", "-seed", "3",
		"-html", filepath.Join(t.TempDir(), "h.html")}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var status bytes.Buffer
	sum, err := simulate(context.Background(), cfg, &status, false)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(status.String(), "\n")
	if lines < 1 {
		t.Fatalf("no status lines in a 2 s run:\n%s", status.String())
	}
	if !strings.Contains(status.String(), "ops/s") || strings.Contains(status.String(), "\r") {
		t.Fatalf("status for a non-terminal should be plain lines:\n%q", status.String())
	}
	if sum.Ops+sum.OpenOps == 0 || sum.OpsPerSecond <= 0 {
		t.Fatalf("summary: %+v", sum)
	}
}

func TestPlantedStaleReadIsCaught(t *testing.T) {
	cfg, err := parseFlags([]string{"-duration", "2s", "-faults", "none", "-clients", "3", "-seed", "5",
		"-html", filepath.Join(t.TempDir(), "bad.html")}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	cfg.staleRead = true
	sum, err := simulate(context.Background(), cfg, new(bytes.Buffer), false)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Linearizable != "no" {
		t.Fatalf("a history with a planted stale read was judged %q", sum.Linearizable)
	}
}

func TestInterruptStillSummarizesAndChecks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"-duration", "1m", "-faults", "none", "-clients", "2", "-seed", "9",
		"-html", filepath.Join(t.TempDir(), "h.html")}, &stdout, &stderr)
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("an interrupted run took %v", took)
	}
	if code != exitLinearizable || !strings.Contains(stdout.String(), "interrupted") ||
		!strings.Contains(stdout.String(), "linearizable: yes") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}

func TestNoLeaderIsAnError(t *testing.T) {
	cfg, err := parseFlags([]string{"-faults", "none", "-html", filepath.Join(t.TempDir(), "h.html")}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	cfg.electionWait = time.Millisecond // far too short for any election
	if _, err := simulate(context.Background(), cfg, new(bytes.Buffer), false); !errors.Is(err, errNoLeader) {
		t.Fatalf("simulate with no time to elect: %v, want errNoLeader", err)
	}
}
