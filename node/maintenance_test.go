package node

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdlab/etcdlab/node/api"
)

// The Maintenance service at node level, against etcd's documentation
// (https://etcd.io/docs/v3.7/op-guide/maintenance/): Status, Defragment,
// the space quota and its NOSPACE alarm.

func (c *cluster) status(id uint64) *pb.StatusResponse {
	c.t.Helper()
	return c.ok(id, &api.Request{Status: &pb.StatusRequest{}}).Status
}

// commitAll has every member commit its backend batch, durably.
func (c *cluster) commitAll() {
	for _, id := range c.ids() {
		if !c.envs[id].down {
			c.nodes[id].CommitTick()
		}
	}
	c.settle()
}

func TestStatusReportsRaftAndBackend(t *testing.T) {
	c := newKVCluster(t, "k=v")
	c.commitAll()
	lead := c.status(1)
	for _, id := range c.ids() {
		st := c.status(id)
		require.Equal(t, uint64(1), st.Leader, "n%d", id)
		require.Equal(t, lead.RaftTerm, st.RaftTerm)
		require.Equal(t, c.nodes[1].Status().Commit, st.RaftIndex)
		require.Equal(t, c.nodes[1].Status().Commit, st.RaftAppliedIndex)
		require.Positive(t, st.DbSize)
		require.Equal(t, st.DbSize, st.DbSizeInUse, "nothing freed yet")
		require.False(t, st.IsLearner)
		require.Equal(t, id, st.Header.MemberId)
		require.Empty(t, st.Errors)
		require.Equal(t, int64(DefaultQuotaBackendBytes), st.DbSizeQuota)
	}
}

// Status's raft_index is the committed index, not the last one logged: a
// leader whose followers do not answer has logged an entry it has not
// committed. Without a leader, Status says so in its errors.
func TestStatusRaftIndexIsTheCommittedIndex(t *testing.T) {
	c := newKVCluster(t)
	committed := c.status(1).RaftIndex
	c.drop = func(m *raftpb.Message) bool { return m.GetTo() != 1 }
	c.nodes[1].Request("c", &api.Request{Put: putReq("k", "v")})
	c.settle()
	last, _ := c.nodes[1].storage.LastIndex()
	require.Greater(t, last, committed)
	require.Equal(t, committed, c.status(1).RaftIndex)

	lone := newCluster(quiet{t}, 1, 2, 3)
	st := lone.status(2)
	require.Zero(t, st.Leader)
	require.Equal(t, []string{api.ErrNoLeader.Error()}, st.Errors)
}

func TestStatusOfALearner(t *testing.T) {
	c := newKVCluster(t)
	c.ok(1, &api.Request{MemberAdd: &api.MemberAddRequest{ID: 4, IsLearner: true}})
	cfg := DefaultConfig(4, []uint64{1, 2, 3, 4})
	cfg.InitialClusterState = ClusterStateExisting
	c.envs[4] = newTestEnv(c, 4, nil)
	n, err := Join(cfg, c.envs[4])
	require.NoError(t, err)
	c.nodes[4] = n
	for range 3 {
		c.heartbeat(1)
	}
	require.True(t, c.status(4).IsLearner)
	require.False(t, c.status(1).IsLearner)
}

// After a compaction the backend keeps its size: bbolt reuses freed
// pages but does not give them back. Defragment rewrites the file, and
// its size falls to what is in use.
func TestDefragmentShrinksTheBackendToWhatIsInUse(t *testing.T) {
	c := newKVCluster(t)
	for i := range 30 {
		c.ok(1, &api.Request{Put: putReq("k", strings.Repeat(fmt.Sprint(i%10), 100))})
	}
	c.commitAll()
	full := c.status(2)
	c.ok(1, &api.Request{Compact: &pb.CompactionRequest{Revision: c.nodes[1].Status().Rev}})
	c.commitAll()
	compacted := c.status(2)
	require.GreaterOrEqual(t, compacted.DbSize, full.DbSize, "the file does not shrink")
	require.Less(t, compacted.DbSizeInUse, full.DbSizeInUse/2)

	c.ok(2, &api.Request{Defragment: &pb.DefragmentRequest{}})
	defragged := c.status(2)
	require.Equal(t, compacted.DbSizeInUse, defragged.DbSize)
	require.Equal(t, defragged.DbSize, defragged.DbSizeInUse)
	require.Equal(t, compacted.DbSize, c.status(3).DbSize, "defragment is one member's")
}

func alarmGet() *api.Request {
	return &api.Request{Alarm: &pb.AlarmRequest{Action: pb.AlarmRequest_GET}}
}

