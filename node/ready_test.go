package node

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/backend"
)

// takeEvents returns what member id did since the last call.
func (c *cluster) takeEvents(id uint64) []string {
	ev := c.envs[id].events
	c.envs[id].events = nil
	return ev
}

// deliver hands the queued messages to their members, without completing
// any fsync.
func (c *cluster) deliver() {
	msgs := c.msgs
	c.msgs = nil
	for _, m := range msgs {
		c.nodes[m.GetTo()].Step(m)
	}
}

// A Ready meets etcd's failpoints in etcd's order (server/etcdserver/
// raft.go, raftNode.start, with WAL.Save's around the fsync): a leader
// sends before it saves, a follower only after its save is synced.
func TestReadyMeetsEtcdsFailpointsInEtcdsOrder(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	for id := uint64(1); id <= 3; id++ {
		c.takeEvents(id)
	}
	c.nodes[1].Request("c1", &api.Request{ID: 1, Put: putReq("k", "v")})
	require.Equal(t, []string{
		"failpoint raftBeforeLeaderSend", "send MsgApp", "send MsgApp",
		"failpoint raftBeforeSave", "append", "failpoint walBeforeSync", "sync",
	}, c.takeEvents(1), "the leader waits for its fsync")
	c.envs[1].sync()
	require.Equal(t, []string{
		"failpoint walAfterSync", "failpoint raftAfterSave", "failpoint raftBeforeAdvance",
	}, c.takeEvents(1))

	c.deliver()
	require.Equal(t, []string{
		"failpoint raftBeforeSave", "append", "failpoint walBeforeSync", "sync",
	}, c.takeEvents(2), "the follower waits for its fsync")
	c.envs[2].sync()
	require.Equal(t, []string{
		"failpoint walAfterSync", "failpoint raftAfterSave",
		"failpoint raftBeforeFollowerSend", "send MsgAppResp", "failpoint raftBeforeAdvance",
	}, c.takeEvents(2))
}

// stallFollowerOnAPut elects n1 of three, has it replicate a put to n2
// alone, and makes n2's raft loop sleep at raftBeforeFollowerSend once the
// entry is saved.
func stallFollowerOnAPut(t *testing.T, sleep time.Duration) *cluster {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.envs[2].sleeps = map[string]time.Duration{RaftBeforeFollowerSend: sleep}
	c.nodes[1].Request("c1", &api.Request{ID: 1, Put: putReq("k", "v")})
	c.envs[1].sync()
	c.msgs = slices.DeleteFunc(c.msgs, func(m *raftpb.Message) bool { return m.GetTo() != 2 })
	c.deliver()
	c.envs[2].sync()
	require.True(t, c.envs[2].sleeping)
	return c
}

// A failpoint that sleeps stops the raft loop at that point: the member
// still takes messages and ticks, but sends nothing more until Resume.
func TestFailpointSleepStallsTheReadyUntilResume(t *testing.T) {
	c := stallFollowerOnAPut(t, time.Second)
	require.Empty(t, c.msgs, "n2 saved the entry but stopped before it acknowledged it")

	c.nodes[2].Tick()
	c.nodes[2].Step(&raftpb.Message{Type: raftpb.MessageType_MsgHeartbeat.Enum(), From: proto.Uint64(1), To: proto.Uint64(2), Term: proto.Uint64(c.nodes[1].Status().Term)})
	require.Empty(t, c.msgs, "the stalled member takes input but starts no new Ready")
	c.takeEvents(2)

	c.envs[2].sleeping, c.envs[2].sleeps = false, nil
	c.nodes[2].Resume()
	ev := c.takeEvents(2)
	require.Equal(t, []string{"send MsgAppResp", "failpoint raftBeforeAdvance"}, ev[:2], "it carries on from where it stopped")
	require.Contains(t, ev[2:], "send MsgHeartbeatResp", "then takes the Ready the heartbeat made")

	require.PanicsWithValue(t, "member 2: Resume without a failpoint sleep", c.nodes[2].Resume)
}

