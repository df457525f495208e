package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Findings diagnose reports besides test names.
const (
	findingTimeout  = "timed out"
	findingDataRace = "data race"
)

// diagnose reads a test binary's output and returns, in order of first
// appearance and without repeats, the names of the tests that failed
// ("--- FAIL: TestX" lines, subtests included) and two events that name no
// test of their own: a -test.timeout panic ("timed out") and a report from
// the race detector ("data race").
func diagnose(r io.Reader) ([]string, error) {
	var findings []string
	seen := make(map[string]bool)
	add := func(finding string) {
		if !seen[finding] {
			seen[finding] = true
			findings = append(findings, finding)
		}
	}
	br := bufio.NewReader(r)
	atLineStart := true
	for {
		// ReadLine hands a long line over in pieces; only a line's first
		// piece can hold a marker.
		chunk, isPrefix, err := br.ReadLine()
		if err == io.EOF {
			return findings, nil
		}
		if err != nil {
			return findings, err
		}
		if atLineStart {
			line := bytes.TrimLeft(chunk, " \t")
			switch {
			case bytes.HasPrefix(line, []byte("--- FAIL: ")):
				if fields := strings.Fields(string(line[len("--- FAIL: "):])); len(fields) > 0 {
					add(fields[0])
				}
			case bytes.HasPrefix(line, []byte("panic: test timed out after")):
				add(findingTimeout)
			case bytes.HasPrefix(line, []byte("WARNING: DATA RACE")):
				add(findingDataRace)
			}
		}
		atLineStart = !isPrefix
	}
}

// diagnoseFile is diagnose on the file at path.
func diagnoseFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	findings, err := diagnose(f)
	if err != nil {
		return findings, fmt.Errorf("cannot read its output back: %v", err)
	}
	return findings, nil
}

// what names what went wrong in a failed run: its findings, or else how
// the binary ended (a crash before any test reported, say).
func (res result) what() string {
	if len(res.findings) > 0 {
		return strings.Join(res.findings, ", ")
	}
	if res.exitErr != nil {
		return res.exitErr.Error()
	}
	return ""
}

// describeFailure renders the line announcing a failed run, e.g.
// "run 7 failed after 12s: TestFails; output in /tmp/stress-raft-1/run-007.log".
func describeFailure(res result) string {
	line := fmt.Sprintf("run %d failed after %s", res.number, formatRunDuration(res.duration))
	if what := res.what(); what != "" {
		line += ": " + what
	}
	if res.logPath != "" {
		line += "; output in " + res.logPath
	}
	if res.problem != nil {
		line += "; stress: " + res.problem.Error()
	}
	return line
}

// formatRunDuration renders how long one run took, finely under a minute,
// where a fast failure is worth telling apart from a slow one ("4ms",
// "12.35s"), and as formatDuration above.
func formatRunDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	default:
		return formatDuration(d)
	}
}

// findingCount is how many failed runs reported one finding.
type findingCount struct {
	finding string
	runs    int
}

// countFindings counts, for each finding, the failed runs that reported it:
// most frequent first, ties by name.
func countFindings(failures []result) []findingCount {
	runs := make(map[string]int)
	for _, res := range failures {
		for _, finding := range res.findings {
			runs[finding]++
		}
	}
	counts := make([]findingCount, 0, len(runs))
	for finding, n := range runs {
		counts = append(counts, findingCount{finding, n})
	}
	sort.Slice(counts, func(i, j int) bool {
		if counts[i].runs != counts[j].runs {
			return counts[i].runs > counts[j].runs
		}
		return counts[i].finding < counts[j].finding
	})
	return counts
}

// maxListedFailures bounds the list of kept files in the summary; the
// directory holds them all.
const maxListedFailures = 20

// writeSummary writes what a session found, ending with the line
// "N passed, M failed". total is the number of runs asked for; outDir holds
// the failures' output.
func writeSummary(w io.Writer, t tally, total int, outDir string) {
	if stopped := t.interrupted; t.done() < total {
		fmt.Fprintf(w, "stress: interrupted: %d of %d runs finished, %d stopped, %d not started\n",
			t.done(), total, stopped, total-t.done()-stopped)
	}
	if t.failed > 0 {
		failures := append([]result(nil), t.failures...)
		sort.Slice(failures, func(i, j int) bool { return failures[i].number < failures[j].number })
		fmt.Fprintf(w, "output of the failed runs is in %s:\n", outDir)
		for i, res := range failures {
			if i == maxListedFailures {
				fmt.Fprintf(w, "  ... and %d more\n", len(failures)-i)
				break
			}
			fmt.Fprintf(w, "  %s\n", describeKept(res))
		}
		if counts := countFindings(failures); len(counts) > 0 {
			fmt.Fprintln(w, "failures by test:")
			for _, c := range counts {
				fmt.Fprintf(w, "  %-40s %d of %d runs\n", c.finding, c.runs, t.done())
			}
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", t.passed, t.failed)
}

// describeKept renders one line of the summary's list of failed runs,
// e.g. "run-007.log  TestFails".
func describeKept(res result) string {
	name := "(output not kept)"
	if res.logPath != "" {
		name = filepath.Base(res.logPath)
	}
	line := name
	if what := res.what(); what != "" {
		line += "  " + what
	}
	if res.problem != nil {
		line += " (stress: " + res.problem.Error() + ")"
	}
	return line
}
