package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Bad input gets one clear message and exit status 2, never a panic.

// TestMain lets the test binary stand in for etcdlab when a sweep starts
// it as a worker process.
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" {
		main()
	}
	// Failing runs leave folders in ./etcdlab-failures: keep them out of
	// the source tree.
	dir, err := os.MkdirTemp("", "etcdlab-cli-test-*")
	if err != nil {
		panic(err)
	}
	if err := os.Chdir(dir); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestBadInputExitsTwoWithAClearMessage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"run", "no-such"}, `unknown scenario "no-such", and no such experiment file (scenarios: election, leader-crash, partition, flaky-network, compaction-snapshot, crash-during-load, membership, move-leader, register-cas, watch, lease-expiry, serializable-reads, mvcc-compaction, quota, kubernetes, nemesis)`},
		{[]string{"run"}, "which scenario or experiment file?"},
		{[]string{"run", "partition", "--seed", "seven"}, `invalid value "seven" for --seed`},
		{[]string{"run", "partition", "--seed", "-1"}, `invalid value "-1" for --seed`},
		{[]string{"run", "partition", "--duration", "10"}, `invalid value "10" for --duration: "10" is not a duration such as 100ms or 1.5s`},
		{[]string{"run", "partition", "--duration", "-5s"}, "duration: -5s must be positive"},
		{[]string{"run", "partition", "--bug", "nope"}, `run: invalid value "nope" for --bug: unknown bug "nope" (known: stale-reads, apply-before-commit, forget-vote, ack-before-fsync, skip-consistent-index, snapshot-skips-store, release-wal-early, watch-skips-event, lease-never-expires, txn-split, revision-skew)`},
		{[]string{"run", "partition", "extra"}, `unexpected arguments ["extra"]`},
		{[]string{"run", "partition", "--duration", "0s"}, "duration: 0s must be positive"},
		{[]string{"run", "partition", "--duration", "1h"}, "duration: 1h0m0s is longer than the 30m0s a run may last"},
		{[]string{"plot", "partition"}, "--out FILE.png is required"},
		{[]string{"plot", "partition", "--out", "chart.txt"}, `plot: --out: "chart.txt": the extension picks the format; use one of .png, .svg, .pdf`},
		{[]string{"plot", "partition", "--out", "/no/such/dir/x.png"}, "no directory /no/such/dir to write it in"},
		{[]string{"sweep", "partition", "--seeds", "1-10", "--duration", "11s"}, "partition: fault 1 (partition) ends at 8.514s, inside the last 3s of the run, which is kept quiet for members to settle; use a duration of more than 11.514s"},
		{[]string{"list", "x"}, "list takes no arguments"},
		{[]string{"sweep", "partition", "--seeds", "9-2"}, `sweep: --seeds "9-2": range "9-2" goes down; write it low-high`},
		{[]string{"sweep", "partition", "--seeds", "1-x"}, `"1-x" is not a seed or a range like 1-40`},
		{[]string{"sweep", "partition", "--seeds", "0-18446744073709551615"}, "more than 100000 seeds in one sweep"},
		{[]string{"sweep", "partition", "--seeds", "1-3,2"}, "seed 2 is listed twice"},
		{[]string{"sweep", "partition", "--seed", "3"}, "sweep: use --seeds"},
		{[]string{"run", "partition", "--seeds", "1-3"}, "run: --seeds is only for sweep and plot; use --seed N"},
		{[]string{"plot", "partition", "--chart", "pie", "--out", "x.png"}, `plot: --chart: no chart "pie"; charts: latency, latency-cdf`},
		{[]string{"plot", "partition", "--chart", "downtime", "--seed", "3", "--out", "x.png"}, "plot --chart downtime draws many seeds: use --seeds"},
		{[]string{"plot", "partition", "--chart", "latency", "--seeds", "1-3", "--out", "x.png"}, "plot --chart latency draws one run: use --seed N"},
		{[]string{"plot", "leader-crash", "--chart", "downtime", "--seeds", "1-3", "--vary", "election-timeout", "--out", "x.png"}, `--vary "election-timeout": write SETTING=V1,V2,...`},
		{[]string{"plot", "leader-crash", "--chart", "downtime", "--seeds", "1-3", "--vary", "election-timeout=1s,soon", "--out", "x.png"}, `--vary election-timeout: "soon" is not a duration`},
		{[]string{"plot", "leader-crash", "--chart", "downtime", "--seeds", "1-3", "--vary", "colour=red", "--out", "x.png"}, `--vary colour`},
		{[]string{"run", "partition", "--chart", "latency"}, "run: --chart and --vary are for plot"},
		{[]string{"notebooks", "--dir", "/no/such"}, "notebooks: no folder /no/such"},
		{[]string{"notebooks", "--frobnicate"}, "notebooks: unknown flag --frobnicate"},
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
	for _, want := range []string{"election, seed 3", "leaders:", "  by type: get p50 ", "ok   linearizable", "fingerprint: "} {
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

func TestPlotListNamesEveryChart(t *testing.T) {
	var out bytes.Buffer
	code, err := run([]string{"plot", "--list"}, &out)
	require.NoError(t, err)
	require.Equal(t, 0, code)
	for _, name := range []string{"latency ", "latency-cdf ", "downtime "} {
		require.Contains(t, out.String(), "\n  "+name)
	}
}

// A chart across seeds runs a sweep per --vary value: one group each,
// in the summary and on the chart.
func TestPlotAcrossSeedsGroupsByVary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "downtime.svg")
	var out bytes.Buffer
	code, err := run([]string{"plot", "leader-crash", "--chart", "downtime", "--seeds", "1-4", "--workers", "1",
		"--vary", "election-timeout=500ms,2s", "--out", path}, &out)
	require.NoError(t, err)
	require.Equal(t, 0, code, out.String())
	require.Contains(t, out.String(), "election-timeout 500ms: 4 seeds, 4 ok, 0 failed\n")
	require.Contains(t, out.String(), "election-timeout 2s: 4 seeds, 4 ok, 0 failed\n")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(b), "leader-crash, by --election-timeout: ")
	require.Contains(t, string(b), ">2s, new leader: median ")
}

