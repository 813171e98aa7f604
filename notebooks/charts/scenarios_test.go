package charts

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcdlab/etcdlab/scenarios"
)

// Every chart of one run, drawn from real runs of the catalog and saved:
// a chart that breaks on real data (a state it does not know, a member
// added mid-run, a snapshot from a member it has no line for) fails
// here, not in a reader's hands. The runs take a second together.
func TestEveryRunChartDrawsRealRuns(t *testing.T) {
	for _, run := range []struct {
		scenario string
		seed     uint64
	}{
		{"leader-crash", 1},        // a leader crashes and restarts
		{"partition", 1},           // 5 members, pre-vote
		{"compaction-snapshot", 1}, // snapshots saved, sent and restored
		{"membership", 1},          // a member added, two removed
		{"watch", 1},               // watchers, for watch-lag
	} {
		t.Run(fmt.Sprintf("%s-%d", run.scenario, run.seed), func(t *testing.T) {
			r, err := scenarios.Run(run.scenario, run.seed, scenarios.Options{})
			require.NoError(t, err)
			require.NotEmpty(t, r.States)
			require.NotEmpty(t, r.LogSizes)
			for _, c := range All {
				if c.Run == nil {
					continue
				}
				p, err := c.Run(r)
				if c.Name == "watch-lag" && r.Settings.Watchers == 0 {
					require.ErrorContains(t, err, "no watcher received an event", "a run without watchers")
					continue
				}
				require.NoError(t, err, c.Name)
				savedPNG(t, c.Name, p)
			}
			ids := timelineMembers(r)
			require.GreaterOrEqual(t, len(ids), r.Settings.Nodes, "a lane for every member")
			spans, err := roleSpans(r, ids, r.Settings.Duration)
			require.NoError(t, err)
			require.True(t, containsRole(spans, "StateLeader"), "someone led")
		})
	}
}

func containsRole(spans []roleSpan, state string) bool {
	for _, s := range spans {
		if s.role.state == state {
			return true
		}
	}
	return false
}
