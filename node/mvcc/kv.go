// Package mvcc is etcd's multi-version key-value store
// (server/storage/mvcc), without bbolt and without goroutines.
//
// Every write txn gets one main revision; each of its changes a sub
// revision (0, 1, 2, ...). The key bucket keeps every revision of every key
// until a compaction drops it; an index ordered by key (etcd's treeIndex)
// tells, for a key and a revision, which revision of the bucket holds the
// version visible then. A deleted key is a tombstone in the bucket and ends
// a generation in the index, so a key created again starts at version 1
// with a new create revision.
//
// The store is sans-IO: compaction is a job the node steps through in
// backend batches (Compact, Compaction.Step, Compaction.Finish), and the
// backend file is what Marshal returns, read back by Unmarshal.
package mvcc

import "go.etcd.io/etcd/api/v3/mvccpb"

// RangeOptions are etcd's, reduced to what a Range request needs here.
// etcd v3.7 splits Count into CountOnly, FastKeysOnly and WithTotalCount;
// this store always counts every match (the server's Range passes
// withTotalCount=true), and keys_only is stripped by node/txn.
type RangeOptions struct {
	Limit int64
	Rev   int64
	Count bool // count only: no KVs, just how many keys match
}

// RangeResult is a Range's answer: the KVs (at most Limit), the store
// revision the read was served at, and how many keys matched in all.
type RangeResult struct {
	KVs   []*mvccpb.KeyValue
	Rev   int64
	Count int
}

// ReadView reads the store at one revision.
type ReadView interface {
	// FirstRev is the first KV revision that can be read (the compacted
	// revision when the view began; 0 in a write txn, as in etcd).
	FirstRev() int64

	// Rev is the revision of the KV store when the view began.
	Rev() int64

	// Range gets the keys in [key, end) at revision ro.Rev (0: the view's
	// revision). A nil end means the single key; an empty end ("\x00"
	// from a client, made empty by mkGteRange) means every key >= key.
	Range(key, end []byte, ro RangeOptions) (r *RangeResult, err error)
}

// TxnRead is a read-only transaction: a consistent view until End.
type TxnRead interface {
	ReadView
	// End marks the transaction complete.
	End()
}

// WriteView changes the store.
type WriteView interface {
	// DeleteRange deletes the keys in [key, end) and returns how many and
	// the revision of the txn (the current one if nothing changed).
	DeleteRange(key, end []byte) (n, rev int64)

	// Put writes the key and returns the txn's revision.
	Put(key, value []byte, lease int64) (rev int64)
}

// TxnWrite is a write transaction: every change in it shares one main
// revision, and its reads see its own earlier writes.
type TxnWrite interface {
	TxnRead
	WriteView
	// Changes are the KVs changed so far in this txn (a deletion is a KV
	// holding only its key, as etcd's tombstone changes).
	Changes() []*mvccpb.KeyValue
}
