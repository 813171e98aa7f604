package node

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/snap"
	"github.com/etcdlab/etcdlab/node/wal"
)

// cluster is the smallest possible environment for nodes: messages are
// queued and delivered in order, fsyncs complete when flushed, snapshots
// go with their backend in one piece. It shows that the node needs
// nothing from the simulation to work.
type cluster struct {
	t       testing.TB
	nodes   map[uint64]*Node
	envs    map[uint64]*testEnv
	msgs    []*raftpb.Message
	snaps   []sentSnap // merged snapshots on their way, with their db
	replies map[string][]*api.Response
	drop    func(*raftpb.Message) bool // messages (snapshots too) lost on the way, if set
	// holdSnaps keeps snapshots in snaps instead of delivering them, for
	// tests that look at them or fail them by hand.
	holdSnaps bool
	clock     time.Duration
}

// sentSnap is a snapshot a leader handed to SendSnapshot.
type sentSnap struct {
	m  *raftpb.Message
	db []byte
}

// file is a file of a member's data directory: what it holds now, and
// what of it a crash keeps. A file nothing of which was ever synced
// (durable nil) does not survive a crash.
type file struct {
	data    []byte
	durable []byte
}

// pendingSync is an fsync in flight: it makes durable what the file held
// when it began.
type pendingSync struct {
	name string
	f    *file
	data []byte
	done func(error)
}

type testEnv struct {
	c       *cluster
	id      uint64
	files   map[string]*file
	removed bool          // the member applied its own removal
	syncs   []pendingSync // in the order they began
	// writes lists each file's length after each Append to it, for the
	// torn-write tests.
	writes   map[string][]int
	down     bool // crashed: its syncs never complete, messages to it are lost
	sleeping bool
	// sleeps holds the failpoints that sleep, by name; events lists what
	// the node did, in order: "send MsgApp", "append", "sync",
	// "failpoint raftBeforeSave". WAL appends and syncs are "append" and
	// "sync"; other files' carry their name ("sync member/snap/db").
	sleeps    map[string]time.Duration
	events    []string
	logs      []string
	installed []uint64 // SnapshotInstalled's indexes
}

func newTestEnv(c *cluster, id uint64, files map[string][]byte) *testEnv {
	e := &testEnv{c: c, id: id, files: map[string]*file{}, writes: map[string][]int{}}
	for name, b := range files {
		e.files[name] = &file{data: slices.Clone(b), durable: slices.Clone(b)}
	}
	return e
}

func (e *testEnv) Send(m *raftpb.Message) {
	e.c.msgs = append(e.c.msgs, m)
	e.events = append(e.events, "send "+m.GetType().String())
}

func (e *testEnv) SendSnapshot(m *raftpb.Message, db []byte) {
	e.c.snaps = append(e.c.snaps, sentSnap{m: m, db: slices.Clone(db)})
	e.events = append(e.events, "send snapshot")
}

func (e *testEnv) Reply(to string, r *api.Response) { e.c.replies[to] = append(e.c.replies[to], r) }

func (e *testEnv) event(op, name string) {
	if strings.HasPrefix(name, wal.Dirname) && (op == "append" || op == "sync") {
		e.events = append(e.events, op)
		return
	}
	e.events = append(e.events, op+" "+name)
}

func (e *testEnv) Append(name string, b []byte) {
	f := e.files[name]
	if f == nil {
		f = &file{}
		e.files[name] = f
	}
	f.data = append(f.data, b...)
	e.writes[name] = append(e.writes[name], len(f.data))
	e.event("append", name)
}

func (e *testEnv) WriteFile(name string, b []byte) {
	f := e.files[name]
	if f == nil {
		f = &file{}
		e.files[name] = f
	}
	f.data = slices.Clone(b)
	e.event("write", name)
}

