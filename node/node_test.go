package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/wal"
)

// cluster is the smallest possible environment for nodes: messages are
// queued and delivered in order, fsyncs complete when flushed. It shows
// that the node needs nothing from the simulation to work.
type cluster struct {
	t       testing.TB
	nodes   map[uint64]*Node
	envs    map[uint64]*testEnv
	msgs    []*raftpb.Message
	replies map[string][]*api.Response
	drop    func(*raftpb.Message) bool // messages lost on the way, if set
	clock   time.Duration
}

type testEnv struct {
	c        *cluster
	id       uint64
	wal      []byte
	writes   []int // the log's length after each AppendWAL
	syncing  bool
	syncLen  int // the log's length when the sync in flight began
	synced   int // the log's length that the last completed sync made durable
	sleeping bool
	// sleeps holds the failpoints that sleep, by name; events lists what
	// the node did, in order: "send MsgApp", "append", "sync",
	// "failpoint raftBeforeSave".
	sleeps map[string]time.Duration
	events []string
	logs   []string
}

func (e *testEnv) Send(m *raftpb.Message) {
	e.c.msgs = append(e.c.msgs, m)
	e.events = append(e.events, "send "+m.GetType().String())
}
func (e *testEnv) Reply(to string, r *api.Response) { e.c.replies[to] = append(e.c.replies[to], r) }
func (e *testEnv) AppendWAL(b []byte) {
	e.wal = append(e.wal, b...)
	e.writes = append(e.writes, len(e.wal))
	e.events = append(e.events, "append")
}
func (e *testEnv) SyncWAL() {
	e.syncing, e.syncLen = true, len(e.wal)
	e.events = append(e.events, "sync")
}
func (e *testEnv) TruncateWAL(size int) { e.wal = e.wal[:size] }

func (e *testEnv) Failpoint(name string) time.Duration {
	e.events = append(e.events, "failpoint "+name)
	d := e.sleeps[name]
	if d > 0 {
		e.sleeping = true
	}
	return d
}

// sync completes the fsync in flight.
func (e *testEnv) sync(n *Node) {
	e.syncing, e.synced = false, e.syncLen
	n.Synced(nil)
}

func (e *testEnv) Applied(index, digest uint64) {}

// Now is the cluster's clock, which tests move on by hand.
func (e *testEnv) Now() time.Duration { return e.c.clock }

func (e *testEnv) Logf(format string, args ...any) {
	e.logs = append(e.logs, fmt.Sprintf(format, args...))
	e.c.t.Logf("n%d: "+format, append([]any{e.id}, args...)...)
}

// quiet drops the nodes' log lines, for tests that start many nodes.
type quiet struct{ testing.TB }

func (quiet) Logf(string, ...any) {}

func newCluster(t *testing.T, ids ...uint64) *cluster {
	c := &cluster{t: t, nodes: map[uint64]*Node{}, envs: map[uint64]*testEnv{}, replies: map[string][]*api.Response{}}
	for _, id := range ids {
		c.envs[id] = &testEnv{c: c, id: id}
		n, err := New(DefaultConfig(id, ids), c.envs[id])
		require.NoError(t, err)
		c.nodes[id] = n
	}
	return c
}

// settle completes fsyncs and delivers messages until nothing moves.
func (c *cluster) settle() {
	for moved := true; moved; {
		moved = false
		for id := uint64(1); id <= uint64(len(c.nodes)); id++ {
			if e := c.envs[id]; e.syncing {
				e.sync(c.nodes[id])
				moved = true
			}
			if e := c.envs[id]; e.sleeping {
				e.sleeping = false
				c.nodes[id].Resume()
				moved = true
			}
		}
		msgs := c.msgs
		c.msgs = nil
		for _, m := range msgs {
			if c.drop != nil && c.drop(m) {
				continue
			}
			if n, ok := c.nodes[m.GetTo()]; ok {
				n.Step(m)
				moved = true
			}
		}
	}
}

// restart brings member id back from log, with its config (bugs
// included), as a new process on a new env would after a crash.
func (c *cluster) restart(id uint64, log []byte) *Node {
	env := &testEnv{c: c, id: id, wal: append([]byte{}, log...)}
	n, err := Restart(c.nodes[id].cfg, env, env.wal)
	require.NoError(c.t, err)
	c.nodes[id], c.envs[id] = n, env
	return n
}

