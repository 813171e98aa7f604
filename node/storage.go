package node

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/node/backend"
	"github.com/etcdlab/etcdlab/node/mvcc"
	"github.com/etcdlab/etcdlab/node/snap"
	"github.com/etcdlab/etcdlab/node/wal"
)

// A member keeps what etcd keeps in its data directory:
//
//   - the WAL (member/wal/*.wal): raft's hard state and entries, in
//     segment files; the Ready loop writes and syncs it (ready.go);
//   - the backend (member/snap/db): the store, with the consistent index
//     of the last entry it holds, committed in batches (backendCommit);
//   - snapshots (member/snap/*.snap) and their records in the WAL: every
//     SnapshotCount applied entries the member commits its backend, saves
//     a snapshot, and releases the WAL segments the snapshot covers, so
//     the log on disk stays bounded; raft's in-memory log is compacted
//     every memorySnapshotCount entries, keeping SnapshotCatchUpEntries;
//   - a backend received from the leader (member/snap/<index>.snap.db),
//     until it is opened in place of the old one.
//
// A restart reads them back in etcd v3.7's order (Restart).

// releaseDelayAfterSnapshot is how long a snapshot that got through still
// holds compaction back (etcd's releaseDelayAfterSnapshot).
const releaseDelayAfterSnapshot = 30 * time.Second

// releaseSnapshots lets go of the snapshots sent whose delay is over.
func (n *Node) releaseSnapshots() {
	for len(n.snap.releases) > 0 && n.snap.releases[0] <= n.ticks {
		n.snap.releases = n.snap.releases[1:]
		n.snap.inflight = max(n.snap.inflight-1, 0)
	}
}

// memorySnapshotCount is how often raft's in-memory log gets a snapshot
// and is compacted, in applied entries (etcd's memorySnapshotCount).
const memorySnapshotCount = 100

const snapDir = "member/snap/"

// envDir is the data directory, read through the Env.
type envDir struct{ env Env }

func (d envDir) List() []string                  { return d.env.List() }
func (d envDir) Read(name string) ([]byte, bool) { return d.env.ReadFile(name) }

// walWriter is where the member's WAL writes go: the segment being
// appended to and the segments still kept.
type walWriter struct {
	segments []wal.Segment // oldest first; the last is the one written
	size     int           // bytes in the last segment
	lastIdx  uint64        // the last entry index written (etcd's enti)
	state    *raftpb.HardState
	released int // segments[:released] are released: the purge may delete them
}

func (w *walWriter) tail() wal.Segment { return w.segments[len(w.segments)-1] }

// snapState is the member's snapshot bookkeeping (etcd's etcdProgress).
type snapState struct {
	appliedTerm uint64
	confState   *raftpb.ConfState
	diskIndex   uint64   // index of the last snapshot saved to disk
	memoryIndex uint64   // index of the last snapshot of raft's in-memory log
	inflight    int      // merged snapshots being sent: compaction waits
	releases    []uint64 // ticks at which a snapshot that got through stops holding compaction back
	toDisk      bool     // this Ready saves a snapshot to disk
	toMemory    bool     // this Ready snapshots raft's in-memory log
}

// backendState is the backend's batch transaction: applied writes not yet
// committed to the file, and the commit in flight.
type backendState struct {
	pending    int
	committing bool
	again      bool // another commit was asked for while one was in flight
	// consistentIndex is what the file on disk says the store holds; a
	// restarted member skips entries up to it (etcd's cindex check in
	// applyEntryNormal).
	consistentIndex uint64
}

// bootstrap creates the data directory of a new member: the first WAL
// segment, opened with an empty snapshot record as etcd's wal.Create
// writes it. The first Ready's sync makes it durable with the entries.
func (n *Node) bootstrap() {
	seg := wal.Segment{Name: wal.SegmentName(0, 0)}
	rec := wal.AppendSnapshot(nil, 0, 0, &raftpb.ConfState{})
	n.env.Append(seg.Name, rec)
	n.wal = walWriter{segments: []wal.Segment{seg}, size: len(rec)}
}

// recovered is what a restart read from the data directory.
type recovered struct {
	snapshot *raftpb.SnapshotMetadata // the newest snapshot the WAL records, nil if none
	meta     backend.Meta             // the backend's meta bucket
	store    *mvcc.Store
	log      wal.Contents
}