// A note's blocks run, their output lands between the markers, a second
// regeneration changes nothing, and --check catches a note whose output
// was edited by hand.
func TestNotebooksRegenerateAndCheck(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "notebooks")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "figures"), 0o755))
	note := "# A note\n\n```etcdlab grep=leads term\netcdlab run election --seed 3\n```\n\n" +
		"```etcdlab\netcdlab plot election --seed 3 --chart latency-cdf --out notebooks/figures/cdf.png\n```\n"
	path := filepath.Join(dir, "a.md")
	require.NoError(t, os.WriteFile(path, []byte(note), 0o644))
	var out bytes.Buffer
	code, err := run([]string{"notebooks", "--dir", dir}, &out)
	require.NoError(t, err, out.String())
	require.Equal(t, 0, code, out.String())
	first, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Regexp(t, "(?s)```\n\n"+regexp.QuoteMeta(outputStart)+"\n```text\n +[0-9.]+s  n[0-9] leads term 2\n.*```\n"+regexp.QuoteMeta(outputEnd), string(first))
	require.NotContains(t, string(first), "wall time")
	_, err = os.Stat(filepath.Join(dir, "figures", "cdf.png"))
	require.NoError(t, err)

	out.Reset()
	code, err = run([]string{"notebooks", "--dir", dir, "--check"}, &out)
	require.NoError(t, err)
	require.Equal(t, 0, code, out.String())
	require.Contains(t, out.String(), "all 1 notes and their figures regenerate exactly")
	second, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(first), string(second), "regenerating twice changes nothing")

	edited := strings.Replace(string(first), "leads term 2", "leads term 9", 1)
	require.NoError(t, os.WriteFile(path, []byte(edited), 0o644))
	out.Reset()
	code, err = run([]string{"notebooks", "--dir", dir, "--check"}, &out)
	require.NoError(t, err)
	require.Equal(t, 1, code, out.String())
	require.Contains(t, out.String(), "a.md: line ")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, edited, string(b), "--check writes nothing")

	require.NoError(t, os.WriteFile(path, []byte("```etcdlab\netcdlab run election | head\n```\n"), 0o644))
	code, err = run([]string{"notebooks", "--dir", dir}, &out)
	require.Equal(t, 2, code)
	require.ErrorContains(t, err, `a.md:2: etcdlab run election | head: "|": a note's command runs without a shell`)
}

// A note that would lose text, or could not regenerate the same way
// twice, is refused with its line; nothing is written.
func TestNotebooksRefuseWhatWouldLoseOrLeakText(t *testing.T) {
	block := "```etcdlab grep=leads term\netcdlab run election --seed 3\n```\n"
	out := "<!-- etcdlab output: regenerated by `go run ./cmd/etcdlab notebooks`; do not edit -->\n```text\nold\n```\n"
	for _, tc := range []struct {
		note, msg string
	}{
		{block + out + "\n## Prose\n\n" + block + out + "<!-- end of etcdlab output -->\n", "a.md:4: an output with no \"<!-- end of etcdlab output -->\" after it"},
		{"# prose\n\n" + out + "<!-- end of etcdlab output -->\n", "a.md:3: an output with no etcdlab block right before it"},
		{"```etcdlab\n# only a comment\n```\n", "a.md:1: the block has no command"},
		{"```etcdlab grep=^nothing matches this\netcdlab run election --seed 3\n```\n", "a.md:1: grep=^nothing matches this kept no line of the output"},
		{"```etcdlab\netcdlab plot election --out /tmp/x.png\n```\n", "a.md:2: etcdlab plot election --out /tmp/x.png: /tmp/x.png: a note's paths are relative"},
		{"```etcdlab\netcdlab plot election --out x.png\n```\n", "a note's command wrote x.png outside notebooks/"},
		{"```etcdlab\netcdlab plot election --out ../escape.png\n```\n", "../escape.png: a note's paths are relative"},
		{"```etcdlab\netcdlab plot election --out=notebooks/../../escape.png\n```\n", "a note's paths are relative"},
	} {
		root := t.TempDir()
		dir := filepath.Join(root, "notebooks")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		path := filepath.Join(dir, "a.md")
		require.NoError(t, os.WriteFile(path, []byte(tc.note), 0o644))
		var b bytes.Buffer
		code, err := run([]string{"notebooks", "--dir", dir}, &b)
		require.Equal(t, 2, code, tc.note)
		require.ErrorContains(t, err, tc.msg)
		got, _ := os.ReadFile(path)
		require.Equal(t, tc.note, string(got), "nothing written")
	}
}