// put writes each value to key through member via, one after another,
// each settled before the next, as client c1.
func (c *cluster) put(via uint64, key string, values ...string) {
	for i, v := range values {
		c.nodes[via].Request("c1", &api.Request{ID: uint64(i + 1), Put: &api.PutRequest{Key: key, Value: v}})
		c.settle()
	}
}

func (c *cluster) elect(id uint64) {
	for i := 0; c.nodes[id].Status().Role != raft.StateLeader; i++ {
		require.Less(c.t, i, 100, "n%d not elected", id)
		c.nodes[id].Tick()
		c.settle()
	}
}

func TestWritesAreAnsweredOnceAppliedAndReadsSeeThem(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)

	c.nodes[2].Request("c1", &api.Request{ID: 10, Put: &api.PutRequest{Key: "k", Value: "v1"}})
	c.settle()
	require.Len(t, c.replies["c1"], 1)
	put := c.replies["c1"][0]
	require.NoError(t, put.Err)
	require.NotNil(t, put.Put)

	c.nodes[3].Request("c2", &api.Request{ID: 11, Range: &api.RangeRequest{Key: "k"}})
	c.settle()
	get := c.replies["c2"][0]
	require.NoError(t, get.Err)
	require.Equal(t, []api.KeyValue{{Key: "k", Value: "v1", CreateRevision: 2, ModRevision: 2, Version: 1}}, get.Range.KVs)
	require.Equal(t, put.Header.Revision, get.Header.Revision)
}

// A linearizable read waits for ReadIndex: while the leader cannot be
// reached, nothing comes back, and the member keeps asking. With the
// stale-reads bug it answers at once.
func TestLinearizableReadWaitsForTheLeader(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.nodes[3].Request("c1", &api.Request{ID: 1, Range: &api.RangeRequest{Key: "k"}})
	c.msgs = nil // the ReadIndex request to the leader is lost
	c.settle()
	require.Empty(t, c.replies["c1"])

	// Like etcd, the member asks again after 500 ms.
	for range 5 {
		c.nodes[3].Tick()
	}
	c.settle()
	require.Len(t, c.replies["c1"], 1)
	require.NoError(t, c.replies["c1"][0].Err)

	c.replies["c1"] = nil
	c.nodes[3].cfg.Bugs.StaleReads = true
	c.nodes[3].Request("c1", &api.Request{ID: 2, Range: &api.RangeRequest{Key: "k"}})
	require.Len(t, c.replies["c1"], 1)
}

func TestRequestsTimeOut(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.nodes[2].Request("c1", &api.Request{ID: 7, Put: &api.PutRequest{Key: "k", Value: "v"}})
	c.msgs = nil // the proposal forwarded to the leader is lost
	for range c.nodes[2].cfg.requestTicks() {
		c.nodes[2].Tick()
		c.msgs = nil
	}
	require.Len(t, c.replies["c1"], 1)
	require.Equal(t, api.ErrTimeout, c.replies["c1"][0].Err)
}

func TestRestartReplaysTheLogAndCutsATornTail(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.put(1, "k", "a", "b", "c")
	want := c.nodes[2].Hash()
	log := append(append([]byte{}, c.envs[2].wal...), 0x00, 0x00, 0x01) // a torn write

	whole := c.envs[2].wal
	n := c.restart(2, log)
	require.Equal(t, whole, c.envs[2].wal, "the torn tail is cut off the log")
	c.settle()
	require.Equal(t, want, n.Hash())
	require.Equal(t, int64(4), n.Status().Rev)
}

func TestConfigIsValidatedLikeEtcd(t *testing.T) {
	cfg := DefaultConfig(1, []uint64{1})
	cfg.ElectionTimeout = 2 * cfg.HeartbeatInterval
	_, err := New(cfg, &testEnv{})
	require.ErrorContains(t, err, "should be at least as 5 times as --heartbeat-interval")
}

// Like etcd's read loop, reads that arrive together share one ReadIndex
// round, so the leader confirms its leadership once for all of them.
func TestReadsArrivingTogetherShareOneReadIndexRound(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	for id := uint64(1); id <= 3; id++ {
		c.nodes[3].Request("c1", &api.Request{ID: id, Range: &api.RangeRequest{Key: "k"}})
	}
	rounds := 0
	for _, m := range c.msgs {
		if m.GetType() == raftpb.MessageType_MsgReadIndex {
			rounds++
		}
	}
	require.Equal(t, 1, rounds)
	c.settle()
	require.Len(t, c.replies["c1"], 3)
}