func (e *testEnv) Sync(name string, done func(error)) {
	f := e.files[name]
	if f == nil {
		panic(fmt.Sprintf("n%d: sync of %s, which does not exist", e.id, name))
	}
	e.syncs = append(e.syncs, pendingSync{name: name, f: f, data: slices.Clone(f.data), done: done})
	e.event("sync", name)
}

func (e *testEnv) Truncate(name string, size int) {
	f := e.files[name]
	f.data = f.data[:size]
	if len(f.durable) > size {
		f.durable = f.durable[:size]
	}
	e.event("truncate", name)
}

func (e *testEnv) Remove(name string) {
	delete(e.files, name)
	e.event("remove", name)
}

func (e *testEnv) Rename(from, to string) {
	f, ok := e.files[from]
	if !ok {
		panic(fmt.Sprintf("n%d: rename of %s, which does not exist", e.id, from))
	}
	delete(e.files, from)
	e.files[to] = f
	e.event("rename", from+" "+to)
}

func (e *testEnv) ReadFile(name string) ([]byte, bool) {
	f, ok := e.files[name]
	if !ok {
		return nil, false
	}
	return slices.Clone(f.data), true
}

func (e *testEnv) List() []string { return slices.Sorted(maps.Keys(e.files)) }

func (e *testEnv) Failpoint(name string) time.Duration {
	e.events = append(e.events, "failpoint "+name)
	d := e.sleeps[name]
	if d > 0 {
		e.sleeping = true
	}
	return d
}

// syncing reports whether an fsync is in flight.
func (e *testEnv) syncing() bool { return len(e.syncs) > 0 }

// sync completes the oldest fsync in flight.
func (e *testEnv) sync() {
	s := e.syncs[0]
	e.syncs = e.syncs[1:]
	s.f.durable = s.data
	s.done(nil)
}

// failSync completes the oldest fsync in flight with err, making nothing
// durable.
func (e *testEnv) failSync(err error) {
	s := e.syncs[0]
	e.syncs = e.syncs[1:]
	s.done(err)
}

// pendingSyncOf reports whether an fsync of a file whose name ends with
// suffix is in flight.
func (e *testEnv) pendingSyncOf(suffix string) bool {
	return slices.ContainsFunc(e.syncs, func(s pendingSync) bool { return strings.HasSuffix(s.name, suffix) })
}

// durableFiles is what a crash would leave: every file's synced bytes.
func (e *testEnv) durableFiles() map[string][]byte {
	files := map[string][]byte{}
	for name, f := range e.files {
		if f.durable != nil {
			files[name] = slices.Clone(f.durable)
		}
	}
	return files
}

// currentFiles is every file as it is now, synced or not.
func (e *testEnv) currentFiles() map[string][]byte {
	files := map[string][]byte{}
	for name, f := range e.files {
		files[name] = slices.Clone(f.data)
	}
	return files
}

// PeerActive: a peer is reachable unless the cluster drops its messages
// both ways (a partition the test set up with drop).
func (e *testEnv) PeerActive(id uint64) bool {
	if _, ok := e.c.nodes[id]; !ok {
		return false
	}
	if e.c.drop == nil {
		return true
	}
	to := &raftpb.Message{From: proto.Uint64(e.id), To: proto.Uint64(id)}
	back := &raftpb.Message{From: proto.Uint64(id), To: proto.Uint64(e.id)}
	return !e.c.drop(to) && !e.c.drop(back)
}

// Removed notes that the member applied its own removal.
func (e *testEnv) Removed() { e.removed = true }

func (e *testEnv) RejectRemoved(from uint64) {}

func (e *testEnv) Applied(index, digest uint64)      {}
func (e *testEnv) Logged(index, term, digest uint64) {}

func (e *testEnv) AppliedWrite(*pb.InternalRaftRequest, *api.Response, []*mvccpb.Event) {}
func (e *testEnv) Proposed(reqID, id uint64)                                            {}
func (e *testEnv) SnapshotInstalled(index, term, digest uint64) {
	e.installed = append(e.installed, index)
}

