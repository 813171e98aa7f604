//go:build !linux

package main

import "os/exec"

// dieWithParent: only Linux can tie a child's life to its parent's; a
// worker elsewhere ends when its stdin closes with the sweep.
func dieWithParent(*exec.Cmd) {}
