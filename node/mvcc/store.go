// Package mvcc is the node's key-value state machine, kept with etcd's
// revision bookkeeping: every change to the store bumps one cluster-wide
// revision, and each key remembers the revision that created it, the one
// that last modified it, and how many times it was written.
//
// So far the store keeps only each key's newest version; the history that
// etcd's MVCC keeps for watches and reads at old revisions, and compaction
// of it, come later.
package mvcc

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"

	"github.com/etcdlab/etcdlab/node/api"
)

// Store is the state machine. Writes come only from applied raft entries,
// in log order, so every member's store goes through the same revisions.
type Store struct {
	rev  int64
	keys map[string]api.KeyValue
}

// NewStore returns an empty store at revision 1, where etcd starts.
func NewStore() *Store {
	return &Store{rev: 1, keys: map[string]api.KeyValue{}}
}

// Rev is the store's current revision.
func (s *Store) Rev() int64 { return s.rev }

// Get returns the key's current version.
func (s *Store) Get(key string) (api.KeyValue, bool) {
	kv, ok := s.keys[key]
	return kv, ok
}

// Put writes a key and returns the new revision.
func (s *Store) Put(key, value string) int64 {
	s.rev++
	kv, ok := s.keys[key]
	if !ok {
		kv = api.KeyValue{Key: key, CreateRevision: s.rev}
	}
	kv.Value = value
	kv.ModRevision = s.rev
	kv.Version++
	s.keys[key] = kv
	return s.rev
}

// Delete removes a key. Like etcd, deleting a key that does not exist
// changes nothing and does not bump the revision.
func (s *Store) Delete(key string) (deleted int64) {
	if _, ok := s.keys[key]; !ok {
		return 0
	}
	s.rev++
	delete(s.keys, key)
	return 1
}

// Hash is a digest of the whole store (revision and every key's version),
// the same on every member that applied the same entries. It plays the part
// of etcd's HashKV in consistency checks.
func (s *Store) Hash() string {
	keys := make([]string, 0, len(s.keys))
	for k := range s.keys { //lint:allow maprange keys are sorted before use
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(s.rev))
	h.Write(buf[:])
	for _, k := range keys {
		kv := s.keys[k]
		h.Write([]byte(kv.Key + "\x00" + kv.Value + "\x00"))
		for _, n := range []int64{kv.CreateRevision, kv.ModRevision, kv.Version} {
			binary.BigEndian.PutUint64(buf[:], uint64(n))
			h.Write(buf[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