// Examples fenced otherwise are not run; plot --list runs in a note; a
// note whose last line is its closing fence regenerates the same twice.
func TestNotebooksRunOnlyTheirBlocks(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "notebooks")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, "a.md")
	note := "````markdown\n```etcdlab\netcdlab run no-such-scenario\n```\n````\n\n```etcdlab grep=latency-cdf\netcdlab plot --list\n```"
	require.NoError(t, os.WriteFile(path, []byte(note), 0o644))
	var b bytes.Buffer
	code, err := run([]string{"notebooks", "--dir", dir}, &b)
	require.NoError(t, err)
	require.Equal(t, 0, code, b.String())
	first, _ := os.ReadFile(path)
	require.Contains(t, string(first), "  latency-cdf ")
	code, err = run([]string{"notebooks", "--check", "--dir", dir}, &b)
	require.NoError(t, err)
	require.Equal(t, 0, code, b.String())

	_, err = run([]string{"notebooks", "--dir", dir, filepath.Join(root, "a.md")}, &b)
	require.ErrorContains(t, err, "not a note in")
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
	code, err = run([]string{"sweep", "partition", "--seeds", "4,6", "--bug", "apply-before-commit", "--client-timeout", "300ms", "--report-dir", t.TempDir()}, &out)
	require.NoError(t, err)
	require.Equal(t, 1, code, out.String())
	for _, want := range []string{
		"FAIL raft safety: at ",
		"2 seeds: 0 ok, 2 failed",
		"go run ./cmd/etcdlab replay partition --seed 6 --bug apply-before-commit --client-timeout 300ms",
	} {
		require.Contains(t, out.String(), want)
	}
}

func fingerprintOf(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f, ok := strings.CutPrefix(line, "fingerprint: "); ok {
			return f
		}
	}
	t.Fatalf("no fingerprint in\n%s", out)
	return ""
}

// An experiment is data: the file show prints runs to the same trace as
// the scenario and seed it came from.
func TestShowPrintsAFileThatRunsTheSame(t *testing.T) {
	var shown, fromFile, fromScenario bytes.Buffer
	code, err := run([]string{"show", "partition", "--seed", "7"}, &shown)
	require.NoError(t, err)
	require.Equal(t, 0, code)
	path := filepath.Join(t.TempDir(), "p.txt")
	require.NoError(t, os.WriteFile(path, shown.Bytes(), 0o644))

	code, err = run([]string{"run", path}, &fromFile)
	require.NoError(t, err)
	require.Equal(t, 0, code, fromFile.String())
	code, err = run([]string{"run", "partition", "--seed", "7"}, &fromScenario)
	require.NoError(t, err)
	require.Equal(t, 0, code)
	require.Equal(t, fingerprintOf(t, fromScenario.String()), fingerprintOf(t, fromFile.String()))
	require.Contains(t, fromFile.String(), "replay: go run ./cmd/etcdlab replay "+path)
}

// A bad line in a file is refused with the file, the line and what is
// allowed.
func TestBadExperimentFileNamesTheLine(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ text, msg string }{
		{"seed 1\nnodez 5\n", `bad.txt:2: unknown setting "nodez" (known: nodes, duration,`},
		{"seed 1\nnodes five\n", `bad.txt:2: nodes: "five" is not a whole number`},
		{"seed 1\nfault crash at=1s who=boss\n", `fault 1 (crash): who=boss: "boss" is not leader, follower, learner, any, all or a member such as n2`},
		{"seed 1\nfault quake at=1s\n", `bad.txt:2: fault: unknown fault kind "quake" (known: crash, churn,`},
		{"seed 1\nfault crash for=1s\n", `bad.txt:2: fault: crash needs at=TIME`},
		{"seed 1\nfault failpoint at=1s name=raftBeforeNap action=panic\n", `unknown failpoint "raftBeforeNap" (etcd's: raftBeforeLeaderSend`},
		{"nodes 3\n", "bad.txt: no seed line; add one such as 'seed 1'"},
		{"seed 1\nexpect new-leader fault=2 within=1s\n", "bad.txt:2: expect 1 (new-leader): fault=2: the schedule has no faults"},
		{"seed 1\nnodes 3\nnodes 5\n", "bad.txt:3: nodes is set twice, here and on line 2"},
		{"seed 1\ndrop NaN\n", `bad.txt:2: drop: "NaN" is not a probability between 0 and 1`},
		{"seed 1\nfault crash at=2s for=1s after=sent:MsgFoo\n", "after=sent:MsgFoo: use sent:TYPE or received:TYPE with a raft message type"},
		{"seed 1\nfault churn at=2s for=5s every=2ns down=1ns\n", "bad.txt:2: fault 1 (churn): churn needs every= of at least 10ms"},
		{"seed 1\nfault partition at=2000000h for=1000000h\n", "a fault must start and last within the run's duration"},
		{"seed 1\nfault crash at=2s for=1s\nexpect no-commit fault=1\n", "no-commit is about a leader cut off by a network fault"},
		{"seed 1\nfault clock at=2s for=1s offset=-5s\n", "sets the clock back"},
		{"seed 1\nfault failpoint at=2s for=3s name=raftBeforeSave action=sleep(1h)\n", "ends at 1h0m5s"},
		{"seed 1\nlink-latency 0\n", "link-latency: 0s is less than 50µs"},
		{"seed 1\ndrop 1\n", "drop 1 on the stream transport"},
		{"seed 1\nroute n1->n2 latency=5ms\nroute n1->n2 latency=6ms\n", "bad.txt:3: route: n1->n2 is given twice"},
	} {
		path := filepath.Join(dir, "bad.txt")
		require.NoError(t, os.WriteFile(path, []byte(tc.text), 0o644))
		var out bytes.Buffer
		code, err := run([]string{"run", path}, &out)
		require.Equal(t, 2, code, tc.text)
		require.ErrorContains(t, err, tc.msg, tc.text)
	}
}

