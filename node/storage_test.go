package node

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/backend"
	"github.com/etcdlab/etcdlab/node/mvcc"
	"github.com/etcdlab/etcdlab/node/snap"
	"github.com/etcdlab/etcdlab/node/wal"
)

// requireConverged checks that every member that is up applied the same
// entries into the same store.
func requireConverged(t *testing.T, c *cluster) {
	t.Helper()
	var first *Node
	for _, id := range c.ids() {
		if c.envs[id].down {
			continue
		}
		n := c.nodes[id]
		if first == nil {
			first = n
			continue
		}
		want, got := first.Status(), n.Status()
		require.Equal(t, want.Applied, got.Applied, "n%d applied the same as n%d", id, first.cfg.ID)
		require.Equal(t, want.Digest, got.Digest, "n%d applied the same entries as n%d", id, first.cfg.ID)
		require.Equal(t, want.Rev, got.Rev, "n%d has the revision of n%d", id, first.cfg.ID)
		require.Equal(t, first.Hash(), n.Hash(), "n%d has the store of n%d", id, first.cfg.ID)
	}
}

// backendMeta reads the meta bucket of a backend file.
func backendMeta(t *testing.T, b []byte) backend.Meta {
	t.Helper()
	m, _, err := backend.Decode(b)
	require.NoError(t, err)
	return m
}

// restartLine is the line a restart logs about what it read back.
func restartLine(e *testEnv) string {
	for _, l := range e.logs {
		if strings.HasPrefix(l, "restarted:") {
			return l
		}
	}
	return ""
}

// walSnapshots lists the indexes of the snapshots member id's WAL records
// and may restart from.
func walSnapshots(t *testing.T, e *testEnv) []uint64 {
	t.Helper()
	snaps, err := wal.ValidSnapshotEntries(envDir{e})
	require.NoError(t, err)
	var idx []uint64
	for _, s := range snaps {
		idx = append(idx, s.GetIndex())
	}
	return idx
}

func filesWithSuffix(e *testEnv, suffix string) []string {
	var names []string
	for _, name := range e.List() {
		if strings.HasSuffix(name, suffix) {
			names = append(names, name)
		}
	}
	return names
}

// indexOf is where event ev first is in events, -1 if nowhere.
func indexOf(events []string, ev string) int { return slices.Index(events, ev) }

// --- the backend ---

// Applied writes reach the backend file in batch commits: at a
// CommitTick, or at once after a delete. A commit is durable once its
// sync completes, and carries the consistent index of the last entry
// applied.
func TestBackendCommitsInBatches(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.put(1, "k", "a", "b")
	e := c.envs[2]
	require.NotContains(t, e.List(), backend.Path, "a batch of two writes is not committed yet")

	c.nodes[2].CommitTick()
	require.True(t, e.pendingSyncOf(backend.Path))
	require.Nil(t, e.files[backend.Path].durable, "not durable before its sync")
	c.settle()
	m := backendMeta(t, e.files[backend.Path].durable)
	require.Equal(t, c.nodes[2].Status().Applied, m.ConsistentIndex)
	require.Equal(t, c.nodes[2].Status().Digest, m.Digest)
	require.Equal(t, []uint64{1, 2, 3}, m.ConfState.GetVoters())

	e.events = nil
	c.nodes[2].CommitTick()
	require.Empty(t, e.events, "nothing new to commit")

	c.nodes[1].Request("c1", &api.Request{ID: 9, DeleteRange: deleteReq("k")})
	c.settle()
	require.Contains(t, e.events, "write "+backend.Path, "a delete commits at once")
	require.Nil(t, c.nodes[2].store.KeyAt([]byte("k"), c.nodes[2].store.Rev()))
}

