package scenarios

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// The storage bug switches, each caught by the checkers a run always
// has. Every test names the seed it uses: the bugs need a crash or a
// snapshot at the right moment, and these seeds have one.

// A restarted member that applies again the entries its backend already
// holds bumps the revision twice for them: its store no longer matches
// the others', and a read from it may return a revision from nowhere.
func TestSkipConsistentIndexDivergesTheStore(t *testing.T) {
	r, err := Run("crash-during-load", 1, Options{}.With("bug", "skip-consistent-index"))
	require.NoError(t, err)
	require.False(t, verdict(t, r, "members converged").OK, "double applies went unnoticed:\n%s", r.Report())
	clean, err := Run("crash-during-load", 1, Options{})
	require.NoError(t, err)
	require.True(t, clean.OK(), clean.Report())
}

// A member that installs the leader's snapshot but keeps its old backend
// lacks every write the snapshot carried.
func TestSnapshotSkipsStoreIsCaught(t *testing.T) {
	r, err := Run("compaction-snapshot", 1, Options{}.With("bug", "snapshot-skips-store"))
	require.NoError(t, err)
	require.False(t, verdict(t, r, "members converged").OK, "a stale store after a snapshot went unnoticed:\n%s", r.Report())
}

// WAL segments purged before the snapshot that covers them is saved: a
// crash in between leaves a member that cannot restart from its disk.
func TestReleaseWALEarlyIsCaught(t *testing.T) {
	r, err := Run("crash-during-load", 8, Options{}.With("bug", "release-wal-early"))
	require.NoError(t, err)
	v := verdict(t, r, "members restart from their disks")
	require.False(t, v.OK, r.Report())
	require.Contains(t, v.Detail, "wal: file not found")
}

// Catch-up by snapshot works on every seed the test suite runs: the
// follower cut off is restored from a snapshot, whatever snapshot
// failpoint it dies at on the way.
func TestCompactionSnapshot(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r, err := Run("compaction-snapshot", seed, Options{})
			require.NoError(t, err)
			require.True(t, r.OK(), r.Report())
		})
	}
}

// Writes whose clients never learnt the outcome are settled from the
// applied log before the check, and the settling changes nothing the
// clients saw: the result's history keeps their view.
func TestOpenWritesAreSettledFromTheAppliedLog(t *testing.T) {
	r, err := Run("crash-during-load", 1, Options{})
	require.NoError(t, err)
	require.True(t, r.OK(), r.Report())
	res := r.Resolved
	require.Positive(t, res.TookEffect, "%s", res)
	require.Positive(t, res.NeverApplied, "%s", res)
	_, _, unknown := r.Counts()
	require.GreaterOrEqual(t, unknown, res.TookEffect+res.NeverApplied+res.Open, "the history is the clients' view")
	require.Contains(t, verdict(t, r, "linearizable").Detail, "settled from the applied log")
}
