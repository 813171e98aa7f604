package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/scenarios"
)

// maxSweepSeeds bounds one sweep, so a typo such as 1-1000000000 is an
// error rather than a day of work.
const maxSweepSeeds = 100_000

// parseSeeds reads a seed list: single seeds and inclusive ranges,
// separated by commas ("1-40", "3,7,10-12"). Seeds are kept in the order
// given; a seed given twice is an error, since it would only repeat a run.
func parseSeeds(list string) ([]uint64, error) {
	var seeds []uint64
	seen := map[uint64]bool{}
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
		first, err := strconv.ParseUint(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a seed or a range like 1-40", part)
		}
		last := first
		if isRange {
			if last, err = strconv.ParseUint(hi, 10, 64); err != nil {
				return nil, fmt.Errorf("%q is not a seed or a range like 1-40", part)
			}
			if last < first {
				return nil, fmt.Errorf("range %q goes down; write it low-high", part)
			}
		}
		if last-first >= maxSweepSeeds || len(seeds)+int(last-first+1) > maxSweepSeeds {
			return nil, fmt.Errorf("more than %d seeds in one sweep", maxSweepSeeds)
		}
		for seed := first; ; seed++ {
			if seen[seed] {
				return nil, fmt.Errorf("seed %d is listed twice", seed)
			}
			seen[seed] = true
			seeds = append(seeds, seed)
			if seed == last {
				break
			}
		}
	}
	return seeds, nil
}

// seedResult is what a sweep keeps of one seed's run: enough to print its
// line, its place in the final table and its replay command. Workers send
// it to the sweep as a JSON line, and --json writes it.
type seedResult struct {
	// Sweep names the sweep (source, settings, seeds) and Shard which
	// part of it ("2/4"), so a merge can tell a whole sweep from a part.
	Sweep       string              `json:"sweep"`
	Shard       string              `json:"shard"`
	Seed        uint64              `json:"seed"`
	OK          bool                `json:"ok"`
	Crash       string              `json:"crash,omitempty"` // a panic in etcdlab itself
	Failed      []failedVerdict     `json:"failed,omitempty"`
	Coverage    string              `json:"coverage,omitempty"`
	OpsOK       int                 `json:"ops_ok"`
	Unknown     int                 `json:"unknown"`
	P99         time.Duration       `json:"p99_ns"`
	Fingerprint string              `json:"fingerprint,omitempty"`
	Simulated   time.Duration       `json:"simulated_ns"`
	Replay      string              `json:"replay"`
	Folder      string              `json:"folder,omitempty"` // the failure's folder
	Downtime    *scenarios.Downtime `json:"downtime,omitempty"`
}

// result fills in which sweep a result belongs to.
func (inv *invocation) result(sr seedResult) seedResult {
	sr.Sweep, sr.Shard = inv.sweepName(), fmt.Sprintf("%d/%d", inv.shard, inv.shards)
	return sr
}

// sweepName is the sweep as a command line would name it: the source, the
// settings given, the seeds.
func (inv *invocation) sweepName() string {
	name := inv.source
	for _, a := range inv.opts.Set {
		name += fmt.Sprintf(" --%s %s", a.Key, a.Value)
	}
	return name + " --seeds " + inv.seedsSpec
}

type failedVerdict struct {
	Mark   string `json:"mark"`
	Name   string `json:"name"`
	Detail string `json:"detail"`
}

func newSeedResult(inv *invocation, seed uint64) (seedResult, error) {
	start := time.Now()
	r, crash, err := inv.runOne(seed)
	wall := time.Since(start)
	switch {
	case err != nil:
		return seedResult{}, err
	case crash != "":
		return inv.result(seedResult{Seed: seed, Crash: crash, Replay: inv.replay(seed)}), nil
	}
	ok, _, unknown := r.Counts()
	sr := seedResult{Sweep: inv.sweepName(), Shard: fmt.Sprintf("%d/%d", inv.shard, inv.shards), Seed: seed, OK: r.OK(), Coverage: r.Coverage(), OpsOK: ok, Unknown: unknown,
		P99: r.Latency(0.99).Round(time.Microsecond), Fingerprint: r.Fingerprint, Simulated: r.Settings.Duration,
		Replay: r.ReplayCommand()}
	for _, v := range r.Failed() {
		sr.Failed = append(sr.Failed, failedVerdict{v.Mark(), v.Name, v.Detail})
	}
	if d, ok := r.Downtime(); ok {
		sr.Downtime = &d
	}
	if !sr.OK {
		if sr.Folder, err = inv.writeFailure(r, wall); err != nil {
			return sr, errWrite{fmt.Errorf("seed %d's failure folder: %w", seed, err)}
		}
	}
	return sr, nil
}