// A commit made while an entry is applied (a delete, or the write that
// fills the batch) holds that entry's writes, so its consistent index
// must be that entry's: etcd sets the consistent index before it applies
// (applyEntryNormal: SetConsistentApplyingIndex). Otherwise a restart
// applies the entry a second time. With BackendBatchLimit 1 every put
// commits as it is applied.
func TestACommitDuringAnApplyCoversTheEntryBeingApplied(t *testing.T) {
	c := newClusterWith(t, func(cfg *Config) { cfg.BackendBatchLimit = 1 }, 1, 2, 3)
	c.elect(1)
	c.put(1, "k", "a", "b")
	e := c.envs[2]
	db, data, err := backend.Decode(e.files[backend.Path].durable)
	require.NoError(t, err)
	st, err := mvcc.Unmarshal(data.KV)
	require.NoError(t, err)
	require.Equal(t, int64(3), st.Rev(), "the file holds both puts")
	assert.Equal(t, c.nodes[2].Status().Applied, db.ConsistentIndex, "so its consistent index is the second put's")

	n := c.restart(2, c.crash(2))
	c.heartbeat(1)
	assert.Equal(t, int64(3), n.Status().Rev, "no put applied twice")
	assert.Equal(t, c.nodes[1].Hash(), n.Hash())

	c.nodes[1].Request("c1", &api.Request{ID: 9, DeleteRange: deleteReq("k")})
	c.settle()
	assert.Equal(t, c.nodes[2].Status().Applied, backendMeta(t, c.envs[2].files[backend.Path].durable).ConsistentIndex,
		"the delete's commit covers the delete")
}

// A crash before a batch commit is durable keeps the commit before it: the
// restart replays from the WAL the entries above that commit's consistent
// index and ends with the store the others have.
func TestRestartReplaysEntriesAboveTheBackendsConsistentIndex(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	c.elect(1)
	c.put(1, "k", "a", "b")
	c.nodes[2].CommitTick()
	c.settle()
	committed := c.nodes[2].Status().Applied
	c.put(1, "k", "c", "d")
	c.nodes[2].CommitTick() // its sync never completes
	require.True(t, c.envs[2].pendingSyncOf(backend.Path))

	files := c.crash(2)
	require.Equal(t, committed, backendMeta(t, files[backend.Path]).ConsistentIndex, "the last durable commit")
	n := c.restart(2, files)
	require.Contains(t, restartLine(c.envs[2]), fmt.Sprintf("backend consistent index %d,", committed))
	// The backend held a and b (revision 3); the WAL's durable commit
	// covers more puts, each replayed once.
	st := n.Status()
	require.Greater(t, st.Applied, committed, "entries above the consistent index were replayed")
	require.Equal(t, int64(3)+int64(st.Applied-committed), st.Rev)
	c.heartbeat(1)
	require.Equal(t, int64(5), n.Status().Rev)
	requireConverged(t, c)
}

// A restart after a durable commit skips the entries up to its consistent
// index: none is applied twice. With skip-consistent-index they are, and
// the revision runs ahead of the others'.
func TestRestartAfterABackendCommitAppliesNothingTwice(t *testing.T) {
	for _, bug := range []bool{false, true} {
		t.Run(fmt.Sprintf("skip-consistent-index=%v", bug), func(t *testing.T) {
			c := newCluster(t, 1, 2, 3)
			c.nodes[2].cfg.Bugs.SkipConsistentIndex = bug
			c.elect(1)
			c.put(1, "k", "a", "b", "c")
			c.nodes[2].CommitTick()
			c.settle()
			files := c.crash(2)
			require.Equal(t, c.nodes[2].Status().Applied, backendMeta(t, files[backend.Path]).ConsistentIndex)

			n := c.restart(2, files)
			c.heartbeat(1)
			want := c.nodes[1].Status()
			if !bug {
				require.Equal(t, int64(4), n.Status().Rev)
				requireConverged(t, c)
				return
			}
			require.Equal(t, want.Applied, n.Status().Applied)
			require.NotEqual(t, want.Rev, n.Status().Rev, "the puts the backend held were applied again")
			require.NotEqual(t, c.nodes[1].Hash(), n.Hash())
		})
	}
}

// --- the member's own snapshots ---

