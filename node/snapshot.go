package node

import (
	"errors"
	"fmt"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/node/backend"
	"github.com/etcdlab/etcdlab/node/snap"
	"github.com/etcdlab/etcdlab/node/wal"
)

// Snapshots, as etcd v3.7 takes and installs them.
//
// The member's own (EtcdServer.snapshotIfNeededAndCompactRaftLog): every
// memorySnapshotCount applied entries raft's in-memory log gets a snapshot
// and is compacted behind it, keeping SnapshotCatchUpEntries for slow
// followers; every SnapshotCount entries the snapshot also goes to disk:
// a forced backend commit, the .snap file, the WAL record, and the release
// of the WAL segments it covers. These are Ready steps (ready.go), after
// the Ready's entries are saved; decideSnapshot sets snap.toDisk and
// snap.toMemory for the steps after it, and compactLog clears them.
//
// From the leader: a follower the leader has compacted past gets a merged
// snapshot (sendMergedSnapshot), saves it before the Ready's entries, and
// once that is durable opens the backend that came with it in place of
// its own (the hasSnapshot steps).

// memorySnapshotCount is how often raft's in-memory log gets a snapshot
// and is compacted, in applied entries (etcd's memorySnapshotCount).
const memorySnapshotCount = 100

// releaseDelayAfterSnapshot is how long a snapshot that got through still
// holds compaction back (etcd's releaseDelayAfterSnapshot).
const releaseDelayAfterSnapshot = 30 * time.Second

// decideSnapshot runs once this Ready's entries are applied and saved: it
// decides whether to snapshot, and for a snapshot to disk, forces a
// backend commit first and waits for it, so the backend's consistent
// index is at or past the snapshot's (verifyConsistentIndexIsLatest).
func (n *Node) decideSnapshot(*raft.Ready) stall {
	s := &n.snap
	s.toDisk = n.applied-s.diskIndex > n.cfg.SnapshotCount
	s.toMemory = n.applied > s.memoryIndex+memorySnapshotCount
	if !s.toDisk {
		return notStalled
	}
	n.env.Logf("triggering snapshot: applied-index=%d snapshot-index=%d snapshot-count=%d",
		n.applied, s.diskIndex, n.cfg.SnapshotCount)
	if n.cfg.Bugs.ReleaseWALEarly {
		n.release(n.applied) // before anything of the snapshot is saved
	}
	n.commitBackend()
	if n.backend.committing {
		return stalledOnBackend
	}
	return notStalled
}

// createSnapshot snapshots raft's in-memory log at the applied index.
func (n *Node) createSnapshot(*raft.Ready) stall {
	if !n.snap.toDisk && !n.snap.toMemory {
		return notStalled
	}

	if _, err := n.storage.CreateSnapshot(n.applied, n.snap.confState, nil); err != nil {
		if errors.Is(err, raft.ErrSnapOutOfDate) {
			n.snap.toDisk, n.snap.toMemory = false, false
			return notStalled
		}
		n.env.Logf("fatal: failed to create snapshot: %v", err)
		panic(err)
	}
	n.snap.memoryIndex = n.applied
	return notStalled
}

func snapshotToDisk(n *Node, _ *raft.Ready) bool { return n.snap.toDisk }

// saveSnapFile writes the snapshot file and syncs it: first of the two
// halves of etcd's storage.SaveSnap. The file comes before the WAL record,
// so a record never names a snapshot that is not on disk (a crash between
// leaves an orphan file, which is harmless).
func (n *Node) saveSnapFile(*raft.Ready) stall {
	sn, err := n.storage.Snapshot()
	if err != nil {
		panic(err)
	}
	return n.writeSnapFile(sn)
}

func (n *Node) writeSnapFile(sn *raftpb.Snapshot) stall {
	b, err := snap.Encode(sn)
	if err != nil {
		panic(fmt.Sprintf("member %d: save snapshot: %v", n.cfg.ID, err))
	}
	name := snapDir + snap.Name(sn.GetMetadata().GetTerm(), sn.GetMetadata().GetIndex())
	n.env.WriteFile(name, b)
	n.env.Sync(name, n.synced)
	return stalledOnSync
}

// saveSnapWAL records the snapshot in the WAL and syncs it: the second
// half of storage.SaveSnap. From here a restart may start at this snapshot.
func (n *Node) saveSnapWAL(*raft.Ready) stall {
	sn, err := n.storage.Snapshot()
	if err != nil {
		panic(err)
	}
	return n.writeSnapRecord(sn.GetMetadata())
}

