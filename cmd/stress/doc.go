// Stress runs a package's tests many times, in parallel, to catch failures
// that show up once in a hundred runs: a Raft election that splits one time
// too many, a race that needs an unlucky schedule.
//
// Usage:
//
//	go run ./cmd/stress [flags] PACKAGE
//
// For example, from the repository root:
//
//	go run ./cmd/stress -n 500 -p 4 -race -run 'Figure8' ./raft
//
// Stress builds the package's test binary once (go test -c), checks that
// -run matches at least one test, then runs the binary n times, p at a time,
// each run in the package's source directory (so testdata paths work) with
// -test.count=1 and -test.paniconexit0, as go test does.
//
// Flags (all must come before PACKAGE):
//
//	-n N        number of runs (default 100)
//	-p P        runs at the same time (default 4)
//	-race       build the test binary with the race detector
//	-run REGEX  run only the tests matching REGEX, as go test -run
//	-timeout D  fail a run that takes longer than D (default 10m, as go
//	            test; 0 means no limit)
//	-o DIR      keep failing runs' output in DIR, which must be empty or
//	            missing (default: a new temporary directory)
//	-v          run the tests verbosely (-test.v), so the kept output also
//	            shows the tests that passed before the failure
//
// While it runs, stress shows one progress line: runs done, runs failed,
// time elapsed and an estimate of the time left. On a terminal the line is
// rewritten in place; otherwise (a pipe, a CI log) a plain line is printed
// every ten seconds. Each failing run is announced as it ends, with the
// names of the tests that failed, and its full output (stdout and stderr
// interleaved, followed by one line from stress giving the exit status and
// the duration) is kept in DIR as run-NNN.log, NNN being the run's number.
// Nothing of a passing run is kept. When no run failed, the default
// temporary directory is removed again.
//
// The last line of output is always "N passed, M failed".
//
// Exit status:
//
//	0    every run passed
//	1    at least one run failed
//	2    bad flags, no matching test, or a package that does not build
//	130  interrupted (Ctrl-C or SIGTERM): the runs in progress are killed,
//	     with any processes they started, and the runs that finished are
//	     reported; a second Ctrl-C ends stress at once
package main
