//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// killOnCancel puts cmd in a process group of its own and makes the
// cancellation of cmd's context kill the whole group, so that whatever the
// test binary (or the go command) started dies with it.
//
// A group of its own also keeps the child out of the terminal's foreground
// group: Ctrl-C reaches stress alone, which then decides what to kill, and
// the children do not print half-finished failures of their own.
func killOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The group's id is the child's pid. Cancel can race with Wait
		// reaping a child that just exited; the id then names a group
		// with no members left (ESRCH), or the child's leftovers, and
		// could name a stranger's group only once the kernel had cycled
		// through every pid in between, which it does not do that fast.
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
}
