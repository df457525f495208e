package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// config is what the command line asks for, already validated.
type config struct {
	runs    int           // -n: how many times to run the test binary, >= 1
	workers int           // -p: runs at the same time, >= 1
	race    bool          // -race: build with the race detector
	pattern string        // -run: passed to -test.run; "" runs every test
	timeout time.Duration // -timeout: passed to -test.timeout; 0 means none
	outDir  string        // -o: where failing runs' output goes; "" means a new temp dir
	verbose bool          // -v: pass -test.v
	pkg     string        // the one package argument, as go list accepts it
}

// defaultTimeout is go test's own default, so a hung run fails with a
// goroutine dump instead of stalling the whole stress session.
const defaultTimeout = 10 * time.Minute

const usageText = `usage: go run ./cmd/stress [-n N] [-p P] [-race] [-run REGEX] [-timeout D] [-o DIR] [-v] PACKAGE

Builds PACKAGE's test binary once and runs it N times, P at a time, keeping
the full output of every failing run in DIR. Exits 0 if every run passed,
1 if any failed, 2 on bad usage or a build failure, 130 if interrupted.

flags:
`

// usageError is a problem with the command line: the caller prints it with
// a hint about -h and exits with exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// newFlagSet declares stress's flags on a fresh FlagSet that writes its
// messages to out, filling cfg with the defaults.
func newFlagSet(cfg *config, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("stress", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&cfg.runs, "n", 100, "number of runs")
	fs.IntVar(&cfg.workers, "p", 4, "runs at the same time")
	fs.BoolVar(&cfg.race, "race", false, "build the test binary with the race detector")
	fs.StringVar(&cfg.pattern, "run", "", "run only the tests matching this regular expression, as go test -run")
	fs.DurationVar(&cfg.timeout, "timeout", defaultTimeout, "fail a run that takes longer than this (0: no limit)")
	fs.StringVar(&cfg.outDir, "o", "", "directory for failing runs' output, empty or missing (default: a new temp dir)")
	fs.BoolVar(&cfg.verbose, "v", false, "run the tests verbosely (-test.v)")
	return fs
}

// writeUsage prints the usage text and the flag defaults to w.
func writeUsage(w io.Writer) {
	var cfg config
	fs := newFlagSet(&cfg, w)
	fmt.Fprint(w, usageText)
	fs.PrintDefaults()
}

// parseConfig parses and validates the command-line arguments (without the
// program name). It returns flag.ErrHelp for -h, a *usageError for anything
// wrong with the command line, and never prints.
func parseConfig(args []string) (config, error) {
	var cfg config
	fs := newFlagSet(&cfg, io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, err
		}
		// The flag package's messages already name the flag and the value,
		// e.g. `invalid value "5" for flag -timeout: missing unit in duration "5"`.
		return config{}, &usageError{msg: err.Error()}
	}
	switch fs.NArg() {
	case 0:
		return config{}, usagef("missing PACKAGE argument (for example ./raft)")
	case 1:
		cfg.pkg = fs.Arg(0)
		if strings.HasPrefix(cfg.pkg, "-") { // only possible after "--"
			return config{}, usagef("PACKAGE %q looks like a flag", cfg.pkg)
		}
	default:
		return config{}, usagef("want exactly one PACKAGE, got %q; flags must come before PACKAGE", fs.Args())
	}
	if cfg.runs < 1 {
		return config{}, usagef("-n must be at least 1, got %d", cfg.runs)
	}
	if cfg.workers < 1 {
		return config{}, usagef("-p must be at least 1, got %d", cfg.workers)
	}
	if cfg.timeout < 0 {
		return config{}, usagef("-timeout must not be negative, got %v", cfg.timeout)
	}
	if err := checkRunPattern(cfg.pattern); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// checkRunPattern reports whether pattern is one the testing package will
// accept for -test.run: each slash-separated element must compile as a
// regular expression on its own, because that is how testing matches
// subtests.
func checkRunPattern(pattern string) error {
	for _, element := range splitRunPattern(pattern) {
		if _, err := regexp.Compile(element); err != nil {
			return usagef("bad -run pattern %q: %v", pattern, err)
		}
	}
	return nil
}

// splitRunPattern splits a -run pattern into the elements the testing
// package matches against each level of test names: at every slash that is
// not escaped and not inside parentheses or a character class.
func splitRunPattern(pattern string) []string {
	var elements []string
	start := 0
	depth := 0       // open parentheses
	inClass := false // inside [...]
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\':
			i++ // the next byte is escaped, whatever it is
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
		case c == '(':
			depth++
		case c == ')':
			if depth > 0 {
				depth--
			}
		case c == '/' && depth == 0:
			elements = append(elements, pattern[start:i])
			start = i + 1
		}
	}
	return append(elements, pattern[start:])
}