// Flags override any setting, and the printed settings show what ran.
func TestFlagsOverrideSettings(t *testing.T) {
	var out bytes.Buffer
	code, err := run([]string{"run", "leader-crash", "--seed", "3", "--nodes", "5", "--election-timeout", "500ms", "--heartbeat-interval", "50ms"}, &out)
	require.NoError(t, err)
	require.Equal(t, 0, code, out.String())
	for _, want := range []string{"nodes                          5\n", "election-timeout               500ms\n", "heartbeat-interval             50ms\n",
		"replay: go run ./cmd/etcdlab replay leader-crash --seed 3 --nodes 5 --election-timeout 500ms --heartbeat-interval 50ms"} {
		require.Contains(t, out.String(), want)
	}
}

func TestSweepReportsDowntime(t *testing.T) {
	var out bytes.Buffer
	code, err := run([]string{"sweep", "leader-crash", "--seeds", "1-3", "--report", "downtime"}, &out)
	require.NoError(t, err)
	require.Equal(t, 0, code, out.String())
	require.Contains(t, out.String(), "lost at")
	require.Contains(t, out.String(), "downtime over the 3 of 3 seeds where a fault hit the leader")
	require.Regexp(t, `leader lost -> first write  min \S+  p50 \S+  p90 \S+  max \S+`, out.String())
}

// A sweep in worker processes prints what one process prints, line for
// line, in seed order.
func TestWorkersPrintWhatOneProcessPrints(t *testing.T) {
	sweep := func(workers string) string {
		var out bytes.Buffer
		code, err := run([]string{"sweep", "election", "--seeds", "1-6", "--bug", "stale-reads", "--workers", workers}, &out)
		require.NoError(t, err)
		require.Contains(t, []int{0, 1}, code)
		return wallTime.ReplaceAllString(out.String(), "")
	}
	require.Equal(t, sweep("1"), sweep("2"))
}

var wallTime = regexp.MustCompile(` in [0-9.]+m?s wall time`)

// Shards cover exactly the seeds of the whole sweep, once each, and a
// merge of their JSON prints the whole sweep's table.
func TestShardsCoverTheSweepAndMergeToItsTable(t *testing.T) {
	dir := t.TempDir()
	var files []string
	seen := map[uint64]int{}
	for k := 1; k <= 3; k++ {
		var out bytes.Buffer
		_, err := run([]string{"sweep", "partition", "--seeds", "1-8", "--bug", "stale-reads", "--shard", fmt.Sprintf("%d/3", k), "--json"}, &out)
		require.NoError(t, err)
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var sr seedResult
			require.NoError(t, json.Unmarshal([]byte(line), &sr))
			seen[sr.Seed]++
		}
		name := filepath.Join(dir, fmt.Sprintf("shard%d.json", k))
		require.NoError(t, os.WriteFile(name, out.Bytes(), 0o644))
		files = append(files, name)
	}
	for seed := uint64(1); seed <= 8; seed++ {
		require.Equal(t, 1, seen[seed], "seed %d", seed)
	}
	require.Len(t, seen, 8)

	var whole, merged bytes.Buffer
	_, err := run([]string{"sweep", "partition", "--seeds", "1-8", "--bug", "stale-reads"}, &whole)
	require.NoError(t, err)
	code, err := run(append([]string{"sweep", "merge"}, files...), &merged)
	require.NoError(t, err)
	require.Equal(t, 1, code, "stale reads fail some seed")
	table := whole.String()[strings.Index(whole.String(), "8 seeds:"):]
	require.Equal(t, wallTime.ReplaceAllString(table, ""), merged.String())

	// A merge that would claim what was not run is refused.
	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	var other bytes.Buffer
	_, err = run([]string{"sweep", "election", "--seeds", "1-2", "--json"}, &other)
	require.NoError(t, err)
	otherFile := filepath.Join(dir, "other.json")
	require.NoError(t, os.WriteFile(otherFile, other.Bytes(), 0o644))
	for _, tc := range []struct {
		files []string
		msg   string
	}{
		{files[:2], "shard 3 of 3"},
		{[]string{empty}, "no results"},
		{[]string{files[0], otherFile}, "is from the sweep"},
		{[]string{files[0], files[0]}, "is in"},
	} {
		code, err := run(append([]string{"sweep", "merge"}, tc.files...), io.Discard)
		require.Equal(t, 2, code)
		require.ErrorContains(t, err, tc.msg)
	}
}

