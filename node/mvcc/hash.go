package mvcc

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"slices"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// hashStorageMaxSize is how many compaction hashes etcd keeps.
const hashStorageMaxSize = 10

// KeyValueHash is etcd's: the hash of the key bucket up to Revision, with
// the revisions at or below CompactRevision limited to those kept.
type KeyValueHash struct {
	Hash            uint32
	CompactRevision int64
	Revision        int64
}

// HashByRev is etcd's HashKV (hashStorage.HashByRev): a hash stored by a
// compaction at rev if there is one, else the crc32 (Castagnoli) of the key
// bucket's revisions up to rev (0: the current revision), computed as
// etcd's kvHasher does, with the current revision. Members that applied
// the same entries answer the same hash for the same rev, whether or not
// they have compacted at rev since.
func (s *Store) HashByRev(rev int64) (KeyValueHash, int64, error) {
	for _, h := range s.hashes {
		if rev == h.Revision {
			return h, s.currentRev, nil
		}
	}
	compactRev, currentRev := s.compactMainRev, s.currentRev
	if rev > 0 && rev < compactRev {
		return KeyValueHash{}, 0, ErrCompacted
	} else if rev > 0 && rev > currentRev {
		return KeyValueHash{}, currentRev, ErrFutureRev
	}
	if rev == 0 {
		rev = currentRev
	}
	keep := s.kvindex.Keep(rev)
	h := newKVHasher(compactRev, rev, keep)
	for _, e := range s.bucket {
		h.writeEntry(&s.enc, e)
	}
	return h.Hash(), currentRev, nil
}

// storeHash is etcd's hashStorage.Store: keep the newest
// hashStorageMaxSize hashes, ordered by revision.
func (s *Store) storeHash(h KeyValueHash) {
	s.hashes = append(s.hashes, h)
	slices.SortStableFunc(s.hashes, func(a, b KeyValueHash) int {
		return int(min(max(a.Revision-b.Revision, -1), 1))
	})
	if len(s.hashes) > hashStorageMaxSize {
		s.hashes = s.hashes[len(s.hashes)-hashStorageMaxSize:]
	}
}

// kvHasher is etcd's: it hashes bucket keys and values in revision order.
type kvHasher struct {
	hash            hash.Hash32
	compactRevision int64
	revision        int64
	keep            map[revision]struct{}
}

func newKVHasher(compactRev, rev int64, keep map[revision]struct{}) kvHasher {
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	h.Write([]byte("key")) // schema.Key.Name(), the key bucket's name
	return kvHasher{hash: h, compactRevision: compactRev, revision: rev, keep: keep}
}

// writeEntry hashes the entry, if it counts, with its KV from en.
func (h *kvHasher) writeEntry(en *encoding, e entry) {
	kr := e.rev
	upper := revision{main: h.revision + 1}
	if !upper.GreaterThan(kr) {
		return
	}
	lower := revision{main: h.compactRevision + 1}
	// skip revisions that are scheduled for deletion
	// due to compacting; don't skip if there isn't one.
	if lower.GreaterThan(kr) && len(h.keep) > 0 {
		if _, ok := h.keep[kr]; !ok {
			return
		}
	}
	// When performing compaction, if the compacted revision is a
	// tombstone, older versions (<= 3.5.15 or <= 3.4.33) will delete
	// the tombstone. But newer versions (> 3.5.15 or > 3.4.33) won't
	// delete it. So we should skip the tombstone in such cases when
	// computing the hash to ensure that both older and newer versions
	// can always generate the same hash values.
	if kr.main == h.compactRevision && e.tombstone {
		return
	}
	h.hash.Write(bucketKeyBytes(kr, e.tombstone))
	h.hash.Write(marshalKV(en.kv(e)))
}

func (h *kvHasher) Hash() KeyValueHash {
	return KeyValueHash{Hash: h.hash.Sum32(), CompactRevision: h.compactRevision, Revision: h.revision}
}

// marshalKV is the value etcd stores in the key bucket.
func marshalKV(kv *mvccpb.KeyValue) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(kv)
	if err != nil {
		panic("mvcc: failed to marshal mvccpb.KeyValue: " + err.Error())
	}
	return b
}

// Hash is a digest of the whole store: the current and compacted
// revisions and every revision the index still refers to, with its KV.
// Revisions a running compaction has yet to remove are left out, so
// members that applied the same entries agree however far their
// compactions got. The checkers compare it.
func (s *Store) Hash() string {
	// After a compaction at c, the index refers to exactly the revisions
	// kept at or below c, and to every revision above c.
	kept := map[revision]struct{}{}
	for _, ki := range s.kvindex.keys {
		for _, g := range ki.generations {
			for _, r := range g.revs {
				if r.main <= s.compactMainRev {
					kept[r] = struct{}{}
				}
			}
		}
	}
	h := sha256.New()
	var buf [8]byte
	for _, n := range []int64{s.currentRev, s.compactMainRev} {
		binary.BigEndian.PutUint64(buf[:], uint64(n))
		h.Write(buf[:])
	}
	for _, e := range s.bucket {
		if _, ok := kept[e.rev]; e.rev.main <= s.compactMainRev && !ok {
			continue
		}
		h.Write(bucketKeyBytes(e.rev, e.tombstone))
		b := marshalKV(s.enc.kv(e))
		binary.BigEndian.PutUint64(buf[:], uint64(len(b)))
		h.Write(buf[:])
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
