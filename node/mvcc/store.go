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
	"errors"
	"slices"

	"github.com/etcdlab/etcdlab/node/internal/wire"
)

// Store is the state machine. Writes come only from applied raft entries,
// in log order, so every member's store goes through the same revisions.
type Store struct {
	rev  int64
	keys map[string]KeyValue
}

// NewStore returns an empty store at revision 1, where etcd starts.
func NewStore() *Store {
	return &Store{rev: 1, keys: map[string]KeyValue{}}
}

// Rev is the store's current revision.
func (s *Store) Rev() int64 { return s.rev }

// Get returns the key's current version.
func (s *Store) Get(key string) (KeyValue, bool) {
	kv, ok := s.keys[key]
	return kv, ok
}

// Put writes a key and returns the new revision.
func (s *Store) Put(key, value string) int64 {
	s.rev++
	kv, ok := s.keys[key]
	if !ok {
		kv = KeyValue{Key: key, CreateRevision: s.rev}
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

// Marshal encodes the store: its revision and every key, in key order.
// The backend writes it as the key bucket of its database file.
func (s *Store) Marshal() []byte {
	keys := make([]string, 0, len(s.keys))
	for k := range s.keys { //lint:allow maprange keys are sorted before use
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := binary.AppendVarint(nil, s.rev)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		kv := s.keys[k]
		b = wire.AppendString(b, kv.Key)
		b = wire.AppendString(b, kv.Value)
		b = binary.AppendVarint(b, kv.CreateRevision)
		b = binary.AppendVarint(b, kv.ModRevision)
		b = binary.AppendVarint(b, kv.Version)
	}
	return b
}

// ErrCorrupt is a store encoding that does not decode.
var ErrCorrupt = errors.New("mvcc: corrupt store encoding")

// Unmarshal decodes what Marshal encoded.
func Unmarshal(b []byte) (*Store, error) {
	d := wire.NewDecoder(b, ErrCorrupt)
	s := NewStore()
	s.rev = d.Varint()
	n := d.Uvarint()
	for i := uint64(0); i < n && d.Err() == nil; i++ {
		kv := KeyValue{Key: d.String(), Value: d.String()}
		kv.CreateRevision, kv.ModRevision, kv.Version = d.Varint(), d.Varint(), d.Varint()
		s.keys[kv.Key] = kv
	}
	if err := d.Done(); err != nil {
		return nil, err
	}
	return s, nil
}

// KeyValue is a key's current version, with etcd's revision bookkeeping.
type KeyValue struct {
	Key            string
	Value          string
	CreateRevision int64
	ModRevision    int64
	Version        int64
}
