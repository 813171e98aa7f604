package node

import (
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdlab/etcdlab/node/backend"
	"github.com/etcdlab/etcdlab/node/lease"
	"github.com/etcdlab/etcdlab/node/mvcc"
	"github.com/etcdlab/etcdlab/node/snap"
	"github.com/etcdlab/etcdlab/node/wal"
)

// A member keeps what etcd keeps in its data directory:
//
//   - the WAL (member/wal/*.wal): raft's hard state and entries, in
//     segment files; the Ready loop writes and syncs it (ready.go);
//   - the backend (member/snap/db): the store, with the consistent index
//     of the last entry it holds, committed in batches (commitBackend);
//   - snapshots (member/snap/*.snap) and their records in the WAL: every
//     SnapshotCount applied entries the member commits its backend, saves
//     a snapshot, and releases the WAL segments the snapshot covers, so
//     the log on disk stays bounded; raft's in-memory log is compacted
//     every memorySnapshotCount entries, keeping SnapshotCatchUpEntries
//     (snapshot.go);
//   - a backend received from the leader (member/snap/<index>.snap.db),
//     until it is opened in place of the old one.
//
// A restart reads them back in etcd v3.7's order (Restart).

// SnapDir is where snapshot files, the backend and backends received with
// snapshots live in a member's data directory, as etcd lays it out.
const SnapDir = "member/snap/"

const snapDir = SnapDir

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
	receivedAny bool     // a snapshot came from the leader: received backends may be left to purge
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
	// inUse is the size of the last image committed; size the file's,
	// which only Defragment brings down to inUse (bbolt keeps freed
	// pages).
	inUse, size int64
	// disk is the meta bucket of the file on disk: a commit made while a
	// restarted member still skips entries the file holds keeps it (see
	// meta).
	disk backend.Meta
	// file builds each commit's image from the last two, copying only
	// the key-bucket bytes appended since; kvFrom says which store's
	// encoding the last commit copied, and from which rewrite of it.
	file   backend.File
	kvFrom keyBucket
	// waiters run once the commit in flight is durable; next once the
	// commit after it is (forceCommit).
	waiters, next []func()
}

// keyBucket names one encoding of a store: while it stays the same,
// mvcc only appends to it.
type keyBucket struct {
	store    *mvcc.Store
	rewrites int
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
	database
	log wal.Contents
}

