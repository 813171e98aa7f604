package scenarios

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// The scenarios of etcd's API beyond put and get, each on a few seeds
// (etcdlab sweep runs a hundred).

// Jepsen's register test: reads, writes and compare-and-set with
// unknown outcomes, through partitions and crashes.
func TestRegisterCAS(t *testing.T) { runSeedsOf(t, "register-cas", 3) }

// kube-apiserver's traffic: optimistic updates, informers, leases and
// compaction.
func TestKubernetes(t *testing.T) { runSeedsOf(t, "kubernetes", 3) }

// Watchers see every revision once, in order, across crashes.
func TestWatch(t *testing.T) { runSeeds(t, "watch") }

// Quiet leases expire on the leader's clock, revoked ones go at once.
func TestLeaseExpiry(t *testing.T) { runSeeds(t, "lease-expiry") }

// Compaction in batches survives crashes inside it.
func TestMVCCCompaction(t *testing.T) { runSeedsOf(t, "mvcc-compaction", 2) }

// A cut-off follower serves stale but real serializable reads.
func TestSerializableReads(t *testing.T) { runSeeds(t, "serializable-reads") }

// NOSPACE refuses writes until the operator's runbook.
func TestQuota(t *testing.T) { runSeeds(t, "quota") }

func runSeedsOf(t *testing.T, scenario string, n int) {
	t.Helper()
	saved := seeds
	seeds = seeds[:n]
	defer func() { seeds = saved }()
	runSeeds(t, scenario)
}

// Each of the API's bug switches fails the checker that guards its
// promise, on every seed tried.
func TestAPIBugSwitchesAreCaught(t *testing.T) {
	for _, tc := range []struct {
		bug, scenario, verdict string
		extra                  [][2]string
	}{
		// A watcher misses one event of every 50th revision.
		{"watch-skips-event", "watch", "watch", nil},
		// The leader never revokes quiet leases: their keys outlive them.
		{"lease-never-expires", "lease-expiry", "lease", nil},
		// A two-key Txn lands in two revisions: a read sees one key's
		// revision where the Txn's should be.
		{"txn-split", "watch", "linearizable", nil},
		// A delete keeps the revision, and the next write takes it too.
		{"revision-skew", "watch", "linearizable", nil},
		// A restarted member applies entries twice: its serializable
		// reads return states the cluster never had.
		{"skip-consistent-index", "crash-during-load", "serializable reads",
			[][2]string{{"workload", "get=10 sget=30 put=50 delete=10"}}},
	} {
		for _, seed := range []uint64{1, 2} {
			t.Run(fmt.Sprintf("%s/seed=%d", tc.bug, seed), func(t *testing.T) {
				opts := Options{}.With("bug", tc.bug)
				for _, kv := range tc.extra {
					opts = opts.With(kv[0], kv[1])
				}
				r, err := Run(tc.scenario, seed, opts)
				require.NoError(t, err)
				require.False(t, verdict(t, r, tc.verdict).OK, "%s went unnoticed:\n%s", tc.bug, r.Report())
			})
		}
	}
}