// Past SnapshotCount applied entries a member commits its backend, saves
// a .snap file, records the snapshot in its WAL, releases and purges the
// segments before it, and compacts raft's in-memory log, keeping
// SnapshotCatchUpEntries. Each step is durable before the next.
func TestMembersSnapshotReleaseTheirWALAndCompactTheirLog(t *testing.T) {
	c := newClusterWith(t, smallFiles, 1, 2, 3)
	c.elect(1)
	most := map[uint64]int{}
	for i := range 60 {
		c.put(1, fmt.Sprintf("k%d", i), "v")
		for _, id := range c.ids() {
			most[id] = max(most[id], len(c.envs[id].List()))
		}
	}
	for _, id := range c.ids() {
		e, n := c.envs[id], c.nodes[id]
		snaps := filesWithSuffix(e, ".snap")
		require.Len(t, snaps, 1, "n%d keeps MaxSnapshots .snap files", id)
		index := n.snap.diskIndex
		require.Greater(t, index, n.cfg.SnapshotCount)
		require.Equal(t, snapDir+snap.Name(n.snap.appliedTerm, index), snaps[0], "n%d's newest snapshot", id)
		sn, err := snap.Decode(e.files[snaps[0]].durable)
		require.NoError(t, err, "n%d's .snap file is durable", id)
		require.Equal(t, index, sn.GetMetadata().GetIndex())

		require.Contains(t, walSnapshots(t, e), index, "n%d's WAL records the snapshot", id)
		require.NotContains(t, e.List(), wal.SegmentName(0, 0), "n%d's first segment was purged", id)
		require.Less(t, len(e.List()), most[id], "n%d's data directory shrank", id)
		require.LessOrEqual(t, len(walSegments(e.List())), n.cfg.MaxWALs+1, "n%d: released segments beyond MaxWALs are gone", id)

		require.GreaterOrEqual(t, backendMeta(t, e.files[backend.Path].durable).ConsistentIndex, index,
			"n%d's backend was committed before the snapshot", id)
		first, err := n.storage.FirstIndex()
		require.NoError(t, err)
		require.Equal(t, index-n.cfg.SnapshotCatchUpEntries+1, first, "n%d's raft log keeps SnapshotCatchUpEntries", id)
	}
	requireConverged(t, c)
}

// The order of a snapshot to disk: the backend commit is durable before
// the .snap file is written, the file before its WAL record, the record
// before any segment or older .snap file goes.
func TestOwnSnapshotStepsAreDurableInOrder(t *testing.T) {
	c := newClusterWith(t, smallFiles, 1, 2, 3)
	c.elect(1)
	c.putN(1, "k", 60)
	ev := c.envs[2].events
	remove := slices.IndexFunc(ev, func(s string) bool { return strings.HasPrefix(s, "remove "+wal.Dirname) })
	require.GreaterOrEqual(t, remove, 0, "n2 removed a segment")
	snapFile := -1
	for i, s := range ev[:remove] {
		if strings.HasPrefix(s, "write "+snapDir) && strings.HasSuffix(s, ".snap") {
			snapFile = i
		}
	}
	require.GreaterOrEqual(t, snapFile, 0, "n2 wrote a .snap file before it removed a segment")
	name := strings.TrimPrefix(ev[snapFile], "write ")
	require.Contains(t, ev[:snapFile], "sync "+backend.Path, "a backend commit before the .snap file")
	require.Equal(t, []string{"sync " + name, "failpoint " + RaftBeforeWALSaveSnaphot, "append", "sync"}, ev[snapFile+1:snapFile+5],
		"the .snap file is synced, then the WAL record is written and synced")
	require.Greater(t, remove, snapFile+4, "segments go only after the record")
	oldSnap := slices.IndexFunc(ev, func(s string) bool { return strings.HasPrefix(s, "remove "+snapDir) })
	require.Greater(t, oldSnap, snapFile+3, "and older .snap files too")
}

// --- snapshots from the leader ---

// partitionedFollower elects n1 of three with small files, cuts n3 off,
// and writes enough for n1 to compact away the entries n3 lacks.
func partitionedFollower(t *testing.T, adjust func(*Config)) *cluster {
	c := newClusterWith(t, func(cfg *Config) {
		smallFiles(cfg)
		if adjust != nil {
			adjust(cfg)
		}
	}, 1, 2, 3)
	c.elect(1)
	c.drop = func(m *raftpb.Message) bool { return m.GetTo() == 3 || m.GetFrom() == 3 }
	c.putN(1, "k", int(c.nodes[1].cfg.SnapshotCount+c.nodes[1].cfg.SnapshotCatchUpEntries)+5)
	first, err := c.nodes[1].storage.FirstIndex()
	require.NoError(t, err)
	require.Greater(t, first, c.nodes[3].Status().Applied+1, "n1 compacted what n3 lacks")
	c.drop = nil
	return c
}

