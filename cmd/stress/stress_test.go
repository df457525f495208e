package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// targetTests is the test file of the throwaway package the end-to-end
// tests stress. Its tests pass, fail, read testdata, fail on every other
// run, or sleep, as each scenario needs.
const targetTests = `package target

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestPasses(t *testing.T) {}

func TestFails(t *testing.T) { t.Fatal("boom: this test always fails") }

// TestReadsTestdata passes only when run in the package's directory.
func TestReadsTestdata(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "greeting.txt"))
	if err != nil || string(data) != "hello\n" {
		t.Fatalf("testdata/greeting.txt: %q, %v", data, err)
	}
}

// TestFailsOnOddTickets takes the lowest free ticket from the directory
// named by STRESS_E2E_TICKETS and fails if its number is odd: of n runs,
// exactly (n+1)/2 fail, whatever the order.
func TestFailsOnOddTickets(t *testing.T) {
	dir := os.Getenv("STRESS_E2E_TICKETS")
	if dir == "" {
		t.Fatal("STRESS_E2E_TICKETS is not set")
	}
	for k := 1; ; k++ {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprint("ticket-", k)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if k%2 == 1 {
			t.Fatalf("odd ticket %d", k)
		}
		return
	}
}

// TestSleeps sleeps for a minute. With STRESS_E2E_MARKERS set it first
// starts a copy of itself (which sleeps too) and records both pids there.
func TestSleeps(t *testing.T) {
	if dir := os.Getenv("STRESS_E2E_MARKERS"); dir != "" {
		if os.Getenv("STRESS_E2E_GRANDCHILD") == "" {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSleeps$")
			cmd.Env = append(os.Environ(), "STRESS_E2E_GRANDCHILD=1")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprint("pid-", os.Getpid())), nil, 0o644)
	}
	time.Sleep(time.Minute)
}
`

// writeTargetModule creates a throwaway module and returns its directory.
// It holds ./target (targetTests and its testdata), ./broken (a test that
// does not compile) and ./notests (a package without tests).
func writeTargetModule(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"go.mod":                          "module stresstarget\n\ngo 1.22\n",
		"target/target.go":                "package target\n",
		"target/target_test.go":           targetTests,
		"target/testdata/greeting.txt":    "hello\n",
		"broken/broken.go":                "package broken\n",
		"broken/broken_test.go":           "package broken\n\nimport \"testing\"\n\nfunc TestBroken(t *testing.T) { undefinedHelper() }\n",
		"notests/notests.go":              "package notests\n",
		"target/testdata/other/readme.md": "testdata is ignored by go build\n",
	}
	for name, content := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the end-to-end tests need the go command on PATH: %v", err)
	}
	return root
}

// stressRun is what one invocation of the command produced.
type stressRun struct {
	code           int
	stdout, stderr string
}

// lastLine returns the last line of the run's standard output.
func (r stressRun) lastLine() string {
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	return lines[len(lines)-1]
}

// runStress runs the command with args from workDir, as a log would see
// it (stdout not a terminal), bounded to two minutes.
func runStress(t *testing.T, workDir string, args ...string) stressRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := stressMain(ctx, args, console{stdout: &stdout, stderr: &stderr, workDir: workDir})
	if ctx.Err() != nil {
		t.Fatalf("stress %q did not finish in time; stdout:\n%s", args, stdout.String())
	}
	return stressRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// entries returns the sorted names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// TestStressAllRunsPass: every run passes, in the package's directory
// (testdata is found), and nothing is kept.
func TestStressAllRunsPass(t *testing.T) {
	root := writeTargetModule(t)
	outDir := filepath.Join(t.TempDir(), "failures")
	r := runStress(t, root, "-n", "6", "-p", "3", "-run", "^(TestPasses|TestReadsTestdata)$", "-o", outDir, "./target")
	if r.code != exitPassed {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitPassed, r.stdout, r.stderr)
	}
	if got := r.lastLine(); got != "6 passed, 0 failed" {
		t.Fatalf("last line %q, want %q\nstdout:\n%s", got, "6 passed, 0 failed", r.stdout)
	}
	if !strings.Contains(r.stdout, "6/6 done, 0 failed") {
		t.Fatalf("no final progress line in:\n%s", r.stdout)
	}
	if got := entries(t, outDir); len(got) != 0 {
		t.Fatalf("passing runs left %q in the output directory", got)
	}
}