func TestShardAutoReadsAnIndexedJob(t *testing.T) {
	t.Setenv("JOB_COMPLETION_INDEX", "2")
	t.Setenv("ETCDLAB_SHARDS", "4")
	k, n, err := parseShard("auto")
	require.NoError(t, err)
	require.Equal(t, [2]int{3, 4}, [2]int{k, n})
	for _, bad := range []string{"0/2", "3/2", "1/0", "x", "1/2/3"} {
		_, _, err := parseShard(bad)
		require.Error(t, err, bad)
	}
	t.Setenv("JOB_COMPLETION_INDEX", "4")
	_, _, err = parseShard("auto")
	require.ErrorContains(t, err, "JOB_COMPLETION_INDEX")
}

// The CLI's conventions: flags on either side of the source, or both; a
// repeated --bug adds up; a command's --help is its usage.
func TestFlagsAnywhereRepeatedBugsAndHelp(t *testing.T) {
	var a, b bytes.Buffer
	_, err := run([]string{"show", "--seed", "3", "partition", "--nodes", "3", "--bug", "stale-reads", "--bug", "forget-vote"}, &a)
	require.NoError(t, err)
	_, err = run([]string{"show", "partition", "--seed", "3", "--nodes", "3", "--bug", "stale-reads,forget-vote"}, &b)
	require.NoError(t, err)
	require.Equal(t, b.String(), a.String())
	require.Contains(t, a.String(), "stale-reads,forget-vote")
	var c bytes.Buffer
	_, err = run([]string{"show", "partition", "--bug", "stale-reads", "--bug", "none", "--bug", "forget-vote"}, &c)
	require.NoError(t, err)
	require.Contains(t, c.String(), "bug                            forget-vote\n", "none clears the bugs before it")

	var help bytes.Buffer
	code, err := run([]string{"run", "partition", "--help"}, &help)
	require.NoError(t, err)
	require.Equal(t, 0, code)
	require.Contains(t, help.String(), "--workers N")
}

// A replay streams its trace: every line has its time, a long message's
// entries included, and the lines are the run's trace.
func TestReplayStreamsATimestampedTrace(t *testing.T) {
	var out bytes.Buffer
	_, err := run([]string{"replay", "partition", "--seed", "1"}, &out)
	require.NoError(t, err)
	trace, _, found := strings.Cut(out.String(), "\n\n")
	require.True(t, found, "a blank line ends the trace")
	stamped := regexp.MustCompile(`^ *[0-9]+\.[0-9]{6}s `)
	lines := strings.Split(trace, "\n")
	require.Greater(t, len(lines), 1000)
	for _, line := range lines {
		require.Regexp(t, stamped, line)
	}
}

// --check-determinism says where two runs part: here the first "run" is a
// doctored trace, as a nondeterministic simulation would give.
func TestCheckDeterminismFindsWhereRunsPart(t *testing.T) {
	var out bytes.Buffer
	code, err := run([]string{"run", "election", "--seed", "2", "--check-determinism"}, &out)
	require.NoError(t, err)
	require.Equal(t, 0, code, out.String())
	require.Contains(t, out.String(), "deterministic: two runs")

	inv, err := parse("run", []string{"election", "--seed", "2"})
	require.NoError(t, err)
	inv.opts.KeepTrace = true
	r, err := inv.runSeed(2)
	require.NoError(t, err)
	r.Trace = slices.Clone(r.Trace)
	r.Trace[7] = "doctored"
	out.Reset()
	code, err = inv.compareRuns(&out, r)
	require.NoError(t, err)
	require.Equal(t, 1, code)
	require.Contains(t, out.String(), "part at trace line 8")

	// The same text with another fingerprint: fields the text does not
	// show differ.
	r2, err := inv.runSeed(2)
	require.NoError(t, err)
	r2.Fingerprint = strings.Repeat("0", 64)
	out.Reset()
	code, err = inv.compareRuns(&out, r2)
	require.NoError(t, err)
	require.Equal(t, 1, code)
	require.Contains(t, out.String(), "fingerprints differ")
}

// A file that cannot be written is exit status 3, apart from a failed
// check (1) and bad input (2): here the chart's folder is gone by the time
// the run ends.
func TestAWriteErrorHasItsOwnExitStatus(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "charts")
	require.NoError(t, os.Mkdir(dir, 0o755))
	inv, err := parse("plot", []string{"election", "--out", filepath.Join(dir, "c.png")})
	require.NoError(t, err)
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.WriteFile(dir, nil, 0o644)) // a file where the folder was
	code, err := inv.do(io.Discard)
	require.Equal(t, 3, code)
	var w errWrite
	require.ErrorAs(t, err, &w)
}

