package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// waitDelay bounds how long Wait may take after a child is killed, should
// something it started keep its output pipe open.
const waitDelay = 5 * time.Second

// command prepares name with args in dir, killed together with everything
// it starts when ctx is cancelled.
func command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.WaitDelay = waitDelay
	killOnCancel(cmd)
	return cmd
}

// setupError is a problem found before any run starts: no such package, a
// build failure, no matching test. It carries the complete message for the
// user; the session exits with exitUsage.
type setupError struct{ msg string }

func (e *setupError) Error() string { return e.msg }

// goOutput runs the go command with args in dir and returns its standard
// output. On failure the error includes what go printed on standard error,
// which names the problem better than we could.
func goOutput(ctx context.Context, dir string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := command(ctx, dir, "go", args...)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New(msg)
	}
	return stdout.Bytes(), nil
}

// packageDir returns the source directory of pkg, resolved from workDir as
// go list resolves it (so ./raft is relative to workDir). pkg must name
// exactly one package.
func packageDir(ctx context.Context, workDir, pkg string) (string, error) {
	out, err := goOutput(ctx, workDir, "list", "-f", "{{.Dir}}", pkg)
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		return "", &setupError{msg: fmt.Sprintf("cannot find package %s:\n%v", pkg, err)}
	}
	var dirs []string
	if listed := strings.TrimSpace(string(out)); listed != "" {
		dirs = strings.Split(listed, "\n") // a line each: a path may hold spaces
	}
	if len(dirs) != 1 {
		return "", &setupError{msg: fmt.Sprintf("%s names %d packages; stress runs one at a time", pkg, len(dirs))}
	}
	return dirs[0], nil
}

// buildTestBinary compiles pkg's test binary into binDir (go test -c) and
// returns its path.
func buildTestBinary(ctx context.Context, workDir, pkg, binDir string, race bool) (string, error) {
	binary := filepath.Join(binDir, "stress.test")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	args := []string{"test", "-c", "-o", binary}
	if race {
		args = append(args, "-race")
	}
	args = append(args, pkg) // not after "--": go test would pass it to the binary
	if _, err := goOutput(ctx, workDir, args...); err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		return "", &setupError{msg: fmt.Sprintf("package %s does not build:\n%v", pkg, err)}
	}
	// go test -c succeeds without writing anything when there are no tests.
	if _, err := os.Stat(binary); err != nil {
		return "", &setupError{msg: fmt.Sprintf("package %s has no test files", pkg)}
	}
	return binary, nil
}

// countMatchingTests asks the test binary, run in dir, how many of its
// top-level tests, examples and fuzz targets the first element of pattern
// matches: those are what -test.run would start. An error means the binary
// could not list its tests at all (a TestMain that fails, say).
func countMatchingTests(ctx context.Context, binary, dir, pattern string) (int, error) {
	first := splitRunPattern(pattern)[0]
	if first == "" {
		first = "." // -test.list "" lists nothing; it runs the tests instead
	}
	var stdout, stderr bytes.Buffer
	cmd := command(ctx, dir, binary, "-test.list", first)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()+stdout.String()))
	}
	count := 0
	for _, name := range strings.Fields(stdout.String()) {
		if !strings.HasPrefix(name, "Benchmark") { // -test.run does not start benchmarks
			count++
		}
	}
	return count, nil
}