// Members that applied the same entries report the same digest, and a
// restarted member reaches it again by replaying its log.
func TestAppliedDigestsAgree(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.put(1, "k", "a", "b")
	st := c.nodes[1].Status()
	require.NotZero(t, st.Digest)
	for id := uint64(2); id <= 3; id++ {
		require.Equal(t, st.Applied, c.nodes[id].Status().Applied)
		require.Equal(t, st.Digest, c.nodes[id].Status().Digest)
	}

	n := c.restart(3, c.envs[3].wal)
	c.settle()
	require.Equal(t, st.Digest, n.Status().Digest)
}

// With apply-before-commit, a leader that no follower can hear still
// acknowledges a write: the acknowledgement promises nothing.
func TestApplyBeforeCommitAcknowledgesWithoutAQuorum(t *testing.T) {
	for _, bug := range []bool{false, true} {
		c := newCluster(t, 1, 2, 3)
		c.elect(1)
		c.nodes[1].cfg.Bugs.ApplyBeforeCommit = bug
		c.nodes[1].Request("c1", &api.Request{ID: 1, Put: &api.PutRequest{Key: "k", Value: "v"}})
		c.msgs = nil // the leader's appends to its followers are lost
		for c.envs[1].syncing {
			c.envs[1].sync(c.nodes[1])
			c.msgs = nil
		}
		st := c.nodes[1].Status()
		if !bug {
			require.Empty(t, c.replies["c1"], "a correct leader waits for a quorum")
			require.Equal(t, st.Commit, st.Applied)
			continue
		}
		require.Len(t, c.replies["c1"], 1)
		require.NoError(t, c.replies["c1"][0].Err)
		require.Greater(t, st.Applied, st.Commit)
	}
}

func TestBugsByName(t *testing.T) {
	var b Bugs
	require.NoError(t, b.Set("apply-before-commit, stale-reads"))
	require.Equal(t, Bugs{StaleReads: true, ApplyBeforeCommit: true}, b)
	require.Equal(t, []string{"stale-reads", "apply-before-commit"}, b.On())
	require.NoError(t, b.Set("forget-vote,ack-before-fsync"))
	require.Equal(t, BugNames(), b.On())
	require.EqualError(t, b.Set("fsync-lies"), `unknown bug "fsync-lies" (known: stale-reads, apply-before-commit, forget-vote, ack-before-fsync)`)
	require.Empty(t, Bugs{}.On())
}

// A crash may tear any write at any byte. Whatever survives, the member
// restarts from it: a HardState is written after the entries it commits,
// so no torn tail leaves a commit index pointing past the log.
func TestRestartSurvivesATearAnywhere(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.put(1, "k", "a", "b", "c")
	for _, id := range []uint64{1, 2} { // a leader's log and a follower's
		full, start := c.envs[id].wal, 0
		for _, end := range c.envs[id].writes {
			for cut := start; cut <= end; cut++ {
				log := append([]byte{}, full[:cut]...)
				_, err := Restart(DefaultConfig(id, []uint64{1, 2, 3}), &testEnv{c: &cluster{t: quiet{t}}, id: id, wal: log}, log)
				require.NoError(t, err, "n%d, log cut at byte %d of write ending at %d", id, cut, end)
			}
			start = end
		}
	}
}

// A log whose hard state commits entries it does not hold is refused with
// a clear error, not a panic deep in raft.
func TestRestartRefusesALogMissingCommittedEntries(t *testing.T) {
	var log []byte
	for i := uint64(1); i <= 3; i++ {
		log = wal.AppendEntry(log, &raftpb.Entry{Term: proto.Uint64(1), Index: proto.Uint64(i)})
	}
	log = wal.AppendState(log, &raftpb.HardState{Term: proto.Uint64(1), Commit: proto.Uint64(5)})
	_, err := Restart(DefaultConfig(2, []uint64{1, 2, 3}), &testEnv{c: &cluster{t: t}, id: 2}, log)
	require.EqualError(t, err, "member 2: restart: the log's hard state commits index 5 but its entries end at 3: committed entries were lost")
}