// shrink makes a failing seed smaller, and the file it writes fails the
// same check when run.
func TestShrinkWritesASmallerExperimentThatStillFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "small.txt")
	var out bytes.Buffer
	code, err := run([]string{"shrink", "partition", "--seed", "1", "--bug", "stale-reads", "--out", path}, &out)
	require.NoError(t, err, out.String())
	require.Equal(t, 0, code)
	require.Contains(t, out.String(), "still fails linearizable")

	small, err := readExperiment(path)
	require.NoError(t, err)
	require.Less(t, small.Settings.Clients, 5, "fewer clients than partition's 5")
	require.Less(t, small.Settings.Nodes, 5, "fewer members than partition's 5")
	out.Reset()
	code, err = run([]string{"run", path}, &out)
	require.NoError(t, err)
	require.Equal(t, 1, code)
	require.Contains(t, out.String(), "FAIL linearizable")

	out.Reset()
	code, err = run([]string{"shrink", "election", "--seed", "1", "--out", filepath.Join(t.TempDir(), "x.txt")}, &out)
	require.NoError(t, err)
	require.Equal(t, 0, code, "a passing seed is nothing to shrink, not a failure")
	require.Contains(t, out.String(), "nothing to shrink")
	code, err = run([]string{"shrink", "partition", "--seed", "1", "--bug", "stale-reads", "--check", "nosuch", "--out", filepath.Join(t.TempDir(), "x.txt")}, io.Discard)
	require.Equal(t, 2, code)
	require.ErrorContains(t, err, `it fails "linearizable"`)
}

// A failing run leaves a folder with everything needed to study it, and
// its experiment file runs the same run again.
func TestAFailingRunLeavesAFolder(t *testing.T) {
	reports := t.TempDir()
	var out bytes.Buffer
	code, err := run([]string{"run", "partition", "--seed", "1", "--bug", "stale-reads", "--report-dir", reports}, &out)
	require.NoError(t, err)
	require.Equal(t, 1, code)
	entries, err := os.ReadDir(reports)
	require.NoError(t, err)
	require.Len(t, entries, 1, "one folder, no temporary one left")
	dir := filepath.Join(reports, entries[0].Name())
	require.Contains(t, out.String(), "failure folder: "+dir)
	for _, f := range []string{"README.txt", "experiment.txt", "summary.txt", "trace.txt", "latency.png"} {
		require.FileExists(t, filepath.Join(dir, f))
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "linearizability-*.html"))
	require.Len(t, pages, 1, "porcupine's page moved into the folder")
	readme, err := os.ReadFile(filepath.Join(dir, "README.txt"))
	require.NoError(t, err)
	require.Contains(t, string(readme), "shrink:  go run ./cmd/etcdlab shrink partition --seed 1 --bug stale-reads")

	// trace.txt is the run's trace (run keeps none: it is the seed run
	// again), as replay prints it.
	trace, err := os.ReadFile(filepath.Join(dir, "trace.txt"))
	require.NoError(t, err)
	var replay bytes.Buffer
	_, err = run([]string{"replay", "partition", "--seed", "1", "--bug", "stale-reads", "--report-dir", reports}, &replay)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(replay.String(), string(trace)), "trace.txt is what replay streams")
	entries, err = os.ReadDir(reports)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the same run's folder, not a second one")

	var again bytes.Buffer
	code, err = run([]string{"run", filepath.Join(dir, "experiment.txt"), "--report-dir", t.TempDir()}, &again)
	require.NoError(t, err)
	require.Equal(t, 1, code)
	fingerprint := regexp.MustCompile(`fingerprint: [0-9a-f]+`)
	require.Equal(t, fingerprint.FindString(out.String()), fingerprint.FindString(again.String()), "the file replays the run")
}

// Something else at the failure folder's path is not taken for the
// folder: a write error (3), after the run's summary.
func TestAFailureFolderInTheWayIsAnError(t *testing.T) {
	reports := t.TempDir()
	var first bytes.Buffer
	_, err := run([]string{"run", "partition", "--seed", "1", "--bug", "stale-reads", "--report-dir", reports}, &first)
	require.NoError(t, err)
	entries, err := os.ReadDir(reports)
	require.NoError(t, err)
	dir := filepath.Join(reports, entries[0].Name())
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.WriteFile(dir, []byte("not a folder"), 0o644))
	var out bytes.Buffer
	code, err := run([]string{"run", "partition", "--seed", "1", "--bug", "stale-reads", "--report-dir", reports}, &out)
	require.Error(t, err)
	require.Equal(t, 3, code)
	require.Contains(t, err.Error(), "is in the way")
	require.Contains(t, out.String(), "verdicts:", "the run's summary is still printed")
}

