//go:build !unix

package main

import "os/exec"

// killOnCancel leaves exec's default in place: cancelling cmd's context
// kills cmd's own process. Process groups are a Unix notion; on other
// systems a child that starts processes of its own may leave them behind.
func killOnCancel(cmd *exec.Cmd) {}
