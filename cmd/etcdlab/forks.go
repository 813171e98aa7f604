package main

import (
	"fmt"
	"io"

	"github.com/etcdlab/etcdlab/scenarios"
)

// runForks runs the seed once as it is and once per fork from --until,
// and says whether the forks fail the check the run fails: if every fork
// does, the failure was settled by then, whatever the luck after it.
func (inv *invocation) runForks(out io.Writer) (int, error) {
	base, err := inv.runSeed(inv.seed)
	if err != nil {
		return 2, errUsage{err.Error()}
	}
	failed := base.Failed()
	if len(failed) == 0 {
		fmt.Fprintf(out, "%s seed %d passes every check; forks of it say nothing about a failure\n", inv.source, inv.seed)
		return 0, nil
	}
	check := failed[0].Name
	fmt.Fprintf(out, "%s seed %d fails %s; %d forks from %v:\n", inv.source, inv.seed, check, len(inv.forks), inv.until)
	same := 0
	for _, k := range inv.forks {
		opts := inv.opts
		opts.Fork = &scenarios.Fork{At: inv.until, K: k}
		fork := *inv
		fork.opts = opts
		r, err := fork.runSeed(inv.seed)
		if err != nil {
			return 2, errUsage{err.Error()}
		}
		mark := "ok  "
		if fails := r.Failed(); len(fails) > 0 {
			mark = "FAIL " + fails[0].Name
			if fails[0].Name == check {
				same++
			}
		}
		fmt.Fprintf(out, "  fork %-4d %s\n", k, mark)
	}
	switch {
	case same == len(inv.forks):
		fmt.Fprintf(out, "all %d forks fail %s: the failure was settled by %v\n", same, check, inv.until)
	default:
		fmt.Fprintf(out, "%d of %d forks fail %s: at %v the failure was not yet settled; try a later --until\n", same, len(inv.forks), check, inv.until)
	}
	return 0, nil
}