// TestStressAllRunsFail: every run fails; each one's full output is kept
// in a file named by its run number, and the exit status is 1.
func TestStressAllRunsFail(t *testing.T) {
	root := writeTargetModule(t)
	outDir := filepath.Join(t.TempDir(), "failures")
	r := runStress(t, root, "-n", "5", "-p", "2", "-run", "^TestFails$", "-o", outDir, "./target")
	if r.code != exitFailed {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitFailed, r.stdout, r.stderr)
	}
	if got := r.lastLine(); got != "0 passed, 5 failed" {
		t.Fatalf("last line %q, want %q\nstdout:\n%s", got, "0 passed, 5 failed", r.stdout)
	}
	want := []string{"run-1.log", "run-2.log", "run-3.log", "run-4.log", "run-5.log"}
	if got := entries(t, outDir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("output directory holds %q, want %q", got, want)
	}
	for i, name := range want {
		data, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{"--- FAIL: TestFails", "boom: this test always fails", "FAIL\n", "--- stress: run " + name[4:5] + " of 5 failed"} {
			if !strings.Contains(string(data), part) {
				t.Errorf("%s lacks %q; it holds:\n%s", name, part, data)
			}
		}
		announce := "run " + name[4:5] + " failed after "
		if !strings.Contains(r.stdout, announce) {
			t.Errorf("failure %d was not announced (%q) in:\n%s", i+1, announce, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "TestFails") || !strings.Contains(r.stdout, "5 of 5 runs") {
		t.Fatalf("summary lacks the per-test count:\n%s", r.stdout)
	}
}

// TestStressKeepsOnlyFailingRuns: half the runs fail; exactly those are
// kept, and the counts match.
func TestStressKeepsOnlyFailingRuns(t *testing.T) {
	root := writeTargetModule(t)
	t.Setenv("STRESS_E2E_TICKETS", t.TempDir())
	outDir := filepath.Join(t.TempDir(), "failures")
	r := runStress(t, root, "-n", "8", "-p", "3", "-v", "-run", "^TestFailsOnOddTickets$", "-o", outDir, "./target")
	if r.code != exitFailed {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitFailed, r.stdout, r.stderr)
	}
	if got := r.lastLine(); got != "4 passed, 4 failed" {
		t.Fatalf("last line %q, want %q\nstdout:\n%s", got, "4 passed, 4 failed", r.stdout)
	}
	kept := entries(t, outDir)
	if len(kept) != 4 {
		t.Fatalf("output directory holds %q, want 4 files", kept)
	}
	tickets := regexp.MustCompile(`odd ticket (\d+)`)
	var seen []string
	for _, name := range kept {
		data, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil {
			t.Fatal(err)
		}
		m := tickets.FindSubmatch(data)
		if m == nil {
			t.Fatalf("%s is not the output of a failing run:\n%s", name, data)
		}
		if !strings.Contains(string(data), "=== RUN   TestFailsOnOddTickets") {
			t.Fatalf("%s lacks the -v output:\n%s", name, data)
		}
		seen = append(seen, string(m[1]))
	}
	sort.Strings(seen)
	if got := strings.Join(seen, " "); got != "1 3 5 7" {
		t.Fatalf("kept the runs with tickets %s, want 1 3 5 7", got)
	}
}