func (n *Node) writeSnapRecord(md *raftpb.SnapshotMetadata) stall {
	rec := wal.AppendSnapshot(nil, md.GetIndex(), md.GetTerm(), md.GetConfState())
	n.env.Append(n.wal.tail().Name, rec)
	n.wal.size += len(rec)
	n.wal.lastIdx = max(n.wal.lastIdx, md.GetIndex())
	n.env.Sync(n.wal.tail().Name, n.synced)
	return stalledOnSync
}

// releaseSnapshot releases the WAL segments the saved snapshot covers and
// purges old files (storage.Release, then etcd's purge of --max-wals and
// --max-snapshots files).
func (n *Node) releaseSnapshot(*raft.Ready) stall {
	n.snap.diskIndex = n.snap.memoryIndex
	n.env.Logf("saved snapshot to disk: snapshot-index=%d", n.snap.diskIndex)
	n.release(n.snap.diskIndex)
	return notStalled
}

// compactLog compacts raft's in-memory log behind the snapshot, keeping
// SnapshotCatchUpEntries for slow followers; not while a snapshot is being
// sent, whose follower needs the entries right after it
// (EtcdServer.compactRaftLog).
func (n *Node) compactLog(*raft.Ready) stall {
	if !n.snap.toDisk && !n.snap.toMemory {
		return notStalled
	}
	n.snap.toDisk, n.snap.toMemory = false, false
	if n.snap.inflight > 0 {
		n.env.Logf("skip compaction since there is an inflight snapshot")
		return notStalled
	}
	compact := uint64(1)
	if idx := n.snap.memoryIndex; idx > n.cfg.SnapshotCatchUpEntries {
		compact = idx - n.cfg.SnapshotCatchUpEntries
	}
	if err := n.storage.Compact(compact); err != nil && !errors.Is(err, raft.ErrCompacted) {
		n.env.Logf("fatal: failed to compact: %v", err)
		panic(err)
	}
	return notStalled
}

func hasSnapshot(_ *Node, rd *raft.Ready) bool { return !raft.IsEmptySnap(rd.Snapshot) }

// saveReceivedSnapFile and saveReceivedSnapWAL save a snapshot from the leader before the Ready's
// entries and hard state, so that a restart after it finds the snapshot
// its log continues from (raftNode.start: storage.SaveSnap).
func (n *Node) saveReceivedSnapFile(rd *raft.Ready) stall { return n.writeSnapFile(rd.Snapshot) }

func (n *Node) saveReceivedSnapWAL(rd *raft.Ready) stall {
	return n.writeSnapRecord(rd.Snapshot.GetMetadata())
}

// syncBeforeRelease syncs the WAL's hard state before the segments the
// snapshot covers are released (etcd-io/etcd#10219: otherwise a restart
// may find a commit index beyond its log).
func (n *Node) syncBeforeRelease(*raft.Ready) stall {
	n.env.Sync(n.wal.tail().Name, n.synced)
	return stalledOnSync
}

// waitForBackend lets a backend commit in flight finish before the
// received backend takes the file's place (etcd closes the old backend,
// which waits for its transactions): the old commit must not land after
// the new file, nor move the consistent index back.
func (n *Node) waitForBackend(*raft.Ready) stall {
	if n.backend.committing {
		return stalledOnBackend
	}
	return notStalled
}

// openSnapshotBackend replaces the store with the backend that came with
// the snapshot (EtcdServer.applySnapshot: OpenSnapshotBackend renames
// <index>.snap.db into place). The SnapshotSkipsStore bug keeps the old
// store and only moves the applied index.
func (n *Node) openSnapshotBackend(rd *raft.Ready) stall {
	md := rd.Snapshot.GetMetadata()
	if md.GetIndex() <= n.applied {
		panic(fmt.Sprintf("member %d: unexpected leader snapshot from outdated index %d (applied %d)", n.cfg.ID, md.GetIndex(), n.applied))
	}
	db := snapDir + snap.DBName(md.GetIndex())
	b, ok := n.env.ReadFile(db)
	if !ok {
		n.env.Logf("fatal: failed to open snapshot backend: %s is missing", db)
		panic(fmt.Sprintf("member %d: failed to open snapshot backend: %s is missing", n.cfg.ID, db))
	}
	got, err := decodeBackend(db, b)
	meta := got.meta
	if err == nil && meta.ConsistentIndex != md.GetIndex() {
		err = fmt.Errorf("its consistent index %d is not the snapshot's index %d", meta.ConsistentIndex, md.GetIndex())
	}
	if err != nil {
		n.env.Logf("fatal: failed to open snapshot backend %s: %v", db, err)
		panic(fmt.Sprintf("member %d: failed to open snapshot backend %s: %v", n.cfg.ID, db, err))
	}
	if !n.cfg.Bugs.SnapshotSkipsStore {
		n.env.Rename(db, backend.Path)
		if err := n.install(got); err != nil {
			n.env.Logf("fatal: failed to open snapshot backend %s: %v", db, err)
			panic(fmt.Sprintf("member %d: failed to open snapshot backend %s: %v", n.cfg.ID, db, err))
		}
		n.backend.consistentIndex, n.backend.disk, n.backend.pending = meta.ConsistentIndex, meta, 0
	}
	for _, id := range meta.Removed {
		n.removed[id] = true
	}
	n.applied, n.digest = md.GetIndex(), meta.Digest
	n.snap.appliedTerm, n.snap.confState = md.GetTerm(), md.GetConfState()
	n.snap.diskIndex, n.snap.memoryIndex = md.GetIndex(), md.GetIndex()
	n.logBase, n.logChain, n.logged = md.GetIndex(), []uint64{meta.Digest}, md.GetIndex()
	n.env.SnapshotInstalled(md.GetIndex(), md.GetTerm(), meta.Digest)
	n.env.Logf("applied snapshot: index=%d term=%d store revision %d", md.GetIndex(), md.GetTerm(), n.store.Rev())
	if !n.cfg.Bugs.SnapshotSkipsStore {
		n.resumeCompaction()
	}
	n.serveReads()
	return notStalled
}

