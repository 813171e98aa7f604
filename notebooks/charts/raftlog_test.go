package charts

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/plotter"

	"github.com/etcdlab/etcdlab/scenarios"
)

// A hand-made run of two members: n1 leads, compacts after a snapshot
// and sends one to n2; n2 crashes, restarts with the log it had, and
// restores the snapshot.
func raftLogResult() *scenarios.Result {
	st := func(at int, m uint64, state string) scenarios.StateChange {
		return scenarios.StateChange{At: msec(at), Member: m, State: state, Term: 2}
	}
	ls := func(at int, m uint64, n uint64) scenarios.LogSize {
		return scenarios.LogSize{At: msec(at), Member: m, Entries: n}
	}
	r := &scenarios.Result{
		Source: "compaction-snapshot", Experiment: scenarios.Experiment{Seed: 5},
		Settings: scenarios.Settings{Duration: 6 * time.Second},
		States: []scenarios.StateChange{
			st(0, 1, "StateFollower"), st(0, 2, "StateFollower"), st(100, 1, "StateLeader"),
			st(2000, 2, "down"), st(3000, 2, "StateFollower"),
		},
		LogSizes: []scenarios.LogSize{
			ls(200, 1, 50), ls(200, 2, 50), ls(1000, 1, 120), ls(1000, 2, 120),
			ls(1100, 1, 20), ls(1100, 2, 20), // compacted after the snapshot at 100
			ls(1500, 1, 60), ls(1500, 2, 60),
			ls(2500, 1, 110), ls(4000, 2, 1), // n2 down from 2s to 3s; restored a snapshot at 4s
		},
		Snapshots: []scenarios.SnapshotRecord{
			{Kind: scenarios.SnapshotSaved, At: msec(1050), Member: 1, Index: 100},
			{Kind: scenarios.SnapshotSaved, At: msec(1050), Member: 2, Index: 100},
			{Kind: scenarios.SnapshotSent, At: msec(3900), Member: 1, Peer: 2, Index: 180},
			{Kind: scenarios.SnapshotRestored, At: msec(4000), Member: 2, Index: 180},
		},
		Faults: []scenarios.FaultRecord{{Index: 1, Fired: true, Start: msec(2000), End: msec(3000), Label: "1 crash n2"}},
	}
	r.Settings.Member.SnapshotCount, r.Settings.Member.SnapshotCatchUpEntries = 100, 20
	return r
}

func TestRaftLogDrawsEachMemberAndEverySnapshot(t *testing.T) {
	r := raftLogResult()
	p, err := RaftLog(r)
	require.NoError(t, err)
	require.Contains(t, p.Title.Text, "compaction-snapshot, seed 5: each member's raft log in memory")
	require.Contains(t, p.Title.Text, "compacted every 100 applied entries (a disk snapshot every --snapshot-count 100), keeping --snapshot-catchup-entries 20")
	require.Contains(t, p.Title.Text, "30s after", "a snapshot was sent, so the leader's pause in compacting is explained")
	require.Equal(t, 6.0, p.X.Max, "the axis spans the whole run")
	require.Equal(t, 0.0, p.Y.Min)
	require.Greater(t, p.Y.Max, 120.0*1.1, "room above the peak for the restores' labels")

	img := savedPNG(t, "raft-log", p)
	for i := range 2 {
		require.True(t, drawn(img, memberColors[i], 30), "n%d's line is drawn", i+1)
	}
	require.True(t, drawn(img, colorStorage, 60), "the restore's line is drawn")
}

func TestRaftLogBreaksWhileAMemberIsDown(t *testing.T) {
	r := raftLogResult()
	logs := memberLogs(r, r.Settings.Duration)
	require.Len(t, logs, 2)
	n1, n2 := logs[0], logs[1]
	require.Len(t, n1.segments, 1)
	require.Equal(t, plotter.XY{X: 6, Y: 110}, n1.segments[0][len(n1.segments[0])-1], "the last size holds to the end")
	require.Len(t, n2.segments, 2, "a line up to the crash, another from the restart")
	require.Equal(t, plotter.XY{X: 2, Y: 60}, n2.segments[0][len(n2.segments[0])-1])
	require.Equal(t, plotter.XY{X: 3, Y: 60}, n2.segments[1][0], "restarted with the log it had: no sample, the size holds")
	require.Equal(t, uint64(120), n2.peak)
	require.Equal(t, uint64(120), n1.before(msec(1100)), "a snapshot's mark sits at the top of its drop")
}

// The title says what the drops are when a log was compacted (with or
// without a snapshot on disk: the in-memory log is compacted every 100
// entries either way), and that there were none when no log shrank.
func TestRaftLogTitleSaysWhetherLogsWereCompacted(t *testing.T) {
	r := raftLogResult()
	r.Snapshots = nil
	p, err := RaftLog(r)
	require.NoError(t, err)
	require.Contains(t, p.Title.Text, "drops: raft's log compacted every 100 applied entries")

	// Sizes that only grow.
	r.LogSizes = []scenarios.LogSize{{At: msec(200), Member: 1, Entries: 10}, {At: msec(200), Member: 2, Entries: 10},
		{At: msec(900), Member: 1, Entries: 30}, {At: msec(900), Member: 2, Entries: 31}}
	p, err = RaftLog(r)
	require.NoError(t, err)
	require.Contains(t, p.Title.Text, "no drop: no member applied enough entries to compact past --snapshot-catchup-entries 20")

	r.LogSizes = nil
	_, err = RaftLog(r)
	require.ErrorContains(t, err, "recorded no raft log sizes")
}

// A leader whose log grows to thousands while the others compact to a
// hundred gets a log axis, so their sawtooth is not flattened at the
// foot.
func TestRaftLogGoesLogarithmicWhenOneLogDwarfsTheOthers(t *testing.T) {
	r := raftLogResult()
	p, err := RaftLog(r)
	require.NoError(t, err)
	require.NotContains(t, p.Y.Label.Text, "log scale", "120 entries at most: linear")

	r.LogSizes = append(r.LogSizes, scenarios.LogSize{At: msec(5000), Member: 1, Entries: 5000})
	p, err = RaftLog(r)
	require.NoError(t, err)
	require.Equal(t, "entries in raft's in-memory log (log scale)", p.Y.Label.Text)
	require.Equal(t, 0.0, p.Y.Min, "from 1 entry")
	require.Greater(t, p.Y.Max, math.Log10(5000))
	var labels []string
	for _, tk := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	require.Equal(t, []string{"1", "10", "100", "1000", "10000"}, labels, "a decade above for the restores' labels")
	savedPNG(t, "raft-log", p)
}