// sweep runs the source for each seed (of its shard), in worker processes
// when --workers is more than 1, and prints a line a seed, in seed order,
// then the failures with their replay commands. With --json it writes one
// seedResult a line instead. A run owns crypto/rand.Reader, so runs never
// overlap inside one process: parallelism is processes.
func (inv *invocation) sweep(out io.Writer) (int, error) {
	// Every seed expands to its own experiment; check them all before the
	// first run, so bad input is refused before any work is done.
	for _, seed := range inv.seeds {
		if _, err := inv.experiment(seed); err != nil {
			return 2, errUsage{err.Error()}
		}
	}
	if inv.worker {
		return inv.serveSeeds(out)
	}
	seeds := inv.shardSeeds()
	start := time.Now()
	if !inv.json {
		fmt.Fprintf(out, "sweep %s, %s%s\n", inv.source, seedCount(len(seeds)), inv.shardNote())
	}
	bar := newProgress(len(seeds))
	var results []seedResult
	next := 0 // the next seed, in order, to print
	pending := map[uint64]seedResult{}
	failures := 0
	err := inv.runSeeds(seeds, func(sr seedResult) {
		if !sr.OK {
			failures++
		}
		bar.add(failures)
		pending[sr.Seed] = sr
		for next < len(seeds) {
			got, ok := pending[seeds[next]]
			if !ok {
				break
			}
			delete(pending, seeds[next])
			next++
			results = append(results, got)
			if inv.json {
				b, _ := json.Marshal(got)
				bar.println(out, string(b))
			} else {
				bar.println(out, strings.TrimRight(inv.seedLines(got), "\n"))
			}
		}
	})
	bar.done()
	if err != nil {
		return exitStatus(err)
	}
	if inv.json {
		return exitFor(results), nil
	}
	return finalTable(out, results, time.Since(start), inv.report == "downtime"), nil
}

// seedLines is a seed's line, and the lines of its other failed verdicts.
func (inv *invocation) seedLines(sr seedResult) string {
	var b strings.Builder
	switch {
	case sr.Crash != "":
		fmt.Fprintf(&b, "  seed %-6d ETCDLAB BUG (not a failed check of the members): %s\n", sr.Seed, sr.Crash)
		return b.String()
	case inv.report == "downtime":
		mark := "ok  "
		if !sr.OK {
			mark = "FAIL"
		}
		d, ok := scenarios.Downtime{}, sr.Downtime != nil
		if ok {
			d = *sr.Downtime
		}
		fmt.Fprintf(&b, "  seed %-6d %s %s\n", sr.Seed, mark, describeDowntime(d, ok))
	case len(sr.Failed) == 0:
		fmt.Fprintf(&b, "  seed %-6d ok   ops ok %d, unknown %d, p99 %v, fingerprint %.12s\n",
			sr.Seed, sr.OpsOK, sr.Unknown, sr.P99, sr.Fingerprint)
	default:
		v := sr.Failed[0]
		fmt.Fprintf(&b, "  seed %-6d %s %s: %s\n", sr.Seed, v.Mark, v.Name, shorten(v.Detail, 110))
	}
	rest := sr.Failed
	if inv.report != "downtime" && len(rest) > 0 {
		rest = rest[1:]
	}
	for _, v := range rest {
		fmt.Fprintf(&b, "              %s %s: %s\n", v.Mark, v.Name, shorten(v.Detail, 100))
	}
	if sr.Folder != "" {
		fmt.Fprintf(&b, "              folder: %s\n", sr.Folder)
	}
	if inv.report == "" {
		fmt.Fprintf(&b, "              coverage: %s\n", sr.Coverage)
	}
	return b.String()
}