// TestStressDefaultOutputDirectory: without -o, a new temporary directory
// is named on stdout; it holds the failures, and is removed again when
// every run passed.
func TestStressDefaultOutputDirectory(t *testing.T) {
	root := writeTargetModule(t)
	named := regexp.MustCompile(`output of failing runs goes to (.+)\n`)

	r := runStress(t, root, "-n", "2", "-run", "^TestFails$", "./target")
	m := named.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no output directory named in:\n%s", r.stdout)
	}
	failuresDir := m[1]
	t.Cleanup(func() { os.RemoveAll(failuresDir) })
	if r.code != exitFailed || r.lastLine() != "0 passed, 2 failed" {
		t.Fatalf("exit status %d, last line %q; want %d, %q", r.code, r.lastLine(), exitFailed, "0 passed, 2 failed")
	}
	if got := entries(t, failuresDir); strings.Join(got, " ") != "run-1.log run-2.log" {
		t.Fatalf("%s holds %q, want the two failures", failuresDir, got)
	}

	r = runStress(t, root, "-n", "2", "-run", "^TestPasses$", "./target")
	m = named.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no output directory named in:\n%s", r.stdout)
	}
	if r.code != exitPassed {
		t.Fatalf("exit status %d, want %d", r.code, exitPassed)
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		os.RemoveAll(m[1])
		t.Fatalf("the empty default directory %s was left behind (stat: %v)", m[1], err)
	}
}

// TestStressTimeoutFailsRun: -timeout reaches the test binary, and a run
// that exceeds it fails and is reported as timed out.
func TestStressTimeoutFailsRun(t *testing.T) {
	root := writeTargetModule(t)
	outDir := filepath.Join(t.TempDir(), "failures")
	r := runStress(t, root, "-n", "1", "-timeout", "1s", "-run", "^TestSleeps$", "-o", outDir, "./target")
	if r.code != exitFailed || r.lastLine() != "0 passed, 1 failed" {
		t.Fatalf("exit status %d, last line %q; want %d, %q\nstdout:\n%s", r.code, r.lastLine(), exitFailed, "0 passed, 1 failed", r.stdout)
	}
	if !strings.Contains(r.stdout, "run 1 failed after") || !strings.Contains(r.stdout, findingTimeout) {
		t.Fatalf("the timeout was not reported:\n%s", r.stdout)
	}
	data, err := os.ReadFile(filepath.Join(outDir, "run-1.log"))
	if err != nil || !strings.Contains(string(data), "panic: test timed out after 1s") {
		t.Fatalf("run-1.log: %v; holds:\n%s", err, data)
	}
}

// TestStressBuildsWithRace: -race builds a race-enabled binary that runs.
func TestStressBuildsWithRace(t *testing.T) {
	if testing.Short() {
		t.Skip("builds with -race: half a minute on a cold build cache; run without -short")
	}
	root := writeTargetModule(t)
	r := runStress(t, root, "-race", "-n", "2", "-run", "^TestPasses$", "-o", filepath.Join(t.TempDir(), "out"), "./target")
	if r.code != exitPassed || r.lastLine() != "2 passed, 0 failed" {
		t.Fatalf("exit status %d, last line %q\nstdout:\n%s\nstderr:\n%s", r.code, r.lastLine(), r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "with -race") {
		t.Fatalf("the build did not say it used -race:\n%s", r.stdout)
	}
}

// TestStressRefusesWhatItCannotRun: a package that does not compile, one
// without tests, one that does not exist, a -run matching nothing and a
// non-empty -o directory each give a clear message and exit status 2,
// before any run.
func TestStressRefusesWhatItCannotRun(t *testing.T) {
	root := writeTargetModule(t)
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "old.log"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantErrs []string
	}{
		{"does not compile", []string{"-n", "2", "./broken"}, []string{"package ./broken does not build", "undefinedHelper"}},
		{"no test files", []string{"-n", "2", "./notests"}, []string{"package ./notests has no test files"}},
		{"no such package", []string{"-n", "2", "./nosuch"}, []string{"cannot find package ./nosuch"}},
		{"several packages", []string{"-n", "2", "./..."}, []string{"./... names 3 packages"}},
		{"run matches nothing", []string{"-n", "2", "-run", "^TestNoSuch$", "./target"}, []string{`no test in ./target matches -run "^TestNoSuch$"`}},
		{"output directory not empty", []string{"-n", "2", "-o", full, "./target"}, []string{"-o " + full + ": directory is not empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runStress(t, root, tc.args...)
			if r.code != exitUsage {
				t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitUsage, r.stdout, r.stderr)
			}
			for _, want := range tc.wantErrs {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if strings.Contains(r.stdout, " passed, ") {
				t.Fatalf("runs were made:\n%s", r.stdout)
			}
		})
	}
}
