package node

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdlab/etcdlab/node/api"
)

// With ack-before-fsync, n2 acknowledges an entry before its fsync; n1
// counts the ack, commits and answers the client. n2 crashes before the
// fsync completes and loses the entry, which n3 never got: the two make a
// quorum without the acknowledged write, elect n3, and the write is gone.
// Without the bug, n2 acknowledges only after its fsync, so nothing is
// acknowledged that a crash can take back.
func TestAckBeforeFsyncLosesAnAcknowledgedWrite(t *testing.T) {
	for _, bug := range []bool{false, true} {
		c := newCluster(t, 1, 2, 3)
		c.elect(1)
		c.nodes[2].cfg.Bugs.AckBeforeFsync = bug
		notToN2 := func(m *raftpb.Message) bool { return m.GetTo() != 2 }

		c.nodes[1].Request("c1", &api.Request{ID: 1, Put: putReq("k", "v")})
		c.envs[1].sync()
		c.msgs = slices.DeleteFunc(c.msgs, notToN2) // n3 hears nothing
		c.deliver()
		require.True(t, c.envs[2].syncing(), "n2 wrote the entry and waits for its fsync")
		acked := slices.ContainsFunc(c.msgs, func(m *raftpb.Message) bool {
			return m.GetFrom() == 2 && m.GetType() == raftpb.MessageType_MsgAppResp
		})
		if !bug {
			require.False(t, acked, "no ack before the fsync")
			continue
		}
		require.True(t, acked, "the ack went out before the fsync")
		c.deliver() // n1 counts n2's ack
		for c.envs[1].syncing() {
			c.envs[1].sync()
		}
		require.Len(t, c.replies["c1"], 1)
		require.NoError(t, c.replies["c1"][0].Err, "n1 acknowledged the write")
		committed := c.nodes[1].Status().Commit

		// n2 crashes before its fsync completes, and n1 is cut off.
		n2 := c.restart(2, c.crash(2))
		c.msgs = nil
		require.Less(t, n2.Status().Commit, committed)
		last2, _ := n2.storage.LastIndex()
		last3, _ := c.nodes[3].storage.LastIndex()
		require.Less(t, last2, committed, "n2 lost the entry it acknowledged")
		require.Less(t, last3, committed, "n3 never had it")

		c.drop = func(m *raftpb.Message) bool { return m.GetTo() == 1 || m.GetFrom() == 1 }
		c.elect(3)
		c.nodes[3].Request("c2", &api.Request{ID: 2, Range: rangeReq("k")})
		c.settle()
		require.Len(t, c.replies["c2"], 1)
		require.NoError(t, c.replies["c2"][0].Err)
		require.Zero(t, c.replies["c2"][0].Range.Count, "the acknowledged write is lost")
	}
}
