package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Bad input gets one clear message and exit status 2, never a panic.
func TestBadInputExitsTwoWithAClearMessage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"run", "no-such"}, `unknown scenario "no-such" (known: election, leader-crash, partition, flaky-network)`},
		{[]string{"run"}, "which scenario?"},
		{[]string{"run", "partition", "--seed", "seven"}, `invalid value "seven" for flag -seed`},
		{[]string{"run", "partition", "--seed", "-1"}, `invalid value "-1" for flag -seed`},
		{[]string{"run", "partition", "--duration", "10"}, `invalid value "10" for flag -duration`},
		{[]string{"run", "partition", "--duration", "-5s"}, "--duration -5s must be positive"},
		{[]string{"run", "partition", "--bug", "nope"}, `run: --bug: unknown bug "nope" (known: stale-reads, apply-before-commit)`},
		{[]string{"run", "partition", "extra"}, `unexpected arguments ["extra"]`},
		{[]string{"plot", "partition"}, "--out FILE.png is required"},
		{[]string{"list", "x"}, "list takes no arguments"},
	} {
		var out bytes.Buffer
		code, err := run(tc.args, &out)
		require.Equal(t, 2, code, "%q", tc.args)
		require.ErrorContains(t, err, tc.msg, "%q", tc.args)
	}
}

func TestRunPrintsVerdictsAndFingerprint(t *testing.T) {
	var out bytes.Buffer
	code, err := run([]string{"run", "election", "--seed", "3"}, &out)
	require.NoError(t, err)
	require.Equal(t, 0, code, out.String())
	for _, want := range []string{"scenario election, seed 3", "leaders:", "ok   linearizable", "fingerprint: "} {
		require.Contains(t, out.String(), want)
	}
}

// A run that breaks a guarantee exits 1 and says how to replay it.
func TestFailingRunExitsOneWithReplayCommand(t *testing.T) {
	var out bytes.Buffer
	code, err := run([]string{"run", "partition", "--seed", "7", "--bug", "stale-reads", "--report-dir", t.TempDir()}, &out)
	require.NoError(t, err)
	require.Equal(t, 1, code, out.String())
	require.Contains(t, out.String(), "FAIL linearizable")
	require.Contains(t, out.String(), "replay: go run ./cmd/etcdlab replay partition --seed 7 --bug stale-reads")
}

func TestPlotWritesAPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latency.png")
	var out bytes.Buffer
	code, err := run([]string{"plot", "election", "--seed", "1", "--out", path}, &out)
	require.NoError(t, err)
	require.Equal(t, 0, code)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(b, []byte("\x89PNG")), "not a PNG")
}