// A follower the leader's log no longer reaches gets a merged snapshot:
// the leader's backend as of its applied index, with raft's message
// moved up to that index. The follower saves the db, installs it, and
// carries on with entries once the leader hears the transfer finished.
func TestAFollowerFarBehindCatchesUpByAMergedSnapshot(t *testing.T) {
	c := partitionedFollower(t, nil)
	c.holdSnaps = true
	c.heartbeat(1)
	require.Len(t, c.snaps, 1, "n1 sent n3 a snapshot")
	s := c.snaps[0]
	c.snaps = nil
	leader := c.nodes[1].Status()
	md := s.m.GetSnapshot().GetMetadata()
	require.Equal(t, uint64(3), s.m.GetTo())
	require.Equal(t, leader.Applied, md.GetIndex(), "merged at the leader's applied index")
	require.Equal(t, []uint64{1, 2, 3}, md.GetConfState().GetVoters())
	meta, store, err := backend.Decode(s.db)
	require.NoError(t, err)
	require.Equal(t, md.GetIndex(), meta.ConsistentIndex)
	require.Equal(t, leader.Digest, meta.Digest)
	require.NotEmpty(t, store)
	require.Equal(t, 1, c.nodes[1].snap.inflight, "the leader does not compact while it sends")

	before := c.nodes[3].Status().Applied
	c.deliverSnap(s, true)
	require.Equal(t, 1, c.nodes[1].snap.inflight, "compaction stays paused for 30s after a snapshot got through")
	c.settle()
	n3 := c.nodes[3]
	require.Equal(t, []uint64{md.GetIndex()}, c.envs[3].installed)
	require.Greater(t, n3.Status().Applied, before)
	require.Equal(t, c.nodes[1].Hash(), n3.Hash(), "n3's store is the leader's")
	e := c.envs[3]
	require.NotContains(t, e.List(), snapDir+snap.DBName(md.GetIndex()), "the received db was opened in place")
	require.Equal(t, md.GetIndex(), backendMeta(t, e.files[backend.Path].durable).ConsistentIndex)
	require.Contains(t, e.List(), snapDir+snap.Name(md.GetTerm(), md.GetIndex()), "the snapshot is saved")
	require.Contains(t, walSnapshots(t, e), md.GetIndex(), "and recorded in the WAL")
	first, err := n3.storage.FirstIndex()
	require.NoError(t, err)
	require.Equal(t, md.GetIndex()+1, first, "raft's log starts after the snapshot")

	c.putN(1, "after", 3)
	require.Greater(t, n3.Status().Applied, md.GetIndex(), "n3 goes on with entries")
	require.Empty(t, c.snaps, "no second snapshot")
	requireConverged(t, c)
}

// A received snapshot is saved before the Ready's entries, and its .snap
// file before its WAL record; its backend is opened, and raft's log
// handed the snapshot, only once all of that is durable.
func TestReceivedSnapshotStepsAreInEtcdsOrder(t *testing.T) {
	c := partitionedFollower(t, nil)
	c.envs[3].events = nil
	c.heartbeat(1)
	ev := c.envs[3].events
	var got []string
	for _, e := range ev {
		if strings.HasPrefix(e, "failpoint raftBeforeSaveSnap") || strings.HasPrefix(e, "failpoint raftAfterSaveSnap") ||
			strings.HasPrefix(e, "failpoint applyBeforeOpenSnapshot") || strings.HasPrefix(e, "failpoint applyAfterOpenSnapshot") ||
			strings.HasPrefix(e, "failpoint raftBeforeApplySnap") || strings.HasPrefix(e, "failpoint raftAfterApplySnap") ||
			strings.HasPrefix(e, "failpoint raftAfterWALRelease") || strings.HasPrefix(e, "rename") ||
			strings.HasPrefix(e, "write "+snapDir) || strings.HasPrefix(e, "sync "+snapDir) {
			got = append(got, e)
		}
	}
	index := c.envs[3].installed[0]
	snaps := filesWithSuffix(c.envs[3], fmt.Sprintf("-%016x.snap", index))
	require.Len(t, snaps, 1)
	snapName := snaps[0]
	require.Equal(t, []string{
		"failpoint raftBeforeSaveSnap", "write " + snapName, "sync " + snapName, "failpoint raftAfterSaveSnap",
		"failpoint applyBeforeOpenSnapshot", "rename " + snapDir + snap.DBName(index) + " " + backend.Path,
		"failpoint applyAfterOpenSnapshot", "failpoint raftBeforeApplySnap", "failpoint raftAfterApplySnap",
		"failpoint raftAfterWALRelease",
	}, got[:10])
	save := indexOf(ev, "failpoint raftAfterSaveSnap")
	open := indexOf(ev, "failpoint applyBeforeOpenSnapshot")
	require.Equal(t, []string{"append", "sync"}, ev[save-2:save], "the WAL record is synced before raftAfterSaveSnap")
	require.Contains(t, ev[save:open], "failpoint raftAfterSave", "the Ready's own save comes between")
}