// A restarted member must not reuse the ID of a request its past life
// proposed: that entry may be applied after the restart, and its reply
// would go to the new request's client.
func TestRestartedMemberDoesNotReuseRequestIDs(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.nodes[2].Request("c2", &api.Request{ID: 100, Put: &api.PutRequest{Key: "k", Value: "old"}})
	c.drop = func(m *raftpb.Message) bool { return m.GetTo() == 2 }
	c.settle() // n2's proposal reaches n1; n1 and n3 commit it, n2 never hears

	c.clock += time.Second // the restart takes a while
	n := c.restart(2, c.envs[2].wal)
	c.msgs = nil
	// n2 learns who leads from a heartbeat, and n1 does not yet learn
	// that n2 lacks the entry.
	c.drop = func(m *raftpb.Message) bool { return m.GetFrom() == 2 }
	c.nodes[1].Tick()
	c.settle()
	require.Equal(t, uint64(1), n.Status().Leader)
	c.drop = nil

	c.replies["c2"] = nil
	n.Request("c2", &api.Request{ID: 200, Put: &api.PutRequest{Key: "k", Value: "new"}})
	c.settle() // n2 applies put k=old, then put k=new
	require.Len(t, c.replies["c2"], 1)
	require.Equal(t, uint64(200), c.replies["c2"][0].ID)
	require.NoError(t, c.replies["c2"][0].Err)
}

// The apply-before-commit bug breaks what a member acknowledges, not its
// membership: a conf change the next leader commits at an index the buggy
// member had already applied early still reaches its raft configuration.
func TestApplyBeforeCommitStillAppliesCommittedConfChanges(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.nodes[1].cfg.Bugs.ApplyBeforeCommit = true
	c.drop = func(m *raftpb.Message) bool { return m.GetFrom() == 1 || m.GetTo() == 1 }
	for i := range 3 {
		c.nodes[1].Request("c1", &api.Request{ID: uint64(i + 1), Put: &api.PutRequest{Key: "k", Value: "x"}})
		c.settle()
	}
	early := c.nodes[1].Status()
	require.Greater(t, early.Applied, early.Commit)

	for range 30 { // n3 stops hearing from n1, so it will vote for n2
		c.nodes[3].Tick()
		c.settle()
	}
	c.elect(2)
	require.NoError(t, c.nodes[2].rn.ProposeConfChange(&raftpb.ConfChange{
		Type: raftpb.ConfChangeType_ConfChangeAddLearnerNode.Enum(), NodeId: proto.Uint64(4)}))
	c.nodes[2].process()
	c.settle()
	c.drop = nil
	for range 5 {
		c.nodes[2].Tick()
		c.settle()
	}
	want := c.nodes[2].rn.Status().Config.String()
	require.Contains(t, want, "learners=(4)")
	require.Equal(t, want, c.nodes[1].rn.Status().Config.String())
}

// Election safety rests on a vote surviving a crash. With forget-vote, n2
// votes for n1 in term 2, crashes, forgets, and votes for n3 in term 2
// too: the raft checker sees two leaders of one term. Without the bug,
// n2 remembers its vote, and n3 can win only a later term.
func TestForgetVoteGivesATermTwoLeaders(t *testing.T) {
	for _, bug := range []bool{false, true} {
		c := newCluster(t, 1, 2, 3)
		for _, n := range c.nodes {
			n.cfg.Bugs.ForgetVote = bug
		}
		// n1 wins term 2 with n2's vote; n3 hears nothing, and n2 gets
		// no entry from its new leader, so its log stays as short as n3's.
		c.drop = func(m *raftpb.Message) bool {
			return m.GetTo() == 3 || m.GetFrom() == 3 || m.GetType() == raftpb.MessageType_MsgApp
		}
		c.elect(1)
		require.Equal(t, uint64(2), c.nodes[1].Status().Term)

		c.clock += time.Second
		c.restart(2, c.envs[2].wal)
		c.msgs = nil

		// Now n3 campaigns; n1 hears nothing of it.
		c.drop = func(m *raftpb.Message) bool { return m.GetTo() == 1 || m.GetFrom() == 1 }
		for range 50 {
			c.nodes[3].Tick()
			c.settle()
		}

		check := checker.NewRaft()
		for _, id := range []uint64{1, 3} {
			st := c.nodes[id].Status()
			check.Observe(0, checker.MemberState{ID: id, Leader: st.Role == raft.StateLeader, Term: st.Term, Commit: st.Commit})
		}
		v := check.Verdict()
		if !bug {
			require.True(t, v.OK, v.Detail)
			st := c.nodes[3].Status()
			require.False(t, st.Role == raft.StateLeader && st.Term == 2, "n2 remembered its vote: n3 can only lead a later term")
			continue
		}
		require.False(t, v.OK)
		require.Equal(t, "at 0s: n1 and n3 both lead term 2", v.Detail)
	}
}
