package scenarios

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/checker"
)

// Shrinking: a failing experiment made as small as it can be while it
// still fails the same check, so the failure can be read in a short
// trace. The search is greedy, as Jepsen's and Hypothesis's shrinkers
// are at heart: try one reduction at a time — drop a fault, halve the
// clients, shorten the run, fewer members, fewer keys — and keep it if
// the run, with the same seed, still fails that check. A smaller
// experiment draws different luck from the seed, so a reduction that
// "should" keep the failure may lose it; the search just moves on.

// ShrinkStep is one reduction tried.
type ShrinkStep struct {
	What string // "drop fault 2 (crash)", "clients 10 -> 5"
	Kept bool   // it still failed the check, so the reduction stays
}

// Shrink reduces e, which must fail the check named check (a verdict's
// Name; "" for the first one that fails), for at most budget runs. step
// is told of every reduction tried. It returns the smallest experiment
// found and its result.
func Shrink(e Experiment, check string, opts Options, budget int, step func(ShrinkStep)) (Experiment, *Result, error) {
	opts.ReportDir = "" // candidates write no pages: only the smallest matters
	r, err := runExperiment(e, opts)
	if err != nil {
		return e, nil, err
	}
	failed := r.Failed()
	if len(failed) == 0 {
		return e, r, fmt.Errorf("%s seed %d passes every check: %w", e.Scenario, e.Seed, ErrNothingToShrink)
	}
	if check == "" {
		check = failed[0].Name
	} else if !failsCheck(r, check) {
		var names []string
		for _, v := range failed {
			names = append(names, fmt.Sprintf("%q", v.Name))
		}
		return e, r, fmt.Errorf("%s seed %d does not fail %q; it fails %s: %w", e.Scenario, e.Seed, check, strings.Join(names, ", "), ErrNoSuchFailure)
	}
	best, bestR := e, r
	tried := map[string]bool{e.String(): true}
	try := func(what string, c Experiment) bool {
		if budget <= 0 || tried[c.String()] || c.Validate() != nil {
			return false
		}
		tried[c.String()] = true
		budget--
		cr, err := runExperiment(c, opts)
		kept := err == nil && failsCheck(cr, check)
		step(ShrinkStep{What: what, Kept: kept})
		if kept {
			best, bestR = c, cr
		}
		return kept
	}
	if !isExpectation(check) {
		// The experiment's own expectations only add checks; without
		// them, faults can go without renumbering what refers to them.
		if len(best.Expect) > 0 {
			c := best
			c.Expect = nil
			try("drop the expectations", c)
		}
		for i := len(best.Faults) - 1; i >= 0 && len(best.Expect) == 0; i-- {
			c := best
			c.Faults = slices.Delete(slices.Clone(best.Faults), i, i+1)
			try(fmt.Sprintf("drop fault %d (%s)", i+1, best.Faults[i].Kind), c)
		}
	}
	for changed := true; changed && budget > 0; {
		changed = false
		for _, red := range reductions(best) {
			if try(red.what, red.e) {
				changed = true
				break // the reductions of the new best come next
			}
		}
	}
	return best, bestR, nil
}

// The reasons Shrink has nothing to do.
var (
	ErrNothingToShrink = errors.New("nothing to shrink")
	ErrNoSuchFailure   = errors.New("name a check it fails with --check")
)

type reduction struct {
	what string
	e    Experiment
}

// reductions are the smaller experiments next to e, biggest cut first.
func reductions(e Experiment) []reduction {
	var out []reduction
	with := func(what string, set func(*Settings)) {
		c := e
		set(&c.Settings)
		out = append(out, reduction{what, c})
	}
	s := e.Settings
	if end := e.lastFaultEnd() + s.Settle + time.Second; end < s.Duration {
		with(fmt.Sprintf("duration %v -> %v", s.Duration, end), func(t *Settings) { t.Duration = end })
	}
	if shorter := (s.Duration * 3 / 4).Round(time.Second); shorter > s.Settle && shorter < s.Duration {
		with(fmt.Sprintf("duration %v -> %v", s.Duration, shorter), func(t *Settings) { t.Duration = shorter })
	}
	if s.Clients > 1 {
		with(fmt.Sprintf("clients %d -> %d", s.Clients, s.Clients/2), func(t *Settings) { t.Clients /= 2 })
	}
	if s.Watchers > 0 {
		with(fmt.Sprintf("watchers %d -> %d", s.Watchers, s.Watchers/2), func(t *Settings) { t.Watchers /= 2 })
	}
	if s.LeaseHolders > 0 {
		with(fmt.Sprintf("lease-holders %d -> %d", s.LeaseHolders, s.LeaseHolders/2), func(t *Settings) { t.LeaseHolders /= 2 })
	}
	if s.Nodes > 3 {
		with(fmt.Sprintf("nodes %d -> %d", s.Nodes, s.Nodes-2), func(t *Settings) { t.Nodes -= 2 })
	}
	if s.Keys > 1 {
		with(fmt.Sprintf("keys %d -> %d", s.Keys, max(s.Keys/2, 1)), func(t *Settings) { t.Keys = max(t.Keys/2, 1) })
	}
	return out
}

func failsCheck(r *Result, check string) bool {
	return slices.ContainsFunc(r.Failed(), func(v checker.Verdict) bool { return v.Name == check })
}

// isExpectation: the check is one of the experiment's own expectations,
// not one every run gets.
func isExpectation(check string) bool {
	switch check {
	case "linearizable", "raft safety", "members converged", "no member panicked",
		"members restart from their disks", "watch", "lease", "serializable reads":
		return false
	}
	return true
}

func runExperiment(e Experiment, opts Options) (*Result, error) {
	r, err := run(e, nil, opts)
	if err != nil {
		return nil, err
	}
	r.Source = e.Scenario
	return r, nil
}