// A failed fsync is fatal, as etcd's raft loop makes it.
func TestFailedFsyncKillsTheMember(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.nodes[1].Request("c1", &api.Request{ID: 1, Put: putReq("k", "v")})
	require.True(t, c.envs[1].syncing())
	require.PanicsWithValue(t, "member 1: failed to save Raft hard state and entries: input/output error", func() {
		c.envs[1].failSync(errors.New("input/output error"))
	})
	require.Equal(t, "fatal: failed to save Raft hard state and entries: input/output error", c.envs[1].logs[len(c.envs[1].logs)-1])
}

// Like etcd's processMessages, a Ready sends only its last MsgAppResp: a
// follower that took two appends while it waited for an fsync
// acknowledges both with one message.
func TestReadySendsOnlyItsLastAppResp(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	toN2 := func(m *raftpb.Message) bool { return m.GetTo() != 2 }
	c.nodes[1].Request("c1", &api.Request{ID: 1, Put: putReq("k", "a")})
	c.msgs = slices.DeleteFunc(c.msgs, toN2)
	c.deliver() // n2 waits for the fsync of a
	c.envs[1].sync()
	for i, v := range []string{"b", "c"} {
		c.nodes[1].Request("c1", &api.Request{ID: uint64(i + 2), Put: putReq("k", v)})
		c.envs[1].sync()
	}
	c.msgs = slices.DeleteFunc(c.msgs, toN2)
	c.deliver() // b and c reach n2 while it still waits
	c.takeEvents(2)
	c.envs[2].sync() // the Ready of a, then the one of b and c
	c.envs[2].sync()

	var acked []uint64
	for _, m := range c.msgs {
		if m.GetFrom() == 2 && m.GetType() == raftpb.MessageType_MsgAppResp {
			acked = append(acked, m.GetIndex())
		}
	}
	require.Equal(t, []uint64{5, 7}, acked, "one ack for a, one for b and c together")
}

// etcd's ticker and its Ready share one loop: a member stalled in a sleep
// (or a slow fsync) does not tick raft, however long the stall, and gets
// one tick when it is free, as a Go ticker keeps one. So a follower
// stalled for longer than an election timeout does not campaign in the
// middle of its stall.
func TestAStalledMemberDoesNotTickRaft(t *testing.T) {
	c := stallFollowerOnAPut(t, time.Minute)

	for range 3 * c.nodes[2].cfg.electionTicks() {
		c.nodes[2].Tick()
	}
	require.Equal(t, raft.StateFollower, c.nodes[2].Status().Role, "no election timer ran during the stall")

	c.envs[2].sleeping, c.envs[2].sleeps = false, nil
	c.nodes[2].Resume()
	require.Equal(t, raft.StateFollower, c.nodes[2].Status().Role, "one missed tick is not an election timeout")
}

// The Env calls a sync's done once: a second call is a sync the raft loop
// is not waiting for, and the node refuses it.
func TestASyncCompletingTwicePanics(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.nodes[1].Request("c1", &api.Request{ID: 1, Put: putReq("k", "v")})
	require.True(t, c.envs[1].syncing())
	done := c.envs[1].syncs[0].done
	c.envs[1].sync()
	require.PanicsWithValue(t, "member 1: a sync completed that the raft loop was not waiting for", func() { done(nil) })
}

// A failed backend commit is fatal too, as bbolt's failed commit is to
// etcd's backend.
func TestFailedBackendCommitKillsTheMember(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.put(1, "k", "v")
	c.nodes[2].CommitTick()
	require.True(t, c.envs[2].pendingSyncOf(backend.Path))
	require.PanicsWithValue(t, "member 2: failed to commit tx: input/output error", func() {
		c.envs[2].failSync(errors.New("input/output error"))
	})
}
