package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/etcdlab/etcdlab/internal/atomicfile"
	"github.com/etcdlab/etcdlab/scenarios"
)

// shrink makes a failing seed's experiment smaller (scenarios.Shrink),
// prints each reduction tried, and writes the smallest experiment that
// still fails the same check as a file `etcdlab run` takes.
func (inv *invocation) shrink(out io.Writer) (int, error) {
	e, err := inv.experiment(inv.seed)
	if err != nil {
		return 2, errUsage{err.Error()}
	}
	if inv.budget < 1 {
		return 2, errUsage{fmt.Sprintf("shrink: --budget %d: use 1 or more", inv.budget)}
	}
	fmt.Fprintf(out, "shrinking %s seed %d (at most %d runs)\n", inv.source, inv.seed, inv.budget)
	small, r, err := scenarios.Shrink(e, inv.check, inv.opts, inv.budget, func(st scenarios.ShrinkStep) {
		mark := "no  "
		if st.Kept {
			mark = "kept"
		}
		fmt.Fprintf(out, "  %s %s\n", mark, st.What)
	})
	switch {
	case errors.Is(err, scenarios.ErrNothingToShrink):
		fmt.Fprintln(out, err)
		return 0, nil
	case errors.Is(err, scenarios.ErrNoSuchFailure):
		return 2, errUsage{fmt.Sprintf("shrink: --check: %v", err)}
	case err != nil:
		return 1, err
	}
	s := small.Settings
	failed := r.Failed()[0]
	for _, v := range r.Failed() {
		if v.Name == inv.check {
			failed = v
		}
	}
	fmt.Fprintf(out, "smallest: %d faults (of %d), %d members, %d clients, %d keys, %v; still fails %s: %s\n",
		len(small.Faults), len(e.Faults), s.Nodes, s.Clients, s.Keys, s.Duration, failed.Name, shorten(failed.Detail, 100))
	if err := atomicfile.WriteFile(inv.out, []byte(small.String())); err != nil {
		return 3, errWrite{err}
	}
	fmt.Fprintf(out, "wrote %s; run it: go run ./cmd/etcdlab run %s\n", inv.out, inv.out)
	return 0, nil
}
