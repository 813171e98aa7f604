package mvcc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// The store keeps every revision (etcd's default: no compaction), so what
// a revision costs in heap decides a long run's memory. Each is held once,
// as its record in the encoding, plus a 32-byte entry.
//
// Before, a revision held also a *mvccpb.KeyValue (128 bytes with its
// allocation's rounding) and its own copies of key and value: these
// 100,000 puts took 288 heap bytes each, for 50-byte records; now 110.
func TestStoreHoldsEachRevisionOnce(t *testing.T) {
	const puts, valueBytes = 100_000, 32
	value := bytes.Repeat([]byte("v"), valueBytes)
	before := liveHeapBytes()
	s := NewStore()
	for i := range puts {
		tw := s.Write()
		tw.Put(fmt.Appendf(nil, "key%04d", i%1000), value, 0)
		tw.End()
	}
	perRev := float64(liveHeapBytes()-before) / puts
	record := float64(len(s.Marshal())) / puts
	runtime.KeepAlive(s)
	t.Logf("%d puts of %d-byte values: %.0f heap bytes a revision (its record: %.0f bytes)", puts, valueBytes, perRev, record)
	// The record and the entry, with the slack of two growing slices,
	// stay well under what the entry and the message alone took before.
	require.Less(t, perRev, record+32+128, "heap bytes a revision")
}

// liveHeapBytes is the heap in use after a full collection.
func liveHeapBytes() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Every revision of a key reads back as it was written, tombstones
// included, from Range, KeyAt and Events alike.
func TestReadsOfOldRevisions(t *testing.T) {
	s := NewStore()
	put(s, "a", "1", 0)                   // 2
	put(s, "a", "", 7)                    // 3: an empty value reads back nil
	put(s, "b", "x", 0)                   // 4
	deleteRange(s, []byte("a"), nil)      // 5
	put(s, "a", "again", 0)               // 6: a new generation
	deleteRange(s, []byte("a"), []byte{}) // 7: both keys
	want := map[int64][]*mvccpb.KeyValue{
		2: {kv("a", "1", 2, 2, 1, 0)},
		3: {{Key: []byte("a"), CreateRevision: 2, ModRevision: 3, Version: 2, Lease: 7}},
		4: {{Key: []byte("a"), CreateRevision: 2, ModRevision: 3, Version: 2, Lease: 7}, kv("b", "x", 4, 4, 1, 0)},
		5: {kv("b", "x", 4, 4, 1, 0)},
		6: {kv("a", "again", 6, 6, 1, 0), kv("b", "x", 4, 4, 1, 0)},
		7: nil,
	}
	for rev := int64(2); rev <= 7; rev++ {
		r, err := rangeRead(s, []byte("a"), []byte{}, RangeOptions{Rev: rev})
		require.NoError(t, err)
		requireKVs(t, want[rev], r.KVs, "at", rev)
	}
	require.Nil(t, s.KeyAt([]byte("a"), 5), "deleted at 5")
	require.True(t, proto.Equal(kv("a", "1", 2, 2, 1, 0), s.KeyAt([]byte("a"), 2)))

	evs := s.Events(5, 8)
	require.Len(t, evs, 4)
	require.Equal(t, mvccpb.Event_DELETE, evs[0].Type)
	require.True(t, proto.Equal(&mvccpb.KeyValue{Key: []byte("a"), ModRevision: 5}, evs[0].Kv), "a tombstone event: the key and its revision")
	require.True(t, proto.Equal(kv("a", "again", 6, 6, 1, 0), evs[1].Kv))
	require.True(t, proto.Equal(&mvccpb.KeyValue{Key: []byte("b"), ModRevision: 7}, evs[3].Kv))
}

// A KV handed out aliases the store's encoding: it must stay as it was
// while the store is written, and an append to its bytes must not reach
// the store.
func TestHandedOutKVsAreNeverWrittenOver(t *testing.T) {
	s := NewStore()
	history(s, 100)
	r, err := rangeRead(s, []byte("k"), []byte{}, RangeOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, r.KVs)
	want := cloneKVs(r.KVs)
	tw := s.Write()
	tw.Put([]byte("k00"), []byte("w"), 0)
	changes := tw.Changes()
	tw.End()
	wantChanges := cloneKVs(changes)

	for _, kv := range append(r.KVs, changes...) {
		_ = append(kv.Key, "xxxxxxxx"...)
		_ = append(kv.Value, "xxxxxxxx"...)
	}
	history(s, 300) // grows the encoding, past its capacity
	runCompaction(t, s, 200)
	s.Marshal() // rebuilds it
	history(s, 50)
	requireKVs(t, want, r.KVs, "a range's KVs")
	requireKVs(t, wantChanges, changes, "a txn's changes")

	again, err := rangeRead(s, []byte("k"), []byte{}, RangeOptions{Rev: 201})
	require.NoError(t, err)
	for _, kv := range again.KVs {
		require.NotContains(t, string(kv.Key)+string(kv.Value), "x", "an append to a handed-out KV reached the store")
	}
}

func cloneKVs(kvs []*mvccpb.KeyValue) []*mvccpb.KeyValue {
	c := make([]*mvccpb.KeyValue, len(kvs))
	for i, kv := range kvs {
		c[i] = proto.Clone(kv).(*mvccpb.KeyValue)
	}
	return c
}