// database is what a backend file holds, decoded.
type database struct {
	meta   backend.Meta // the meta bucket
	store  *mvcc.Store  // the key bucket
	leases []byte       // the lease bucket, as node/lease encodes it
	size   int64        // the file's size
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
	r.database, err = openBackend(d, backend.Path)
	if err != nil {
		return nil, err
	}
	if r.meta.ConsistentIndex < start.Index {
		// RecoverSnapshotBackend: a snapshot from the leader was saved but
		// its backend not yet opened when the member stopped.
		db := snapDir + snap.DBName(start.Index)
		if _, ok := d.Read(db); ok {
			if r.database, err = openBackend(d, db); err != nil {
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
func openBackend(d wal.Dir, name string) (database, error) {
	b, ok := d.Read(name)
	if !ok {
		return database{meta: backend.Meta{ConfState: &raftpb.ConfState{}}, store: mvcc.NewStore()}, nil
	}
	return decodeBackend(name, b)
}

// decodeBackend reads a backend file's buckets.
func decodeBackend(name string, b []byte) (database, error) {
	meta, bk, err := backend.Decode(b)
	if err != nil {
		return database{}, fmt.Errorf("%s: %w", name, err)
	}
	store, err := mvcc.Unmarshal(bk.KV)
	if err != nil {
		return database{}, fmt.Errorf("%s: %w", name, err)
	}
	// The lease bucket is copied: b may be the disk's own bytes, which a
	// later commit may write over (mvcc.Unmarshal copies what it keeps).
	return database{meta: meta, store: store, leases: slices.Clone(bk.Lease), size: int64(len(b))}, nil
}

// install makes the database's store, leases and alarms the member's, as
// etcd's server does after a restart and after opening a backend received
// from the leader: the lessor is rebuilt from the lease bucket with the
// store's keys attached to their leases, and watchers catch up from the
// new store.
func (n *Node) install(db database) error {
	le := newLessor(n.cfg)
	attached := map[string]lease.LeaseID{}
	for _, kv := range db.store.LeasedKeys() {
		attached[string(kv.Key)] = lease.LeaseID(kv.Lease)
	}
	if err := le.Recover(db.leases, attached); err != nil {
		return err
	}
	db.store.SkewDeletes = n.cfg.Bugs.RevisionSkew
	db.store.SetCompactionBatchLimit(n.cfg.CompactionBatchLimit)
	n.store, n.lessor, n.alarms = db.store, le, db.meta.Alarms
	n.compactions = nil // the old store's; the new one resumes its own
	n.backend.inUse, n.backend.size = db.size, db.size
	n.watch.Restore()
	return nil
}

// resumeCompaction finishes a compaction the store had scheduled but not
// finished when its file was last committed (etcd's restore).
func (n *Node) resumeCompaction() {
	if rev, ok := n.store.Unfinished(); ok {
		if job, err := n.store.Compact(rev); err == nil {
			n.env.Logf("resuming scheduled compaction: compact-revision=%d", rev)
			n.scheduleCompaction(job)
		}
	}
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
	n.backend.waiters, n.backend.next = n.backend.next, nil
	db := n.encodeBackend(meta)
	n.env.WriteFile(backend.Path, db)
	n.env.Sync(backend.Path, func(err error) {
		if err != nil {
			n.env.Logf("fatal: failed to commit tx: %v", err)
			panic(fmt.Sprintf("member %d: failed to commit tx: %v", n.cfg.ID, err))
		}
		n.failpointPanicOnly(AfterCommit)
		n.backend.committing = false
		n.backend.consistentIndex, n.backend.disk = meta.ConsistentIndex, meta
		waiters := n.backend.waiters
		n.backend.waiters = nil
		for _, w := range waiters {
			w()
		}
		if n.backend.again {
			n.commitBackend()
		}
		if n.stalled == stalledOnBackend && !n.backend.committing {
			n.unstall()
		}
	})
}

// meta is the backend's meta bucket as of the applied index. A member
// that restarted and still skips the entries its file holds (applied
// below the file's consistent index) has the store of the file's index,
// so a commit then (a compaction resumed at restart) keeps the file's
// index, term and digest, as etcd's consistent index, kept in the
// backend, never moves back.
func (n *Node) meta() backend.Meta {
	if n.applied < n.backend.consistentIndex {
		m := n.backend.disk
		m.Removed, m.Alarms = n.removedIDs(), slices.Clone(n.alarms)
		return m
	}
	return backend.Meta{ConsistentIndex: n.applied, Term: n.snap.appliedTerm,
		ConfState: n.snap.confState, Removed: n.removedIDs(), Digest: n.digest, Alarms: slices.Clone(n.alarms)}
}

// forceCommit commits the backend's batch now, as etcd's ForceCommit,
// and runs then once that commit is durable (a commit already in flight
// holds an older state, so then waits for the one after it).
func (n *Node) forceCommit(then func()) {
	n.backend.next = append(n.backend.next, then)
	n.backend.pending++
	n.commitBackend()
}

// encodeBackend is the backend file's image, and what sizes it. The
// image is the one of the file's two not written last: the disk holds
// only the last, which is durable now (commitBackend starts a commit only
// once the one before it is), so the other is free to fill again.
func (n *Node) encodeBackend(meta backend.Meta) []byte {
	kv := n.store.Marshal()
	from := keyBucket{n.store, n.store.Rewrites()}
	db := n.backend.file.Commit(meta, backend.Buckets{KV: kv, Lease: n.lessor.Marshal()}, from == n.backend.kvFrom)
	n.backend.kvFrom = from
	// The image has the length of a snapshot's db (backend.Encode's) with
	// the same buckets, as the size was before the file had its own
	// layout: the quota and Status's sizes do not move.
	n.backend.inUse = int64(len(db))
	n.backend.size = max(n.backend.size, n.backend.inUse)
	return db
}

// failpointPanicOnly passes one of the backend's failpoints, where only a
// panic makes sense (see PanicOnly).
func (n *Node) failpointPanicOnly(name string) {
	if n.env.Failpoint(name) > 0 {
		panic(fmt.Sprintf("member %d: failpoint %s may only panic, not sleep", n.cfg.ID, name))
	}
}

// --- releasing and purging files a snapshot covers ---

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
	if n.cfg.MaxSnapshots == 0 && !n.snap.receivedAny {
		return // nothing to purge: no listing, which would grow with every snapshot kept
	}
	var snaps []string
	for _, name := range n.env.List() {
		if !strings.HasPrefix(name, snapDir) {
			continue
		}
		if _, _, ok := snap.ParseName(name); ok {
			snaps = append(snaps, name) // names sort oldest first
		} else if db, ok := snap.ParseDBName(name); ok && db < index {
			n.env.Remove(name) // storage.Release: ReleaseSnapDBs
		}
	}
	for n.cfg.MaxSnapshots > 0 && len(snaps) > n.cfg.MaxSnapshots {
		n.env.Remove(snaps[0])
		snaps = snaps[1:]
	}
}