// Now is the cluster's clock, which tests move on by hand.
func (e *testEnv) Now() time.Duration { return e.c.clock }

func (e *testEnv) Logf(format string, args ...any) {
	e.logs = append(e.logs, fmt.Sprintf(format, args...))
	e.c.t.Logf("n%d: "+format, append([]any{e.id}, args...)...)
}

// quiet drops the nodes' log lines, for tests that start many nodes.
type quiet struct{ testing.TB }

func (quiet) Logf(string, ...any) {}

func newCluster(t testing.TB, ids ...uint64) *cluster {
	return newClusterWith(t, nil, ids...)
}

// newClusterWith starts a cluster whose members' configs go through
// adjust first, if set.
func newClusterWith(t testing.TB, adjust func(*Config), ids ...uint64) *cluster {
	c := &cluster{t: t, nodes: map[uint64]*Node{}, envs: map[uint64]*testEnv{}, replies: map[string][]*api.Response{}}
	for _, id := range ids {
		cfg := DefaultConfig(id, ids)
		if adjust != nil {
			adjust(&cfg)
		}
		c.envs[id] = newTestEnv(c, id, nil)
		n, err := New(cfg, c.envs[id])
		require.NoError(t, err)
		c.nodes[id] = n
	}
	return c
}

// smallFiles makes a member snapshot, cut its WAL and purge its files
// after a few entries, so tests see all of it happen.
func smallFiles(cfg *Config) {
	cfg.SnapshotCount = 20
	cfg.SnapshotCatchUpEntries = 5
	cfg.WALSegmentSize = 1024
	cfg.MaxWALs = 1
	cfg.MaxSnapshots = 1
}

func (c *cluster) ids() []uint64 { return slices.Sorted(maps.Keys(c.nodes)) }

// settle completes fsyncs and delivers messages and snapshots until
// nothing moves.
func (c *cluster) settle() { c.settleUntil(nil) }

// settleUntil settles, but stops as soon as stop, checked after each
// thing that happens, holds; it reports whether it stopped so.
func (c *cluster) settleUntil(stop func() bool) bool {
	stopped := func() bool { return stop != nil && stop() }
	if stopped() {
		return true
	}
	for moved := true; moved; {
		moved = false
		for _, id := range c.ids() {
			e := c.envs[id]
			if e.down {
				continue
			}
			if e.syncing() {
				e.sync()
				moved = true
				if stopped() {
					return true
				}
			}
			if e.sleeping {
				e.sleeping = false
				c.nodes[id].Resume()
				moved = true
				if stopped() {
					return true
				}
			}
		}
		// The messages sent so far, in order; what they make the members
		// send waits for the next round, after the fsyncs.
		msgs := c.msgs
		c.msgs = nil
		for i, m := range msgs {
			if c.drop != nil && c.drop(m) {
				continue
			}
			if e, ok := c.envs[m.GetTo()]; ok && !e.down {
				c.nodes[m.GetTo()].Step(m)
				moved = true
				if stopped() {
					c.msgs = append(msgs[i+1:], c.msgs...)
					return true
				}
			}
		}
		if c.holdSnaps {
			continue
		}
		snaps := c.snaps
		c.snaps = nil
		for i, s := range snaps {
			c.deliverSnap(s, true)
			moved = true
			if stopped() {
				c.snaps = append(snaps[i+1:], c.snaps...)
				return true
			}
		}
	}
	return false
}

// deliverSnap ends a snapshot transfer as rafthttp would: if it gets
// through (ok, not dropped, the follower up), the follower saves the db
// where etcd's snapshot handler saves it, durably, and steps the message;
// either way the leader hears how it ended.
func (c *cluster) deliverSnap(s sentSnap, ok bool) {
	from, to := s.m.GetFrom(), s.m.GetTo()
	re, up := c.envs[to]
	ok = ok && up && !re.down && (c.drop == nil || !c.drop(s.m))
	if ok {
		name := snapDir + snap.DBName(s.m.GetSnapshot().GetMetadata().GetIndex())
		re.files[name] = &file{data: slices.Clone(s.db), durable: slices.Clone(s.db)}
		c.nodes[to].Step(s.m)
	}
	if se := c.envs[from]; !se.down {
		c.nodes[from].ReportSnapshot(to, ok)
	}
}

