package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestFormatDurationRoundsToSeconds pins the human-readable durations of
// the progress line.
func TestFormatDurationRoundsToSeconds(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{"zero", 0, "0s"},
		{"negative", -3 * time.Second, "0s"},
		{"under half a second", 400 * time.Millisecond, "0s"},
		{"half a second rounds up", 500 * time.Millisecond, "1s"},
		{"seconds", 45 * time.Second, "45s"},
		{"just under a minute", 59*time.Second + 600*time.Millisecond, "1m00s"},
		{"minutes", 3*time.Minute + 7*time.Second, "3m07s"},
		{"hours", 2*time.Hour + 5*time.Minute, "2h05m00s"},
		{"many hours", 31*time.Hour + 59*time.Minute + 59*time.Second, "31h59m59s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatDuration(tc.d); got != tc.want {
				t.Fatalf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

// TestEstimateRemainingSpreadsRunsOverWorkers pins the estimate: runs left
// times the mean run, divided by the runs that can go at once.
func TestEstimateRemainingSpreadsRunsOverWorkers(t *testing.T) {
	tests := []struct {
		name   string
		s      status
		want   time.Duration
		wantOK bool
	}{
		{"nothing finished yet", status{total: 10, done: 0, workers: 4}, 0, false},
		{"no mean yet", status{total: 10, done: 2, workers: 4}, 0, false},
		{"all done", status{total: 10, done: 10, workers: 4, mean: time.Second}, 0, true},
		{"one worker", status{total: 10, done: 4, workers: 1, mean: 2 * time.Second}, 12 * time.Second, true},
		{"four workers", status{total: 100, done: 20, workers: 4, mean: 10 * time.Second}, 200 * time.Second, true},
		{"fewer runs left than workers", status{total: 10, done: 8, workers: 4, mean: 3 * time.Second}, 3 * time.Second, true},
		{"uneven split", status{total: 10, done: 3, workers: 2, mean: time.Second}, 3500 * time.Millisecond, true},
		{"huge run count is capped", status{total: 1 << 62, done: 1, workers: 1, mean: time.Hour}, 100 * 365 * 24 * time.Hour, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := estimateRemaining(tc.s)
			if got != tc.want || ok != tc.wantOK {
				t.Fatalf("estimateRemaining(%+v) = %v, %v; want %v, %v", tc.s, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// TestFormatProgressShowsCountsAndEstimate pins the progress line.
func TestFormatProgressShowsCountsAndEstimate(t *testing.T) {
	tests := []struct {
		name string
		s    status
		want string
	}{
		{
			"at the start",
			status{total: 100, workers: 4, elapsed: 2 * time.Second},
			"0/100 done, 0 failed, 2s elapsed, estimating time left",
		},
		{
			"under way",
			status{total: 100, done: 37, failed: 2, workers: 4, elapsed: 65 * time.Second, mean: 4 * time.Second},
			"37/100 done, 2 failed, 1m05s elapsed, about 1m03s left",
		},
		{
			"finished",
			status{total: 100, done: 100, failed: 3, workers: 4, elapsed: time.Hour + time.Second, mean: time.Minute},
			"100/100 done, 3 failed, 1h00m01s elapsed",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatProgress(tc.s); got != tc.want {
				t.Fatalf("formatProgress(%+v) =\n  %q, want\n  %q", tc.s, got, tc.want)
			}
		})
	}
}

// TestProgressPrinterRewritesTerminalLineInPlace checks the terminal mode:
// updates overwrite one line with \r, padding over a longer old line, and
// notes appear on lines of their own after the progress line is erased.
func TestProgressPrinterRewritesTerminalLineInPlace(t *testing.T) {
	var out bytes.Buffer
	p := newProgressPrinter(&out, true)
	long := status{total: 1000, done: 10, workers: 4, elapsed: time.Second, mean: time.Second}
	short := status{total: 1000, done: 1000, workers: 4, elapsed: time.Second}
	p.update(long)
	p.tick(short)
	p.note("run 7 failed")
	p.finish(short)

	longLine, shortLine := formatProgress(long), formatProgress(short)
	want := "\r" + longLine +
		"\r" + shortLine + strings.Repeat(" ", len(longLine)-len(shortLine)) +
		"\r" + strings.Repeat(" ", len(shortLine)) + "\r" + "run 7 failed\n" + // the padding is blank already

		formatCounts(short) + "\n"
	if got := out.String(); got != want {
		t.Fatalf("terminal output =\n%q\nwant\n%q", got, want)
	}
	if got := p.tickInterval(); got != time.Second {
		t.Fatalf("terminal tick interval = %v, want 1s", got)
	}
}

// TestProgressPrinterWritesPlainLinesToLogs checks the mode for pipes and
// CI logs: no carriage returns, a line per tick and none per update.
func TestProgressPrinterWritesPlainLinesToLogs(t *testing.T) {
	var out bytes.Buffer
	p := newProgressPrinter(&out, false)
	s := status{total: 10, done: 3, failed: 1, workers: 2, elapsed: 20 * time.Second, mean: 10 * time.Second}
	p.update(s)
	if out.Len() != 0 {
		t.Fatalf("update wrote %q to a log; it should wait for the tick", out.String())
	}
	p.tick(s)
	p.note("run 3 failed")
	s.done, s.elapsed = 10, 50*time.Second
	p.finish(s)

	want := "3/10 done, 1 failed, 20s elapsed, about 35s left\n" +
		"run 3 failed\n" +
		"10/10 done, 1 failed, 50s elapsed\n"
	if got := out.String(); got != want {
		t.Fatalf("log output =\n%q\nwant\n%q", got, want)
	}
	if got := p.tickInterval(); got != 10*time.Second {
		t.Fatalf("log tick interval = %v, want 10s", got)
	}
}
