package main

import (
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

// sweep runs one source for each seed, one after another in this process
// (a run owns crypto/rand.Reader, so runs cannot overlap), and prints a
// line a seed and, at the end, how to replay each failure.
func (inv *invocation) sweep(out io.Writer) (int, error) {
	// Every seed expands to its own experiment; check them all before the
	// first run, so bad input is refused before any work is done.
	for _, seed := range inv.seeds {
		if _, err := inv.experiment(seed); err != nil {
			return 2, errUsage{err.Error()}
		}
	}
	start := time.Now()
	fmt.Fprintf(out, "sweep %s, %s\n", inv.source, seedCount(len(inv.seeds)))
	var failed []string // replay commands
	var downs []scenarios.Downtime
	var simulated time.Duration
	for _, seed := range inv.seeds {
		r, crash, err := inv.runOne(seed)
		switch {
		case err != nil:
			return 2, errUsage{err.Error()}
		case crash != "":
			failed = append(failed, inv.replay(seed))
			fmt.Fprintf(out, "  seed %-6d ETCDLAB BUG (not a failed check of the members): %s\n", seed, crash)
			continue
		}
		simulated += r.Settings.Duration
		bad := r.Failed()
		switch {
		case inv.report == "downtime":
			d, ok := r.Downtime()
			if ok {
				downs = append(downs, d)
			}
			fmt.Fprintf(out, "  seed %-6d %s %s\n", seed, okMark(r), describeDowntime(d, ok))
		case len(bad) == 0:
			ok, _, unknown := r.Counts()
			fmt.Fprintf(out, "  seed %-6d ok   ops ok %d, unknown %d, p99 %v, fingerprint %.12s\n",
				seed, ok, unknown, r.Latency(0.99).Round(time.Microsecond), r.Fingerprint)
		default:
			fmt.Fprintf(out, "  seed %-6d %s %s: %s\n", seed, bad[0].Mark(), bad[0].Name, shorten(bad[0].Detail, 110))
			bad = bad[1:]
		}
		for _, v := range bad {
			fmt.Fprintf(out, "              %s %s: %s\n", v.Mark(), v.Name, shorten(v.Detail, 100))
		}
		for _, v := range r.Failed() {
			if v.Visualization != "" {
				fmt.Fprintf(out, "              visualization: %s\n", v.Visualization)
			}
		}
		if inv.report == "" {
			fmt.Fprintf(out, "              coverage: %s\n", r.Coverage())
		}
		if !r.OK() {
			failed = append(failed, r.ReplayCommand())
		}
	}
	wall := time.Since(start)
	fmt.Fprintf(out, "%s: %d ok, %d failed; simulated %v in %v wall time\n",
		seedCount(len(inv.seeds)), len(inv.seeds)-len(failed), len(failed), simulated, wall.Round(time.Millisecond))
	if inv.report == "downtime" {
		writeDowntimeSummary(out, downs, len(inv.seeds))
	}
	if len(failed) == 0 {
		return 0, nil
	}
	fmt.Fprintln(out, "replay the failures:")
	for _, cmd := range failed {
		fmt.Fprintf(out, "  %s\n", cmd)
	}
	return 1, nil
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