// A transfer that fails is reported to raft, which probes the follower
// again and sends another snapshot.
func TestAFailedSnapshotTransferIsRetried(t *testing.T) {
	c := partitionedFollower(t, nil)
	c.holdSnaps = true
	c.heartbeat(1)
	require.Len(t, c.snaps, 1)
	s := c.snaps[0]
	c.snaps = nil
	c.deliverSnap(s, false)
	require.Zero(t, c.nodes[1].snap.inflight)
	require.Empty(t, c.envs[3].installed, "n3 got nothing")
	c.settle()
	require.Empty(t, c.snaps, "raft waits a heartbeat before it tries again")

	c.heartbeat(1)
	require.Len(t, c.snaps, 1, "a second snapshot")
	c.holdSnaps = false
	c.settle()
	require.Len(t, c.envs[3].installed, 1)
	c.putN(1, "after", 2)
	requireConverged(t, c)
}

// With snapshot-skips-store, the follower moves its applied index to the
// snapshot's but keeps its old store: it never gets the writes the
// snapshot carried.
func TestSnapshotSkipsStoreLeavesTheFollowerBehind(t *testing.T) {
	for _, bug := range []bool{false, true} {
		t.Run(fmt.Sprintf("snapshot-skips-store=%v", bug), func(t *testing.T) {
			c := partitionedFollower(t, func(cfg *Config) { cfg.Bugs.SnapshotSkipsStore = bug && cfg.ID == 3 })
			c.heartbeat(1)
			require.Len(t, c.envs[3].installed, 1)
			require.Equal(t, c.nodes[1].Status().Applied, c.nodes[3].Status().Applied)
			if !bug {
				requireConverged(t, c)
				return
			}
			require.NotEqual(t, c.nodes[1].Hash(), c.nodes[3].Hash())
			require.NotEqual(t, c.nodes[1].Status().Rev, c.nodes[3].Status().Rev)
		})
	}
}

// A member restarts from its own snapshot, its backend and the WAL after
// them; and so does one that installed the leader's snapshot. Both
// converge with the others.
func TestRestartFromSnapshotBackendAndWAL(t *testing.T) {
	c := partitionedFollower(t, nil)
	c.heartbeat(1)
	c.putN(1, "after", 3)
	requireConverged(t, c)

	for _, id := range []uint64{2, 3} {
		c.clock += time.Second
		files := c.crash(id)
		n := c.restart(id, files)
		line := restartLine(c.envs[id])
		require.NotContains(t, line, "restarted: snapshot 0,", "n%d starts from a snapshot: %s", id, line)
		require.Positive(t, n.snap.diskIndex)
		c.heartbeat(1)
	}
	c.putN(1, "again", 3)
	requireConverged(t, c)

	// And the leader, which must then be elected again.
	c.clock += time.Second
	c.restart(1, c.crash(1))
	c.elect(2)
	c.putN(2, "new", 3)
	requireConverged(t, c)
}

// A crash after a received snapshot is saved but before its backend is
// opened: the restart opens the received db in place of the old backend
// (etcd's RecoverSnapshotBackend).
func TestRestartBetweenSavingAndOpeningAReceivedSnapshot(t *testing.T) {
	c := partitionedFollower(t, nil)
	c.envs[3].sleeps = map[string]time.Duration{ApplyBeforeOpenSnapshot: time.Second}
	c.nodes[1].Tick() // a heartbeat: n3 answers, n1 sends it a snapshot
	require.True(t, c.settleUntil(func() bool { return c.envs[3].sleeping }), "n3 stopped before it opened the received backend")
	files := c.crash(3)
	var dbs []string
	for name := range files {
		if strings.HasSuffix(name, ".snap.db") {
			dbs = append(dbs, name)
		}
	}
	require.Len(t, dbs, 1, "the received db is on disk")
	n := c.restart(3, files)
	var index uint64
	_, err := fmt.Sscanf(strings.TrimPrefix(dbs[0], snapDir), "%016x.snap.db", &index)
	require.NoError(t, err)
	require.Contains(t, c.envs[3].logs, fmt.Sprintf("recovered the backend received with snapshot %d", index))
	require.Equal(t, index, n.Status().Applied, "n3 starts from the received snapshot")
	require.NotContains(t, c.envs[3].List(), dbs[0], "renamed into place")
	c.heartbeat(1)
	c.putN(1, "after", 2)
	requireConverged(t, c)
}