// etcd's quota (https://etcd.io/docs/v3.7/op-guide/maintenance/#space-quota):
// a write that would take the backend past --quota-backend-bytes fails
// with ErrNoSpace and raises the cluster-wide NOSPACE alarm. Then the
// cluster only serves reads and deletes, until the operator compacts,
// defragments and disarms the alarm.
func TestQuotaRaisesNoSpaceAndTheOperatorRecovers(t *testing.T) {
	const quota = 16 * 1024
	c := newClusterWith(quiet{t}, func(cfg *Config) { cfg.QuotaBackendBytes = quota }, 1, 2, 3)
	c.elect(1)
	value := strings.Repeat("x", 1024)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = c.do(2, &api.Request{Put: putReq("k", value)}).Err
		c.commitAll()
	}
	require.Equal(t, api.ErrNoSpace, err)
	require.Less(t, c.status(2).DbSize, int64(quota))

	for _, id := range c.ids() {
		alarms := c.ok(id, alarmGet()).Alarm.Alarms
		require.Len(t, alarms, 1, "n%d", id)
		require.Equal(t, pb.AlarmType_NOSPACE, alarms[0].Alarm)
		require.Equal(t, uint64(2), alarms[0].MemberID, "raised by the member that refused the write")
		require.Equal(t, []string{"memberID:2 alarm:NOSPACE"}, c.status(id).Errors)
	}
	// Writes that would grow the store fail on every member, even small.
	for _, req := range []*api.Request{
		{Put: putReq("small", "v")},
		{Txn: &pb.TxnRequest{Success: []*pb.RequestOp{opPut("small", "v")}}},
		{LeaseGrant: &pb.LeaseGrantRequest{ID: 5, TTL: 60}},
	} {
		require.Equal(t, api.ErrNoSpace, c.do(3, req).Err, "%s", req.Op())
	}
	// Reads and deletes still work.
	require.Equal(t, value, string(c.rangeOf(3, rangeReq("k")).Kvs[0].Value))
	c.ok(1, &api.Request{DeleteRange: deleteReq("k")})
	require.Equal(t, api.ErrNoSpace, c.do(1, &api.Request{Put: putReq("small", "v")}).Err,
		"a delete frees no space in the file")

	// The operator's recovery: compact, defragment every member, disarm.
	c.ok(1, &api.Request{Compact: &pb.CompactionRequest{Revision: c.nodes[1].Status().Rev}})
	c.commitAll()
	for _, id := range c.ids() {
		c.ok(id, &api.Request{Defragment: &pb.DefragmentRequest{}})
		require.Less(t, c.status(id).DbSize, int64(quota/2), "n%d", id)
	}
	require.Equal(t, api.ErrNoSpace, c.do(1, &api.Request{Put: putReq("small", "v")}).Err, "the alarm is still raised")
	c.ok(3, &api.Request{Alarm: &pb.AlarmRequest{Action: pb.AlarmRequest_DEACTIVATE, MemberID: 2, Alarm: pb.AlarmType_NOSPACE}})
	for _, id := range c.ids() {
		require.Empty(t, c.ok(id, alarmGet()).Alarm.Alarms, "n%d", id)
	}
	c.ok(2, &api.Request{Put: putReq("small", "v")})
	c.ok(2, &api.Request{LeaseGrant: &pb.LeaseGrantRequest{ID: 5, TTL: 60}})
}

// The alarm bucket is in the backend: a restarted member, and a restarted
// cluster, still refuse to grow the store.
func TestAlarmsSurviveARestart(t *testing.T) {
	c := newKVCluster(t, "k=v")
	c.ok(1, &api.Request{Alarm: &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: 3, Alarm: pb.AlarmType_NOSPACE}})
	c.commitAll()
	files := map[uint64]map[string][]byte{}
	for _, id := range c.ids() {
		files[id] = c.crash(id)
	}
	c.clock += time.Second
	for _, id := range c.ids() {
		c.restart(id, files[id])
	}
	c.elect(2)
	for _, id := range c.ids() {
		alarms := c.ok(id, alarmGet()).Alarm.Alarms
		require.Len(t, alarms, 1, "n%d", id)
		require.Equal(t, uint64(3), alarms[0].MemberID)
	}
	require.Equal(t, api.ErrNoSpace, c.do(1, &api.Request{Put: putReq("k", "w")}).Err)
	c.ok(1, &api.Request{Range: rangeReq("k")})
}

// Alarm requests as etcd's applier answers them: an activation lists the
// alarm raised, a deactivation the one cleared (nothing if it was not
// raised: the server has no wildcard member), a GET the raised alarms of
// the type asked, every type for NONE.
func TestAlarmRequests(t *testing.T) {
	c := newKVCluster(t)
	alarm := func(action pb.AlarmRequest_AlarmAction, member uint64, at pb.AlarmType) []*pb.AlarmMember {
		return c.ok(2, &api.Request{Alarm: &pb.AlarmRequest{Action: action, MemberID: member, Alarm: at}}).Alarm.Alarms
	}
	require.Len(t, alarm(pb.AlarmRequest_ACTIVATE, 3, pb.AlarmType_NOSPACE), 1)
	require.Len(t, alarm(pb.AlarmRequest_ACTIVATE, 1, pb.AlarmType_CORRUPT), 1)
	require.Empty(t, alarm(pb.AlarmRequest_ACTIVATE, 1, pb.AlarmType_NONE), "NONE is no alarm")
	require.Len(t, alarm(pb.AlarmRequest_GET, 0, pb.AlarmType_NONE), 2)
	got := alarm(pb.AlarmRequest_GET, 0, pb.AlarmType_CORRUPT)
	require.Len(t, got, 1)
	require.Equal(t, uint64(1), got[0].MemberID)

	require.Empty(t, alarm(pb.AlarmRequest_DEACTIVATE, 0, pb.AlarmType_NOSPACE), "no member 0 alarm")
	require.Empty(t, alarm(pb.AlarmRequest_DEACTIVATE, 2, pb.AlarmType_NOSPACE), "n2 raised none")
	require.Len(t, alarm(pb.AlarmRequest_GET, 0, pb.AlarmType_NONE), 2)
	cleared := alarm(pb.AlarmRequest_DEACTIVATE, 3, pb.AlarmType_NOSPACE)
	require.Len(t, cleared, 1)
	require.Equal(t, uint64(3), cleared[0].MemberID)
	for _, id := range c.ids() {
		left := c.ok(id, alarmGet()).Alarm.Alarms
		require.Len(t, left, 1, "n%d", id)
		require.Equal(t, pb.AlarmType_CORRUPT, left[0].Alarm)
	}
}
