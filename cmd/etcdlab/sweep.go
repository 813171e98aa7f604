package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"etcdlab/scenarios"
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
		r, err := scenarios.Run(inv.scenario, seed, inv.opts)
		if err != nil {
			return 2, errUsage{err.Error()}
		}
		simulated += r.Settings.Duration
		ok, _, unknown := r.Counts()
		line := fmt.Sprintf("  seed %-6d ok   leaders elected %d, ops ok %d, unknown %d, p99 %v, fingerprint %.12s",
			seed, len(r.LeaderChanges), ok, unknown, r.Latency(0.99).Round(time.Microsecond), r.Fingerprint)
		if !r.OK() {
			failed = append(failed, r)
			var names []string
			for _, v := range r.Failed() {
				names = append(names, v.Name)
			}
			line = fmt.Sprintf("  seed %-6d FAIL %s", seed, strings.Join(names, ", "))
		}
		fmt.Fprintln(out, line)
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
