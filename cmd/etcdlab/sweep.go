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

// sweep runs one scenario for each seed, one after another in this
// process (a run owns crypto/rand.Reader, so runs cannot overlap), and
// prints a line a seed and, at the end, how to replay each failure.
func (inv *invocation) sweep(out io.Writer) (int, error) {
	// Every seed expands to its own settings; check them all before the
	// first run, so bad input is refused before any work is done.
	for _, seed := range inv.seeds {
		if _, err := scenarios.Expand(inv.scenario, seed, inv.opts); err != nil {
			return 2, errUsage{err.Error()}
		}
	}
	start := time.Now()
	fmt.Fprintf(out, "sweep %s, %d seeds\n", inv.scenario, len(inv.seeds))
	var failed []*scenarios.Result
	var simulated time.Duration
	for _, seed := range inv.seeds {
		r, crash, err := runOne(inv.scenario, seed, inv.opts)
		switch {
		case err != nil:
			return 2, errUsage{err.Error()}
		case crash != "":
			failed = append(failed, &scenarios.Result{Scenario: inv.scenario, Seed: seed, Options: inv.opts})
			fmt.Fprintf(out, "  seed %-6d PANIC %s\n", seed, crash)
			continue
		}
		simulated += r.Settings.Duration
		if r.OK() {
			ok, _, unknown := r.Counts()
			fmt.Fprintf(out, "  seed %-6d ok   leaders elected %d, ops ok %d, unknown %d, p99 %v, fingerprint %.12s\n",
				seed, len(r.LeaderChanges), ok, unknown, r.Latency(0.99).Round(time.Microsecond), r.Fingerprint)
			continue
		}
		failed = append(failed, r)
		bad := r.Failed()
		fmt.Fprintf(out, "  seed %-6d FAIL %s: %s\n", seed, bad[0].Name, shorten(bad[0].Detail, 110))
		for _, v := range bad[1:] {
			fmt.Fprintf(out, "              FAIL %s\n", v.Name)
		}
		for _, v := range bad {
			if v.Visualization != "" {
				fmt.Fprintf(out, "              visualization: %s\n", v.Visualization)
			}
		}
	}
	wall := time.Since(start)
	fmt.Fprintf(out, "%d seeds: %d ok, %d failed; simulated %v in %v wall time\n",
		len(inv.seeds), len(inv.seeds)-len(failed), len(failed), simulated, wall.Round(time.Millisecond))
	if len(failed) == 0 {
		return 0, nil
	}
	fmt.Fprintln(out, "replay the failures:")
	for _, r := range failed {
		fmt.Fprintf(out, "  %s\n", r.ReplayCommand())
	}
	return 1, nil
}

// runOne runs one seed. A panic is a bug in etcdlab, not in the run's
// members: it is reported as the seed's outcome, so the sweep goes on and
// the seed's replay command is printed with the other failures.
func runOne(scenario string, seed uint64, opts scenarios.Options) (r *scenarios.Result, crash string, err error) {
	defer func() {
		if p := recover(); p != nil {
			crash = fmt.Sprint(p)
		}
	}()
	r, err = scenarios.Run(scenario, seed, opts)
	return r, "", err
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