// replay's filters keep only what was asked for.
func TestReplayFilters(t *testing.T) {
	var out bytes.Buffer
	_, err := run([]string{"replay", "partition", "--seed", "1", "--node", "n4", "--type", "MsgVote", "--from", "0.5s", "--to", "1s"}, &out)
	require.NoError(t, err)
	trace, _, _ := strings.Cut(out.String(), "\n\n")
	lines := strings.Split(trace, "\n")
	require.NotEmpty(t, lines)
	for _, l := range lines {
		require.Contains(t, l, "MsgVote")
		require.Contains(t, l, "n4")
	}
}

// A message of many entries spans lines; a filter that keeps the message
// keeps all of them, and one that drops it drops them all.
func TestReplayFiltersKeepAMessagesEntries(t *testing.T) {
	var out bytes.Buffer
	_, err := run([]string{"replay", "compaction-snapshot", "--seed", "1", "--node", "n3", "--from", "12.2955s", "--to", "12.2956s"}, &out)
	require.NoError(t, err)
	trace, _, _ := strings.Cut(out.String(), "\n\n")
	require.Contains(t, trace, "2->3 MsgApp Term:2 Log:2/607 Commit:889 Entries:[\n  12.295539s net    2/608 EntryNormal delete k19\n")
	out.Reset()
	_, err = run([]string{"replay", "compaction-snapshot", "--seed", "1", "--node", "n1", "--from", "12.2955s", "--to", "12.2956s"}, &out)
	require.NoError(t, err)
	require.NotContains(t, out.String(), "2/608 EntryNormal delete k19")
	// Other lines that are not messages (a refused connection) are judged
	// on their own, not by the line before them.
	out.Reset()
	_, err = run([]string{"replay", "nemesis", "--seed", "3", "--node", "c2", "--from", "13.338s", "--to", "13.341s"}, &out)
	require.NoError(t, err)
	trace, _, _ = strings.Cut(out.String(), "\n\n")
	require.NotContains(t, trace, "c3->n2 refused")
	require.NotContains(t, trace, "c4->n1 refused")
}

// The Mermaid diagram is well-formed: a header, every participant
// declared before its first arrow, every line an arrow or a note.
func TestMermaidIsWellFormed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.mmd")
	_, err := run([]string{"replay", "partition", "--seed", "1", "--from", "3.46s", "--to", "3.48s", "--mermaid", path}, io.Discard)
	require.NoError(t, err)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Equal(t, "sequenceDiagram", lines[0])
	declared := map[string]bool{}
	participant := regexp.MustCompile(`^    participant (\S+)$`)
	arrow := regexp.MustCompile(`^    (\S+?)(->>|-x)(\S+?): [^;#\n]+$`)
	note := regexp.MustCompile(`^    Note over (\S+),(\S+): [^;#\n]+$`)
	arrows := 0
	for _, l := range lines[1:] {
		if m := participant.FindStringSubmatch(l); m != nil {
			declared[m[1]] = true
			continue
		}
		if m := arrow.FindStringSubmatch(l); m != nil {
			require.True(t, declared[m[1]] && declared[m[3]], "undeclared participant in %q", l)
			arrows++
			continue
		}
		require.Regexp(t, note, l)
	}
	require.Greater(t, arrows, 10)

	// One request's life, as a diagram.
	var trace bytes.Buffer
	_, err = run([]string{"replay", "partition", "--seed", "1", "--node", "c1"}, &trace)
	require.NoError(t, err)
	id := regexp.MustCompile(`put \S+ #([0-9a-f]+)`).FindStringSubmatch(trace.String())
	require.NotNil(t, id)
	_, err = run([]string{"replay", "partition", "--seed", "1", "--op", id[1], "--mermaid", path}, io.Discard)
	require.NoError(t, err)
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(b), "c1->>")
	require.Contains(t, string(b), "->>c1: ")
	require.Contains(t, string(b), "MsgApp")
}

// The Chrome trace is JSON in the trace-event format: a track per member,
// and on each track spans that never overlap (so they nest trivially).
func TestChromeTraceIsWellFormed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.json")
	_, err := run([]string{"replay", "partition", "--seed", "1", "--chrome-trace", path}, io.Discard)
	require.NoError(t, err)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc struct{ TraceEvents []chromeEvent }
	require.NoError(t, json.Unmarshal(b, &doc))
	members := map[int]bool{}
	type track struct{ pid, tid int }
	spans := map[track][][2]float64{}
	for _, ev := range doc.TraceEvents {
		switch ev.Phase {
		case "M":
			if name, _ := ev.Args["name"].(string); ev.PID == membersPID && ev.Name == "thread_name" && !strings.Contains(name, " ") {
				members[ev.TID] = true
			}
		case "X":
			require.Positive(t, ev.Dur, ev.Name)
			spans[track{ev.PID, ev.TID}] = append(spans[track{ev.PID, ev.TID}], [2]float64{ev.TS, ev.TS + ev.Dur})
		case "i":
		default:
			t.Fatalf("unexpected phase %q", ev.Phase)
		}
	}
	require.Len(t, members, 5, "one track per member")
	require.Contains(t, string(b), `"fsync member/wal/`, "fsyncs on the members' disk tracks")
	require.Contains(t, string(b), `"apply `, "applies on the members' tracks")
	for tr, ss := range spans {
		slices.SortFunc(ss, func(a, b [2]float64) int { return cmp.Compare(a[0], b[0]) })
		for i := 1; i < len(ss); i++ {
			require.LessOrEqual(t, ss[i-1][1], ss[i][0]+0.001, "spans overlap on track %v", tr) // a nanosecond for float rounding
		}
	}
}

