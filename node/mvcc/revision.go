package mvcc

import "encoding/binary"

// revision is etcd's Revision: main is the store revision of a write txn,
// sub orders the changes inside that txn (0, 1, 2, ...).
type revision struct {
	main int64
	sub  int64
}

func (a revision) GreaterThan(b revision) bool {
	if a.main > b.main {
		return true
	}
	if a.main < b.main {
		return false
	}
	return a.sub > b.sub
}

// compare orders revisions as the key bucket does (by main, then sub).
func (a revision) compare(b revision) int {
	switch {
	case a.GreaterThan(b):
		return 1
	case b.GreaterThan(a):
		return -1
	}
	return 0
}

// etcd's bucket key layout (revision.go): 8 bytes main, '_', 8 bytes sub,
// and a trailing 't' for a tombstone. Only the hash needs the bytes: it is
// computed over them exactly as etcd's kvHasher does.
const (
	revBytesLen            = 8 + 1 + 8
	markedRevBytesLen      = revBytesLen + 1
	markTombstone     byte = 't'
)

func bucketKeyBytes(rev revision, tombstone bool) []byte {
	b := make([]byte, revBytesLen, markedRevBytesLen)
	binary.BigEndian.PutUint64(b, uint64(rev.main))
	b[8] = '_'
	binary.BigEndian.PutUint64(b[9:], uint64(rev.sub))
	if tombstone {
		b = append(b, markTombstone)
	}
	return b
}