// crash stops member id where it stands, and returns what its disk keeps:
// the durable bytes of every file.
func (c *cluster) crash(id uint64) map[string][]byte {
	e := c.envs[id]
	e.down, e.syncs, e.sleeping = true, nil, false
	return e.durableFiles()
}

// restart brings member id back from files, with its config (bugs
// included), as a new process on a new env would after a crash.
func (c *cluster) restart(id uint64, files map[string][]byte) *Node {
	n, err := c.tryRestart(id, files)
	require.NoError(c.t, err)
	return n
}

func (c *cluster) tryRestart(id uint64, files map[string][]byte) (*Node, error) {
	env := newTestEnv(c, id, files)
	n, err := Restart(c.nodes[id].cfg, env)
	if err != nil {
		return nil, err
	}
	c.nodes[id], c.envs[id] = n, env
	return n, nil
}

// put writes each value to key through member via, one after another,
// each settled before the next, as client c1.
func (c *cluster) put(via uint64, key string, values ...string) {
	for i, v := range values {
		c.nodes[via].Request("c1", &api.Request{ID: uint64(i + 1), Put: putReq(key, v)})
		c.settle()
	}
}

// putN writes n keys through member via, each settled before the next.
func (c *cluster) putN(via uint64, prefix string, n int) {
	for i := range n {
		c.put(via, fmt.Sprintf("%s%d", prefix, i), "v")
	}
}

// heartbeat has leader send a round of heartbeats, which carry its commit
// index to members that lost theirs in a crash (a commit-only hard state
// is not synced), and settles.
func (c *cluster) heartbeat(leader uint64) {
	c.nodes[leader].Tick()
	c.settle()
}

func (c *cluster) elect(id uint64) {
	for i := 0; c.nodes[id].Status().Role != raft.StateLeader; i++ {
		require.Less(c.t, i, 100, "n%d not elected", id)
		c.nodes[id].Tick()
		c.settle()
	}
}

// walSegments lists the WAL segment files among files, oldest first.
func walSegments(files []string) []string {
	var segs []string
	for _, name := range files {
		if strings.HasPrefix(name, wal.Dirname) {
			segs = append(segs, name)
		}
	}
	return segs
}

func lastSegment(files map[string][]byte) string {
	segs := walSegments(slices.Sorted(maps.Keys(files)))
	return segs[len(segs)-1]
}

func TestWritesAreAnsweredOnceAppliedAndReadsSeeThem(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)

	c.nodes[2].Request("c1", &api.Request{ID: 10, Put: putReq("k", "v1")})
	c.settle()
	require.Len(t, c.replies["c1"], 1)
	put := c.replies["c1"][0]
	require.NoError(t, put.Err)
	require.NotNil(t, put.Put)

	c.nodes[3].Request("c2", &api.Request{ID: 11, Range: rangeReq("k")})
	c.settle()
	get := c.replies["c2"][0]
	require.NoError(t, get.Err)
	require.Len(t, get.Range.Kvs, 1)
	require.True(t, proto.Equal(&mvccpb.KeyValue{Key: []byte("k"), Value: []byte("v1"), CreateRevision: 2, ModRevision: 2, Version: 1}, get.Range.Kvs[0]))
	require.Equal(t, put.Header.Revision, get.Header.Revision)
}