// With release-wal-early, a member's own snapshot releases and purges the
// WAL before the snapshot is saved; a crash before its WAL record is
// durable leaves a WAL that starts after the last snapshot it records,
// and the member cannot restart. Without the bug the same crash is
// harmless.
func TestReleaseWALEarlyLeavesAMemberThatCannotRestart(t *testing.T) {
	for _, bug := range []bool{false, true} {
		t.Run(fmt.Sprintf("release-wal-early=%v", bug), func(t *testing.T) {
			c := newClusterWith(t, func(cfg *Config) {
				smallFiles(cfg)
				cfg.Bugs.ReleaseWALEarly = bug && cfg.ID == 2
			}, 1, 2, 3)
			c.elect(1)
			e := c.envs[2]
			// The crash comes as n2 saves its second snapshot, whose
			// release may purge the segment that records the first.
			saving := func() bool { return c.nodes[2].snap.diskIndex > 0 && e.pendingSyncOf(".snap") }
			for i := 0; !saving(); i++ {
				require.Less(t, i, 100, "n2 never saved a snapshot")
				c.nodes[1].Request("c1", &api.Request{ID: uint64(i + 1), Put: putReq(fmt.Sprintf("k%d", i), "v")})
				c.settleUntil(saving)
			}
			files := c.crash(2)
			c.clock += time.Second
			_, err := c.tryRestart(2, files)
			if !bug {
				require.NoError(t, err)
				c.heartbeat(1)
				c.putN(1, "after", 2)
				requireConverged(t, c)
				return
			}
			require.Error(t, err)
			t.Log(err)
			require.Regexp(t, "file not found|snapshot not found", err.Error())
		})
	}
}

// A segment that reaches the segment size is synced whole before the
// next one is created, so only the last segment can have a torn tail;
// the next one opens with the hard state, so a replay can start there.
func TestAFullSegmentIsSyncedBeforeTheNextIsCut(t *testing.T) {
	c := newClusterWith(t, smallFiles, 1, 2, 3)
	c.elect(1)
	e := c.envs[2]
	cut := func() bool { return len(walSegments(e.List())) > 1 }
	for i := 0; !cut(); i++ {
		require.Less(t, i, 100, "n2 never cut its WAL")
		c.nodes[1].Request("c1", &api.Request{ID: uint64(i + 1), Put: putReq(fmt.Sprintf("k%d", i), "v")})
		c.settleUntil(cut)
	}
	segs := walSegments(e.List())
	first, second := e.files[segs[0]], e.files[segs[1]]
	require.GreaterOrEqual(t, len(first.data), c.nodes[2].cfg.WALSegmentSize)
	require.Equal(t, first.data, first.durable, "the full segment is durable")
	i := indexOf(e.events, "write "+segs[1])
	require.Equal(t, "sync", e.events[i-1], "synced just before the cut")
	require.Greater(t, len(second.data), 8)
	require.Equal(t, wal.StateType, second.data[8], "the new segment opens with the hard state")
	var index uint64
	_, err := fmt.Sscanf(strings.TrimPrefix(segs[1], wal.Dirname), "0000000000000001-%016x.wal", &index)
	require.NoError(t, err)
	last, err := c.nodes[2].storage.LastIndex()
	require.NoError(t, err)
	require.Equal(t, last+1, index, "named after the index of the first entry it will hold")

	c.settle()
	got, err := wal.ReadAll(envDir{e}, wal.Ref{})
	require.NoError(t, err)
	require.Len(t, got.Segments, 2)
	require.Equal(t, c.nodes[2].Status().Term, got.State.GetTerm())
}

