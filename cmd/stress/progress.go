package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// status is a snapshot of a stress session, the input of the progress line.
type status struct {
	total   int           // runs asked for
	done    int           // runs finished, passed or failed
	failed  int           // runs finished that failed
	elapsed time.Duration // since the first run started
	mean    time.Duration // mean duration of the finished runs; 0 if none
	workers int           // runs at the same time
}

// estimateRemaining estimates the time left: each run still to do takes
// the mean duration of the runs finished so far (measured under the same
// load), and min(workers, runs left) of them run at the same time. It
// returns false while nothing has finished, when there is no mean to go on.
func estimateRemaining(s status) (time.Duration, bool) {
	left := s.total - s.done
	if left <= 0 {
		return 0, true
	}
	if s.done == 0 || s.mean <= 0 || s.workers < 1 {
		return 0, false
	}
	parallel := min(s.workers, left)
	// In floating point, so a huge -n cannot overflow; capped at a
	// century, which formatDuration still prints sensibly.
	estimate := float64(s.mean) * float64(left) / float64(parallel)
	const century = 100 * 365 * 24 * time.Hour
	if estimate > float64(century) {
		return century, true
	}
	return time.Duration(estimate), true
}

// formatDuration renders d for a person: whole seconds, at most three
// units, e.g. "0s", "45s", "3m07s", "2h05m00s". Fractions of a second
// are rounded; negative durations are shown as "0s".
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	seconds := int64(d.Round(time.Second) / time.Second)
	h, m, s := seconds/3600, seconds/60%60, seconds%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	default:
		return fmt.Sprintf("%ds", s)
	}
}

// formatCounts renders the part of the progress line that holds at the
// end too, e.g. "37/100 done, 2 failed, 1m05s elapsed".
func formatCounts(s status) string {
	return fmt.Sprintf("%d/%d done, %d failed, %s elapsed", s.done, s.total, s.failed, formatDuration(s.elapsed))
}

// formatProgress renders the progress line, e.g.
// "37/100 done, 2 failed, 1m05s elapsed, about 1m50s left".
func formatProgress(s status) string {
	line := formatCounts(s)
	if s.done >= s.total {
		return line
	}
	if left, ok := estimateRemaining(s); ok {
		return line + ", about " + formatDuration(left) + " left"
	}
	return line + ", estimating time left"
}

// progressPrinter writes the progress line and the notes between its
// updates (a run failed, ...). On a terminal it keeps one line at the
// bottom and rewrites it in place with a carriage return; elsewhere it
// prints a plain line on each tick. Only the session's collecting
// goroutine calls it.
type progressPrinter struct {
	w        io.Writer
	terminal bool
	lineLen  int // length of the progress line now on the terminal; 0: none
}

// newProgressPrinter returns a printer writing to w, in place if terminal.
func newProgressPrinter(w io.Writer, terminal bool) *progressPrinter {
	return &progressPrinter{w: w, terminal: terminal}
}

// tickInterval is how often the session should call tick: once a second
// keeps a terminal's elapsed time current; ten seconds keeps a log short.
func (p *progressPrinter) tickInterval() time.Duration {
	if p.terminal {
		return time.Second
	}
	return 10 * time.Second
}

// update reports that s changed because a run finished. A terminal shows
// it at once; a log waits for the next tick.
func (p *progressPrinter) update(s status) {
	if p.terminal {
		p.redraw(formatProgress(s))
	}
}

// tick is called every tickInterval.
func (p *progressPrinter) tick(s status) {
	if p.terminal {
		p.redraw(formatProgress(s))
		return
	}
	fmt.Fprintln(p.w, formatProgress(s))
}

// note prints line on a line of its own, above the progress line.
func (p *progressPrinter) note(line string) {
	p.clear()
	fmt.Fprintln(p.w, line)
}

// finish prints the final progress line, without an estimate (the session
// may have been interrupted), and leaves the cursor below it.
func (p *progressPrinter) finish(s status) {
	p.note(formatCounts(s))
}

// redraw replaces the progress line on the terminal with line, padding
// with spaces to cover a longer previous line.
func (p *progressPrinter) redraw(line string) {
	pad := ""
	if n := p.lineLen - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprint(p.w, "\r"+line+pad)
	p.lineLen = len(line)
}

// clear erases the progress line from the terminal, if one is shown, and
// returns the cursor to the start of the line.
func (p *progressPrinter) clear() {
	if p.lineLen > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.lineLen)+"\r")
		p.lineLen = 0
	}
}