// --op follows one write from the client's send to its answer, through
// the proposal, the leader's append and the commit.
func TestReplayOpFollowsOneRequest(t *testing.T) {
	var trace bytes.Buffer
	_, err := run([]string{"replay", "partition", "--seed", "1", "--node", "c1"}, &trace)
	require.NoError(t, err)
	id := regexp.MustCompile(`put \S+ #([0-9a-f]+)`).FindStringSubmatch(trace.String())
	require.NotNil(t, id, "a put in the trace")
	var out bytes.Buffer
	_, err = run([]string{"replay", "partition", "--seed", "1", "--op", id[1]}, &out)
	require.NoError(t, err)
	life, _, _ := strings.Cut(out.String(), "\n\n")
	for _, stage := range []string{"#" + id[1], "MsgApp", "committed by then", "reply #" + id[1], ": ok ("} {
		require.Contains(t, life, stage)
	}
	_, err = run([]string{"replay", "partition", "--seed", "1", "--op", "ffff"}, io.Discard)
	require.ErrorContains(t, err, "no request #ffff")
}

// porcupine's page of any run: titled, annotated with the faults and
// leader changes, with its partial linearizations as data beside it; and
// it opens in a real browser without a JavaScript error, when one is
// installed (scripts/browser-check).
func TestPorcupinePageOfAnyRun(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "p.html")
	_, err := run([]string{"replay", "partition", "--seed", "1", "--porcupine", page, "--porcupine-keys", "k1"}, io.Discard)
	require.NoError(t, err)
	b, err := os.ReadFile(page)
	require.NoError(t, err)
	for _, want := range []string{"<title>etcdlab: partition, seed 1, k1</title>", `"faults"`, `"leaders"`, "n4 leads term 2", ", by n"} {
		require.Contains(t, string(b), want)
	}
	var lins []struct {
		Key                   string     `json:"key"`
		PartialLinearizations [][]string `json:"partial_linearizations"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "p.linearizations.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &lins))
	require.Len(t, lins, 1)
	require.Equal(t, "k1", lins[0].Key)

	if _, err := exec.LookPath("chromium"); err != nil {
		t.Skip("no chromium: the browser check is skipped")
	}
	script, err := filepath.Abs(filepath.Join(repoRoot(t), "scripts", "browser-check"))
	require.NoError(t, err)
	out, err := exec.Command(script, page).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.FileExists(t, filepath.Join(dir, "p.png"))
}

// repoRoot is the repository's root (the tests run in a temporary
// directory: see TestMain).
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// report writes one self-contained page: verdicts, the chart inline, the
// timeline with the trace around each event; it opens without a
// JavaScript error in a real browser when one is installed.
func TestReportIsOneSelfContainedPage(t *testing.T) {
	page := filepath.Join(t.TempDir(), "run.html")
	code, err := run([]string{"report", "partition", "--seed", "1", "--bug", "apply-before-commit", "--out", page}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 1, code, "the run fails its checks")
	b, err := os.ReadFile(page)
	require.NoError(t, err)
	html := string(b)
	for _, want := range []string{"<title>etcdlab: partition, seed 1</title>", "FAIL", "raft safety", `src="data:image/png;base64,`,
		`id="timeline"`, "n4 leads term 2", "the trace around it"} {
		require.Contains(t, html, want)
	}
	require.NotContains(t, html, `src="http`, "nothing loaded from elsewhere")
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Skip("no chromium: the browser check is skipped")
	}
	out, err := exec.Command(filepath.Join(repoRoot(t), "scripts", "browser-check"), page).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// A fork replays the run exactly up to its moment, then draws fresh luck.
func TestForkKeepsThePastAndChangesTheFuture(t *testing.T) {
	traceOf := func(args ...string) []string {
		var out bytes.Buffer
		_, err := run(append([]string{"replay", "partition", "--seed", "2"}, args...), &out)
		require.NoError(t, err)
		trace, _, _ := strings.Cut(out.String(), "\n\n")
		return strings.Split(trace, "\n")
	}
	base := traceOf()
	forked := traceOf("--until", "5s", "--fork", "1")
	at := slices.IndexFunc(forked, func(l string) bool { return strings.Contains(l, "fork 1: fresh randomness") })
	require.Positive(t, at)
	require.Equal(t, base[:at], forked[:at], "the same run up to the fork")
	require.NotEqual(t, base[at:], forked[at+1:], "other luck after it")

	var out bytes.Buffer
	code, err := run([]string{"run", "partition", "--seed", "1", "--bug", "stale-reads", "--until", "2s", "--forks", "1-3"}, &out)
	require.NoError(t, err)
	require.Equal(t, 0, code)
	require.Contains(t, out.String(), "forks fail linearizable")
	_, err = run([]string{"run", "partition", "--until", "2s"}, io.Discard)
	require.ErrorContains(t, err, "--until needs --fork")
}
