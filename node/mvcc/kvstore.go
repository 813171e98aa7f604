package mvcc

import (
	"errors"
	"slices"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// etcd's mvcc errors, same texts.
var (
	ErrCompacted = errors.New("mvcc: required revision has been compacted")
	ErrFutureRev = errors.New("mvcc: required revision is a future revision")
)

// Store is the state machine. Writes come only from applied raft entries,
// in log order, so every member's store goes through the same revisions.
type Store struct {
	// currentRev is the revision of the last completed write txn.
	currentRev int64
	// compactMainRev is the main revision of the last compaction, -1
	// before any. Reads below it fail from the moment Compact returns.
	compactMainRev int64

	// scheduledCompact and finishedCompact are etcd's two meta keys:
	// a compaction is persisted as scheduled before its first batch and
	// as finished with its last; a restart that finds them apart resumes
	// it. The found flags tell "never written" from 0, as etcd's
	// checkPrevCompactionCompleted does.
	scheduledCompact, finishedCompact int64
	scheduledFound, finishedFound     bool

	kvindex index
	// bucket is etcd's key bucket: every kept revision in (main, sub)
	// order, each pointing at its record in enc, which holds the KV
	// stored at it (a tombstone's holds only the key). Writes only ever
	// append; compaction removes from the front half.
	bucket []entry

	// hashes are the hashes computed by compactions (etcd's hashStorage),
	// so that HashByRev of a compacted revision answers what it did
	// before the compaction. Kept in memory only, as in etcd.
	hashes []KeyValueHash

	batchLimit int

	// SkewDeletes is the lab's revision-skew bug, off in every real run:
	// a write txn that only deletes does not advance the revision.
	SkewDeletes bool
	skewedSubs  int64 // sub revisions the skipped deletes used at currentRev+1
	enc         encoding
}

// entry is a revision of the key bucket and the place of its record in
// the store's encoding: without compaction the store keeps every
// revision, so an entry is kept small (32 bytes) and its KV is decoded
// when read, rather than held a second time.
type entry struct {
	rev       revision
	off       int    // where the record begins in enc.b
	n         uint32 // the record's length
	tombstone bool
}

// NewStore returns an empty store at revision 1, where etcd starts.
func NewStore() *Store {
	s := &Store{currentRev: 1, compactMainRev: -1, batchLimit: DefaultCompactionBatchLimit}
	s.enc.reset(0)
	return s
}

// SetCompactionBatchLimit sets how many revisions a compaction step scans
// (etcd's --compaction-batch-limit, --experimental-compaction-batch-limit before v3.6); 0 restores the default.
func (s *Store) SetCompactionBatchLimit(n int) {
	if n <= 0 {
		n = DefaultCompactionBatchLimit
	}
	s.batchLimit = n
}

// Rev is the store's current revision.
func (s *Store) Rev() int64 { return s.currentRev }

// CompactRev is the compacted revision (etcd's compactMainRev), -1 if the
// store was never compacted.
func (s *Store) CompactRev() int64 { return s.compactMainRev }

// Read begins a read txn at the current revision.
func (s *Store) Read() TxnRead {
	return &storeTxnRead{s: s, firstRev: s.compactMainRev, rev: s.currentRev}
}

// Write begins a write txn. The node applies one at a time; its changes
// are visible to other reads only from End, when the revision advances.
func (s *Store) Write() TxnWrite {
	return &storeTxnWrite{s: s, beginRev: s.currentRev}
}

// Events are the changes with main revision in [startRev, endRev), in
// (main, sub) order: a PUT with the KV, a DELETE with a KV holding the key
// and the delete's revision as mod_revision (etcd's tombstone events). The
// caller asks only above CompactRev(), where nothing was removed.
func (s *Store) Events(startRev, endRev int64) []*mvccpb.Event {
	var evs []*mvccpb.Event
	for i := s.search(revision{main: startRev}); i < len(s.bucket) && s.bucket[i].rev.main < endRev; i++ {
		e := s.bucket[i]
		kv := s.enc.kv(e)
		if e.tombstone {
			kv.ModRevision = e.rev.main
			evs = append(evs, &mvccpb.Event{Type: mvccpb.Event_DELETE, Kv: kv})
			continue
		}
		evs = append(evs, &mvccpb.Event{Type: mvccpb.Event_PUT, Kv: kv})
	}
	return evs
}

// KeyAt is the key's version visible at rev, nil if the key did not exist
// then (or that version was compacted away). Watch uses KeyAt(key,
// modRev-1) for prev_kv.
func (s *Store) KeyAt(key []byte, rev int64) *mvccpb.KeyValue {
	modified, _, _, err := s.kvindex.Get(key, rev)
	if err != nil {
		return nil
	}
	e, ok := s.lookup(modified)
	if !ok || e.tombstone {
		return nil
	}
	return s.enc.kv(e)
}

// LeasedKeys are the live keys attached to a lease, in key order: what
// etcd's restore attaches to the lessor after a restart (keyToLease).
func (s *Store) LeasedKeys() []*mvccpb.KeyValue {
	var kvs []*mvccpb.KeyValue
	for _, ki := range s.kvindex.keys {
		if kv := s.KeyAt(ki.key, s.currentRev); kv != nil && kv.Lease != 0 {
			kvs = append(kvs, kv)
		}
	}
	return kvs
}

// search is the position of the first bucket entry at or after rev.
func (s *Store) search(rev revision) int {
	i, _ := slices.BinarySearchFunc(s.bucket, rev, func(e entry, r revision) int { return e.rev.compare(r) })
	return i
}

func (s *Store) lookup(rev revision) (entry, bool) {
	i, ok := slices.BinarySearchFunc(s.bucket, rev, func(e entry, r revision) int { return e.rev.compare(r) })
	if !ok {
		return entry{}, false
	}
	return s.bucket[i], true
}

// appendEntry is etcd's UnsafeSeqPut into the key bucket: the KV goes
// into the encoding (copied: kv may hold the caller's buffers) and the
// entry points at it. It returns the KV as stored.
func (s *Store) appendEntry(rev revision, tombstone bool, kv *mvccpb.KeyValue) *mvccpb.KeyValue {
	if n := len(s.bucket); n > 0 && !rev.GreaterThan(s.bucket[n-1].rev) {
		panic("mvcc: key bucket written out of revision order")
	}
	e := s.enc.appendEntry(rev, tombstone, kv)
	s.bucket = append(s.bucket, e)
	return s.enc.kv(e)
}
