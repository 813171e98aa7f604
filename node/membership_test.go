package node

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdlab/etcdlab/node/api"
)

// ask sends member via one admin request as client "admin", settles, and
// returns the answer.
func (c *cluster) ask(via uint64, req *api.Request) *api.Response {
	c.t.Helper()
	c.nodes[via].Request("admin", req)
	c.settle()
	replies := c.replies["admin"]
	require.NotEmpty(c.t, replies, "no answer to %s", req.Op())
	last := replies[len(replies)-1]
	require.Equal(c.t, req.ID, last.ID)
	return last
}

// The life of a member, as an operator drives it with etcdctl: added as a
// learner, started on an empty disk, caught up (by snapshot, since the
// leader compacted its log), promoted, and at last removed, the leader
// included, which stops.
func TestMemberJoinsAsALearnerIsPromotedAndTheLeaderLeaves(t *testing.T) {
	c := newClusterWith(t, smallFiles, 1, 2, 3)
	c.elect(1)
	c.putN(1, "k", 40) // past the snapshot count: the log is compacted

	resp := c.ask(2, &api.Request{ID: 1, MemberAdd: &api.MemberAddRequest{ID: 4, IsLearner: true}})
	require.NoError(t, resp.Err)
	require.Equal(t, &api.Member{ID: 4, IsLearner: true}, resp.Members.Member)
	require.Len(t, resp.Members.Members, 4)

	// Promoting before the learner runs: its log is nowhere near.
	resp = c.ask(1, &api.Request{ID: 2, MemberPromote: &api.MemberPromoteRequest{ID: 4}})
	require.ErrorIs(t, resp.Err, api.ErrLearnerNotReady)
	resp = c.ask(2, &api.Request{ID: 3, MemberPromote: &api.MemberPromoteRequest{ID: 4}})
	require.ErrorIs(t, resp.Err, api.ErrNotLeader, "only the leader knows how far a learner is")

	cfg := DefaultConfig(4, []uint64{1, 2, 3, 4})
	smallFiles(&cfg)
	c.envs[4] = newTestEnv(c, 4, nil)
	n4, err := Join(cfg, c.envs[4])
	require.NoError(t, err)
	c.nodes[4] = n4
	c.heartbeat(1)
	require.NotEmpty(t, c.envs[4].installed, "the learner caught up by snapshot")
	c.putN(1, "after", 3)

	resp = c.ask(1, &api.Request{ID: 4, MemberPromote: &api.MemberPromoteRequest{ID: 4}})
	require.NoError(t, resp.Err)
	require.Equal(t, []api.Member{{ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}}, resp.Members.Members)

	resp = c.ask(1, &api.Request{ID: 5, MemberAdd: &api.MemberAddRequest{ID: 4}})
	require.ErrorIs(t, resp.Err, api.ErrIDExists)

	resp = c.ask(1, &api.Request{ID: 6, MemberRemove: &api.MemberRemoveRequest{ID: 1}})
	require.NoError(t, resp.Err)
	require.True(t, c.envs[1].removed, "the leader applied its own removal and stops")
	require.Equal(t, []api.Member{{ID: 2}, {ID: 3}, {ID: 4}}, resp.Members.Members)
	resp = c.ask(2, &api.Request{ID: 7, MemberAdd: &api.MemberAddRequest{ID: 1, IsLearner: true}})
	require.ErrorIs(t, resp.Err, api.ErrIDRemoved)
}

// --strict-reconfig-check: removing a voter that is up must leave the
// members this one reaches a quorum; a member that is down may go.
func TestStrictReconfigCheckRefusesARemovalThatBreaksQuorum(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	// n1 reaches n2 only: removing n2 would leave n1 alone of {1, 3}.
	c.drop = func(m *raftpb.Message) bool {
		return m.GetFrom() == 1 && m.GetTo() == 3 || m.GetFrom() == 3 && m.GetTo() == 1
	}
	resp := c.ask(1, &api.Request{ID: 1, MemberRemove: &api.MemberRemoveRequest{ID: 2}})
	require.ErrorIs(t, resp.Err, api.ErrUnhealthy)
	resp = c.ask(1, &api.Request{ID: 2, MemberRemove: &api.MemberRemoveRequest{ID: 3}})
	require.NoError(t, resp.Err, "n3 is unreachable: safe to remove")
}

// MoveLeader hands leadership over and answers once the target leads.
func TestMoveLeader(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	resp := c.ask(2, &api.Request{ID: 1, MoveLeader: &api.MoveLeaderRequest{TargetID: 3}})
	require.ErrorIs(t, resp.Err, api.ErrNotLeader)
	c.nodes[1].Request("admin", &api.Request{ID: 2, MoveLeader: &api.MoveLeaderRequest{TargetID: 3}})
	c.settle()
	c.heartbeat(1)
	c.nodes[1].Tick()
	require.Equal(t, raft.StateLeader, c.nodes[3].Status().Role)
	last := c.replies["admin"][len(c.replies["admin"])-1]
	require.Equal(t, uint64(2), last.ID)
	require.NoError(t, last.Err)
}

// beforeApplyOneConfChange: a sleep there holds the member's apply (and,
// here, its Ready) before the membership change, and the entries after
// it wait too; Resume carries on where it stopped.
func TestASleepBeforeAConfChangeHoldsTheApply(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.envs[2].sleeps = map[string]time.Duration{BeforeApplyOneConfChange: time.Second}
	c.nodes[1].Request("admin", &api.Request{ID: 1, MemberAdd: &api.MemberAddRequest{ID: 4, IsLearner: true}})
	c.settleUntil(func() bool { return c.envs[2].sleeping })
	require.True(t, c.envs[2].sleeping, "n2 stopped at the failpoint")
	before := c.nodes[2].Status().Applied
	_, known := c.nodes[2].memberOf(4)
	require.False(t, known, "n2 has not applied the change yet")

	delete(c.envs[2].sleeps, BeforeApplyOneConfChange)
	c.settle() // resumes n2
	require.Greater(t, c.nodes[2].Status().Applied, before)
	_, known = c.nodes[2].memberOf(4)
	require.True(t, known)
	require.Contains(t, c.envs[2].events, "failpoint "+BeforeApplyOneConfChange)
}

// A member that joined and crashed restarts from what it saved — the
// snapshot it was sent, its backend, its learner status — and never
// bootstraps a cluster of its own.
func TestAJoinedMemberRestartsFromItsDisk(t *testing.T) {
	c := newClusterWith(t, smallFiles, 1, 2, 3)
	c.elect(1)
	c.putN(1, "k", 40)
	resp := c.ask(1, &api.Request{ID: 1, MemberAdd: &api.MemberAddRequest{ID: 4, IsLearner: true}})
	require.NoError(t, resp.Err)
	cfg := DefaultConfig(4, []uint64{1, 2, 3, 4})
	smallFiles(&cfg)
	cfg.InitialClusterState = ClusterStateExisting
	c.envs[4] = newTestEnv(c, 4, nil)
	n4, err := Join(cfg, c.envs[4])
	require.NoError(t, err)
	c.nodes[4] = n4
	c.heartbeat(1)
	require.NotEmpty(t, c.envs[4].installed)
	applied := n4.Status().Applied

	n4 = c.restart(4, c.crash(4))
	st := n4.Status()
	require.True(t, st.Learner, "still a learner")
	require.GreaterOrEqual(t, st.Applied, applied-1, "it kept the snapshot it was sent")
	require.Equal(t, raft.StateFollower, st.Role)
	c.heartbeat(1)
	requireConverged(t, c)
}
