package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill a worker when the sweep that started
// it dies, however it dies (kill -9, a CI job cancelled): a worker left
// behind would go on running seeds nobody reads.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
