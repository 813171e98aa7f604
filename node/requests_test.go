package node

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcdlab/etcdlab/node/api"
)

// Like etcd's raft.Node, a member that knows no leader holds writes until
// one appears, then proposes them in the order they came.
func TestWritesWaitForALeader(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.nodes[2].Request("c1", &api.Request{ID: 1, Put: putReq("k", "a")})
	c.nodes[2].Request("c1", &api.Request{ID: 2, Put: putReq("k", "b")})
	c.settle()
	require.Empty(t, c.replies["c1"], "no leader yet: the writes wait")

	c.elect(1)
	require.Len(t, c.replies["c1"], 2)
	for i, r := range c.replies["c1"] {
		require.NoError(t, r.Err)
		require.Equal(t, uint64(i+1), r.ID)
	}
	c.nodes[3].Request("c2", &api.Request{ID: 3, Range: rangeReq("k")})
	c.settle()
	require.Equal(t, "b", string(c.replies["c2"][0].Range.Kvs[0].Value))
}

// A held write still times out, and is then never proposed.
func TestHeldWritesTimeOut(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.nodes[2].Request("c1", &api.Request{ID: 7, Put: putReq("k", "v")})
	for range c.nodes[2].cfg.requestTicks() {
		c.nodes[2].Tick()
		c.msgs = nil // n2 campaigns, and nobody hears it
	}
	require.Len(t, c.replies["c1"], 1)
	require.Equal(t, api.ErrTimeout, c.replies["c1"][0].Err)

	c.elect(1)
	require.Equal(t, int64(1), c.nodes[1].Status().Rev, "the timed-out write was never proposed")
}

// With a leader known, a proposal raft drops is answered at once: here
// the leader is handing over to n2.
func TestWritesDuringALeaderTransferAreDropped(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.nodes[1].rn.TransferLeader(2)
	c.nodes[1].Request("c1", &api.Request{ID: 1, Put: putReq("k", "v")})
	require.Len(t, c.replies["c1"], 1)
	require.Equal(t, api.ErrProposalDropped, c.replies["c1"][0].Err)
}