// recoverDir reads a member's data directory as etcd v3.7 does
// (server/etcdserver/bootstrap.go): the snapshot to start from is the
// newest one the WAL records at or below its committed hard state
// (recoverSnapshot builds it from that record; the .snap files are kept
// for older etcds and not read); the backend must hold at least that
// snapshot, else the backend received with it (<index>.snap.db) takes its
// place; then the WAL is read from the snapshot on.
func recoverDir(env Env, d wal.Dir) (*recovered, error) {
	r := &recovered{}
	snaps, err := wal.ValidSnapshotEntries(d)
	if err != nil {
		return nil, err
	}
	start := wal.Ref{}
	if len(snaps) > 0 {
		r.snapshot = snaps[len(snaps)-1]
		start = wal.Ref{Index: r.snapshot.GetIndex(), Term: r.snapshot.GetTerm()}
	}
	r.meta, r.store, err = openBackend(d, backend.Path)
	if err != nil {
		return nil, err
	}
	if r.meta.ConsistentIndex < start.Index {
		// RecoverSnapshotBackend: a snapshot from the leader was saved but
		// its backend not yet opened when the member stopped.
		db := snapDir + snap.DBName(start.Index)
		if _, ok := d.Read(db); ok {
			if r.meta, r.store, err = openBackend(d, db); err != nil {
				return nil, err
			}
			env.Rename(db, backend.Path)
			env.Logf("recovered the backend received with snapshot %d", start.Index)
		}
	}
	if r.meta.ConsistentIndex < start.Index {
		if r.meta.ConsistentIndex != 0 {
			return nil, fmt.Errorf("database file (%s index %d) does not match with snapshot (index %d)",
				backend.Path, r.meta.ConsistentIndex, start.Index)
		}
		env.Logf("warning: consistent index was never saved: snapshot-index=%d", start.Index)
	}
	r.log, err = wal.ReadAll(d, start)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// openBackend reads a backend file; a missing one is an empty store, as a
// new bbolt file is.
func openBackend(d wal.Dir, name string) (backend.Meta, *mvcc.Store, error) {
	b, ok := d.Read(name)
	if !ok {
		return backend.Meta{ConfState: &raftpb.ConfState{}}, mvcc.NewStore(), nil
	}
	meta, data, err := backend.Decode(b)
	if err != nil {
		return meta, nil, fmt.Errorf("%s: %w", name, err)
	}
	store, err := mvcc.Unmarshal(data)
	if err != nil {
		return meta, nil, fmt.Errorf("%s: %w", name, err)
	}
	return meta, store, nil
}

// --- the backend's batch commits ---

// CommitTick is the backend's batch interval passing: the driver calls it
// every BackendBatchInterval, as etcd's backend runs its commit loop on a
// timer.
func (n *Node) CommitTick() {
	if n.backend.pending > 0 {
		n.commitBackend()
	}
	n.process()
}

// noteWrite counts an applied write in the batch; the batch commits when
// it reaches the limit, or at once after a delete, as etcd's
// batchTxBuffered.Unlock does (deletes have no read buffer over bbolt).
func (n *Node) noteWrite(isDelete bool) {
	n.backend.pending++
	if isDelete || n.backend.pending >= n.cfg.BackendBatchLimit {
		n.commitBackend()
	}
}

// commitBackend commits the batch: the pre-commit hook writes the
// consistent index, term and conf state into the same transaction, and
// bbolt writes the file and syncs it. The commit is durable when the sync
// completes; a crash before then keeps the last commit. Writes applied
// meanwhile go into the next batch. (In etcd the apply waits on the
// batch's lock during a commit; here it goes on, and the commit holds the
// state as it was when it began.)
func (n *Node) commitBackend() {
	if n.backend.committing {
		n.backend.again = true
		return
	}
	if n.applied <= n.backend.consistentIndex && n.backend.pending == 0 {
		// Restarted and still skipping entries the file already has: it
		// holds this state already.
		return
	}
	n.failpointPanicOnly(CommitBeforePreCommitHook)
	meta := n.meta()
	n.failpointPanicOnly(CommitAfterPreCommitHook)
	n.failpointPanicOnly(BeforeCommit)
	n.backend.committing, n.backend.again, n.backend.pending = true, false, 0
	n.env.WriteFile(backend.Path, backend.Encode(meta, n.store.Marshal()))
	n.env.Sync(backend.Path, func(err error) {
		if err != nil {
			n.env.Logf("fatal: failed to commit tx: %v", err)
			panic(fmt.Sprintf("member %d: failed to commit tx: %v", n.cfg.ID, err))
		}
		n.failpointPanicOnly(AfterCommit)
		n.backend.committing = false
		n.backend.consistentIndex = meta.ConsistentIndex
		if n.backend.again {
			n.commitBackend()
		}
		if n.stalled == stalledOnBackend && !n.backend.committing {
			n.unstall()
		}
	})
}

// meta is the backend's meta bucket as of the applied index.
func (n *Node) meta() backend.Meta {
	return backend.Meta{ConsistentIndex: n.applied, Term: n.snap.appliedTerm,
		ConfState: n.snap.confState, Removed: n.removedIDs(), Digest: n.digest}
}

// failpointPanicOnly passes one of the backend's failpoints, where only a
// panic makes sense (see PanicOnly).
func (n *Node) failpointPanicOnly(name string) {
	if n.env.Failpoint(name) > 0 {
		panic(fmt.Sprintf("member %d: failpoint %s may only panic, not sleep", n.cfg.ID, name))
	}
}

// --- the member's own snapshots (EtcdServer.snapshotIfNeededAndCompactRaftLog) ---

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

// release is WAL.ReleaseLockTo(index) with the purge that follows: every
// segment before the one holding index is unlocked, and unlocked segments
// beyond the newest MaxWALs are deleted. Snapshot files beyond the newest
// MaxSnapshots, and received backends older than index, go too.
func (n *Node) release(index uint64) {
	w := &n.wal
	keep := len(w.segments) - 1
	for i, s := range w.segments {
		if s.Index >= index {
			keep = i - 1
			break
		}
	}
	w.released = max(w.released, keep, 0)
	for w.released > 0 && n.cfg.MaxWALs > 0 && len(w.segments) > n.cfg.MaxWALs {
		n.env.Remove(w.segments[0].Name)
		w.segments = w.segments[1:]
		w.released--
	}
	n.purgeSnapFiles(index)
}

func (n *Node) purgeSnapFiles(index uint64) {
	var snaps []string
	for _, name := range n.env.List() {
		base, ok := strings.CutPrefix(name, snapDir)
		switch {
		case !ok:
		case strings.HasSuffix(base, ".snap"):
			snaps = append(snaps, name) // names sort oldest first
		case strings.HasSuffix(base, ".snap.db"):
			var db uint64
			if _, err := fmt.Sscanf(base, "%016x.snap.db", &db); err == nil && db < index {
				n.env.Remove(name) // storage.Release: ReleaseSnapDBs
			}
		}
	}
	for n.cfg.MaxSnapshots > 0 && len(snaps) > n.cfg.MaxSnapshots {
		n.env.Remove(snaps[0])
		snaps = snaps[1:]
	}
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

// --- snapshots from the leader ---

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
	if _, ok := n.env.ReadFile(db); !ok {
		n.env.Logf("fatal: failed to open snapshot backend: %s is missing", db)
		panic(fmt.Sprintf("member %d: failed to open snapshot backend: %s is missing", n.cfg.ID, db))
	}
	meta, store, err := openBackend(envDir{n.env}, db)
	if err == nil && meta.ConsistentIndex != md.GetIndex() {
		err = fmt.Errorf("its consistent index %d is not the snapshot's index %d", meta.ConsistentIndex, md.GetIndex())
	}
	if err != nil {
		n.env.Logf("fatal: failed to open snapshot backend %s: %v", db, err)
		panic(fmt.Sprintf("member %d: failed to open snapshot backend %s: %v", n.cfg.ID, db, err))
	}
	if !n.cfg.Bugs.SnapshotSkipsStore {
		n.env.Rename(db, backend.Path)
		n.store = store
		n.backend.consistentIndex, n.backend.pending = meta.ConsistentIndex, 0
	}
	for _, id := range meta.Removed {
		n.removed[id] = true
	}
	n.setMembers(meta.ConfState)
	n.applied, n.digest = md.GetIndex(), meta.Digest
	n.snap.appliedTerm, n.snap.confState = md.GetTerm(), md.GetConfState()
	n.snap.diskIndex, n.snap.memoryIndex = md.GetIndex(), md.GetIndex()
	n.logBase, n.logChain, n.logged = md.GetIndex(), []uint64{meta.Digest}, md.GetIndex()
	n.env.SnapshotInstalled(md.GetIndex(), md.GetTerm(), meta.Digest)
	n.env.Logf("applied snapshot: index=%d term=%d store revision %d", md.GetIndex(), md.GetTerm(), n.store.Rev())
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
	db := backend.Encode(meta, n.store.Marshal())
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
