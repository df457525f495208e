package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestParseConfigAcceptsGoodCommandLines pins the defaults and each flag.
func TestParseConfigAcceptsGoodCommandLines(t *testing.T) {
	defaults := config{runs: 100, workers: 4, timeout: defaultTimeout, pkg: "./raft"}
	tests := []struct {
		name string
		args []string
		want config
	}{
		{"defaults", []string{"./raft"}, defaults},
		{
			"every flag",
			[]string{"-n", "7", "-p", "2", "-race", "-run", "Figure8/sub", "-timeout", "90s", "-o", "out", "-v", "6.5840/kvraft"},
			config{runs: 7, workers: 2, race: true, pattern: "Figure8/sub", timeout: 90 * time.Second, outDir: "out", verbose: true, pkg: "6.5840/kvraft"},
		},
		{"equals signs", []string{"-n=3", "-p=1", "-run=^TestA$", "./raft"}, config{runs: 3, workers: 1, pattern: "^TestA$", timeout: defaultTimeout, pkg: "./raft"}},
		{"no timeout", []string{"-timeout", "0", "./raft"}, config{runs: 100, workers: 4, pkg: "./raft"}},
		{"more workers than runs", []string{"-n", "2", "-p", "8", "./raft"}, config{runs: 2, workers: 8, timeout: defaultTimeout, pkg: "./raft"}},
		{"double dash before package", []string{"-n", "5", "--", "./raft"}, config{runs: 5, workers: 4, timeout: defaultTimeout, pkg: "./raft"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseConfig(tc.args)
			if err != nil {
				t.Fatalf("parseConfig(%q): unexpected error %v", tc.args, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("parseConfig(%q) = %+v, want %+v", tc.args, got, tc.want)
			}
		})
	}
}

// TestParseConfigNamesTheProblem checks that each bad command line is
// refused with a usage error whose message names what is wrong.
func TestParseConfigNamesTheProblem(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantText string
	}{
		{"no package", []string{"-n", "3"}, "missing PACKAGE"},
		{"no arguments", nil, "missing PACKAGE"},
		{"two packages", []string{"./raft", "./kvraft"}, "exactly one PACKAGE"},
		{"flag after package", []string{"./raft", "-n", "3"}, "flags must come before PACKAGE"},
		{"zero runs", []string{"-n", "0", "./raft"}, "-n must be at least 1, got 0"},
		{"negative runs", []string{"-n", "-4", "./raft"}, "-n must be at least 1, got -4"},
		{"runs not a number", []string{"-n", "many", "./raft"}, `invalid value "many" for flag -n`},
		{"zero workers", []string{"-p", "0", "./raft"}, "-p must be at least 1, got 0"},
		{"negative workers", []string{"-p", "-1", "./raft"}, "-p must be at least 1, got -1"},
		{"duration without unit", []string{"-timeout", "5", "./raft"}, `invalid value "5" for flag -timeout`},
		{"duration nonsense", []string{"-timeout", "soon", "./raft"}, `invalid value "soon" for flag -timeout`},
		{"negative duration", []string{"-timeout", "-1s", "./raft"}, "-timeout must not be negative"},
		{"bad regexp", []string{"-run", "Test(", "./raft"}, `bad -run pattern "Test("`},
		{"bad subtest regexp", []string{"-run", "TestA/sub[", "./raft"}, `bad -run pattern "TestA/sub["`},
		{"unknown flag", []string{"-count", "3", "./raft"}, "flag provided but not defined: -count"},
		{"package like a flag", []string{"--", "-x"}, `PACKAGE "-x" looks like a flag`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(tc.args)
			var usage *usageError
			if !errors.As(err, &usage) {
				t.Fatalf("parseConfig(%q) error = %v, want a *usageError", tc.args, err)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("parseConfig(%q) error = %q, want it to contain %q", tc.args, err, tc.wantText)
			}
		})
	}
}

// TestParseConfigHelp checks that -h is reported as flag.ErrHelp, not as
// a usage error.
func TestParseConfigHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-help"}, {"-n", "3", "-h", "./raft"}} {
		if _, err := parseConfig(args); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("parseConfig(%q) error = %v, want flag.ErrHelp", args, err)
		}
	}
}

// TestSplitRunPatternSplitsLikeTesting checks the split of -run patterns
// into per-level elements: at slashes outside parentheses, brackets and
// escapes.
func TestSplitRunPatternSplitsLikeTesting(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    []string
	}{
		{"empty", "", []string{""}},
		{"one level", "TestA", []string{"TestA"}},
		{"two levels", "TestA/sub", []string{"TestA", "sub"}},
		{"empty top level", "/sub", []string{"", "sub"}},
		{"trailing slash", "TestA/", []string{"TestA", ""}},
		{"three levels", "A/B/C", []string{"A", "B", "C"}},
		{"slash in parentheses", "(A/B)|C", []string{"(A/B)|C"}},
		{"slash in class", "A[/]B/C", []string{"A[/]B", "C"}},
		{"escaped slash", `A\/B/C`, []string{`A\/B`, "C"}},
		{"nested parentheses", "((a/b)c)/d", []string{"((a/b)c)", "d"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := splitRunPattern(tc.pattern); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("splitRunPattern(%q) = %q, want %q", tc.pattern, got, tc.want)
			}
		})
	}
}

// TestStressMainExitsTwoOnBadFlags checks that the command itself turns a
// bad command line into a message on stderr and exit status 2, before
// building anything, and that -h prints the usage and exits 0.
func TestStressMainExitsTwoOnBadFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"zero runs", []string{"-n", "0", "./x"}, exitUsage, "-n must be at least 1"},
		{"zero workers", []string{"-p", "0", "./x"}, exitUsage, "-p must be at least 1"},
		{"bad regexp", []string{"-run", "(", "./x"}, exitUsage, "bad -run pattern"},
		{"missing package", []string{}, exitUsage, "missing PACKAGE"},
		{"extra package", []string{"./x", "./y"}, exitUsage, "exactly one PACKAGE"},
		{"bad duration", []string{"-timeout", "1parsec", "./x"}, exitUsage, "-timeout"},
		{"help", []string{"-h"}, exitPassed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := stressMain(context.Background(), tc.args, console{stdout: &stdout, stderr: &stderr, workDir: t.TempDir()})
			if code != tc.wantCode {
				t.Fatalf("exit status %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if tc.wantErr == "" {
				if !strings.Contains(stdout.String(), "usage: go run ./cmd/stress") || !strings.Contains(stdout.String(), "-timeout") {
					t.Fatalf("-h printed no usage with the flags:\n%s", stdout.String())
				}
				return
			}
			if !strings.HasPrefix(stderr.String(), "stress: ") || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Fatalf("stderr = %q, want a stress: message containing %q", stderr.String(), tc.wantErr)
			}
			if stdout.Len() != 0 {
				t.Fatalf("a usage error printed on stdout: %q", stdout.String())
			}
		})
	}
}
