package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// isAlive reports whether pid names a live process: one that exists and
// is not a zombie waiting for a parent to reap it (a killed grandchild is
// reaped by init, which may take a moment).
func isAlive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name, which may itself
	// hold spaces and parentheses.
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	fields := strings.Fields(string(rest))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// TestStressInterruptKillsRunsAndTheirChildren: cancelling the session
// (what Ctrl-C does) while runs are in progress kills each test binary and
// the process it started, reports what finished, and exits 130.
func TestStressInterruptKillsRunsAndTheirChildren(t *testing.T) {
	root := writeTargetModule(t)
	markers := t.TempDir()
	t.Setenv("STRESS_E2E_MARKERS", markers)
	const workers = 2

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer // read only once stressMain has returned
	var code int
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		code = stressMain(ctx, []string{"-n", "10", "-p", strconv.Itoa(workers), "-run", "^TestSleeps$",
			"-o", filepath.Join(t.TempDir(), "out"), "./target"}, console{stdout: &stdout, stderr: &stderr, workDir: root})
	}()
	t.Cleanup(func() { // on every path, so no run outlives the test
		cancel()
		<-finished
	})

	// Each run and the copy it starts record their pids: wait for all of them.
	var pids []int
	deadline := time.Now().Add(90 * time.Second)
	for len(pids) < 2*workers {
		if time.Now().After(deadline) {
			cancel()
			<-finished
			t.Fatalf("only %d of %d processes started in time; stdout:\n%s\nstderr:\n%s", len(pids), 2*workers, stdout.String(), stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
		names, err := os.ReadDir(markers)
		if err != nil {
			t.Fatal(err)
		}
		pids = pids[:0]
		for _, name := range names {
			pid, err := strconv.Atoi(strings.TrimPrefix(name.Name(), "pid-"))
			if err != nil {
				t.Fatalf("unexpected marker %q", name.Name())
			}
			pids = append(pids, pid)
		}
	}

	cancel()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		t.Fatal("stress did not return within 30s of the interrupt")
	}
	if code != exitInterrupted {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "stress: interrupted: 0 of 10 runs finished, 2 stopped, 8 not started") {
		t.Fatalf("the interruption was not reported:\n%s", out)
	}
	if !strings.HasSuffix(out, "\n0 passed, 0 failed\n") {
		t.Fatalf("output does not end with the counts:\n%s", out)
	}

	deadline = time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for isAlive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d outlived the interrupt (pids: %v)", pid, pids)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
