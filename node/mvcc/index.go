package mvcc

import (
	"bytes"
	"slices"
)

// index is etcd's treeIndex (index.go) on a slice of keyIndexes sorted by
// key instead of a btree: the same order, so the same answers, and
// nothing in it depends on map order. Inserting a new key moves the tail
// of the slice; the stores this laboratory runs hold few enough keys.
type index struct {
	keys []*keyIndex // sorted by key
}

// find is the position of key, or where it would be inserted.
func (ti *index) find(key []byte) (int, bool) {
	return slices.BinarySearchFunc(ti.keys, key, func(ki *keyIndex, k []byte) int {
		return bytes.Compare(ki.key, k)
	})
}

func (ti *index) keyIndex(key []byte) *keyIndex {
	if i, ok := ti.find(key); ok {
		return ti.keys[i]
	}
	return nil
}

// Insert adds a key's index, or replaces the one already there.
func (ti *index) Insert(ki *keyIndex) {
	i, ok := ti.find(ki.key)
	if ok {
		ti.keys[i] = ki
		return
	}
	ti.keys = slices.Insert(ti.keys, i, ki)
}

// Put adds rev to key's index. A new key's index keeps a copy of key: the
// store's KVs are slices of its encoding, which a rebuild replaces, and
// the index must not hold the old array for them.
func (ti *index) Put(key []byte, rev revision) {
	if ki := ti.keyIndex(key); ki != nil {
		ki.put(rev.main, rev.sub)
		return
	}
	ki := &keyIndex{key: bytes.Clone(key)}
	ki.put(rev.main, rev.sub)
	ti.Insert(ki)
}

func (ti *index) Get(key []byte, atRev int64) (modified, created revision, ver int64, err error) {
	ki := ti.keyIndex(key)
	if ki == nil {
		return revision{}, revision{}, 0, ErrRevisionNotFound
	}
	return ki.get(atRev)
}

// visit calls f on every key in [key, end) in key order until f returns
// false; an empty end means no upper bound (etcd's "\x00" range end, after
// mkGteRange).
func (ti *index) visit(key, end []byte, f func(ki *keyIndex) bool) {
	i, _ := ti.find(key)
	for ; i < len(ti.keys); i++ {
		ki := ti.keys[i]
		if len(end) > 0 && bytes.Compare(ki.key, end) >= 0 {
			return
		}
		if !f(ki) {
			return
		}
	}
}

// Revisions returns the revisions of the keys in [key, end) visible at
// atRev, at most limit of them (0: all), and how many there are in all.
// A nil end means the single key.
func (ti *index) Revisions(key, end []byte, atRev int64, limit int) (revs []revision, total int) {
	if end == nil {
		rev, _, _, err := ti.Get(key, atRev)
		if err != nil {
			return nil, 0
		}
		return []revision{rev}, 1
	}
	ti.visit(key, end, func(ki *keyIndex) bool {
		if rev, _, _, err := ki.get(atRev); err == nil {
			if limit <= 0 || len(revs) < limit {
				revs = append(revs, rev)
			}
			total++
		}
		return true
	})
	return revs, total
}

// CountRevisions is how many keys in [key, end) exist at atRev.
func (ti *index) CountRevisions(key, end []byte, atRev int64) int {
	_, total := ti.Revisions(key, end, atRev, 1)
	return total
}

func (ti *index) Tombstone(key []byte, rev revision) error {
	ki := ti.keyIndex(key)
	if ki == nil {
		return ErrRevisionNotFound
	}
	return ki.tombstone(rev.main, rev.sub)
}

// Compact compacts every key at rev and drops the keys left empty. It
// returns the revisions at or below rev that stay: the newest of each
// key's generation that lives on past rev.
func (ti *index) Compact(rev int64) map[revision]struct{} {
	available := make(map[revision]struct{})
	ti.keys = slices.DeleteFunc(ti.keys, func(ki *keyIndex) bool {
		ki.compact(rev, available)
		return ki.isEmpty()
	})
	return available
}

// Keep is what Compact(rev) would keep, without compacting; a tombstone
// at rev itself is left out (see keyIndex.keep). HashByRev uses it.
func (ti *index) Keep(rev int64) map[revision]struct{} {
	available := make(map[revision]struct{})
	for _, ki := range ti.keys {
		ki.keep(rev, available)
	}
	return available
}
