package charts

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/scenarios"
)

// A leader that steps down, one that crashes and one still leading at the
// end: two step-downs. Only failed checks that know their moment are
// marked.
func TestMarksFindStepDownsAndTimedFailures(t *testing.T) {
	s := func(at int, m uint64, state string) scenarios.StateChange {
		return scenarios.StateChange{At: time.Duration(at) * time.Second, Member: m, State: state}
	}
	r := &scenarios.Result{
		States: []scenarios.StateChange{
			s(0, 1, "StateFollower"), s(0, 2, "StateFollower"),
			s(1, 1, "StateCandidate"), s(1, 1, "StateLeader"),
			s(3, 1, "StateFollower"), // check-quorum
			s(4, 2, "StateLeader"),
			s(6, 2, "down"), // crashed while leading
			s(7, 1, "StateLeader"),
		},
		Verdicts: []checker.Verdict{
			{Name: "linearizable", OK: false},                                  // judged at the end: no moment
			{Name: "raft safety", OK: false, Timed: true, At: 5 * time.Second}, // seen as the run went
			{Name: "converged", OK: true},
		},
	}
	require.Equal(t, []time.Duration{3 * time.Second, 6 * time.Second}, stepDowns(r))
	failures := timedFailures(r)
	require.Len(t, failures, 1)
	require.Equal(t, "raft safety", failures[0].Name)
}