// Between a compaction step and the next Marshal the encoding is stale:
// entries still point into it, and writes still go into it. Reads must
// not notice, before or after Marshal rebuilds it, nor after a restore.
func TestCompactionThenReads(t *testing.T) {
	s := NewStore()
	history(s, 300)
	s.SetCompactionBatchLimit(25)
	reads := func() [][]*mvccpb.KeyValue {
		var all [][]*mvccpb.KeyValue
		for rev := int64(150); rev <= s.Rev(); rev++ {
			r, err := rangeRead(s, []byte{}, []byte{}, RangeOptions{Rev: rev})
			require.NoError(t, err)
			all = append(all, r.KVs)
		}
		return all
	}
	requireReads := func(want [][]*mvccpb.KeyValue, msg string) {
		t.Helper()
		got := reads()
		require.Len(t, got, len(want), msg)
		for i := range want {
			requireKVs(t, want[i], got[i], msg, "at", 150+i)
		}
	}

	c, err := s.Compact(150)
	require.NoError(t, err)
	c.Step()
	put(s, "mid", "compaction", 0) // written while the encoding is stale
	want := reads()
	for c.Step() {
		requireReads(want, "mid-compaction")
		s.Marshal() // the node's commit after each batch: a rebuild
		requireReads(want, "after a rebuild")
	}
	c.Finish()
	requireReads(want, "compacted")
	put(s, "after", "compaction", 0)
	want = reads()
	restored, err := Unmarshal(s.Marshal())
	require.NoError(t, err)
	requireSameStore(t, s, restored)
	requireReads(want, "after the last rebuild")
}

// The image is the one the store wrote before it kept its KVs there:
// records in bucket order, then the meta records, then the end record,
// however writes, compaction steps and Marshal calls interleave.
func TestImageIsTheBucketInOrder(t *testing.T) {
	s := NewStore()
	history(s, 200)
	s.SetCompactionBatchLimit(30)
	c, err := s.Compact(120)
	require.NoError(t, err)
	c.Step()
	history(s, 20) // written while the encoding is stale
	c.Step()
	c.Finish()
	put(s, "late", "v", 3)
	require.Equal(t, referenceImage(s), s.Marshal())

	// Restored, the store goes on appending to the image it was given.
	restored, err := Unmarshal(s.Marshal())
	require.NoError(t, err)
	require.Equal(t, s.Marshal(), restored.Marshal())
	put(s, "more", "v", 0)
	put(restored, "more", "v", 0)
	require.Equal(t, s.Marshal(), restored.Marshal())
}

// referenceImage encodes the store from what it reads back, as Marshal
// did when the store kept each KV as a message: what Marshal returns
// right after a rebuild.
func referenceImage(s *Store) []byte {
	b := []byte(encodingHeader)
	for _, e := range s.bucket {
		kv := s.enc.kv(e)
		tag := tagPut
		if e.tombstone {
			tag = tagTombstone
		}
		b = binary.AppendVarint(binary.AppendVarint(append(b, tag), e.rev.main), e.rev.sub)
		b = append(binary.AppendUvarint(b, uint64(len(kv.Key))), kv.Key...)
		if !e.tombstone {
			b = append(binary.AppendUvarint(b, uint64(len(kv.Value))), kv.Value...)
			b = binary.AppendVarint(b, kv.CreateRevision)
			b = binary.AppendVarint(b, kv.Version)
			b = binary.AppendVarint(b, kv.Lease)
		}
	}
	if s.scheduledFound {
		b = binary.AppendVarint(append(b, tagScheduledCompact), s.scheduledCompact)
	}
	if s.finishedFound {
		b = binary.AppendVarint(append(b, tagFinishedCompact), s.finishedCompact)
	}
	return binary.AppendVarint(append(b, tagEnd), int64(len(b)))
}

// A restored store keeps its own copy of the image: the bytes it was read
// from may be a disk's, written over later.
func TestRestoreKeepsItsOwnCopy(t *testing.T) {
	s := NewStore()
	history(s, 150)
	runCompaction(t, s, 70)
	history(s, 40)
	image := bytes.Clone(s.Marshal())
	restored, err := Unmarshal(image)
	require.NoError(t, err)
	for i := range image {
		image[i] = 'x'
	}
	requireSameStore(t, s, restored)
}

// Watch catch-up reads Events; the events read before a rebuild stay as
// they were, and the events read after it are the same.
func TestEventsAcrossARebuild(t *testing.T) {
	s := NewStore()
	history(s, 200)
	before := s.Events(100, s.Rev()+1)
	want := make([]*mvccpb.Event, len(before))
	for i, ev := range before {
		want[i] = proto.Clone(ev).(*mvccpb.Event)
	}
	oldRewrites := s.Rewrites()
	runCompaction(t, s, 99)
	s.Marshal()
	require.Greater(t, s.Rewrites(), oldRewrites, "the compaction removed revisions: a rebuild")
	history(s, 30)

	after := s.Events(100, s.Rev()+1)
	require.Greater(t, len(after), len(want))
	for i := range want {
		require.True(t, proto.Equal(want[i], before[i]), "event %d read before the rebuild changed", i)
		require.True(t, proto.Equal(want[i], after[i]), "event %d: %v, want %v", i, after[i], want[i])
	}
}