// A new member that crashes before its first fsync completes may leave
// its first segment empty or torn inside the bootstrap's snapshot record
// (a file's size may reach the disk before its sync, and a torn write
// keeps a prefix). Nothing of it was ever acknowledged: the member should
// start again as new, as it does when the file is missing altogether, and
// as etcd does (wal.Create writes the first segment in a temporary
// directory and renames it into place only once it is synced).
func TestRestartAfterATornFirstWALWrite(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	e := c.envs[2]
	seg := wal.SegmentName(0, 0)
	require.True(t, e.pendingSyncOf(seg), "the bootstrap's first sync is in flight")
	files := c.crash(2)
	require.Empty(t, files, "nothing was ever synced")
	_, err := c.tryRestart(2, files)
	require.NoError(t, err, "no WAL at all: a new member")

	full := e.files[seg].data
	var failed []int
	var firstErr error
	for cut := range len(full) + 1 {
		torn := map[string][]byte{seg: slices.Clone(full[:cut])}
		if _, err := Restart(c.nodes[2].cfg, newTestEnv(&cluster{t: quiet{t}}, 2, torn)); err != nil {
			failed = append(failed, cut)
			firstErr = cmp.Or(firstErr, err)
		}
	}
	require.Empty(t, failed, "the first segment (bootstrap record %d bytes, then the first Ready's %d) cut at these bytes does not restart: %v",
		e.writes[seg][0], len(full)-e.writes[seg][0], firstErr)
}

// A backend commit still in flight when a snapshot from the leader
// arrives belongs to the old backend: the install waits for it, as etcd's
// applySnapshot closes the old backend (which waits for its commit) before
// the received one is renamed into place. Otherwise the old commit could
// land after the new file, or take the consistent index back.
func TestAnOldBackendCommitDoesNotRewindAnInstalledSnapshot(t *testing.T) {
	c := partitionedFollower(t, nil)
	n3, e := c.nodes[3], c.envs[3]
	n3.CommitTick() // n3's configuration entries are pending
	require.True(t, e.pendingSyncOf(backend.Path))
	old := e.syncs[0]
	e.syncs = e.syncs[1:] // its fsync is slow: it completes after the snapshot arrives
	c.heartbeat(1)
	require.Empty(t, e.installed, "the install waits for the old backend's commit")

	old.f.durable = old.data
	old.done(nil)
	c.settle()
	require.Len(t, e.installed, 1)
	index := e.installed[0]
	assert.Equal(t, index, n3.backend.consistentIndex)
	c.putN(1, "after", 2)
	requireConverged(t, c)
}

// --- the backend file's two images ---

// sharedDisk makes a testEnv hold the bytes WriteFile is given, and hand
// them to syncs and to ReadFile, as the simulated disk does (testEnv
// copies them): a member that wrote into an image the disk still holds,
// or kept bytes it read back, would show it here.
type sharedDisk struct{ *testEnv }

func (e sharedDisk) WriteFile(name string, b []byte) {
	e.testEnv.WriteFile(name, b)
	e.files[name].data = b
}

func (e sharedDisk) Sync(name string, done func(error)) {
	e.testEnv.Sync(name, done)
	e.syncs[len(e.syncs)-1].data = e.files[name].data
}

func (e sharedDisk) ReadFile(name string) ([]byte, bool) {
	f, ok := e.files[name]
	if !ok {
		return nil, false
	}
	return f.data, true
}

// restartShared restarts member id from files on a sharedDisk.
func restartShared(c *cluster, id uint64, files map[string][]byte) (*Node, *testEnv) {
	c.t.Helper()
	env := newTestEnv(c, id, files)
	n, err := Restart(c.nodes[id].cfg, sharedDisk{env})
	require.NoError(c.t, err)
	c.nodes[id], c.envs[id] = n, env
	return n, env
}

// requireBackendHolds checks that a backend file decodes to member n's
// applied index and store, and has the size the member reports.
func requireBackendHolds(t *testing.T, n *Node, b []byte) {
	t.Helper()
	db, err := decodeBackend(backend.Path, b)
	require.NoError(t, err)
	require.Equal(t, n.applied, db.meta.ConsistentIndex)
	require.Equal(t, n.Hash(), db.store.Hash())
	require.Equal(t, n.store.Rev(), db.store.Rev())
	require.Equal(t, n.backend.inUse, int64(len(b)))
}