// finalTable prints the sweep's totals and a table of the failing seeds,
// each with its first violation and replay command; the exit status is 1
// if any seed failed.
func finalTable(out io.Writer, results []seedResult, wall time.Duration, downtime bool) int {
	var simulated time.Duration
	var failed []seedResult
	var downs []scenarios.Downtime
	for _, sr := range results {
		simulated += sr.Simulated
		if !sr.OK {
			failed = append(failed, sr)
		}
		if sr.Downtime != nil {
			downs = append(downs, *sr.Downtime)
		}
	}
	fmt.Fprintf(out, "%s: %d ok, %d failed; simulated %v", seedCount(len(results)), len(results)-len(failed), len(failed), simulated)
	if wall > 0 && wallClock { // a merge of sweeps has no one wall time
		fmt.Fprintf(out, " in %v wall time", wall.Round(time.Millisecond))
	}
	fmt.Fprintln(out)
	if downtime {
		writeDowntimeSummary(out, downs, len(results))
	}
	if len(failed) == 0 {
		return 0
	}
	fmt.Fprintln(out, "failing seeds (first violation; replay; folder):")
	for _, sr := range failed {
		first := "ETCDLAB BUG: " + sr.Crash
		if len(sr.Failed) > 0 {
			first = fmt.Sprintf("%s %s: %s", sr.Failed[0].Mark, sr.Failed[0].Name, shorten(sr.Failed[0].Detail, 90))
		}
		fmt.Fprintf(out, "  seed %-6d %s\n              %s\n", sr.Seed, first, sr.Replay)
		if sr.Folder != "" {
			fmt.Fprintf(out, "              %s\n", sr.Folder)
		}
	}
	return 1
}

// exitStatus is a failed run's: a file that could not be written is 3,
// anything else is bad input.
func exitStatus(err error) (int, error) {
	var werr errWrite
	if errors.As(err, &werr) {
		return 3, err
	}
	return 2, errUsage{err.Error()}
}

func exitFor(results []seedResult) int {
	for _, sr := range results {
		if !sr.OK {
			return 1
		}
	}
	return 0
}

func okMark(r *scenarios.Result) string {
	if r.OK() {
		return "ok  "
	}
	return "FAIL"
}

// replay is the replay command of one seed of the sweep, for a seed whose
// run produced no result.
func (inv *invocation) replay(seed uint64) string {
	r := &scenarios.Result{Source: inv.source, Options: inv.opts, Experiment: scenarios.Experiment{Seed: seed}}
	if inv.file != nil {
		r.Options.Seed = &seed
	}
	return r.ReplayCommand()
}

// runOne runs one seed. A panic that escapes a run is a bug in etcdlab's
// harness, not in the members (a member's panic is its death and a
// verdict): it is reported as the seed's outcome, so the sweep goes on and
// the seed's replay command is printed with the other failures.
func (inv *invocation) runOne(seed uint64) (r *scenarios.Result, crash string, err error) {
	defer func() {
		if p := recover(); p != nil {
			crash = fmt.Sprint(p)
		}
	}()
	r, err = inv.runSeed(seed)
	return r, "", err
}

func describeDowntime(d scenarios.Downtime, ok bool) string {
	if !ok {
		return "no fault hit a leader"
	}
	ms := func(t time.Duration) string {
		if t < 0 {
			return "never"
		}
		return t.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("leader n%d lost at %v: new leader after %s, first write after %s", d.Leader, d.Lost, ms(d.Elected), ms(d.FirstWrite))
}

// writeDowntimeSummary prints the spread of both downtimes over the seeds
// whose faults hit a leader.
func writeDowntimeSummary(out io.Writer, downs []scenarios.Downtime, seeds int) {
	fmt.Fprintf(out, "downtime over the %d of %d seeds where a fault hit the leader (virtual time):\n", len(downs), seeds)
	for _, m := range []struct {
		name string
		get  func(scenarios.Downtime) time.Duration
	}{
		{"leader lost -> new leader ", func(d scenarios.Downtime) time.Duration { return d.Elected }},
		{"leader lost -> first write", func(d scenarios.Downtime) time.Duration { return d.FirstWrite }},
	} {
		var ds []time.Duration
		never := 0
		for _, d := range downs {
			if v := m.get(d); v >= 0 {
				ds = append(ds, v)
			} else {
				never++
			}
		}
		if len(ds) == 0 {
			fmt.Fprintf(out, "  %s  none\n", m.name)
			continue
		}
		q := func(p float64) time.Duration { return scenarios.Quantile(ds, p).Round(time.Millisecond) }
		line := fmt.Sprintf("  %s  min %v  p50 %v  p90 %v  max %v", m.name, q(0), q(0.5), q(0.9), q(1))
		if never > 0 {
			line += fmt.Sprintf("  (never in %d)", never)
		}
		fmt.Fprintln(out, line)
	}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func seedCount(n int) string {
	if n == 1 {
		return "1 seed"
	}
	return fmt.Sprintf("%d seeds", n)
}
