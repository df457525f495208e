package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Exit statuses; doc.go explains them to users.
const (
	exitPassed      = 0
	exitFailed      = 1
	exitUsage       = 2 // bad flags, nothing to run, or a package that does not build
	exitInterrupted = 130
)

// console is where a session talks and where it starts from.
type console struct {
	stdout   io.Writer // progress, failures, summary
	stderr   io.Writer // problems that stop the session before any run
	terminal bool      // stdout is a terminal: rewrite the progress line in place
	workDir  string    // directory PACKAGE is resolved from; "" means the current one
}

// isTerminal reports whether f is a terminal (a character device), using
// only the standard library.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// stressMain runs the command with args (without the program name) and
// returns its exit status. Cancelling ctx interrupts it: running children
// are killed and what finished is reported.
func stressMain(ctx context.Context, args []string, con console) int {
	cfg, err := parseConfig(args)
	if errors.Is(err, flag.ErrHelp) {
		writeUsage(con.stdout)
		return exitPassed
	}
	if err != nil {
		fmt.Fprintf(con.stderr, "stress: %v\nRun 'go run ./cmd/stress -h' for usage.\n", err)
		return exitUsage
	}
	return runSession(ctx, cfg, con)
}

// runSession builds the test binary, makes the runs and reports them.
func runSession(ctx context.Context, cfg config, con console) int {
	binDir, err := os.MkdirTemp("", "stress-bin-")
	if err != nil {
		fmt.Fprintf(con.stderr, "stress: %v\n", err)
		return exitUsage
	}
	defer os.RemoveAll(binDir)

	r, removeOutDir, err := prepare(ctx, cfg, con, binDir)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(con.stderr, "stress: interrupted before any run started")
			return exitInterrupted
		}
		fmt.Fprintf(con.stderr, "stress: %v\n", err)
		return exitUsage
	}

	fmt.Fprintf(con.stdout, "stress: %d runs of %s, %d at a time; output of failing runs goes to %s\n",
		cfg.runs, cfg.pkg, min(cfg.workers, cfg.runs), r.outDir)
	printer := newProgressPrinter(con.stdout, con.terminal)
	start := time.Now()
	t := r.runAll(ctx, printer)
	printer.finish(t.status(r, time.Since(start)))

	os.RemoveAll(r.scratch) // runAll has waited for every run: nothing writes there now
	if t.failed == 0 && removeOutDir {
		os.Remove(r.outDir) // ours and empty: leave no litter behind
	}
	writeSummary(con.stdout, t, cfg.runs, r.outDir)
	switch {
	case t.done() < cfg.runs:
		return exitInterrupted
	case t.failed > 0:
		return exitFailed
	default:
		return exitPassed
	}
}

// prepare does everything that can fail before the first run: it finds the
// package, builds its test binary into binDir, checks that -run matches a
// test, and creates the output directory with a scratch directory inside.
// removeOutDir reports whether the output directory is ours to remove if
// it stays empty.
func prepare(ctx context.Context, cfg config, con console, binDir string) (r *runner, removeOutDir bool, err error) {
	dir, err := packageDir(ctx, con.workDir, cfg.pkg)
	if err != nil {
		return nil, false, err
	}
	if err := checkOutDir(cfg.outDir); err != nil { // before a build that may take a while
		return nil, false, err
	}
	race := ""
	if cfg.race {
		race = " with -race"
	}
	fmt.Fprintf(con.stdout, "stress: building the test binary of %s%s\n", cfg.pkg, race)
	binary, err := buildTestBinary(ctx, con.workDir, cfg.pkg, binDir, cfg.race)
	if err != nil {
		return nil, false, err
	}
	matching, err := countMatchingTests(ctx, binary, dir, cfg.pattern)
	switch {
	case ctx.Err() != nil:
		return nil, false, ctx.Err()
	case err != nil:
		// The runs will most likely fail the same way, and keep the output.
		fmt.Fprintf(con.stderr, "stress: warning: cannot list the tests of %s: %v\n", cfg.pkg, err)
	case matching == 0 && cfg.pattern != "":
		return nil, false, &setupError{msg: fmt.Sprintf("no test in %s matches -run %q", cfg.pkg, cfg.pattern)}
	case matching == 0:
		return nil, false, &setupError{msg: fmt.Sprintf("package %s has no tests", cfg.pkg)}
	}

	outDir, removeOutDir, err := makeOutDir(cfg.outDir, filepath.Base(dir))
	if err != nil {
		return nil, false, err
	}
	scratch, err := os.MkdirTemp(outDir, ".running-")
	if err != nil {
		if removeOutDir {
			os.Remove(outDir)
		}
		return nil, false, err
	}
	return &runner{
		binary:  binary,
		args:    testArgs(cfg),
		dir:     dir,
		outDir:  outDir,
		scratch: scratch,
		total:   cfg.runs,
		workers: cfg.workers,
	}, removeOutDir, nil
}

// checkOutDir refuses a requested output directory that is not empty, so
// that old failures are never mistaken for new ones. A missing one is fine.
func checkOutDir(requested string) error {
	if requested == "" {
		return nil
	}
	entries, err := os.ReadDir(requested)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return &setupError{msg: fmt.Sprintf("-o %s: %v", requested, err)}
	case len(entries) > 0:
		return &setupError{msg: fmt.Sprintf("-o %s: directory is not empty; remove it or choose another", requested)}
	}
	return nil
}

// makeOutDir returns the absolute path of the directory for failing runs'
// output: the requested one, created if missing (checkOutDir has vetted
// it), or else a new temporary directory named after the package, which
// the caller may remove again (created is true).
func makeOutDir(requested, pkgName string) (dir string, created bool, err error) {
	if requested == "" {
		dir, err := os.MkdirTemp("", "stress-"+pkgName+"-")
		return dir, err == nil, err
	}
	if err := os.MkdirAll(requested, 0o755); err != nil {
		return "", false, &setupError{msg: fmt.Sprintf("-o %s: %v", requested, err)}
	}
	dir, err = filepath.Abs(requested)
	return dir, false, err
}