// Each commit fills the image the disk no longer holds: while a commit's
// sync is in flight, the durable file is still the commit before, byte
// for byte, through many commits that append, deletes that commit at
// once, a compaction that rewrites the key bucket, a crash during a
// commit and a restart.
func TestBackendImagesAreWrittenOnlyOnceTheDiskLetsThemGo(t *testing.T) {
	c := newCluster(quiet{t}, 1, 2, 3)
	c.elect(1)
	c.put(1, "k", "a")
	c.nodes[2].CommitTick()
	c.settle()
	n, e := restartShared(c, 2, c.crash(2))
	c.heartbeat(1)
	for i := range 60 {
		switch {
		case i == 25:
			c.ok(1, &api.Request{Compact: &pb.CompactionRequest{Revision: n.store.Rev() - 5}})
		case i%9 == 0:
			c.ok(1, &api.Request{DeleteRange: deleteReq(fmt.Sprintf("k%d", (i+1)%4))}) // commits at once
		}
		c.put(1, fmt.Sprintf("k%d", i%4), strings.Repeat("v", i))
		durable := slices.Clone(e.files[backend.Path].durable)
		n.CommitTick()
		require.True(t, e.pendingSyncOf(backend.Path))
		require.Equal(t, durable, e.files[backend.Path].durable, "commit %d: the durable image is untouched until the next is", i)
		if i == 40 {
			// A crash with a commit in flight leaves the one before.
			files := c.crash(2)
			require.Equal(t, durable, files[backend.Path])
			n, e = restartShared(c, 2, files)
			c.heartbeat(1)
			n.CommitTick()
		}
		c.settle()
		requireBackendHolds(t, n, e.files[backend.Path].durable)
		if i == 25 {
			require.Positive(t, n.store.Rewrites(), "the compaction rewrote the key bucket")
		}
	}
}

// What a member decodes from its backend keeps nothing of the file's
// bytes, which the disk hands out without a copy: two commits later the
// member writes into the same array.
func TestADecodedBackendKeepsNothingOfItsImage(t *testing.T) {
	c := newCluster(quiet{t}, 1, 2, 3)
	c.elect(1)
	c.ok(1, &api.Request{LeaseGrant: &pb.LeaseGrantRequest{ID: 7, TTL: 60}})
	c.put(1, "k", "a", "b")
	n := c.nodes[1]
	var f backend.File
	commit := func() []byte {
		return f.Commit(n.meta(), backend.Buckets{KV: n.store.Marshal(), Lease: n.lessor.Marshal()}, true)
	}
	image := commit()
	written := slices.Clone(image)
	db, err := decodeBackend(backend.Path, image)
	require.NoError(t, err)
	hash, rev, leases := db.store.Hash(), db.store.Rev(), slices.Clone(db.leases)

	c.ok(1, &api.Request{LeaseRevoke: &pb.LeaseRevokeRequest{ID: 7}})
	c.put(1, "k", "c", "d")
	commit()
	again := commit()
	require.Same(t, &image[0], &again[0], "the third commit reuses the first image")
	require.NotEqual(t, written, image[:len(written)], "and writes into it")

	require.Equal(t, hash, db.store.Hash())
	require.Equal(t, rev, db.store.Rev())
	require.Equal(t, leases, db.leases)
	require.NotEmpty(t, leases)
}

// The member's file is a snapshot db's bytes reordered: the same size,
// which is what the quota and Status's DbSizeInUse count.
func TestBackendFileIsTheSizeOfASnapshotDb(t *testing.T) {
	c := newCluster(quiet{t}, 1, 2, 3)
	c.elect(1)
	n := c.nodes[1]
	check := func(what string) {
		t.Helper()
		n.CommitTick()
		c.settle()
		file := c.envs[1].files[backend.Path].durable
		m, bk, err := backend.Decode(file)
		require.NoError(t, err, what)
		db := backend.Encode(m, bk)
		require.Len(t, file, len(db), what)
		require.Equal(t, n.backend.inUse, int64(len(db)), what)
		require.Equal(t, db[:15], file[:15], "%s: the same header", what)
	}
	c.put(1, "k", "a")
	check("one key")
	c.ok(1, &api.Request{LeaseGrant: &pb.LeaseGrantRequest{ID: 7, TTL: 60}})
	c.putN(1, "many", 40)
	check("a lease and many keys")
	c.ok(1, &api.Request{Compact: &pb.CompactionRequest{Revision: n.store.Rev() - 3}})
	check("compacted")
	c.ok(1, &api.Request{DeleteRange: &pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte("z")}})
	check("everything deleted")
}
