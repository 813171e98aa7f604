package node

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3"
)

// zeroRand makes raft's randomized election timeout exactly the election
// timeout (raft draws it from crypto/rand.Reader), so the test can count
// the ticks to a campaign.
func zeroRand(t *testing.T) {
	saved := rand.Reader
	rand.Reader = bytes.NewReader(make([]byte, 1<<20))
	t.Cleanup(func() { rand.Reader = saved })
}

// ticksToCampaign ticks member id alone until it stops being a follower.
func ticksToCampaign(c *cluster, id uint64) int {
	for k := 1; ; k++ {
		c.nodes[id].Tick()
		c.msgs = nil
		if c.nodes[id].Status().Role != raft.StateFollower {
			return k
		}
	}
}

// etcd's initial election tick advance: a lone member fast-forwards all
// but one election tick; in a larger cluster a member waits until more
// than one peer is connected, then fast-forwards all but two, unless the
// flag is off.
func TestAdjustTicksFastForwardsTheElectionClockLikeEtcd(t *testing.T) {
	zeroRand(t) // a campaign after exactly 10 ticks of 100 ms
	c := newCluster(t, 1)
	// The bootstrap's configuration is applied first: raft refuses to
	// campaign with configuration changes still to apply.
	c.settle()
	require.True(t, c.nodes[1].AdjustTicks(0))
	c.nodes[1].Tick()
	c.settle() // its votes for itself count once they are durable
	require.Equal(t, raft.StateLeader, c.nodes[1].Status().Role, "one tick was left")

	c = newCluster(t, 1, 2, 3)
	c.settle()
	require.False(t, c.nodes[1].AdjustTicks(1), "one peer connected is not enough")
	require.True(t, c.nodes[1].AdjustTicks(2))
	require.Equal(t, 2, ticksToCampaign(c, 1))
	require.Equal(t, 10, ticksToCampaign(c, 2), "n2 never advanced")

	c = newCluster(t, 1, 2, 3)
	c.settle()
	c.nodes[1].cfg.InitialElectionTickAdvance = false
	require.True(t, c.nodes[1].AdjustTicks(2))
	require.Equal(t, 10, ticksToCampaign(c, 1))
}
