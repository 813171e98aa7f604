package charts

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"

	"github.com/etcdlab/etcdlab/scenarios"
)

// A hand-made run with every role: n1 pre-votes, campaigns and leads
// term 2, n2 is paused, n3 crashes and restarts, and n2 then leads term
// 3 for a moment too short to label.
func timelineResult() *scenarios.Result {
	st := func(at int, m uint64, state string, term uint64) scenarios.StateChange {
		return scenarios.StateChange{At: msec(at), Member: m, State: state, Term: term}
	}
	return &scenarios.Result{
		Source: "leader-crash", Experiment: scenarios.Experiment{Seed: 3},
		Settings: scenarios.Settings{Duration: 10 * time.Second},
		States: []scenarios.StateChange{
			st(0, 1, "StateFollower", 0), st(0, 2, "StateFollower", 0), st(0, 3, "learner", 0), // n3 is promoted at 505
			st(500, 1, "StatePreCandidate", 1), st(502, 1, "StateCandidate", 2), st(505, 1, "StateLeader", 2),
			st(505, 2, "StateFollower", 2), st(505, 3, "StateFollower", 2),
			st(3000, 3, "down", 2), st(5000, 3, "StateFollower", 0), st(5100, 3, "StateFollower", 2),
			st(6000, 2, "paused", 2), st(7000, 2, "StateFollower", 2),
			st(8000, 2, "StateLeader", 3), st(8010, 2, "StateFollower", 3), st(8010, 1, "StateFollower", 3),
		},
		Faults: []scenarios.FaultRecord{
			{Index: 1, Fired: true, Start: msec(3000), End: msec(5000), Label: "1 crash n3"},
			{Index: 2, Fired: true, Start: msec(6000), End: msec(7000), Label: "2 pause n2"},
			{Index: 3, Label: "3 crash leader"}, // never fired: not drawn
		},
	}
}

func TestTimelineDrawsEveryRoleInAMemberLane(t *testing.T) {
	r := timelineResult()
	p, err := Timeline(r)
	require.NoError(t, err)
	require.Equal(t, "leader-crash, seed 3: each member's raft role over virtual time", p.Title.Text)
	require.Equal(t, 10.0, p.X.Max, "the axis spans the whole run")
	ticks := p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max)
	require.Equal(t, []plot.Tick{{Value: 2, Label: "n1"}, {Value: 1, Label: "n2"}, {Value: 0, Label: "n3"}}, ticks, "a lane per member, n1 on top")
	require.Equal(t, -0.5, p.Y.Min)
	require.Greater(t, p.Y.Max, 2.5, "room above the top lane for the faults' names")

	img := savedPNG(t, "timeline", p)
	for _, ro := range roles {
		require.True(t, drawn(img, ro.color, 0), "a %s bar is drawn", ro.legend)
	}
}

func TestTimelineSpans(t *testing.T) {
	r := timelineResult()
	spans, err := roleSpans(r, timelineMembers(r), r.Settings.Duration)
	require.NoError(t, err)
	// n3's learner span, then its restart (follower term 0, then its
	// term) is one bar, and the crash before it another.
	var n3 []string
	for _, s := range spans {
		if s.lane == 0 {
			n3 = append(n3, s.role.state)
		}
	}
	require.Equal(t, []string{"learner", "StateFollower", "down", "StateFollower"}, n3)
	last := spans[len(spans)-1]
	require.Equal(t, 10.0, last.to, "the last state holds to the end of the run")
}

func TestTimelineNeedsStates(t *testing.T) {
	r := timelineResult()
	r.States = nil
	_, err := Timeline(r)
	require.ErrorContains(t, err, "recorded no member states")

	r = timelineResult()
	r.States[0].State = "StateWitness"
	_, err = Timeline(r)
	require.ErrorContains(t, err, `n1's state "StateWitness"`)
}
