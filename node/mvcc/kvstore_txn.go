package mvcc

import (
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// storeTxnRead is etcd's storeTxnRead: a view at the revision current
// when it began.
type storeTxnRead struct {
	s        *Store
	firstRev int64
	rev      int64
}

func (tr *storeTxnRead) FirstRev() int64 { return tr.firstRev }
func (tr *storeTxnRead) Rev() int64      { return tr.rev }
func (tr *storeTxnRead) End()            {}

func (tr *storeTxnRead) Range(key, end []byte, ro RangeOptions) (*RangeResult, error) {
	return tr.s.rangeKeys(key, end, tr.rev, ro)
}

// rangeKeys is etcd's storeTxnCommon.rangeKeys. curRev is the revision of
// the view; the answer carries it whatever revision was read.
func (s *Store) rangeKeys(key, end []byte, curRev int64, ro RangeOptions) (*RangeResult, error) {
	rev := ro.Rev
	if rev > curRev {
		return &RangeResult{KVs: nil, Count: -1, Rev: curRev}, ErrFutureRev
	}
	if rev <= 0 {
		rev = curRev
	}
	// etcd compares with the live compactMainRev, not the view's
	// firstRev, and lets the compacted revision itself be read: a
	// compaction at rev keeps every key's version at rev.
	if rev < s.compactMainRev {
		return &RangeResult{KVs: nil, Count: -1, Rev: 0}, ErrCompacted
	}
	if ro.Count {
		return &RangeResult{KVs: nil, Count: s.kvindex.CountRevisions(key, end, rev), Rev: curRev}, nil
	}

	revpairs, total := s.kvindex.Revisions(key, end, rev, int(ro.Limit))
	if len(revpairs) == 0 {
		return &RangeResult{KVs: nil, Count: total, Rev: curRev}, nil
	}
	kvs := make([]*mvccpb.KeyValue, len(revpairs))
	for i, revpair := range revpairs {
		e, ok := s.lookup(revpair)
		if !ok {
			// etcd: lg.Fatal("range failed to find revision pair").
			panic(fmt.Sprintf("mvcc: range failed to find revision pair %v (current %d, key %q, end %q)", revpair, curRev, key, end))
		}
		kvs[i] = s.enc.kv(e)
	}
	return &RangeResult{KVs: kvs, Count: total, Rev: curRev}, nil
}

// storeTxnWrite is etcd's storeTxnWrite: every change goes in at once
// under revision beginRev+1, with sub revisions in order.
type storeTxnWrite struct {
	s        *Store
	beginRev int64
	changes  []*mvccpb.KeyValue
	ended    bool
}

// FirstRev is 0 in a write txn, as in etcd.
func (tw *storeTxnWrite) FirstRev() int64 { return 0 }
func (tw *storeTxnWrite) Rev() int64      { return tw.beginRev }

// Range reads the txn's own writes: it reads at beginRev+1 once something
// changed.
func (tw *storeTxnWrite) Range(key, end []byte, ro RangeOptions) (*RangeResult, error) {
	rev := tw.beginRev
	if len(tw.changes) > 0 {
		rev++
	}
	return tw.s.rangeKeys(key, end, rev, ro)
}

func (tw *storeTxnWrite) DeleteRange(key, end []byte) (int64, int64) {
	if n := tw.deleteRange(key, end); n != 0 || len(tw.changes) > 0 {
		return n, tw.beginRev + 1
	}
	return 0, tw.beginRev
}

func (tw *storeTxnWrite) Put(key, value []byte, lease int64) int64 {
	tw.put(key, value, lease)
	return tw.beginRev + 1
}

func (tw *storeTxnWrite) Changes() []*mvccpb.KeyValue { return tw.changes }

// End advances the store's revision if the txn changed anything.
func (tw *storeTxnWrite) End() {
	if tw.ended {
		panic("mvcc: write txn ended twice")
	}
	tw.ended = true
	if len(tw.changes) == 0 {
		return
	}
	if tw.s.SkewDeletes && tw.onlyDeletes() {
		// The lab's revision-skew bug: the deletes keep their revision in
		// the bucket, but the store's revision stays put, so the next
		// write is made at the same revision (after their sub revisions).
		tw.s.skewedSubs += int64(len(tw.changes))
		return
	}
	tw.s.currentRev++
	tw.s.skewedSubs = 0
}

func (tw *storeTxnWrite) onlyDeletes() bool {
	for _, kv := range tw.changes {
		if kv.ModRevision != 0 { // a tombstone change holds only its key
			return false
		}
	}
	return true
}

func (tw *storeTxnWrite) put(key, value []byte, lease int64) {
	rev := tw.beginRev + 1
	c := rev

	// if the key exists before, use its previous created
	_, created, ver, err := tw.s.kvindex.Get(key, rev)
	if err == nil {
		c = created.main
	}
	idxRev := revision{main: rev, sub: tw.s.skewedSubs + int64(len(tw.changes))}
	ver = ver + 1
	kv := tw.s.appendEntry(idxRev, false, &mvccpb.KeyValue{
		Key:            key,
		Value:          value,
		CreateRevision: c,
		ModRevision:    rev,
		Version:        ver,
		Lease:          lease,
	})
	tw.s.kvindex.Put(kv.Key, idxRev)
	tw.changes = append(tw.changes, kv)
}

func (tw *storeTxnWrite) deleteRange(key, end []byte) int64 {
	rrev := tw.beginRev
	if len(tw.changes) > 0 {
		rrev++
	}
	var keys [][]byte
	if end == nil {
		if _, _, _, err := tw.s.kvindex.Get(key, rrev); err == nil {
			keys = append(keys, key)
		}
	} else {
		tw.s.kvindex.visit(key, end, func(ki *keyIndex) bool {
			if _, _, _, err := ki.get(rrev); err == nil {
				keys = append(keys, ki.key)
			}
			return true
		})
	}
	for _, k := range keys {
		tw.delete(k)
	}
	return int64(len(keys))
}

func (tw *storeTxnWrite) delete(key []byte) {
	idxRev := revision{main: tw.beginRev + 1, sub: tw.s.skewedSubs + int64(len(tw.changes))}
	kv := tw.s.appendEntry(idxRev, true, &mvccpb.KeyValue{Key: key})
	if err := tw.s.kvindex.Tombstone(kv.Key, idxRev); err != nil {
		// etcd: lg.Fatal("failed to tombstone an existing key").
		panic(fmt.Sprintf("mvcc: failed to tombstone an existing key %q: %v", key, err))
	}
	tw.changes = append(tw.changes, kv)
}
