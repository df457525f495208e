package main

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDiagnoseFindsFailedTestsTimeoutsAndRaces pins what diagnose picks out
// of a test binary's output.
func TestDiagnoseFindsFailedTestsTimeoutsAndRaces(t *testing.T) {
	tests := []struct {
		name   string
		output string
		want   []string
	}{
		{"passing run", "=== RUN   TestA\n--- PASS: TestA (0.00s)\nPASS\n", nil},
		{"one failure", "--- FAIL: TestA (0.01s)\n    a_test.go:3: boom\nFAIL\n", []string{"TestA"}},
		{
			"subtest, indented, then its parent",
			"    --- FAIL: TestA/sub (0.00s)\n--- FAIL: TestA (0.00s)\n",
			[]string{"TestA/sub", "TestA"},
		},
		{"repeated name", "--- FAIL: TestA (0.00s)\n--- FAIL: TestA (0.00s)\n", []string{"TestA"}},
		{"no trailing newline", "--- FAIL: TestB (1.50s)", []string{"TestB"}},
		{
			"timeout panic",
			"panic: test timed out after 1s\n\trunning tests:\n\t\tTestSleeps (1s)\n",
			[]string{findingTimeout},
		},
		{
			"data race then the failure it causes",
			"==================\nWARNING: DATA RACE\nWrite at 0x00c0000 by goroutine 7:\n==================\n--- FAIL: TestRace (0.00s)\n    testing.go:1490: race detected during execution of test\n",
			[]string{findingDataRace, "TestRace"},
		},
		{"marker inside a line is not a marker", "log: saw --- FAIL: TestX in a message\n", nil},
		{
			"marker after a very long line",
			strings.Repeat("x", 10000) + "--- FAIL: TestHidden\n--- FAIL: TestShown (0.00s)\n",
			[]string{"TestShown"},
		},
		{"empty output", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := diagnose(strings.NewReader(tc.output))
			if err != nil {
				t.Fatalf("diagnose: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("diagnose(%.60q) = %q, want %q", tc.output, got, tc.want)
			}
		})
	}
}

// TestLogNameSortsInRunOrder checks that kept files are zero-padded to the
// width of the run count.
func TestLogNameSortsInRunOrder(t *testing.T) {
	tests := []struct {
		number, total int
		want          string
	}{
		{1, 1, "run-1.log"},
		{7, 9, "run-7.log"},
		{7, 10, "run-07.log"},
		{10, 10, "run-10.log"},
		{42, 1000, "run-0042.log"},
	}
	for _, tc := range tests {
		if got := logName(tc.number, tc.total); got != tc.want {
			t.Errorf("logName(%d, %d) = %q, want %q", tc.number, tc.total, got, tc.want)
		}
	}
}

// TestTestArgsFollowGoTestDefaults checks the flags every run gets.
func TestTestArgsFollowGoTestDefaults(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
		want []string
	}{
		{"nothing asked", config{}, []string{"-test.count=1", "-test.paniconexit0"}},
		{
			"pattern, timeout and verbose",
			config{pattern: "Figure8/x", timeout: 90 * time.Second, verbose: true},
			[]string{"-test.count=1", "-test.paniconexit0", "-test.run=Figure8/x", "-test.timeout=1m30s", "-test.v"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := testArgs(tc.cfg); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("testArgs(%+v) = %q, want %q", tc.cfg, got, tc.want)
			}
		})
	}
}

// TestDescribeFailureNamesTestsOrExitStatus pins the line announcing a
// failed run.
func TestDescribeFailureNamesTestsOrExitStatus(t *testing.T) {
	tests := []struct {
		name string
		res  result
		want string
	}{
		{
			"failed tests",
			result{number: 7, duration: 12345 * time.Millisecond, findings: []string{"TestA", "TestB"}, logPath: "/d/run-007.log", exitErr: errors.New("exit status 1")},
			"run 7 failed after 12.35s: TestA, TestB; output in /d/run-007.log",
		},
		{
			"crash before any test reported",
			result{number: 2, duration: 4 * time.Millisecond, logPath: "/d/run-2.log", exitErr: errors.New("exit status 2")},
			"run 2 failed after 4ms: exit status 2; output in /d/run-2.log",
		},
		{
			"output not kept",
			result{number: 3, duration: 2 * time.Minute, problem: errors.New("cannot keep its output: disk full")},
			"run 3 failed after 2m00s; stress: cannot keep its output: disk full",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := describeFailure(tc.res); got != tc.want {
				t.Fatalf("describeFailure =\n  %q, want\n  %q", got, tc.want)
			}
		})
	}
}

// TestCountFindingsMostFrequentFirst checks the per-test failure counts.
func TestCountFindingsMostFrequentFirst(t *testing.T) {
	failures := []result{
		{findings: []string{"TestB"}},
		{findings: []string{"TestA", findingDataRace}},
		{findings: []string{"TestB", "TestA"}},
		{findings: []string{"TestB"}},
		{},
	}
	want := []findingCount{{"TestB", 3}, {"TestA", 2}, {findingDataRace, 1}}
	if got := countFindings(failures); !reflect.DeepEqual(got, want) {
		t.Fatalf("countFindings = %+v, want %+v", got, want)
	}
}

// TestWriteSummaryEndsWithCounts checks the summary of a finished and of an
// interrupted session: the kept files in run order, the interruption, and
// the final "N passed, M failed" line.
func TestWriteSummaryEndsWithCounts(t *testing.T) {
	t.Run("finished with failures", func(t *testing.T) {
		tl := tally{passed: 8, failed: 2, failures: []result{
			{number: 9, findings: []string{"TestA"}, logPath: "/d/run-09.log"},
			{number: 3, findings: []string{"TestA"}, logPath: "/d/run-03.log"},
		}}
		var out bytes.Buffer
		writeSummary(&out, tl, 10, "/d")
		got := out.String()
		if !strings.HasSuffix(got, "\n8 passed, 2 failed\n") {
			t.Fatalf("summary does not end with the counts:\n%s", got)
		}
		first, second := strings.Index(got, "run-03.log  TestA"), strings.Index(got, "run-09.log  TestA")
		if first < 0 || second < first {
			t.Fatalf("summary does not list the kept files in run order:\n%s", got)
		}
		if !strings.Contains(got, "in /d:") || strings.Contains(got, "interrupted") {
			t.Fatalf("summary should name the directory and no interruption:\n%s", got)
		}
		if !strings.Contains(got, "TestA") || !strings.Contains(got, "2 of 10 runs") {
			t.Fatalf("summary lacks the per-test count:\n%s", got)
		}
	})
	t.Run("interrupted without failures", func(t *testing.T) {
		var out bytes.Buffer
		writeSummary(&out, tally{passed: 5, interrupted: 2}, 20, "/d")
		want := "stress: interrupted: 5 of 20 runs finished, 2 stopped, 13 not started\n5 passed, 0 failed\n"
		if got := out.String(); got != want {
			t.Fatalf("summary =\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("long list is cut", func(t *testing.T) {
		var tl tally
		for i := 1; i <= maxListedFailures+5; i++ {
			tl.add(result{number: i, outcome: failed, logPath: "/d/" + logName(i, 100)})
		}
		var out bytes.Buffer
		writeSummary(&out, tl, 100, "/d")
		if got := strings.Count(out.String(), ".log"); got != maxListedFailures {
			t.Fatalf("summary lists %d files, want %d:\n%s", got, maxListedFailures, out.String())
		}
		if !strings.Contains(out.String(), "... and 5 more") {
			t.Fatalf("summary does not say how many it left out:\n%s", out.String())
		}
	})
}
