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
		{[]string{"run", "partition", "--bug", "nope"}, `run: --bug: unknown bug "nope" (known: stale-reads, apply-before-commit, forget-vote)`},
		{[]string{"run", "partition", "extra"}, `unexpected arguments ["extra"]`},
		{[]string{"run", "partition", "--duration", "0s"}, "--duration 0s must be positive"},
		{[]string{"run", "partition", "--duration", "1h"}, "duration: 1h0m0s is longer than the 10m0s a run may last"},
		{[]string{"plot", "partition"}, "--out FILE.png is required"},
		{[]string{"plot", "partition", "--out", "chart.txt"}, `plot: --out: "chart.txt": the extension picks the format; use one of .png, .svg, .pdf`},
		{[]string{"plot", "partition", "--out", "/no/such/dir/x.png"}, "no directory /no/such/dir to write it in"},
		{[]string{"sweep", "partition", "--seeds", "1-10", "--duration", "11s"}, "with seed 2 its faults end at 8.514s"},
		{[]string{"list", "x"}, "list takes no arguments"},
		{[]string{"sweep", "partition", "--seeds", "9-2"}, `sweep: --seeds "9-2": range "9-2" goes down; write it low-high`},
		{[]string{"sweep", "partition", "--seeds", "1-x"}, `"1-x" is not a seed or a range like 1-40`},
		{[]string{"sweep", "partition", "--seeds", "0-18446744073709551615"}, "more than 100000 seeds in one sweep"},
		{[]string{"sweep", "partition", "--seeds", "1-3,2"}, "seed 2 is listed twice"},
		{[]string{"sweep", "partition", "--seed", "3"}, "sweep: use --seeds"},
		{[]string{"run", "partition", "--seeds", "1-3"}, "run: --seeds is only for sweep; use --seed N"},
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

func TestParseSeeds(t *testing.T) {
	seeds, err := parseSeeds("3, 7,10 - 12")
	require.NoError(t, err)
	require.Equal(t, []uint64{3, 7, 10, 11, 12}, seeds)
	seeds, err = parseSeeds("18446744073709551614-18446744073709551615")
	require.NoError(t, err)
	require.Equal(t, []uint64{1<<64 - 2, 1<<64 - 1}, seeds)
}

// A sweep prints a line a seed, exits 1 if any failed, and ends with the
// command that replays each failure.
func TestSweepListsFailuresWithReplayCommands(t *testing.T) {
	var out bytes.Buffer
	code, err := run([]string{"sweep", "election", "--seeds", "1-2"}, &out)
	require.NoError(t, err)
	require.Equal(t, 0, code, out.String())
	require.Contains(t, out.String(), "2 seeds: 2 ok, 0 failed")

	out.Reset()
	code, err = run([]string{"sweep", "partition", "--seeds", "4,6", "--bug", "apply-before-commit"}, &out)
	require.NoError(t, err)
	require.Equal(t, 1, code, out.String())
	for _, want := range []string{
		"seed 4      FAIL raft safety",
		"2 seeds: 0 ok, 2 failed",
		"go run ./cmd/etcdlab replay partition --seed 6 --bug apply-before-commit",
	} {
		require.Contains(t, out.String(), want)
	}
}
