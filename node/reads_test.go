package node

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdlab/etcdlab/node/api"
)

// A read whose ReadIndex round is in flight when a new leader appears
// fails with ErrLeaderChanged, as in etcd's read loop; a read that
// arrived after the round began gets a round of its own and is served.
func TestReadRoundFailsWhenTheLeaderChanges(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.put(1, "k", "v")
	c.nodes[3].Request("r1", &api.Request{ID: 1, Range: rangeReq("k")})
	c.msgs = nil // the ReadIndex request to n1 is lost
	c.nodes[3].Request("r2", &api.Request{ID: 2, Range: rangeReq("k")})
	require.Empty(t, c.msgs, "r2 waits for the next round")

	// n1 hands over to n2; n3 hears of its new leader from its appends,
	// after both reads began.
	c.drop = func(m *raftpb.Message) bool { return m.GetType() == raftpb.MessageType_MsgReadIndex }
	c.nodes[1].rn.TransferLeader(2)
	c.nodes[1].process()
	c.settle()
	require.Equal(t, uint64(2), c.nodes[3].Status().Leader)
	require.Len(t, c.replies["r1"], 1)
	require.Equal(t, api.ErrLeaderChanged, c.replies["r1"][0].Err)
	require.Empty(t, c.replies["r2"])

	c.drop = nil
	for range 5 { // n3 asks again for r2's round after 500 ms

		c.nodes[3].Tick()
	}
	c.settle()
	require.Len(t, c.replies["r2"], 1)
	require.NoError(t, c.replies["r2"][0].Err)
	require.Equal(t, "v", string(c.replies["r2"][0].Range.Kvs[0].Value))
}