// A linearizable read waits for ReadIndex: while the leader cannot be
// reached, nothing comes back, and the member keeps asking. With the
// stale-reads bug it answers at once.
func TestLinearizableReadWaitsForTheLeader(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.nodes[3].Request("c1", &api.Request{ID: 1, Range: rangeReq("k")})
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
	c.nodes[3].Request("c1", &api.Request{ID: 2, Range: rangeReq("k")})
	require.Len(t, c.replies["c1"], 1)
}

func TestRequestsTimeOut(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.nodes[2].Request("c1", &api.Request{ID: 7, Put: putReq("k", "v")})
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
	files := c.crash(2)
	last := lastSegment(files)
	whole := files[last]
	files[last] = append(slices.Clone(whole), 0x00, 0x00, 0x01) // a torn write

	n := c.restart(2, files)
	require.Equal(t, whole, c.envs[2].files[last].data, "the torn tail is cut off the log")
	require.Equal(t, whole, c.envs[2].files[last].durable, "durably")
	c.heartbeat(1)
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
		c.nodes[3].Request("c1", &api.Request{ID: id, Range: rangeReq("k")})
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

	n := c.restart(3, c.crash(3))
	c.heartbeat(1)
	require.Equal(t, st.Digest, n.Status().Digest)
}

// With apply-before-commit, a leader that no follower can hear still
// acknowledges a write: the acknowledgement promises nothing.
func TestApplyBeforeCommitAcknowledgesWithoutAQuorum(t *testing.T) {
	for _, bug := range []bool{false, true} {
		c := newCluster(t, 1, 2, 3)
		c.elect(1)
		c.nodes[1].cfg.Bugs.ApplyBeforeCommit = bug
		c.nodes[1].Request("c1", &api.Request{ID: 1, Put: putReq("k", "v")})
		c.msgs = nil // the leader's appends to its followers are lost
		for c.envs[1].syncing() {
			c.envs[1].sync()
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
	require.NoError(t, b.Set("release-wal-early,skip-consistent-index,snapshot-skips-store"))
	require.NoError(t, b.Set("watch-skips-event,lease-never-expires,txn-split,revision-skew"))
	require.Equal(t, Bugs{StaleReads: true, ApplyBeforeCommit: true, ForgetVote: true, AckBeforeFsync: true,
		SkipConsistentIndex: true, SnapshotSkipsStore: true, ReleaseWALEarly: true,
		WatchSkipsEvent: true, LeaseNeverExpires: true, TxnSplit: true, RevisionSkew: true}, b)
	require.Equal(t, BugNames(), b.On())
	require.EqualError(t, b.Set("fsync-lies"), `unknown bug "fsync-lies" (known: stale-reads, apply-before-commit, forget-vote, ack-before-fsync, skip-consistent-index, snapshot-skips-store, release-wal-early, watch-skips-event, lease-never-expires, txn-split, revision-skew)`)
	require.Empty(t, Bugs{}.On())
}

// tearEverywhere restarts member id from its data directory with the last
// WAL segment cut at every byte of every write to it, as a crash that
// tears the last write may leave it.
func tearEverywhere(t *testing.T, cfg Config, e *testEnv, from int) (cuts int) {
	files := e.currentFiles()
	last := lastSegment(files)
	full, start := files[last], 0
	for _, end := range e.writes[last] {
		for cut := max(start, from); cut <= end; cut++ {
			torn := maps.Clone(files)
			torn[last] = slices.Clone(full[:cut])
			_, err := Restart(cfg, newTestEnv(&cluster{t: quiet{t}}, cfg.ID, torn))
			require.NoError(t, err, "n%d, %s cut at byte %d of the write ending at %d", cfg.ID, last, cut, end)
			cuts++
		}
		start = end
	}
	return cuts
}

// A crash may tear the last write at any byte. Whatever survives, the
// member restarts from it: a HardState is written after the entries it
// commits, so no torn tail leaves a commit index pointing past the log.
// (The first record of a member's first segment is left out: see
// TestRestartAfterATornFirstWALWrite.)
func TestRestartSurvivesATearAnywhere(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.put(1, "k", "a", "b", "c")
	for _, id := range []uint64{1, 2} { // a leader's log and a follower's
		e := c.envs[id]
		first := e.writes[lastSegment(e.currentFiles())][0] // the bootstrap's snapshot record
		require.Positive(t, tearEverywhere(t, c.nodes[id].cfg, e, first))
	}
}

// The same with a WAL of several segments, snapshots and a backend: only
// the last segment is torn, and a tear before the newest snapshot's record
// restarts from the one before.
func TestRestartSurvivesATearAnywhereInTheLastSegment(t *testing.T) {
	c := newClusterWith(t, func(cfg *Config) { smallFiles(cfg); cfg.MaxWALs = 0 }, 1, 2, 3)
	c.elect(1)
	c.putN(1, "k", 40) // a second snapshot, recorded in the last segment
	for _, id := range []uint64{1, 2} {
		e := c.envs[id]
		require.Greater(t, len(walSegments(e.List())), 1, "n%d has several segments", id)
		require.Contains(t, walSnapshots(t, e), c.nodes[id].snap.diskIndex)
		require.Greater(t, c.nodes[id].snap.diskIndex, c.nodes[id].cfg.SnapshotCount)
		require.Positive(t, tearEverywhere(t, c.nodes[id].cfg, e, 0))
	}
}

// A log whose hard state commits entries it does not hold is refused with
// a clear error, not a panic deep in raft.
func TestRestartRefusesALogMissingCommittedEntries(t *testing.T) {
	log := wal.AppendSnapshot(nil, 0, 0, &raftpb.ConfState{})
	for i := uint64(1); i <= 3; i++ {
		log = wal.AppendEntry(log, &raftpb.Entry{Term: proto.Uint64(1), Index: proto.Uint64(i)})
	}
	log = wal.AppendState(log, &raftpb.HardState{Term: proto.Uint64(1), Commit: proto.Uint64(5)})
	files := map[string][]byte{wal.SegmentName(0, 0): log}
	_, err := Restart(DefaultConfig(2, []uint64{1, 2, 3}), newTestEnv(&cluster{t: t}, 2, files))
	require.EqualError(t, err, "member 2: restart: the log's hard state commits index 5 but its entries end at 3: committed entries were lost")
}

// A restarted member must not reuse the ID of a request its past life
// proposed: that entry may be applied after the restart, and its reply
// would go to the new request's client.
func TestRestartedMemberDoesNotReuseRequestIDs(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.nodes[2].Request("c2", &api.Request{ID: 100, Put: putReq("k", "old")})
	c.drop = func(m *raftpb.Message) bool { return m.GetTo() == 2 }
	c.settle() // n2's proposal reaches n1; n1 and n3 commit it, n2 never hears

	c.clock += time.Second // the restart takes a while
	n := c.restart(2, c.crash(2))
	c.msgs = nil
	// n2 learns who leads from a heartbeat, and n1 does not yet learn
	// that n2 lacks the entry.
	c.drop = func(m *raftpb.Message) bool { return m.GetFrom() == 2 }
	c.nodes[1].Tick()
	c.settle()
	require.Equal(t, uint64(1), n.Status().Leader)
	c.drop = nil

	c.replies["c2"] = nil
	n.Request("c2", &api.Request{ID: 200, Put: putReq("k", "new")})
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
		c.nodes[1].Request("c1", &api.Request{ID: uint64(i + 1), Put: putReq("k", "x")})
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
		c.restart(2, c.crash(2))
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

func putReq(key, value string) *pb.PutRequest {
	return &pb.PutRequest{Key: []byte(key), Value: []byte(value)}
}

func rangeReq(key string) *pb.RangeRequest { return &pb.RangeRequest{Key: []byte(key)} }

func deleteReq(key string) *pb.DeleteRangeRequest { return &pb.DeleteRangeRequest{Key: []byte(key)} }