// applySnapToRaftLog hands the snapshot to raft's in-memory log, then the
// committed entries held back behind it are applied.
func (n *Node) applySnapToRaftLog(rd *raft.Ready) stall {
	if err := n.storage.ApplySnapshot(rd.Snapshot); err != nil {
		n.env.Logf("fatal: apply snapshot to raft log: %v", err)
		panic(err)
	}
	return notStalled
}

// releasesLate: the WAL segments a received snapshot covers are released
// once it is saved; the ReleaseWALEarly bug releases them first.
func releasesLate(n *Node, rd *raft.Ready) bool {
	return hasSnapshot(n, rd) && !n.cfg.Bugs.ReleaseWALEarly
}

func releasesEarly(n *Node, rd *raft.Ready) bool {
	return hasSnapshot(n, rd) && n.cfg.Bugs.ReleaseWALEarly
}

func (n *Node) releaseReceived(rd *raft.Ready) stall {
	n.snap.receivedAny = true
	n.release(rd.Snapshot.GetMetadata().GetIndex())
	return notStalled
}

// sendMergedSnapshot sends a follower that needs a snapshot the member's
// whole state, as etcd's createMergedSnapshotMessage does: raft's message
// with the snapshot's metadata moved up to the applied index, and the
// backend as it stands, which the transport streams alongside. Raft's log
// is not compacted while it is in flight; ReportSnapshot ends it.
func (n *Node) sendMergedSnapshot(m *raftpb.Message) {
	if n.applied < n.backend.consistentIndex {
		// Restarted and still skipping entries the store holds: its state
		// is past the applied index, so no metadata describes it yet.
		n.rn.ReportSnapshot(m.GetTo(), raft.SnapshotFailure)
		return
	}
	meta := n.meta()
	merged := proto.CloneOf(m)
	merged.Snapshot = &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
		Index: new(n.applied), Term: new(n.snap.appliedTerm), ConfState: n.snap.confState}}
	n.snap.inflight++
	db := backend.Encode(meta, backend.Buckets{KV: n.store.Marshal(), Lease: n.lessor.Marshal()})
	n.env.Logf("sending merged snapshot to %x: index=%d db-size=%d", m.GetTo(), n.applied, len(db))
	n.env.SendSnapshot(merged, db)
}

// ReportSnapshot tells the node how sending a snapshot to a follower
// ended, as rafthttp reports it to raft: a failure makes raft probe the
// follower again, and send another snapshot if it still needs one.
func (n *Node) ReportSnapshot(to uint64, ok bool) {
	status := raft.SnapshotFinish
	if ok {
		// etcd keeps compaction paused for 30s more after a snapshot got
		// through (releaseDelayAfterSnapshot): the follower needs the
		// entries right after it, or it would need another snapshot.
		n.snap.releases = append(n.snap.releases, n.ticks+uint64(releaseDelayAfterSnapshot/n.cfg.HeartbeatInterval))
	} else {
		status = raft.SnapshotFailure
		n.snap.inflight = max(n.snap.inflight-1, 0)
	}
	n.rn.ReportSnapshot(to, status)
	n.process()
}

// releaseSnapshots lets go of the snapshots sent whose delay is over.
func (n *Node) releaseSnapshots() {
	for len(n.snap.releases) > 0 && n.snap.releases[0] <= n.ticks {
		n.snap.releases = n.snap.releases[1:]
		n.snap.inflight = max(n.snap.inflight-1, 0)
	}
}
