package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// outcome is how one run ended.
type outcome int

const (
	passed      outcome = iota
	failed              // the binary failed, or stress could not run it
	interrupted         // stopped by the session's cancellation: neither passed nor failed
)

// result describes one finished run.
type result struct {
	number   int // 1-based run number, as in the log file's name
	outcome  outcome
	duration time.Duration
	exitErr  error    // failed: how the binary ended, e.g. "exit status 1"
	logPath  string   // failed: where its output is kept; "" if it could not be kept
	findings []string // failed: failing tests and notable events, from diagnose
	problem  error    // failed: stress itself could not run the binary or keep its output
}

// runner runs one test binary many times, a fixed number at a time, and
// keeps the output of the runs that fail.
type runner struct {
	binary  string   // path of the test binary
	args    []string // the binary's arguments, the same for every run
	dir     string   // working directory of every run: the package's source
	outDir  string   // failing runs' output is moved here
	scratch string   // output of runs in progress; inside outDir, so a rename moves it
	total   int      // runs to make, >= 1
	workers int      // runs at the same time, >= 1
}

// testArgs returns the test binary's arguments for cfg. The defaults are go
// test's: no cached results to skip a run (-test.count=1), and a test that
// calls os.Exit(0) counts as a failure (-test.paniconexit0).
func testArgs(cfg config) []string {
	args := []string{"-test.count=1", "-test.paniconexit0"}
	if cfg.pattern != "" {
		args = append(args, "-test.run="+cfg.pattern)
	}
	if cfg.timeout > 0 {
		args = append(args, "-test.timeout="+cfg.timeout.String())
	}
	if cfg.verbose {
		args = append(args, "-test.v")
	}
	return args
}

// logName returns the file name of run number's kept output: zero-padded
// to the width of total, so that a directory listing is in run order.
func logName(number, total int) string {
	width := len(strconv.Itoa(total))
	return fmt.Sprintf("run-%0*d.log", width, number)
}

// tally accumulates the results of a session.
type tally struct {
	passed      int
	failed      int
	interrupted int
	busy        time.Duration // summed duration of the runs that passed or failed
	failures    []result      // in the order they finished
}

// add counts res.
func (t *tally) add(res result) {
	switch res.outcome {
	case passed:
		t.passed++
		t.busy += res.duration
	case failed:
		t.failed++
		t.busy += res.duration
		t.failures = append(t.failures, res)
	case interrupted:
		t.interrupted++
	}
}

// done is the number of runs that passed or failed.
func (t *tally) done() int { return t.passed + t.failed }

// status returns the progress snapshot for r, elapsed after the start.
func (t *tally) status(r *runner, elapsed time.Duration) status {
	s := status{total: r.total, done: t.done(), failed: t.failed, elapsed: elapsed, workers: r.workers}
	if s.done > 0 {
		s.mean = t.busy / time.Duration(s.done)
	}
	return s
}

// runAll makes r.total runs, r.workers at a time, reporting each finished
// run and the passing of time to p. It blocks until every run has
// finished or ctx is cancelled; in the latter case runs in progress are
// killed, no new ones start, and runAll returns once every child is gone.
// The workers it starts have all ended when it returns.
func (r *runner) runAll(ctx context.Context, p *progressPrinter) tally {
	jobs := make(chan int, r.total)
	for number := 1; number <= r.total; number++ {
		jobs <- number
	}
	close(jobs)

	results := make(chan result)
	var workers sync.WaitGroup
	for range min(r.workers, r.total) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for number := range jobs {
				if ctx.Err() != nil {
					return
				}
				results <- r.runOnce(ctx, number)
			}
		}()
	}
	go func() {
		workers.Wait()
		close(results)
	}()

	var t tally
	start := time.Now()
	p.update(t.status(r, 0)) // a terminal shows the line before the first run ends
	ticker := time.NewTicker(p.tickInterval())
	defer ticker.Stop()
	for {
		select {
		case res, ok := <-results:
			if !ok {
				return t
			}
			t.add(res)
			if res.outcome == failed {
				p.note(describeFailure(res))
			}
			p.update(t.status(r, time.Since(start)))
		case <-ticker.C:
			p.tick(t.status(r, time.Since(start)))
		}
	}
}

// runOnce runs the binary once as run number. Its output goes to a scratch
// file, deleted if the run passes and moved to the output directory if it
// fails.
func (r *runner) runOnce(ctx context.Context, number int) result {
	res := result{number: number, outcome: failed}
	out, err := os.CreateTemp(r.scratch, "run-*.out")
	if err != nil {
		res.problem = fmt.Errorf("cannot create a file for its output: %v", err)
		return res
	}
	defer os.Remove(out.Name()) // a no-op once the file has been moved

	cmd := command(ctx, r.dir, r.binary, r.args...)
	cmd.Stdout = out // one *os.File for both: the child writes to it directly,
	cmd.Stderr = out // interleaved as on a terminal, and no pipe can stall Wait
	start := time.Now()
	runErr := cmd.Run()
	res.duration = time.Since(start)

	switch {
	case runErr == nil:
		res.outcome = passed
		out.Close()
		return res
	case ctx.Err() != nil:
		res.outcome = interrupted
		out.Close()
		return res
	}

	res.exitErr = runErr
	_, err = fmt.Fprintf(out, "\n--- stress: run %d of %d failed after %v: %v\n",
		number, r.total, res.duration.Round(time.Millisecond), runErr)
	if closeErr := out.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		res.problem = fmt.Errorf("cannot write its output: %v", err)
		return res
	}
	path := filepath.Join(r.outDir, logName(number, r.total))
	if err := os.Rename(out.Name(), path); err != nil {
		res.problem = fmt.Errorf("cannot keep its output: %v", err)
		return res
	}
	res.logPath = path
	res.findings, res.problem = diagnoseFile(path)
	return res
}
